import { test, expect, type Page } from '@playwright/test';
import { logIn, shot } from './helpers';

// The dashboard before (or without) its wasm: every form is a plain POST answered with a
// redirect back, and the page after it says what happened, one-time secrets included.
// Runs after the other files, so the hub has a subscription and the catalog has invoice.paid.

test.use({ javaScriptEnabled: false });

/** The notice or reveal the page after an action shows. */
function status(page: Page) {
  return page.getByRole('status');
}

test.describe.serial('without JavaScript', () => {
  test('a new API key is shown once, after the redirect, and works', async ({ page }) => {
    await logIn(page);
    await page.goto('/settings');
    const keys = page.locator('#api-keys');
    await keys.getByLabel('Key name').fill('made without js');
    await keys.getByRole('button', { name: 'Create key' }).click();
    await expect(keys.getByRole('status')).toContainText('Copy the key “made without js” now');
    const token = await keys.getByLabel('New API key').inputValue();
    expect(token).toMatch(/^hh_/);
    await shot(page, 'nojs-api-key');
    const whoami = await page.request.get('/api/v1/whoami', { headers: { authorization: `Bearer ${token}` } });
    expect(whoami.status()).toBe(200);
    expect((await whoami.json()).api_key.name).toBe('made without js');

    // Once: the next view of the page does not show it again.
    await page.goto('/settings');
    await expect(keys.getByLabel('New API key')).toHaveCount(0);
    await expect(keys.getByRole('row', { name: /made without js/ })).toBeVisible();
  });

  test('a new source shows its URL, and a rename and a delete say so', async ({ page }) => {
    await logIn(page);
    await page.goto('/sources');
    await page.getByLabel('Name').fill('Made without js');
    await page.getByLabel('Provider').selectOption('github');
    await page.getByRole('button', { name: 'Add source' }).click();
    await expect(status(page)).toContainText('“Made without js” is ready');
    expect(await page.getByLabel('New endpoint URL').inputValue()).toMatch(/\/hooks\/src_/);
    // The form is empty again: a second click cannot add the same source twice.
    await expect(page.getByLabel('Name')).toHaveValue('');

    await page.getByRole('link', { name: 'Made without js' }).click();
    const settings = page.locator('#settings');
    await settings.getByLabel('Name').fill('Renamed without js');
    await settings.getByRole('button', { name: 'Save' }).click();
    await expect(settings.getByRole('status')).toHaveText('Saved.');
    await expect(page.getByRole('heading', { level: 1 })).toContainText('Renamed without js');

    // A mistake inside the folded handler form opens it, with the message beside the field.
    const handlers = page.locator('#handlers');
    await expect(handlers.getByLabel('Status')).toBeHidden();
    await handlers.getByText('Add a handler').click();
    await handlers.getByLabel('Kind').selectOption('respond');
    await handlers.getByLabel('Status').fill('hello');
    await handlers.getByRole('button', { name: 'Add handler' }).click();
    await expect(handlers.getByText('An HTTP status such as 200 or 410.')).toBeVisible();
    await shot(page, 'nojs-handler-error');

    await settings.getByText('Delete this source…').click();
    await settings.getByRole('button', { name: 'Delete source and its events' }).click();
    await expect(page).toHaveURL(/\/sources\?deleted=1$/);
    await expect(status(page).first()).toContainText('The source was deleted');
    await expect(page.getByRole('link', { name: 'Renamed without js' })).toHaveCount(0);
  });

  test('publishing, a test event and redeliveries each say what they did', async ({ page }) => {
    await logIn(page);
    await page.goto('/event-types');
    const publish = page.locator('#publish');
    await publish.getByLabel('Event type').selectOption('invoice.paid');
    await publish.getByLabel('Payload (JSON)').fill('{"invoice": "in_nojs"}');
    await publish.getByRole('button', { name: 'Publish' }).click();
    await expect(publish.getByRole('status')).toContainText('Published msg_');
    await expect(publish.getByRole('status')).toContainText(/Sent to \d+ subscriptions?\./);
    await shot(page, 'nojs-published');
    const deliveries = await publish.getByRole('link', { name: 'See its deliveries' }).getAttribute('href');

    await page.goto('/subscriptions');
    await page.locator('table.subscriptions a.url').first().click();
    await page.getByRole('button', { name: 'Send test event' }).click();
    await expect(status(page).filter({ hasText: 'Test event queued as' })).toBeVisible();

    await page.getByRole('button', { name: 'Redeliver failures' }).click();
    await expect(status(page).filter({ hasText: /queued|Nothing failed since then/ })).toBeVisible();

    await page.goto(deliveries!);
    await page.locator('table.deliveries a.row-link').first().click();
    await page.getByRole('button', { name: 'Redeliver' }).click();
    await expect(status(page).filter({ hasText: /Queued again|Redelivered/ })).toBeVisible();
  });
});
