import { test, expect, type Page } from '@playwright/test';
import { admin, logIn, nav, shot, waitForHydration } from './helpers';

// The dashboard as people use it: on a phone, with mistakes, and after the session ends.
// Runs after the other files, so the hub has sources, events, subscriptions and deliveries.

const pages = ['/', '/sources', '/events', '/event-types', '/subscriptions', '/deliveries', '/settings'];

/** How far the page reaches past the right edge of the window, in CSS pixels. */
async function overflow(page: Page): Promise<number> {
  return page.evaluate(() => document.documentElement.scrollWidth - window.innerWidth);
}

test.describe.serial('the dashboard as people use it', () => {
  test('on a 390 px phone every page fits the screen and the menu folds away', async ({ page }) => {
    await page.setViewportSize({ width: 390, height: 844 });
    await logIn(page);
    // The detail pages too: the first row of each list.
    const details: string[] = [];
    for (const list of ['/sources', '/events', '/subscriptions', '/deliveries']) {
      await page.goto(list);
      const href = await page.locator(`main a[href^="${list}/"]`).first().getAttribute('href');
      if (href) details.push(href);
    }
    expect(details.length).toBe(4);
    for (const path of [...pages, ...details]) {
      await page.goto(path);
      await expect(page.locator('main h1').first()).toBeVisible();
      expect(await overflow(page), `${path} is wider than the phone`).toBeLessThanOrEqual(0);
      const name = path === '/' ? 'overview' : path.split('/').slice(1, 3).map((p, i) => (i ? 'detail' : p)).join('-');
      await shot(page, `phone-${name}`);
    }

    // The navigation is behind the Menu button, before and after hydration.
    await page.goto('/events');
    const events = nav(page, 'Events');
    await expect(events).toBeHidden();
    await page.getByText('Menu', { exact: true }).click();
    await expect(events).toBeVisible();
    await shot(page, 'phone-menu-open');
    await waitForHydration(page);
    await nav(page, 'Deliveries').click();
    await expect(page.getByRole('heading', { name: 'Deliveries', level: 1 })).toBeVisible();
    await expect(nav(page, 'Deliveries')).toBeHidden();
  });

  test('a Standard Webhooks secret that is not whsec_<base64> is refused beside the field', async ({ page }) => {
    await logIn(page);
    await waitForHydration(page);
    await nav(page, 'Sources').click();
    await page.getByLabel('Name').fill('Svix — wrong secret');
    await page.getByLabel('Provider').selectOption('standard-webhooks');
    await page.getByLabel('Secret', { exact: true }).fill('not a whsec secret!');
    await page.getByRole('button', { name: 'Add source' }).click();
    await expect(page.getByRole('alert')).toContainText('whsec_ followed by base64');
    await expect(page.getByRole('row', { name: /wrong secret/ })).toHaveCount(0);
  });

  test('a private address is refused with the setting that admits it', async ({ page }) => {
    await logIn(page);
    await waitForHydration(page);
    await nav(page, 'Subscriptions').click();
    await page.getByLabel('URL').fill('http://10.255.255.1/hook');
    await page.getByLabel('Event types').fill('*');
    await page.getByRole('button', { name: 'Add subscription' }).click();
    const message = page.getByRole('alert');
    await expect(message).toContainText('local and private addresses are blocked');
    await expect(message).toContainText('HOOKHUB_OUTBOUND_ALLOW=10.0.0.0/8');
  });

  test('publishing says how many subscriptions it reached, or why none', async ({ page }) => {
    await logIn(page);
    await waitForHydration(page);
    await nav(page, 'Event types').click();
    await page.getByLabel('Name').fill('parcel.sent');
    await page.getByRole('button', { name: 'Add event type' }).click();
    await expect(page.getByRole('row', { name: /parcel\.sent/ })).toBeVisible();

    const publish = page.locator('#publish');
    await publish.getByLabel('Event type').selectOption('parcel.sent');
    await publish.getByLabel('Payload (JSON)').fill('{"parcel": 1}');
    await publish.getByRole('button', { name: 'Publish' }).click();
    await expect(publish.getByRole('status')).toContainText('It went to nobody');
    await expect(publish.getByRole('status')).toContainText('parcel.sent');

    await nav(page, 'Subscriptions').click();
    await page.getByLabel('URL').fill('http://127.0.0.1:9/parcels');
    await page.getByLabel('Event types').fill('parcel.*');
    await page.getByRole('button', { name: 'Add subscription' }).click();
    await expect(page.getByRole('link', { name: /127\.0\.0\.1:9\/parcels/ })).toBeVisible();

    await nav(page, 'Event types').click();
    await publish.getByLabel('Event type').selectOption('parcel.sent');
    await publish.getByLabel('Payload (JSON)').fill('{"parcel": 2}');
    await publish.getByRole('button', { name: 'Publish' }).click();
    await expect(publish.getByRole('status')).toContainText('Sent to 1 subscription.');
    const messageId = await publish.locator('code.message-id').textContent();
    await publish.getByRole('link', { name: 'See its deliveries' }).click();
    await expect(page).toHaveURL(new RegExp(`/deliveries\\?message=${messageId}$`));
    await expect(page.getByText(`The deliveries of message ${messageId}`)).toBeVisible();
    await expect(page.locator('table.deliveries tbody tr')).toHaveCount(1);
  });

  test('a session that ends while a page is open goes to the login page and back', async ({ page, context }) => {
    await logIn(page);
    await waitForHydration(page);
    await context.clearCookies();
    await nav(page, 'Events').click();
    await expect(page).toHaveURL(/\/login\?next=%2Fevents$/);
    await page.getByLabel('Username').fill(admin.username);
    await page.getByLabel('Password').fill(admin.password);
    await page.getByRole('button', { name: 'Log in' }).click();
    await expect(page.getByRole('heading', { name: 'Events', level: 1 })).toBeVisible();
  });

  test('a missing event is a 404', async ({ page }) => {
    await logIn(page);
    const response = await page.goto('/events/999999');
    expect(response?.status()).toBe(404);
    await expect(page.getByText('There is no such event.')).toBeVisible();
  });
});
