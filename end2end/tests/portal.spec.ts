import { test, expect, type Browser } from '@playwright/test';
import { Receiver, accessibilityProblems, logIn, nav, shot, waitForHydration } from './helpers';

// A consumer's portal end to end: the operator adds a consumer and makes a portal link in the
// dashboard; the consumer, in a browser of their own, signs in with it, adds an endpoint, sees
// a delivery fail with its attempt, and redelivers it once their endpoint is fixed.

const receiver = new Receiver((r) => (r.succeed ? 204 : 500));
let hookUrl = '';
let portalLink = '';

/** A page in a browser context of its own: no dashboard session, as the consumer has none. */
async function consumerPage(browser: Browser) {
  const context = await browser.newContext();
  return context.newPage();
}

test.describe.serial('consumer portal', () => {
  test.beforeAll(async () => {
    hookUrl = await receiver.start('/acme-hook');
  });
  test.afterAll(async () => {
    await receiver.close();
  });

  test('the operator adds a consumer and makes a portal link', async ({ page }) => {
    await logIn(page);
    await waitForHydration(page);
    await nav(page, 'Event types').click();
    const add = page.locator('#add');
    await add.getByLabel('Name').fill('order.shipped');
    await add.getByLabel('Description').fill('An order left the warehouse.');
    await add.getByLabel('Example payload (JSON)').fill('{"order": "o_1", "carrier": "dhl"}');
    await add.getByRole('button', { name: 'Add event type' }).click();
    await expect(page.getByRole('row', { name: /order\.shipped/ })).toBeVisible();

    await nav(page, 'Consumers').click();
    await page.getByLabel('Id').fill('acme bad');
    await page.getByRole('button', { name: 'Add consumer' }).click();
    await expect(page.locator('.field', { has: page.locator('#id') }).locator('.field-error')).toContainText('letters, digits');
    await page.getByLabel('Id').fill('acme');
    await page.getByLabel('Name').fill('Acme Corporation');
    await page.getByLabel('Metadata (JSON)').fill('{"plan": "pro"}');
    await page.getByRole('button', { name: 'Add consumer' }).click();
    const row = page.getByRole('row', { name: /Acme Corporation/ });
    await expect(row).toBeVisible();
    await row.getByRole('button', { name: 'Portal link' }).click();
    const link = page.locator('.portal-link');
    await expect(link).toContainText('/portal/sign-in?token=');
    portalLink = (await link.textContent()) ?? '';
    await shot(page, 'consumers');
  });

  test('the consumer signs in with it, adds an endpoint and redelivers a failure', async ({ browser }) => {
    const page = await consumerPage(browser);
    await page.goto(portalLink);
    await expect(page.getByRole('heading', { name: 'Webhook endpoints' })).toBeVisible();
    await expect(page.locator('.portal-who')).toContainText('Acme Corporation');
    // Nothing of the operator's dashboard shows here.
    await expect(page.getByRole('navigation', { name: 'Main' })).toHaveCount(0);
    await waitForHydration(page);

    await page.getByRole('link', { name: 'Event types' }).click();
    const shipped = page.locator('section', { has: page.getByRole('heading', { name: 'order.shipped' }) });
    await expect(shipped.getByText('An order left the warehouse.')).toBeVisible();
    await expect(shipped.locator('pre.body')).toContainText('"carrier": "dhl"');
    await shot(page, 'portal-event-types');

    await page.getByRole('link', { name: 'Subscriptions' }).click();
    await page.getByLabel('Endpoint URL').fill(hookUrl);
    await page.getByLabel('Event types').fill('order.nothing');
    await page.getByRole('button', { name: 'Add endpoint' }).click();
    await expect(page.locator('.field', { has: page.locator('#event_types') }).locator('.field-error')).toContainText('matches no event type');
    await page.getByLabel('Event types').fill('order.*');
    await page.getByLabel('Description').fill('Order updates');
    await page.getByRole('button', { name: 'Add endpoint' }).click();
    await expect(page.getByText('The endpoint is added.')).toBeVisible();
    expect(await accessibilityProblems(page)).toEqual([]);
    await page.getByText('Show signing secret').click();
    await expect(page.locator('.secret-text')).toContainText('whsec_');

    await page.getByRole('button', { name: 'Send test event' }).click();
    await page.getByRole('status').getByRole('link', { name: /delivery/ }).click();
    await expect(page.getByRole('heading', { name: /hookhub\.test/ })).toBeVisible();
    await expect(page.locator('.attempt')).toHaveCount(1);
    await expect(page.locator('.attempt').first()).toContainText('HTTP 500');
    expect(await accessibilityProblems(page)).toEqual([]);
    await shot(page, 'portal-delivery');

    receiver.succeed = true;
    await page.getByRole('button', { name: 'Redeliver' }).click();
    await expect(page.locator('.attempt')).toHaveCount(2);
    await expect(page.locator('.attempt').last()).toContainText('HTTP 204');
    await expect(page.locator('h1 .badge')).toHaveText('succeeded');
    expect(receiver.received.length).toBe(2);
    expect(receiver.received[1].headers['webhook-signature']).toMatch(/^v1,/);
    await page.context().close();
  });

  test('a message the operator addresses to the consumer shows in their portal, and the link works once', async ({ page, browser }) => {
    await logIn(page);
    await nav(page, 'Event types').click();
    const publish = page.locator('#publish');
    await publish.getByLabel('Event type').selectOption('order.shipped');
    await publish.getByLabel('Payload (JSON)').fill('{"order": "o_42", "carrier": "ups"}');
    await publish.getByLabel('Consumer').fill('acme');
    await publish.getByRole('button', { name: 'Publish' }).click();
    await expect(publish.getByRole('status')).toContainText('Sent to 1 subscription');
    await expect.poll(() => receiver.received.length).toBe(3);
    expect(JSON.parse(receiver.received[2].body).data.order).toBe('o_42');

    await nav(page, 'Deliveries').click();
    await page.getByLabel('Consumer').selectOption('acme');
    await page.getByRole('button', { name: 'Filter' }).click();
    await expect(page.locator('table.deliveries tbody tr')).toHaveCount(2);

    const consumer = await consumerPage(browser);
    await consumer.goto(portalLink);
    await expect(consumer.getByRole('heading', { name: 'This link no longer works' })).toBeVisible();
    await consumer.context().close();

    await nav(page, 'Consumers').click();
    await expect(page.getByRole('row', { name: /Acme Corporation/ })).toContainText('1 · deliveries');
    await page.getByRole('row', { name: /Acme Corporation/ }).getByRole('button', { name: 'Portal link' }).click();
    const fresh = (await page.locator('.portal-link').textContent()) ?? '';
    const again = await consumerPage(browser);
    await again.goto(fresh);
    await again.getByRole('link', { name: 'Deliveries' }).click();
    await expect(again.locator('table.deliveries tbody tr')).toHaveCount(2);
    await expect(again.locator('table.deliveries')).toContainText('order.shipped');
    expect(await accessibilityProblems(again)).toEqual([]);
    await shot(again, 'portal-deliveries');
    await again.setViewportSize({ width: 390, height: 844 });
    await again.getByRole('link', { name: 'Subscriptions' }).click();
    await shot(again, 'portal-phone');

    // Rotating the portal key ends the session at once.
    await page.getByRole('row', { name: /Acme Corporation/ }).getByRole('button', { name: 'Rotate portal key' }).click();
    await expect(page.getByText('The portal key is rotated')).toBeVisible();
    await again.reload();
    await expect(again.getByRole('heading', { name: 'You are signed out' })).toBeVisible();
    await again.context().close();
  });
});
