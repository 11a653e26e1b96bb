import { createHmac } from 'node:crypto';
import http from 'node:http';
import type { AddressInfo } from 'node:net';
import { expect, type Page } from '@playwright/test';
import axe from 'axe-core';

// One hub, one admin: dashboard.spec.ts creates it on first visit; later files log in with it.
export const admin = { username: 'admin', password: 'correct horse battery' };
const shots = 'test-results/screenshots';

export async function shot(page: Page, name: string) {
  await page.screenshot({ path: `${shots}/${name}.png`, fullPage: true });
}

/** Resolves once the wasm has hydrated the page: `hydrate()` marks the body when done. */
export async function waitForHydration(page: Page) {
  await page.locator('body[data-hydrated]').waitFor({ state: 'attached' });
}

export function nav(page: Page, name: string) {
  return page.getByRole('navigation', { name: 'Main' }).getByRole('link', { name });
}

export async function logIn(page: Page, user: { username: string; password: string } = admin) {
  await page.goto('/login');
  await page.getByLabel('Username').fill(user.username);
  await page.getByLabel('Password').fill(user.password);
  await page.getByRole('button', { name: 'Log in' }).click();
  await expect(page.getByRole('heading', { name: 'Overview' })).toBeVisible();
}

/** Publishes a message from the Event types page's form; returns the form. */
export async function publishMessage(page: Page, eventType: string, payload: string) {
  await nav(page, 'Event types').click();
  const publish = page.locator('#publish');
  await publish.getByLabel('Event type').selectOption(eventType);
  await publish.getByLabel('Payload (JSON)').fill(payload);
  await publish.getByRole('button', { name: 'Publish' }).click();
  await expect(publish.getByRole('status')).toContainText('Published');
  return publish;
}

/** What axe-core finds on the page that is serious or moderate (or critical), one line each. */
export async function accessibilityProblems(page: Page): Promise<string[]> {
  // Evaluated through the browser's debugging protocol, which the page's CSP does not govern.
  await page.evaluate(axe.source);
  return page.evaluate(async () => {
    const run = (window as any).axe.run as (context: Document, options: object) => Promise<any>;
    const result = await run(document, { resultTypes: ['violations'] });
    return result.violations
      .filter((v: any) => ['critical', 'serious', 'moderate'].includes(v.impact))
      .map((v: any) => `${v.impact} ${v.id}: ${v.help} (${v.nodes.map((n: any) => n.target.join(' ')).join(', ')})`);
  });
}

export type Received = { method: string; url: string; headers: http.IncomingHttpHeaders; body: string };

/** A subscriber on loopback that records every request and answers what `status` says. */
export class Receiver {
  received: Received[] = [];
  succeed = false;
  private server: http.Server;

  constructor(status: (receiver: Receiver) => number) {
    this.server = http.createServer((req, res) => {
      let body = '';
      req.setEncoding('utf8');
      req.on('data', (chunk) => (body += chunk));
      req.on('end', () => {
        this.received.push({ method: req.method ?? '', url: req.url ?? '', headers: req.headers, body });
        const code = status(this);
        res.writeHead(code, { 'content-type': 'text/plain' });
        res.end(code < 300 ? 'thanks' : 'receiver is down <b>on purpose</b>');
      });
    });
  }

  /** Listens on a free loopback port; answers the URL to subscribe, ending in `path`. */
  async start(path = '/hook'): Promise<string> {
    await new Promise<void>((resolve) => this.server.listen(0, '127.0.0.1', resolve));
    return `http://127.0.0.1:${(this.server.address() as AddressInfo).port}${path}`;
  }

  close(): Promise<void> {
    return new Promise((resolve) => this.server.close(() => resolve()));
  }
}

/** Adds a GitHub source with `secret` in the form; answers its endpoint URL. */
export async function addGithubSource(page: Page, name: string, secret: string): Promise<string> {
  await nav(page, 'Sources').click();
  await page.getByLabel('Name').fill(name);
  await page.getByLabel('Provider').selectOption('github');
  await page.getByLabel('Secret', { exact: true }).fill(secret);
  await page.getByRole('button', { name: 'Add source' }).click();
  return page.getByLabel('New endpoint URL').inputValue();
}

/** POSTs `body` to a GitHub source as GitHub signs it; answers the status. */
export async function sendGithub(
  page: Page,
  url: string,
  secret: string,
  body: string,
  event = 'push',
  contentType = 'application/json',
): Promise<number> {
  const signature = 'sha256=' + createHmac('sha256', secret).update(body).digest('hex');
  const response = await page.request.post(url, {
    data: body,
    headers: {
      'content-type': contentType,
      'x-github-event': event,
      'x-github-delivery': `e2e-${Math.random().toString(36).slice(2)}`,
      'x-hub-signature-256': signature,
    },
  });
  return response.status();
}
