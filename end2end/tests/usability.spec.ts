import { test, expect, type Page } from '@playwright/test';
import { readFileSync } from 'node:fs';
import { accessibilityProblems, admin, logIn, nav, shot, waitForHydration } from './helpers';

// The dashboard as people use it: on a phone, with mistakes, and after the session ends.
// Runs after the other files, so the hub has sources, events, subscriptions and deliveries.

const pages = ['/', '/sources', '/events', '/event-types', '/subscriptions', '/deliveries', '/settings', '/api-reference'];

/** How far the page reaches past the right edge of the window, in CSS pixels. */
async function overflow(page: Page): Promise<number> {
  return page.evaluate(() => document.documentElement.scrollWidth - window.innerWidth);
}

/** A detail page of each kind: the first row of each list. */
async function detailPages(page: Page): Promise<string[]> {
  const details: string[] = [];
  for (const list of ['/sources', '/events', '/subscriptions', '/deliveries']) {
    await page.goto(list);
    const href = await page.locator(`main a[href^="${list}/"]`).first().getAttribute('href');
    if (href) details.push(href);
  }
  expect(details.length).toBe(4);
  return details;
}

test.describe.serial('the dashboard as people use it', () => {
  test('on a 390 px phone every page fits the screen and the menu folds away', async ({ page }) => {
    await page.setViewportSize({ width: 390, height: 844 });
    await logIn(page);
    const details = await detailPages(page);
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

  test('the API reference shows every route from the description the hub serves', async ({ page, request }) => {
    const spec = await (await request.get('/api/v1/openapi.json')).json();
    const operations = Object.values(spec.paths).flatMap((item) => Object.keys(item as object));
    await logIn(page);
    await nav(page, 'API reference').click();
    await expect(page.getByRole('heading', { name: 'API reference', level: 1 })).toBeVisible();
    await expect(page.locator('article.reference-op')).toHaveCount(operations.length);
    const publish = page.locator('article', { has: page.getByText('/api/v1/messages', { exact: true }) });
    await expect(publish.getByText('POST', { exact: true })).toBeVisible();
    await expect(publish.getByRole('link', { name: 'NewMessage' })).toBeVisible();
    // A schema link leads to the schema, with its fields.
    await publish.getByRole('link', { name: 'NewMessage' }).click();
    await expect(page.locator('#schema-NewMessage').getByText('event_type', { exact: true })).toBeInViewport();
    await expect(page.getByRole('link', { name: 'openapi.json' })).toHaveAttribute('href', '/api/v1/openapi.json');
    await shot(page, 'api-reference');
  });

  test('a source is tested from its page: a signed request, accepted, or refused saying why', async ({ page }) => {
    await logIn(page);
    await waitForHydration(page);
    await nav(page, 'Sources').click();
    await page.getByLabel('Name').fill('Stripe — tested from the page');
    await page.getByLabel('Provider').selectOption('stripe');
    await page.getByRole('button', { name: 'Add source' }).click();
    const url = await page.getByLabel('New endpoint URL').inputValue();
    await page.goto(new URL(url).pathname.replace('/hooks/', '/sources/'));
    await waitForHydration(page);
    await page.getByRole('button', { name: 'Send a test request' }).click();
    await expect(page.getByRole('status').filter({ hasText: 'Accepted and stored as event' })).toBeVisible();
    await shot(page, 'source-tested');
    await page.getByRole('link', { name: 'Open the event' }).click();
    await expect(page.getByRole('heading', { level: 1 })).toContainText('hookhub.test');

    // Disabled, the same test is refused, and the page says so.
    await page.goBack();
    await page.getByRole('button', { name: 'Disable this source' }).click();
    await expect(page.getByText('This source is disabled')).toBeVisible();
    await page.getByRole('button', { name: 'Send a test request' }).click();
    await expect(page.getByRole('status').filter({ hasText: 'Refused: the source is disabled.' })).toBeVisible();
    // Enabled again: the getting-started guide below tries the newest source.
    await page.getByRole('button', { name: 'Enable this source' }).click();
    await expect(page.getByText('This source is disabled')).toBeHidden();
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

  test("an event type's example payload fills the publish form", async ({ page }) => {
    await logIn(page);
    await waitForHydration(page);
    await nav(page, 'Event types').click();
    const example = '{"id": "ex_1", "amount": 42}';
    await page.getByLabel('Name').fill('example.shown');
    await page.getByLabel('Example payload (JSON)').fill(example);
    await page.getByRole('button', { name: 'Add event type' }).click();
    const row = page.getByRole('row', { name: /example\.shown/ });
    await expect(row.getByText('Example', { exact: true })).toBeVisible();

    await row.getByRole('link', { name: 'Publish…' }).click();
    await expect(page).toHaveURL(/\?publish=example\.shown#publish$/);
    const publish = page.locator('#publish');
    await expect(publish.getByLabel('Event type')).toHaveValue('example.shown');
    await expect(publish.getByLabel('Payload (JSON)')).toHaveValue(example);
    // Another type brings its own (here none); back again, the example returns.
    await publish.getByLabel('Event type').selectOption('parcel.sent');
    await expect(publish.getByLabel('Payload (JSON)')).toHaveValue('');
    await publish.getByLabel('Event type').selectOption('example.shown');
    await expect(publish.getByLabel('Payload (JSON)')).toHaveValue(example);
    // A payload written by hand stays.
    await publish.getByLabel('Payload (JSON)').fill('{"written": true}');
    await publish.getByLabel('Event type').selectOption('parcel.sent');
    await expect(publish.getByLabel('Payload (JSON)')).toHaveValue('{"written": true}');
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

  test('getting started ticks what is done, and its signed request is accepted', async ({ page, context }) => {
    await context.grantPermissions(['clipboard-read', 'clipboard-write']);
    await logIn(page);
    await waitForHydration(page);
    const guide = page.locator('#getting-started');
    await expect(guide.locator('.step.done')).toHaveCount(5);
    await guide.getByRole('button', { name: 'Copy the command' }).click();
    const curl = await page.evaluate(() => navigator.clipboard.readText());
    // The command as a shell would read it: the URL, each header, the body.
    const word = (text: string) => text.slice(1, -1).replace(/'\\''/g, "'");
    const url = word(curl.match(/^curl -X POST ('[^']*')/)![1]);
    const headers = Object.fromEntries(
      [...curl.matchAll(/-H ('(?:[^']|'\\'')*')/g)].map((m) => word(m[1]).split(/: (.*)/s).slice(0, 2)),
    );
    const body = word(curl.match(/--data-binary ('(?:[^']|'\\'')*')$/)![1]);
    const answer = await page.request.post(url, { headers, data: body });
    expect(answer.status(), await answer.text()).toBe(200);
    await shot(page, 'overview-set-up');
  });

  test('a missing event is a 404', async ({ page }) => {
    await logIn(page);
    const response = await page.goto('/events/999999');
    expect(response?.status()).toBe(404);
    await expect(page.getByText('There is no such event.')).toBeVisible();
  });

  test('forms empty themselves after success, and removals ask first', async ({ page }) => {
    await logIn(page);
    await waitForHydration(page);
    await nav(page, 'Settings').click();
    const password = page.locator('#your-password');
    await password.getByLabel('Current password').fill(admin.password);
    await password.getByLabel('New password', { exact: true }).fill('a temporary password');
    await password.getByLabel('Repeat the new password').fill('a temporary password');
    await password.getByRole('button', { name: 'Change password' }).click();
    await expect(password.getByRole('status')).toHaveText('Your password was changed.');
    for (const field of ['Current password', 'New password', 'Repeat the new password']) {
      await expect(password.getByLabel(field, { exact: true })).toHaveValue('');
    }
    // And back, for the other tests.
    await password.getByLabel('Current password').fill('a temporary password');
    await password.getByLabel('New password', { exact: true }).fill(admin.password);
    await password.getByLabel('Repeat the new password').fill(admin.password);
    // The notice of the first change is still shown: wait for the second's answer.
    const changed = page.waitForResponse((r) => r.url().includes('/api/change_password'));
    await password.getByRole('button', { name: 'Change password' }).click();
    expect((await changed).status()).toBe(200);

    const keys = page.locator('#api-keys');
    await keys.getByLabel('Key name').fill('to be revoked');
    await keys.getByRole('button', { name: 'Create key' }).click();
    await expect(keys.getByLabel('New API key')).toHaveValue(/^hh_/);
    await expect(keys.getByLabel('Key name')).toHaveValue('');
    const row = keys.getByRole('row', { name: /to be revoked/ });
    await row.getByText('Revoke', { exact: true }).click();
    // Nothing is revoked until the question is answered.
    await expect(row).toContainText('Revoke “to be revoked”? Whatever uses it is refused from then on.');
    await expect(row.locator('.badge')).toHaveCount(0);
    await shot(page, 'revoke-confirm');
    await row.getByRole('button', { name: 'Yes, revoke it' }).click();
    await expect(keys.getByRole('status').filter({ hasText: 'The key was revoked.' })).toBeVisible();
    await expect(row.locator('.badge')).toHaveText('revoked');

    await nav(page, 'Sources').click();
    await page.getByLabel('Name').fill('Added once');
    await page.getByRole('button', { name: 'Add source' }).click();
    await expect(page.getByRole('status')).toContainText('“Added once” is ready');
    await expect(page.getByLabel('Name')).toHaveValue('');
    await expect(page.getByRole('link', { name: 'Added once' })).toHaveCount(1);
  });

  test('mistakes are answered 4xx with a message, and never logged as errors', async ({ page }) => {
    await logIn(page);
    await waitForHydration(page);
    const statuses: number[] = [];
    page.on('response', (response) => {
      const path = new URL(response.url()).pathname;
      if (/^\/api\/(change_password|create_subscription|publish_message)/.test(path)) {
        statuses.push(response.status());
      }
    });
    await nav(page, 'Settings').click();
    const password = page.locator('#your-password');
    await password.getByLabel('Current password').fill('not my password');
    await password.getByLabel('New password', { exact: true }).fill('another password');
    await password.getByLabel('Repeat the new password').fill('another password');
    await password.getByRole('button', { name: 'Change password' }).click();
    await expect(password.getByRole('alert')).toBeVisible();
    await password.getByLabel('Current password').fill(admin.password);
    await password.getByLabel('Repeat the new password').fill('something else');
    await password.getByRole('button', { name: 'Change password' }).click();
    await expect(password.getByText('The new passwords do not match.')).toBeVisible();

    await nav(page, 'Subscriptions').click();
    await page.getByLabel('URL').fill('http://127.0.0.1:9/unknown');
    await page.getByLabel('Event types').fill('no.such.type');
    await page.getByRole('button', { name: 'Add subscription' }).click();
    await expect(page.locator('.field', { has: page.locator('#event_types') }).getByRole('alert')).toBeVisible();

    await nav(page, 'Event types').click();
    const publish = page.locator('#publish');
    await publish.getByLabel('Payload (JSON)').fill('{not json');
    await publish.getByRole('button', { name: 'Publish' }).click();
    await expect(publish.getByRole('alert')).toContainText('The payload is not JSON');

    expect(statuses.length).toBeGreaterThanOrEqual(4);
    for (const status of statuses) {
      expect(status, `a mistake answered ${status}`).toBeGreaterThanOrEqual(400);
      expect(status).toBeLessThan(500);
    }
    // The hub's log has no ERROR line from the whole run so far: mistakes are not faults.
    const log = readFileSync(process.env.HOOKHUB_SERVER_LOG ?? '', 'utf8').replace(/\x1b\[[0-9;]*m/g, '');
    expect(log.split('\n').filter((line) => / ERROR /.test(line))).toEqual([]);
  });

  test('in dark mode the pages are dark, and readable', async ({ page }) => {
    await page.emulateMedia({ colorScheme: 'dark' });
    await logIn(page);
    for (const path of ['/', '/events', '/deliveries', '/settings']) {
      await page.goto(path);
      const background = await page.evaluate(() => getComputedStyle(document.documentElement).backgroundColor);
      const channels = background.match(/\d+/g)!.slice(0, 3).map(Number);
      expect(Math.max(...channels), `${path}: ${background}`).toBeLessThan(40);
      expect(await accessibilityProblems(page), path).toEqual([]);
    }
    await shot(page, 'dark-settings');
  });

  test('axe finds nothing serious or moderate on any page, wide or on a phone', async ({ page, browser }) => {
    await logIn(page);
    const details = await detailPages(page);
    for (const width of [1366, 390]) {
      await page.setViewportSize({ width, height: 900 });
      for (const path of [...pages, ...details, '/no/such/page']) {
        await page.goto(path);
        expect(await accessibilityProblems(page), `${path} at ${width} px`).toEqual([]);
      }
    }
    // And the pages seen before logging in.
    const visitor = await browser.newPage();
    await visitor.goto(new URL('/login', page.url()).toString());
    expect(await accessibilityProblems(visitor), '/login').toEqual([]);
    await visitor.close();
  });

  test("the dashboard's files come compressed, and are cached for good by their hash", async ({ page }) => {
    await logIn(page);
    const wasm = await page.locator('link[rel="preload"][as="fetch"]').getAttribute('href');
    expect(wasm).toMatch(/^\/pkg\/hookhub\.wasm\?v=[0-9a-f]{16}$/);
    // Compression starts when the hub does and takes a moment for the wasm.
    await expect(async () => {
      const response = await page.request.get(wasm!, { headers: { 'accept-encoding': 'br, gzip' } });
      expect(response.headers()['content-encoding']).toBe('br');
      expect(response.headers()['cache-control']).toBe('public, max-age=31536000, immutable');
    }).toPass({ timeout: 60_000 });
    const plain = await page.request.get(wasm!, { headers: { 'accept-encoding': 'identity' } });
    expect(plain.headers()['content-encoding']).toBeUndefined();
    const gzipped = await page.request.get(wasm!, { headers: { 'accept-encoding': 'gzip' } });
    expect(gzipped.headers()['content-encoding']).toBe('gzip');
    // Without the current hash, a browser asks again each time, and gets 304 while unchanged.
    const unversioned = await page.request.get('/pkg/hookhub.css');
    expect(unversioned.headers()['cache-control']).toBe('no-cache');
    const again = await page.request.get('/pkg/hookhub.css', { headers: { 'if-none-match': unversioned.headers()['etag'] } });
    expect(again.status()).toBe(304);
  });
});
