import { createHmac } from 'node:crypto';
import { test, expect } from '@playwright/test';
import { accessibilityProblems, admin, logIn, nav, shot, waitForHydration } from './helpers';

// One hub, one admin: the tests run in order against the server .ci/test started.

test.describe.serial('the dashboard', () => {
  test('first visit sets up the admin, with JavaScript', async ({ page }) => {
    await page.goto('/');
    await expect(page).toHaveURL(/\/setup$/);
    await expect(page.getByRole('heading', { name: 'Welcome to hookhub' })).toBeVisible();
    await shot(page, 'setup');
    await waitForHydration(page);
    expect(await accessibilityProblems(page), '/setup').toEqual([]);

    // A validation message appears beside its field without a reload.
    await page.getByLabel('Username').fill(admin.username);
    await page.getByLabel('Password', { exact: true }).fill(admin.password);
    await page.getByLabel('Repeat the password').fill('something else entirely');
    await page.getByRole('button', { name: 'Create the admin account' }).click();
    await expect(page.getByText('The passwords do not match.')).toBeVisible();

    await page.getByLabel('Repeat the password').fill(admin.password);
    await page.getByRole('button', { name: 'Create the admin account' }).click();
    await expect(page.getByRole('heading', { name: 'Overview' })).toBeVisible();
    await expect(page.locator('.whoami-name')).toHaveText(admin.username);
    // A new hub starts with what to do first, nothing ticked yet.
    const guide = page.locator('#getting-started');
    await expect(guide.locator('.step')).toHaveCount(5);
    await expect(guide.locator('.step.done')).toHaveCount(0);
    await shot(page, 'overview');
  });

  test('the hydrated shell navigates and acts without reloading', async ({ page }) => {
    await logIn(page);
    await waitForHydration(page);
    await page.evaluate(() => ((window as any).__sameDocument = true));

    await nav(page, 'Settings').click();
    await expect(page.getByRole('heading', { name: 'Settings' })).toBeVisible();
    await page.getByLabel('Key name').fill('deploy script');
    await page.getByRole('button', { name: 'Create key' }).click();
    const token = page.getByLabel('New API key');
    await expect(token).toHaveValue(/^hh_/);
    await expect(page.getByRole('cell', { name: 'deploy script' })).toBeVisible();
    await shot(page, 'settings');

    // Still the same document: routing and the action ran client-side.
    expect(await page.evaluate(() => (window as any).__sameDocument)).toBe(true);

    // The key works against the REST API.
    const response = await page.request.get('/api/v1/whoami', {
      headers: { Authorization: `Bearer ${await token.inputValue()}` },
    });
    expect(response.status()).toBe(200);

    await page.getByRole('button', { name: 'Log out' }).click();
    await expect(page).toHaveURL(/\/login/);
    await page.goto('/settings');
    await expect(page).toHaveURL(/\/login\?next=\/settings/);
  });

  test('a wrong password is refused with one message', async ({ page }) => {
    await page.goto('/login');
    await waitForHydration(page);
    await page.getByLabel('Username').fill(admin.username);
    await page.getByLabel('Password').fill('not the password');
    await page.getByRole('button', { name: 'Log in' }).click();
    await expect(page.getByRole('alert')).toHaveText('That username and password do not match.');
    await shot(page, 'login-error');
  });

  test('a source made in the form receives a signed delivery that opens, escaped', async ({ page }) => {
    await logIn(page);
    await waitForHydration(page);
    await nav(page, 'Sources').click();
    await page.getByLabel('Name').fill('GitHub — my-org');
    await page.getByLabel('Provider').selectOption('github');
    await page.getByLabel('Secret', { exact: true }).fill('It\'s a Secret to Everybody');
    await page.getByRole('button', { name: 'Add source' }).click();
    const url = await page.getByLabel('New endpoint URL').inputValue();
    expect(url).toMatch(/\/hooks\/src_[a-z0-9]{20}$/);

    const body = JSON.stringify({ ref: 'refs/heads/main', sender: 'quokkaexpress', note: '<script>window.__xss = 1</script>' });
    const signature = 'sha256=' + createHmac('sha256', "It's a Secret to Everybody").update(body).digest('hex');
    const delivered = await page.request.post(url, {
      data: body,
      headers: {
        'content-type': 'application/json',
        'x-github-event': 'push',
        'x-github-delivery': 'e2e-1',
        'x-hub-signature-256': signature,
      },
    });
    expect(delivered.status()).toBe(200);
    const refused = await page.request.post(url, { data: body, headers: { 'x-hub-signature-256': 'sha256=00' } });
    expect(refused.status()).toBe(401);

    const other = JSON.stringify({ ref: 'refs/heads/dev', sender: 'someone-else' });
    const otherDelivered = await page.request.post(url, {
      data: other,
      headers: {
        'content-type': 'application/json',
        'x-github-event': 'push',
        'x-github-delivery': 'e2e-2',
        'x-hub-signature-256': 'sha256=' + createHmac('sha256', "It's a Secret to Everybody").update(other).digest('hex'),
      },
    });
    expect(otherDelivered.status()).toBe(200);

    await nav(page, 'Events').click();
    await page.getByLabel('Event type').fill('push');
    await page.getByRole('button', { name: 'Filter' }).click();
    await expect(page).toHaveURL(/event_type=push/);
    await expect(page.getByRole('row', { name: /GitHub — my-org/ })).toHaveCount(2);
    await page.getByLabel('Search bodies').fill('quokka');
    await page.getByRole('button', { name: 'Filter' }).click();
    await expect(page).toHaveURL(/q=quokka/);
    await expect(page.getByRole('row', { name: /GitHub — my-org/ })).toHaveCount(1);
    await shot(page, 'events');
    await page.getByRole('row', { name: /GitHub — my-org/ }).getByRole('link').click();
    await expect(page.getByRole('heading', { name: 'push' })).toBeVisible();
    await expect(page.locator('pre.body').first()).toContainText('<script>window.__xss = 1</script>');
    expect(await page.evaluate(() => (window as any).__xss)).toBeUndefined();
    await shot(page, 'event');

    await page.getByRole('link', { name: 'GitHub — my-org' }).click();
    await expect(page.getByRole('cell', { name: 'malformed header x-hub-signature-256' }).or(page.getByRole('cell', { name: 'signature does not match' }))).toBeVisible();
    await page.getByText('Show secret').click();
    await shot(page, 'source');
  });

  test('a source answers through a handler, rotates its secret and is deleted', async ({ page }) => {
    await logIn(page);
    await waitForHydration(page);
    await nav(page, 'Sources').click();
    await page.getByRole('link', { name: 'GitHub — my-org' }).click();
    const url = await page.locator('code.url').first().innerText();

    const handlers = page.locator('#handlers');
    await handlers.getByText('Add a handler').click();
    await handlers.getByLabel('Kind').selectOption('respond');
    await handlers.getByLabel('Event types').fill('ping');
    await handlers.getByLabel('Status').fill('hello');
    await handlers.getByRole('button', { name: 'Add handler' }).click();
    await expect(handlers.getByText('An HTTP status such as 200 or 410.')).toBeVisible();
    await handlers.getByLabel('Status').fill('202');
    await handlers.getByLabel('Body', { exact: true }).fill('{"pong":true}');
    await handlers.getByRole('button', { name: 'Add handler' }).click();
    await expect(handlers.getByRole('cell', { name: /answers 202/ })).toBeVisible();

    const sign = (secret: string, text: string) => 'sha256=' + createHmac('sha256', secret).update(text).digest('hex');
    const ping = '{"zen":"Design for failure."}';
    const answered = await page.request.post(url, {
      data: ping,
      headers: { 'x-github-event': 'ping', 'x-github-delivery': 'e2e-ping', 'x-hub-signature-256': sign("It's a Secret to Everybody", ping) },
    });
    expect(answered.status()).toBe(202);
    expect(await answered.text()).toBe('{"pong":true}');

    const settings = page.locator('#settings');
    await settings.getByLabel('New secret').fill('the next secret');
    await settings.getByRole('button', { name: 'Rotate secret' }).click();
    await expect(page.getByText('The previous secret is still accepted')).toBeVisible();
    for (const [secret, id] of [["It's a Secret to Everybody", 'e2e-old'], ['the next secret', 'e2e-new']]) {
      const response = await page.request.post(url, {
        data: ping,
        headers: { 'x-github-event': 'push', 'x-github-delivery': id, 'x-hub-signature-256': sign(secret, ping) },
      });
      expect(response.status()).toBe(200);
    }
    await page.getByRole('button', { name: 'Stop accepting the previous secret' }).click();
    await expect(page.getByText('The previous secret is still accepted')).toBeHidden();
    await shot(page, 'source-configured');

    await settings.getByText('Delete this source…').click();
    await settings.getByRole('button', { name: 'Delete source and its events' }).click();
    await expect(page).toHaveURL(/\/sources\?deleted=1$/);
    await expect(page.getByRole('status')).toContainText('The source was deleted');
    await expect(page.getByRole('link', { name: 'GitHub — my-org' })).toHaveCount(0);
    const gone = await page.request.post(url, { data: ping, headers: { 'x-github-event': 'push' } });
    expect(gone.status()).toBe(404);
  });

  test('unknown pages show the 404 page', async ({ page }) => {
    await logIn(page);
    const response = await page.goto('/no/such/page');
    expect(response?.status()).toBe(404);
    await expect(page.getByRole('heading', { name: 'There is nothing here' })).toBeVisible();
    await shot(page, 'not-found');
  });
});

test.describe('without JavaScript', () => {
  test.use({ javaScriptEnabled: false });

  test('login, the shell and logout work as plain forms', async ({ page }) => {
    await page.goto('/settings');
    await expect(page).toHaveURL(/\/login\?next=\/settings/);

    await page.getByLabel('Username').fill(admin.username);
    await page.getByLabel('Password').fill('not the password');
    await page.getByRole('button', { name: 'Log in' }).click();
    await expect(page.getByRole('alert')).toHaveText('That username and password do not match.');

    await page.getByLabel('Username').fill(admin.username);
    await page.getByLabel('Password').fill(admin.password);
    await page.getByRole('button', { name: 'Log in' }).click();
    await expect(page).toHaveURL(/\/settings$/);
    await expect(page.getByRole('heading', { name: 'API keys' })).toBeVisible();

    // A form error comes back beside its field after the round trip.
    await page.getByLabel('Current password').fill('not my password');
    await page.getByLabel('New password', { exact: true }).fill('another long password');
    await page.getByLabel('Repeat the new password').fill('another long password');
    await page.getByRole('button', { name: 'Change password' }).click();
    await expect(page.getByText('That is not your current password.')).toBeVisible();

    await nav(page, 'Overview').click();
    await expect(page.getByRole('heading', { name: 'Overview' })).toBeVisible();
    await page.getByRole('button', { name: 'Log out' }).click();
    await expect(page).toHaveURL(/\/login$/);
  });
});
