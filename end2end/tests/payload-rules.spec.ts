import { test, expect } from '@playwright/test';
import { Receiver, logIn, nav, publishMessage, shot, waitForHydration } from './helpers';

// Rules on payloads, made in the dashboard's forms: an event type's JSON Schema (enforced, then
// only warning) and a subscription's payload filter, tried on samples before it is saved, then
// deciding what a real receiver gets.

const receiver = new Receiver(() => 204);
let hookUrl = '';

test.describe.serial('payload rules', () => {
  test.beforeAll(async () => {
    hookUrl = await receiver.start();
  });
  test.afterAll(async () => {
    await receiver.close();
  });

  test('a schema refuses a payload saying where and why, or only warns', async ({ page }) => {
    await logIn(page);
    await waitForHydration(page);
    await nav(page, 'Event types').click();
    const add = page.locator('#add');
    await add.getByLabel('Name').fill('shipment.sent');
    await add.getByLabel('JSON Schema').fill(
      '{"type": "object", "required": ["carrier"], "properties": {"weight": {"type": "number", "maximum": 30}}}',
    );
    // The example must match the schema: refused beside its field first.
    await add.getByLabel('Example payload (JSON)').fill('{"weight": 2}');
    await add.getByRole('button', { name: 'Add event type' }).click();
    const example = add.locator('.field', { has: page.locator('#example') });
    await expect(example.locator('.field-error')).toContainText('The example does not match the schema');
    await add.getByLabel('Example payload (JSON)').fill('{"carrier": "dhl", "weight": 2}');
    await add.getByRole('button', { name: 'Add event type' }).click();
    const row = page.getByRole('row', { name: /shipment\.sent/ });
    await expect(row.getByText('Schema (enforced)')).toBeVisible();

    const publish = page.locator('#publish');
    await publish.getByLabel('Event type').selectOption('shipment.sent');
    await publish.getByLabel('Payload (JSON)').fill('{"weight": 50}');
    await publish.getByRole('button', { name: 'Publish' }).click();
    const payloadError = publish.locator('.field', { has: page.locator('#payload') }).locator('.field-error');
    await expect(payloadError).toContainText('does not match the schema of `shipment.sent`');
    await expect(payloadError).toContainText('/weight: 50 is greater than the maximum of 30');
    await expect(payloadError).toContainText('"carrier" is a required property');

    await row.getByText('Schema (enforced)').click();
    await row.getByLabel('If a payload does not match').selectOption('warn');
    await row.getByRole('button', { name: 'Save schema' }).click();
    await expect(page.getByText('The schema is saved.')).toBeVisible();
    await expect(page.getByRole('row', { name: /shipment\.sent/ }).getByText('Schema (warns)')).toBeVisible();

    const published = await publishMessage(page, 'shipment.sent', '{"weight": 50}');
    await expect(published.getByRole('status')).toContainText("It does not match its type's schema, which only warns");
    await expect(published.getByRole('status')).toContainText('/weight: 50 is greater than the maximum of 30');
    await shot(page, 'event-type-schema');
  });

  test('a payload filter is tried on samples, then decides what a subscriber gets', async ({ page }) => {
    await logIn(page);
    await waitForHydration(page);
    await nav(page, 'Subscriptions').click();
    await page.getByLabel('URL').fill(hookUrl);
    await page.getByLabel('Description').fill('Heavy DHL shipments');
    await page.getByLabel('Event types').fill('shipment.*');
    const filter = page.getByLabel('Payload filter');
    await filter.fill('weight > 10 and carrier = "dhl"');
    await page.getByRole('button', { name: 'Add subscription' }).click();
    const filterField = page.locator('.field', { has: page.locator('#payload_filter') });
    await expect(filterField.locator('.field-error')).toContainText('At character 25: equality is written `==`');

    await filter.fill('weight > 10 and carrier == "dhl"');
    await page.getByText('Try the filter on a sample payload').click();
    const sample = page.getByLabel('Sample payload (JSON)');
    const tryIt = page.getByRole('button', { name: 'Try', exact: true });
    await sample.fill('{"carrier": "dhl", "weight": 12}');
    await tryIt.click();
    await expect(page.locator('.try-filter')).toContainText('Matches: a message with this payload is delivered.');
    await sample.fill('{"carrier": "dhl", "weight": 5}');
    await tryIt.click();
    await expect(page.locator('.try-filter')).toContainText('No match');
    await sample.fill('{"carrier": ');
    await tryIt.click();
    await expect(page.locator('.try-filter')).toContainText('The sample is not JSON');
    await filter.fill('weight >');
    await sample.fill('{}');
    await tryIt.click();
    await expect(page.locator('.try-filter')).toContainText('The filter: At character 9: expected a value after `>`');
    await shot(page, 'payload-filter');

    await filter.fill('weight > 10 and carrier == "dhl"');
    await page.getByRole('button', { name: 'Add subscription' }).click();
    await expect(page.getByText(/is subscribed/)).toBeVisible();

    const heavy = await publishMessage(page, 'shipment.sent', '{"carrier": "dhl", "weight": 12}');
    await expect(heavy.getByRole('status')).toContainText('Sent to 1 subscription');
    const light = await publishMessage(page, 'shipment.sent', '{"carrier": "dhl", "weight": 5}');
    await expect(light.getByRole('status')).toContainText('It went to nobody');
    await expect.poll(() => receiver.received.length).toBe(1);
    expect(JSON.parse(receiver.received[0].body).data).toEqual({ carrier: 'dhl', weight: 12 });

    // Past the filter but not the schema, which only warns: delivered, and flagged on its page.
    const flagged = await publishMessage(page, 'shipment.sent', '{"carrier": "dhl", "weight": 40}');
    await expect(flagged.getByRole('status')).toContainText('Sent to 1 subscription');
    await flagged.getByRole('link', { name: 'See its deliveries →' }).click();
    await page.locator('a.row-link').first().click();
    await expect(page.getByText("It does not match its type's schema, which only warns:")).toBeVisible();
    await expect(page.locator('.mismatches')).toContainText('/weight: 40 is greater than the maximum of 30');
    await expect.poll(() => receiver.received.length).toBe(2);

    await nav(page, 'Subscriptions').click();
    await page.getByRole('row', { name: /Heavy DHL shipments/ }).getByRole('link').click();
    // Shown with the subscription's facts, and in its edit form.
    await expect(page.locator('dd code', { hasText: 'weight > 10 and carrier == "dhl"' })).toBeVisible();
    await expect(page.getByLabel('Payload filter')).toHaveValue('weight > 10 and carrier == "dhl"');
  });
});
