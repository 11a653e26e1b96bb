import { test, expect } from '@playwright/test';
import { logIn, nav, shot, waitForHydration } from './helpers';

// Roles in the browser: an admin adds a member; a subscriber's credentials are redacted in the
// edit form, kept when it is saved as it was filled, and shown only under the admin's
// "Show secret"; the member sees neither them nor the secrets, and cannot manage API keys.

const member = { username: 'member', password: 'a member password' };
const headerToken = 'Bearer e2e-header-token';
const urlToken = 'e2e-url-token';
// Nothing listens on port 9: this subscription is only looked at.
const url = `http://127.0.0.1:9/in?token=${urlToken}&team=7`;
const shownUrl = 'http://127.0.0.1:9/in?token=[redacted]&team=7';

test.describe.serial('roles', () => {
  test('an admin sees credentials on request, and an edit keeps them', async ({ page }) => {
    await logIn(page);
    await waitForHydration(page);

    await nav(page, 'Settings').click();
    const users = page.locator('#users');
    await users.getByLabel('Username').fill(member.username);
    await users.getByLabel('Password').fill(member.password);
    await users.getByRole('button', { name: 'Add user' }).click();
    await expect(users.getByRole('row', { name: /member/ })).toContainText('Member');

    await nav(page, 'Event types').click();
    await page.getByLabel('Name').fill('roles.test');
    await page.getByRole('button', { name: 'Add event type' }).click();
    await expect(page.getByRole('row', { name: /roles\.test/ })).toBeVisible();

    await nav(page, 'Subscriptions').click();
    await page.getByLabel('URL').fill(url);
    await page.getByLabel('Description').fill('Credentials test');
    await page.getByLabel('Event types').fill('roles.test');
    await page.getByLabel('Extra headers').fill(`Authorization: ${headerToken}\nX-Team: blue`);
    await page.getByRole('button', { name: 'Add subscription' }).click();
    await expect(page.getByRole('status')).toContainText('is subscribed');
    const row = page.getByRole('row', { name: /Credentials test/ });
    await expect(row).toContainText(shownUrl);
    expect(await page.content()).not.toContain(urlToken);

    await row.getByRole('link').first().click();
    await expect(page.getByRole('heading', { name: shownUrl })).toBeVisible();
    const settings = page.locator('#settings');
    await expect(settings.getByLabel('Extra headers')).toHaveValue('authorization: [redacted]\nx-team: blue');
    await expect(settings.getByLabel('URL', { exact: true })).toHaveValue(shownUrl);
    await settings.getByLabel('Description').fill('Credentials test, edited');
    await settings.getByRole('button', { name: 'Save' }).click();
    await expect(page.locator('.page-head')).toContainText('Credentials test, edited');

    await page.reload();
    await waitForHydration(page);
    await page.getByText('Show secret').click();
    const reveal = page.locator('details.reveal');
    await expect(reveal.locator('.credentials')).toContainText(`authorization: ${headerToken}`);
    await expect(reveal.locator('code.url')).toHaveText(url);
    await shot(page, 'subscription-secrets');
  });

  test('a member sees no secret and manages no API key', async ({ page }) => {
    await logIn(page, member);
    await waitForHydration(page);
    // The getting-started steps, but no request signed with a source's secret.
    await expect(page.getByRole('heading', { name: 'Getting started' })).toBeVisible();
    await expect(page.locator('#getting-started pre.curl')).toHaveCount(0);

    await nav(page, 'Subscriptions').click();
    await page.getByRole('row', { name: /Credentials test/ }).getByRole('link').first().click();
    await expect(page.getByRole('heading', { name: shownUrl })).toBeVisible();
    await expect(page.getByText('Only an admin can see or rotate the secret.')).toBeVisible();
    await expect(page.getByRole('button', { name: 'Rotate secret' })).toHaveCount(0);
    await expect(page.getByText('Show secret')).toHaveCount(0);
    const html = await page.content();
    for (const secret of [headerToken, urlToken, 'whsec_']) {
      expect(html).not.toContain(secret);
    }
    await shot(page, 'subscription-member');

    await nav(page, 'Settings').click();
    await expect(page.getByText('Only an admin can create, see and revoke API keys')).toBeVisible();
    await expect(page.getByRole('button', { name: 'Create key' })).toHaveCount(0);
    await shot(page, 'settings-member');
  });
});
