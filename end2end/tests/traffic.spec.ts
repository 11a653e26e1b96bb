import { test, expect, type Page } from '@playwright/test';
import { accessibilityProblems, addGithubSource, logIn, sendGithub, shot, waitForHydration } from './helpers';

// The health figures on the overview and on a source's and a subscription's page: drawn on the
// server, so they show without JavaScript, and read again while the page stays open. Runs
// after sending.spec.ts (files run in alphabetical order), so the hub has made deliveries.

/** The number a health figure shows ("Received", "Delivery attempts", …), in the window shown. */
async function figure(page: Page, name: string): Promise<number> {
  const value = page.locator('.tab-panel:visible .figures div').filter({ has: page.getByText(name, { exact: true }) }).locator('dd');
  return Number((await value.innerText()).replace(/[^0-9.]/g, ''));
}

test.describe.serial('health', () => {
  test('the overview charts what came in and went out, and reads it again while open', async ({ page }) => {
    test.setTimeout(90_000); // the figures are read again every 30 s
    await logIn(page);
    const secret = 'health check secret';
    const url = await addGithubSource(page, 'Health check', secret);
    expect(await sendGithub(page, url, secret, '{"zen":"first"}')).toBe(200);
    await page.goto('/');
    await waitForHydration(page);
    const health = page.getByRole('region', { name: 'Health' });
    await expect(health).toBeVisible();
    await expect(health.getByRole('img', { name: /stored and \d+ refused in the last 24 hours/ })).toBeVisible();
    await expect(health.getByRole('img', { name: /succeeded and \d+ failed in the last 24 hours/ })).toBeVisible();
    const received = await figure(page, 'Received');
    expect(received).toBeGreaterThan(0);
    expect(await figure(page, 'Delivery attempts')).toBeGreaterThan(0);
    await expect(health.getByRole('heading', { name: 'Slowest subscriptions' })).toBeVisible();
    await shot(page, 'health-overview');

    await health.getByText('Last 7 days').click();
    await expect(health.getByRole('img', { name: /in the last 7 days/ }).first()).toBeVisible();
    await expect(health.getByRole('img', { name: /in the last 24 hours/ }).first()).toBeHidden();
    expect(await accessibilityProblems(page), 'the overview with its charts').toEqual([]);

    // A webhook arrives while the page is open: the figures follow within the refresh.
    await health.getByText('Last 24 hours').click();
    const before = await figure(page, 'Received');
    expect(await sendGithub(page, url, secret, '{"zen":"one more"}')).toBe(200);
    await expect
      .poll(() => figure(page, 'Received'), { timeout: 45_000, intervals: [1_000] })
      .toBe(before + 1);
  });

  test('a source shows what it received, a subscription what was sent to it', async ({ page }) => {
    await logIn(page);
    await page.goto('/sources');
    await page.locator('main a[href^="/sources/"]').first().click();
    const health = page.getByRole('region', { name: 'Health' });
    await expect(health.getByRole('img', { name: /stored and/ })).toBeVisible();
    await expect(health.getByRole('img', { name: /succeeded and/ })).toHaveCount(0);

    await page.goto('/subscriptions');
    await page.locator('main a[href^="/subscriptions/"]').first().click();
    await expect(health.getByRole('img', { name: /succeeded and/ })).toBeVisible();
    await expect(health.getByRole('img', { name: /stored and/ })).toHaveCount(0);
    expect(await figure(page, 'Delivery attempts')).toBeGreaterThan(0);
  });

  test.describe('without JavaScript', () => {
    test.use({ javaScriptEnabled: false });

    test('the charts are in the page as it comes from the server', async ({ page }) => {
      await logIn(page);
      await page.goto('/');
      const health = page.getByRole('region', { name: 'Health' });
      await expect(health.getByRole('img', { name: /in the last 24 hours/ })).toHaveCount(2);
      await health.getByText('Last 7 days').click();
      await expect(health.getByRole('img', { name: /in the last 7 days/ }).first()).toBeVisible();
    });
  });
});
