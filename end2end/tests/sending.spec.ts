import { test, expect, type Page } from '@playwright/test';
import { Receiver, logIn, nav, publishMessage, shot, waitForHydration } from './helpers';

// The sending side end to end: a catalog entry, a subscription and a message made in the
// dashboard's forms, delivered to a receiver in this process that fails until told otherwise.
// .ci/test starts the hub with loopback delivery allowed and a single attempt per delivery.

const receiver = new Receiver((r) => (r.succeed ? 200 : 500));
let hookUrl = '';

test.describe.serial('sending', () => {
  test.beforeAll(async () => {
    hookUrl = await receiver.start();
  });
  test.afterAll(async () => {
    await receiver.close();
  });

  test('an event type and a subscription are made in the forms', async ({ page }) => {
    await logIn(page);
    await waitForHydration(page);

    await nav(page, 'Event types').click();
    await expect(page.getByRole('heading', { name: 'Event types' })).toBeVisible();
    await page.getByLabel('Name').fill('invoice.paid');
    await page.getByLabel('Description').fill('An invoice was paid in full.');
    await page.getByRole('button', { name: 'Add event type' }).click();
    await expect(page.getByRole('row', { name: /invoice\.paid/ })).toBeVisible();

    await nav(page, 'Subscriptions').click();
    await expect(page.getByRole('heading', { name: 'Subscriptions' })).toBeVisible();
    const urlField = page.locator('.field', { has: page.locator('#url') });
    await page.getByLabel('URL').fill('ftp://x');
    await page.getByLabel('Description').fill('Billing service');
    await page.getByLabel('Event types').fill('invoice.*');
    await page.getByRole('button', { name: 'Add subscription' }).click();
    // The backend's message for a URL it will not send to appears beside that field.
    await expect(urlField.locator('.field-error')).toBeVisible();

    await page.getByLabel('URL').fill(hookUrl);
    await page.getByRole('button', { name: 'Add subscription' }).click();
    await expect(page.getByRole('status')).toContainText('is subscribed');
    await expect(urlField.locator('.field-error')).toHaveCount(0);
    const row = page.getByRole('row', { name: /Billing service/ });
    await expect(row).toContainText(hookUrl);
    await expect(row).toContainText('invoice.*');
    await expect(row).toContainText('active');
    await shot(page, 'subscriptions');
  });

  test('a failed delivery succeeds when redelivered, with the same webhook-id', async ({ page }) => {
    await logIn(page);
    await waitForHydration(page);

    const publish = await publishMessage(
      page,
      'invoice.paid',
      '{"invoice": "in_42", "amount": 4200, "note": "<script>window.__xss = 1</script>"}',
    );
    await shot(page, 'event-types');
    await publish.getByRole('link', { name: 'See its deliveries' }).click();
    await expect(page).toHaveURL(/\/deliveries\?message=msg_[a-z0-9]+$/);

    // One attempt, answered 500: the delivery gives up and shows as failed.
    const row = page.getByRole('row', { name: /invoice\.paid/ });
    await expect(async () => {
      await page.reload();
      await expect(row.locator('.badge')).toHaveText('failed', { timeout: 1_000 });
    }).toPass({ timeout: 20_000 });
    await expect(row).toContainText('HTTP 500');
    expect(receiver.received).toHaveLength(1);
    await shot(page, 'deliveries');

    // The filters narrow the console.
    await waitForHydration(page);
    await page.getByLabel('Status').selectOption('succeeded');
    await page.getByRole('button', { name: 'Filter' }).click();
    // Only the filters in use travel in the URL, and an empty result says they hide everything.
    await expect(page).toHaveURL(/\/deliveries\?message=msg_[a-z0-9]+&status=succeeded$/);
    await expect(page.getByText('Nothing matches these filters')).toBeVisible();
    await page.getByLabel('Status').selectOption('failed');
    await page.getByRole('button', { name: 'Filter' }).click();
    await expect(row).toHaveCount(1);

    receiver.succeed = true;
    await row.getByRole('link').first().click();
    await expect(page.getByRole('heading', { name: /invoice\.paid/ })).toBeVisible();
    await expect(page.locator('.timeline .attempt')).toHaveCount(1);
    await expect(page.locator('pre.body').first()).toContainText('<script>window.__xss = 1</script>');
    await page.getByRole('button', { name: 'Redeliver' }).click();
    await expect(page.locator('.page-head .badge')).toHaveText('succeeded', { timeout: 20_000 });
    await expect(page.locator('.timeline .attempt')).toHaveCount(2);
    expect(await page.evaluate(() => (window as any).__xss)).toBeUndefined();

    expect(receiver.received).toHaveLength(2);
    const [first, second] = receiver.received;
    expect(first.url).toBe('/hook');
    expect(first.headers['webhook-id']).toBeTruthy();
    expect(second.headers['webhook-id']).toBe(first.headers['webhook-id']);
    expect(JSON.parse(second.body)).toEqual(JSON.parse(first.body));
    await openAllAttemptDetails(page);
    await shot(page, 'delivery');
  });

  test('the subscription page shows counts, the secret and sends a test event', async ({ page }) => {
    await logIn(page);
    await waitForHydration(page);
    await nav(page, 'Subscriptions').click();
    await page.getByRole('link', { name: hookUrl }).click();
    await expect(page.getByRole('heading', { name: hookUrl })).toBeVisible();

    const counts = page.locator('.counts');
    await expect(counts.locator('.stat', { hasText: 'Succeeded' })).toContainText('1');
    await expect(counts.locator('.stat', { hasText: 'Failed' })).toContainText('0');
    await page.getByText('Show secret').click();
    await expect(page.locator('.secret-text')).toHaveText(/^whsec_/);

    await page.getByRole('button', { name: 'Send test event' }).click();
    const testLink = page.getByRole('link', { name: /^delivery \d+$/ });
    await expect(testLink).toBeVisible();
    await expect(testLink).toHaveAttribute('href', /^\/deliveries\/\d+$/);
    // The counts follow the worker without a reload.
    await expect(counts.locator('.stat', { hasText: 'Succeeded' })).toContainText('2', { timeout: 20_000 });
    await expect(page.locator('#settings').getByLabel('Event types')).toHaveValue('invoice.*');
    await shot(page, 'subscription');
  });
});

/** Opens every collapsible part of the attempts so the screenshot shows them. */
async function openAllAttemptDetails(page: Page) {
  await page.locator('.timeline details').evaluateAll((all) => all.forEach((d) => d.setAttribute('open', '')));
}
