import { createHmac } from 'node:crypto';
import { test, expect, type Page } from '@playwright/test';
import { logIn, nav, publishMessage, shot, waitForHydration } from './helpers';

// Markup from outside (a provider's headers and bodies) and from users (names, descriptions,
// extra headers) is shown as text on every page that shows it: rendered on the server and again
// in the hydrated app after client-side navigation. Each payload tries to close the elements
// the browser reads as raw text (`<title>`, `<textarea>`) and to run script if it is not
// escaped. Injected elements are found by `data-xss` whether or not the page's
// Content-Security-Policy would also have stopped their script.

// Short enough for the 100-character name fields.
const payload = (where: string) =>
  `</title></textarea><script>__xss='${where}'</script>` +
  `<img src=x data-xss onerror="__xss='${where}'">${where}`;
/** The same for fields that refuse spaces. */
const tightPayload = (where: string) =>
  `</title></textarea><i/data-xss>${where}</i><script>window.__xss='${where}'</script>`;

const secret = 'escape secret';

/** Records what the browser refused under the page's policy, and any console error. */
async function watch(page: Page) {
  const problems: string[] = [];
  page.on('console', (message) => {
    if (message.type() === 'error') problems.push(`console: ${message.text()}`);
  });
  page.on('pageerror', (error) => problems.push(`page error: ${error.message}`));
  await page.addInitScript(() => {
    document.addEventListener('securitypolicyviolation', (e) => {
      const w = window as any;
      (w.__csp ??= []).push(`${e.violatedDirective} ${e.blockedURI}`);
    });
  });
  return problems;
}

/** The page loaded, shows `texts` literally, and no payload took effect. */
async function expectInert(page: Page, texts: string[], title?: string) {
  await expect(page.locator('.error-panel')).toHaveCount(0);
  for (const text of texts) {
    await expect(page.getByText(text).first()).toBeAttached();
  }
  if (title !== undefined) {
    await expect(page).toHaveTitle(`${title} · hookhub`);
  }
  await expect(page.locator('[data-xss]')).toHaveCount(0);
  expect(await page.evaluate(() => (window as any).__xss)).toBeUndefined();
  expect(await page.evaluate(() => (window as any).__csp ?? [])).toEqual([]);
}

/** Checks the page as the hydrated app rendered it, then as the server renders it. */
async function expectInertBothWays(page: Page, texts: string[], title?: string) {
  await expectInert(page, texts, title);
  await page.reload();
  await expectInert(page, texts, title);
  await waitForHydration(page);
  await expectInert(page, texts, title);
}

test.describe.serial('escaping', () => {
  test('markup in names, headers and descriptions is shown as text everywhere', async ({ page }) => {
    // It walks every page twice over, server-rendered and hydrated: longer than the default.
    test.setTimeout(60_000);
    const problems = await watch(page);
    const sourceName = payload('name');
    const bodyType = payload('body-event-type');
    const header = payload('header');
    const handlerEvents = tightPayload('handler-events');
    const handlerBody = payload('handler-body');
    const typeDescription = payload('type-description');
    const subscriptionUrl = `http://127.0.0.1:9/${tightPayload('subscription-url')}`;
    const subscriptionDescription = payload('subscription');
    const subscriptionHeader = payload('subscription-header');
    const subscriptionProperty = payload('subscription-property');
    const keyName = payload('key');

    await logIn(page);
    await waitForHydration(page);

    await nav(page, 'Sources').click();
    await page.getByLabel('Name').fill(sourceName);
    await page.getByLabel('Provider').selectOption('github');
    await page.getByLabel('Secret', { exact: true }).fill(secret);
    await page.getByRole('button', { name: 'Add source' }).click();
    const url = await page.getByLabel('New endpoint URL').inputValue();
    await expectInertBothWays(page, [sourceName]);
    await page.getByRole('link', { name: sourceName }).click();
    await expectInertBothWays(page, [sourceName], sourceName);

    const handlers = page.locator('#handlers');
    await handlers.getByText('Add a handler').click();
    await handlers.getByLabel('Kind').selectOption('respond');
    await handlers.getByLabel('Event types').fill(handlerEvents);
    await handlers.getByLabel('Body', { exact: true }).fill(handlerBody);
    await handlers.getByRole('button', { name: 'Add handler' }).click();
    await expect(handlers.getByRole('cell', { name: /answers 200/ })).toBeVisible();
    await expectInertBothWays(page, [sourceName, handlerEvents], sourceName);

    const body = JSON.stringify({ zen: 'escape me', note: header });
    const deliver = (event: string, delivery: string) =>
      page.request.post(url, {
        data: body,
        headers: {
          'content-type': 'application/json',
          'x-github-event': event,
          'x-github-delivery': delivery,
          'x-note': header,
          'x-hub-signature-256': 'sha256=' + createHmac('sha256', secret).update(body).digest('hex'),
        },
      });
    // The event type and delivery id are not signed: markup in them is refused, not stored.
    const refused = await deliver(payload('event-type'), 'escape-0');
    expect(refused.status()).toBe(400);
    expect(await refused.text()).toContain('malformed header x-github-event');
    expect((await deliver('push', tightPayload('delivery'))).status()).toBe(400);
    expect((await deliver('push', 'escape-1')).status()).toBe(200);

    await nav(page, 'Events').click();
    await expectInertBothWays(page, [sourceName]);
    await page.getByRole('row', { name: /escape-1/ }).getByRole('link').first().click();
    await expect(page.getByRole('heading', { name: 'push' })).toBeVisible();
    await expectInertBothWays(page, [header], 'push');
    await shot(page, 'escaped-event');

    // A signed body names its own event type (Standard Webhooks), so markup reaches the title.
    const key = Buffer.from('escape key, twenty-four bytes or more').toString('base64');
    await nav(page, 'Sources').click();
    await page.getByLabel('Name').fill('escape svix');
    await page.getByLabel('Provider').selectOption('standard-webhooks');
    await page.getByLabel('Secret', { exact: true }).fill(`whsec_${key}`);
    await page.getByRole('button', { name: 'Add source' }).click();
    const svixUrl = await page.getByLabel('New endpoint URL').inputValue();
    const svixBody = JSON.stringify({ type: bodyType });
    const ts = Math.floor(Date.now() / 1000).toString();
    const signature = createHmac('sha256', Buffer.from(key, 'base64'))
      .update(`msg_escape.${ts}.${svixBody}`)
      .digest('base64');
    const signed = await page.request.post(svixUrl, {
      data: svixBody,
      headers: {
        'content-type': 'application/json',
        'webhook-id': 'msg_escape',
        'webhook-timestamp': ts,
        'webhook-signature': `v1,${signature}`,
      },
    });
    expect(signed.status()).toBe(200);
    await nav(page, 'Events').click();
    await expectInertBothWays(page, [bodyType]);
    await page.getByRole('row', { name: /msg_escape/ }).getByRole('link').first().click();
    await expect(page.getByRole('heading', { name: bodyType })).toBeVisible();
    await expectInertBothWays(page, [bodyType], bodyType);

    await nav(page, 'Event types').click();
    await page.getByLabel('Name').fill('escape.test');
    await page.getByLabel('Description').fill(typeDescription);
    await page.getByRole('button', { name: 'Add event type' }).click();
    await expect(page.getByRole('row', { name: /escape\.test/ })).toBeVisible();
    await expectInertBothWays(page, [typeDescription]);

    await nav(page, 'Subscriptions').click();
    // Nothing listens on port 9: deliveries fail, and their attempts show the headers sent.
    await page.getByLabel('URL').fill(subscriptionUrl);
    await page.getByLabel('Description').fill(subscriptionDescription);
    await page.getByLabel('Event types').fill('escape.test');
    await page.getByLabel('Extra headers').fill(`X-Note: ${subscriptionHeader}`);
    await page.getByLabel('Properties').fill(`Note: ${subscriptionProperty}`);
    await page.getByRole('button', { name: 'Add subscription' }).click();
    await expect(page.getByRole('status')).toContainText('is subscribed');
    await expectInertBothWays(page, [subscriptionDescription]);
    await page.getByRole('row', { name: /127\.0\.0\.1:9/ }).getByRole('link').first().click();
    // The edit form's textareas hold the stored text exactly, from the server and after hydration.
    const fieldsHoldTheirText = async () => {
      await expect(page.getByLabel('Extra headers')).toHaveValue(`x-note: ${subscriptionHeader}`);
      await expect(page.getByLabel('Properties')).toHaveValue(`Note: ${subscriptionProperty}`);
      await expect(page.getByLabel('URL', { exact: true })).toHaveValue(subscriptionUrl);
    };
    await expectInertBothWays(page, [subscriptionDescription], subscriptionUrl);
    await fieldsHoldTheirText();
    await page.reload();
    await fieldsHoldTheirText();
    await waitForHydration(page);
    await fieldsHoldTheirText();

    const publish = await publishMessage(page, 'escape.test', '{"n": 1}');
    await publish.getByRole('link', { name: 'See its deliveries' }).click();
    const row = page.getByRole('row', { name: /escape\.test/ });
    await expect(async () => {
      await page.reload();
      await expect(row.locator('.badge')).toHaveText('failed', { timeout: 1_000 });
    }).toPass({ timeout: 20_000 });
    await row.getByRole('link').first().click();
    await expectInertBothWays(page, [subscriptionHeader]);

    await nav(page, 'Settings').click();
    await page.getByLabel('Key name').fill(keyName);
    await page.getByRole('button', { name: 'Create key' }).click();
    await expect(page.getByLabel('New API key')).toBeVisible();
    await expectInertBothWays(page, [keyName]);

    // Every page of the shell, opened from the hydrated app and then from the server.
    for (const name of ['Overview', 'Sources', 'Events', 'Event types', 'Subscriptions', 'Deliveries', 'Settings']) {
      await nav(page, name).click();
      await expect(nav(page, name)).toHaveAttribute('aria-current', 'page');
      await expectInertBothWays(page, []);
    }
    expect(problems).toEqual([]);
  });
});
