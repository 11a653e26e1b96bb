import { createHmac } from 'node:crypto';
import { test, expect, type Page } from '@playwright/test';
import { logIn, nav, publishMessage, shot, waitForHydration } from './helpers';

// Markup from outside (a provider's headers) and from users (names, descriptions, extra
// headers) is shown as text on every page that shows it: rendered on the server and again in
// the hydrated app after client-side navigation. Each payload tries to run script if it is not.

const payload = (where: string) =>
  `<img src=x onerror="window.__xss='${where}'"><script>window.__xss='${where}'</script>${where}`;

const secret = 'escape secret';

/** The page loaded, shows `texts` literally, and no payload took effect. */
async function expectInert(page: Page, texts: string[]) {
  await expect(page.locator('.error-panel')).toHaveCount(0);
  for (const text of texts) {
    await expect(page.getByText(text).first()).toBeAttached();
  }
  await expect(page.locator('img[src="x"]')).toHaveCount(0);
  expect(await page.evaluate(() => (window as any).__xss)).toBeUndefined();
}

/** Checks the page as the hydrated app rendered it, then as the server renders it. */
async function expectInertBothWays(page: Page, texts: string[]) {
  await expectInert(page, texts);
  await page.reload();
  await expectInert(page, texts);
  await waitForHydration(page);
  await expectInert(page, texts);
}

test.describe.serial('escaping', () => {
  test('markup in names, headers and descriptions is shown as text everywhere', async ({ page }) => {
    const sourceName = payload('source');
    const eventType = payload('event-type');
    const header = payload('header');
    const typeDescription = payload('type-description');
    const subscriptionDescription = payload('subscription');
    const subscriptionHeader = payload('subscription-header');

    await logIn(page);
    await waitForHydration(page);

    await nav(page, 'Sources').click();
    await page.getByLabel('Name').fill(sourceName);
    await page.getByLabel('Provider').selectOption('github');
    await page.getByLabel('Secret', { exact: true }).fill(secret);
    await page.getByRole('button', { name: 'Add source' }).click();
    const url = await page.getByLabel('New endpoint URL').inputValue();
    await expectInertBothWays(page, [sourceName]);

    const body = JSON.stringify({ zen: 'escape me' });
    const delivered = await page.request.post(url, {
      data: body,
      headers: {
        'content-type': 'application/json',
        'x-github-event': eventType,
        'x-github-delivery': 'escape-1',
        'x-note': header,
        'x-hub-signature-256': 'sha256=' + createHmac('sha256', secret).update(body).digest('hex'),
      },
    });
    expect(delivered.status()).toBe(200);

    await nav(page, 'Events').click();
    await expectInertBothWays(page, [sourceName, eventType]);
    await page.getByRole('row', { name: /escape-1/ }).getByRole('link').first().click();
    await expect(page.getByRole('heading', { name: eventType })).toBeVisible();
    await expectInertBothWays(page, [eventType, header]);
    await shot(page, 'escaped-event');

    await nav(page, 'Event types').click();
    await page.getByLabel('Name').fill('escape.test');
    await page.getByLabel('Description').fill(typeDescription);
    await page.getByRole('button', { name: 'Add event type' }).click();
    await expect(page.getByRole('row', { name: /escape\.test/ })).toBeVisible();
    await expectInertBothWays(page, [typeDescription]);

    await nav(page, 'Subscriptions').click();
    // Nothing listens on port 9: deliveries fail, and their attempts show the headers sent.
    await page.getByLabel('URL').fill('http://127.0.0.1:9/escape');
    await page.getByLabel('Description').fill(subscriptionDescription);
    await page.getByLabel('Event types').fill('escape.test');
    await page.getByLabel('Extra headers').fill(`X-Note: ${subscriptionHeader}`);
    await page.getByRole('button', { name: 'Add subscription' }).click();
    await expect(page.getByRole('status')).toContainText('is subscribed');
    await expectInertBothWays(page, [subscriptionDescription]);
    await page.getByRole('row', { name: /127\.0\.0\.1:9/ }).getByRole('link').first().click();
    await expectInertBothWays(page, [subscriptionDescription]);

    const publish = await publishMessage(page, 'escape.test', '{"n": 1}');
    await publish.getByRole('link', { name: 'See its deliveries' }).click();
    const row = page.getByRole('row', { name: /escape\.test/ });
    await expect(async () => {
      await page.reload();
      await expect(row.locator('.badge')).toHaveText('failed', { timeout: 1_000 });
    }).toPass({ timeout: 20_000 });
    await row.getByRole('link').first().click();
    await expectInertBothWays(page, [subscriptionHeader]);

    // Every page of the shell, opened from the hydrated app and then from the server.
    for (const name of ['Overview', 'Sources', 'Events', 'Event types', 'Subscriptions', 'Deliveries', 'Settings']) {
      await nav(page, name).click();
      await expect(nav(page, name)).toHaveAttribute('aria-current', 'page');
      await expectInertBothWays(page, []);
    }
  });
});
