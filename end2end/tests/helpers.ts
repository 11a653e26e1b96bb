import { expect, type Page } from '@playwright/test';

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
