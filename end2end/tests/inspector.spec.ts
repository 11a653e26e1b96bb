import { test, expect } from '@playwright/test';
import { Receiver, addGithubSource, logIn, nav, sendGithub, shot, waitForHydration } from './helpers';

// What happened, at GitHub's deliveries page's level of detail: every attempt's exact request
// and response, bodies as they came, handlers that failed and can run again, and lists that
// page both ways with totals. .ci/test starts the hub with one delivery attempt and one quick
// handler retry, and loopback delivery allowed.

const secret = 'inspector secret';

test.describe.serial('the inspector', () => {
  test('an attempt shows the exact request and response, and copies as curl', async ({ page, context }) => {
    await context.grantPermissions(['clipboard-read', 'clipboard-write']);
    const receiver = new Receiver((r) => (r.succeed ? 202 : 503));
    const url = await receiver.start('/inspect?team=7');
    try {
      await logIn(page);
      await waitForHydration(page);
      await nav(page, 'Event types').click();
      await page.getByLabel('Name').fill('inspect.me');
      await page.getByRole('button', { name: 'Add event type' }).click();
      await expect(page.getByRole('row', { name: /inspect\.me/ })).toBeVisible();
      await nav(page, 'Subscriptions').click();
      await page.getByLabel('URL').fill(url);
      await page.getByLabel('Event types').fill('inspect.me');
      await page.getByRole('button', { name: 'Add subscription' }).click();
      await expect(page.getByRole('status')).toContainText('is subscribed');

      await nav(page, 'Event types').click();
      const publish = page.locator('#publish');
      await publish.getByLabel('Event type').selectOption('inspect.me');
      await publish.getByLabel('Payload (JSON)').fill('{"zeta": 1, "alpha": 2}');
      await publish.getByRole('button', { name: 'Publish' }).click();
      await publish.getByRole('link', { name: 'See its deliveries' }).click();
      const row = page.locator('table.deliveries tbody tr').first();
      await expect(row.locator('.badge')).toHaveText('failed', { timeout: 20_000 });
      expect(receiver.received).toHaveLength(1);
      // The publisher's key order is kept in what is sent.
      expect(receiver.received[0].body).toMatch(/"data":\{"zeta":1,"alpha":2\}/);

      // A second attempt by hand: "attempts" counts both, in the list and on the page.
      receiver.succeed = true;
      await row.locator('a.row-link').click();
      await page.getByRole('button', { name: 'Redeliver' }).click();
      await expect(page.locator('.page-head .badge')).toHaveText('succeeded', { timeout: 20_000 });
      await expect(page.locator('.facts')).toContainText('2 · 1 since it was last redelivered');
      await page.goBack();
      await expect(page.locator('table.deliveries tbody tr').first().locator('td').nth(4)).toHaveText('2');
      await page.goForward();

      const [, second] = receiver.received;
      const attempt = page.locator('.timeline .attempt').nth(1);
      // Attempts to the millisecond, with the time since the one before.
      await expect(attempt.locator('time')).toHaveText(/^\d{4}-\d\d-\d\d \d\d:\d\d:\d\d\.\d{3} UTC$/);
      await expect(attempt.locator('.gap')).toHaveText(/^\+\d+ (ms|s)$/);
      const request = attempt.locator('.request-panel');
      await expect(request.locator('.request-line')).toContainText(`POST ${url}`);
      const shownHeader = (name: string) =>
        request.locator('table.headers tr', { has: page.locator(`th:text-is("${name}")`) }).locator('td');
      // Every header as sent, the signature included, and the exact body.
      for (const name of ['webhook-id', 'webhook-timestamp', 'webhook-signature', 'content-type', 'user-agent', 'content-length', 'host']) {
        await expect(shownHeader(name)).toHaveText(String(second.headers[name]));
      }
      await expect(request.locator('pre.body')).toHaveText(second.body);

      await attempt.getByRole('button', { name: 'Copy as curl' }).click();
      const curl = await page.evaluate(() => navigator.clipboard.readText());
      expect(curl).toContain(`curl -X POST '${url}'`);
      expect(curl).toContain(`-H 'webhook-signature: ${second.headers['webhook-signature']}'`);
      expect(curl).toContain(`--data-binary '${second.body}'`);

      await attempt.getByText('Response', { exact: true }).click();
      const response = attempt.locator('.response-panel');
      await expect(response).toBeVisible();
      await expect(response.locator('.request-line')).toHaveText('HTTP 202');
      await expect(response.locator('pre.body')).toHaveText('thanks');
      await shot(page, 'delivery-inspector');
    } finally {
      await receiver.close();
    }
  });

  test('a disabled subscription refuses a test event and redeliveries until enabled', async ({ page }) => {
    const receiver = new Receiver(() => 410);
    const url = await receiver.start('/gone');
    try {
      await logIn(page);
      await waitForHydration(page);
      await nav(page, 'Subscriptions').click();
      await page.getByLabel('URL').fill(url);
      await page.getByLabel('Event types').fill('inspect.me');
      await page.getByRole('button', { name: 'Add subscription' }).click();
      await page.getByRole('link', { name: url }).click();
      await page.getByRole('button', { name: 'Send test event' }).click();
      // 410 Gone disables it.
      await expect(page.getByRole('heading', { name: 'This subscription is disabled' })).toBeVisible({ timeout: 20_000 });
      await page.getByRole('button', { name: 'Send test event' }).click();
      await expect(page.getByRole('alert')).toContainText('The subscription is disabled, so nothing is sent to it: enable it first');
      await page.locator('table.deliveries a.row-link').first().click();
      await page.getByRole('button', { name: 'Redeliver' }).click();
      await expect(page.getByRole('alert')).toContainText('enable it first');
      await expect(page.locator('.page-head .badge')).toHaveText('failed');
    } finally {
      await receiver.close();
    }
  });

  test('every failed delivery a filter finds is sent again, after a question', async ({ page }) => {
    const receiver = new Receiver((r) => (r.succeed ? 200 : 500));
    const url = await receiver.start('/bulk');
    try {
      await logIn(page);
      await waitForHydration(page);
      await nav(page, 'Subscriptions').click();
      await page.getByLabel('URL').fill(url);
      await page.getByLabel('Event types').fill('inspect.me');
      await page.getByRole('button', { name: 'Add subscription' }).click();
      const subscription = (await page.getByRole('link', { name: url }).getAttribute('href'))!.split('/').pop();
      await nav(page, 'Event types').click();
      const publish = page.locator('#publish');
      for (const n of [1, 2, 3]) {
        await publish.getByLabel('Event type').selectOption('inspect.me');
        await publish.getByLabel('Payload (JSON)').fill(`{"n": ${n}}`);
        await publish.getByRole('button', { name: 'Publish' }).click();
        await expect(publish.getByRole('status')).toContainText('Published');
      }
      await expect.poll(() => receiver.received.length, { timeout: 20_000 }).toBe(3);
      await page.goto(`/deliveries?subscription=${subscription}`);
      await waitForHydration(page);
      const bulk = page.getByText('Redeliver the 3 failed');
      await expect(bulk).toBeVisible({ timeout: 20_000 });
      receiver.succeed = true;
      await bulk.click();
      await expect(page.getByText('Send the 3 failed deliveries these filters find again')).toBeVisible();
      await shot(page, 'redeliver-matching');
      await page.getByRole('button', { name: 'Yes, redeliver 3' }).click();
      await expect(page.getByRole('status').filter({ hasText: '3 deliveries queued again' })).toBeVisible();
      await expect.poll(() => receiver.received.length, { timeout: 20_000 }).toBe(6);
      await expect(page.locator('table.deliveries tbody .badge', { hasText: 'succeeded' })).toHaveCount(3, { timeout: 20_000 });
    } finally {
      await receiver.close();
    }
  });

  test("an event body keeps its order, its exact bytes and a form body's fields", async ({ page }) => {
    await logIn(page);
    await waitForHydration(page);
    const url = await addGithubSource(page, 'Inspector bodies', secret);
    const json = '{"zeta": 1,\n "alpha": {"b": 2, "a": 1}}';
    expect(await sendGithub(page, url, secret, json, 'ordered')).toBe(200);
    const form = 'payload=%7B%22z%22%3A1%7D&note=hello+there';
    expect(await sendGithub(page, url, secret, form, 'formed', 'application/x-www-form-urlencoded')).toBe(200);

    await nav(page, 'Events').click();
    await page.getByRole('row', { name: /ordered/ }).locator('a.row-link').click();
    const body = page.locator('#body');
    const formatted = await body.locator('pre.body').first().innerText();
    expect(formatted.indexOf('zeta')).toBeLessThan(formatted.indexOf('alpha'));
    expect(formatted.indexOf('"b"')).toBeLessThan(formatted.indexOf('"a"'));
    await body.getByText('Raw', { exact: true }).click();
    await expect(body.locator('pre.raw')).toBeVisible();
    expect(await body.locator('pre.raw').textContent()).toBe(json);
    await shot(page, 'event-raw');

    await nav(page, 'Events').click();
    await page.getByRole('row', { name: /formed/ }).locator('a.row-link').click();
    const fields = page.locator('#body table.form-fields');
    await expect(fields.getByRole('row', { name: /payload/ })).toContainText('{"z":1}');
    await expect(fields.getByRole('row', { name: /note/ })).toContainText('hello there');
  });

  test('handlers that cannot work are refused, and failed runs run again', async ({ page }) => {
    const receiver = new Receiver((r) => (r.succeed ? 200 : 500));
    const target = await receiver.start('/relay');
    try {
      await logIn(page);
      await waitForHydration(page);
      const url = await addGithubSource(page, 'Inspector handlers', secret);
      await page.getByRole('link', { name: 'Open the source' }).click();
      const handlers = page.locator('#handlers');
      await handlers.getByText('Add a handler').click();
      // Only the chosen kind's fields show.
      await expect(handlers.getByLabel('URL')).toBeVisible();
      await expect(handlers.getByLabel('Status')).toBeHidden();
      await handlers.getByLabel('Kind').selectOption('publish');
      await expect(handlers.getByLabel('URL')).toBeHidden();
      await handlers.getByLabel('Publish as').fill('no.such.type');
      await handlers.getByRole('button', { name: 'Add handler' }).click();
      await expect(handlers.getByRole('alert')).toContainText('no.such.type is not in the catalog');
      await handlers.getByLabel('Kind').selectOption('forward');
      await handlers.getByLabel('URL').fill('http://10.255.255.1/relay');
      await handlers.getByRole('button', { name: 'Add handler' }).click();
      await expect(handlers.getByRole('alert')).toContainText('local and private addresses are blocked');
      await handlers.getByLabel('URL').fill(target);
      await handlers.getByRole('button', { name: 'Add handler' }).click();
      await expect(handlers.getByRole('cell', { name: `forwards to ${target}` })).toBeVisible();

      // Switched off, it runs for no event; edited in place, it moves.
      const row = handlers.getByRole('row', { name: /forwards to/ });
      await row.getByRole('button', { name: 'Disable' }).click();
      await expect(row.locator('.badge', { hasText: 'disabled' })).toBeVisible();
      expect(await sendGithub(page, url, secret, '{"n": 0}', 'ignored')).toBe(200);
      await row.getByText('Edit', { exact: true }).click();
      await row.getByLabel('Position').fill('5');
      await row.getByLabel('Event types').fill('relayed');
      await row.getByRole('button', { name: 'Save' }).click();
      await expect(handlers.getByRole('status').filter({ hasText: 'at position 5 is disabled' })).toBeVisible();
      await handlers.getByRole('row', { name: /forwards to/ }).getByRole('button', { name: 'Enable' }).click();
      await expect(handlers.getByRole('row', { name: /forwards to/ }).locator('.badge', { hasText: 'disabled' })).toHaveCount(0);
      await expect(handlers.getByRole('row', { name: /forwards to/ }).locator('td').first()).toHaveText('5');
      expect(receiver.received).toHaveLength(0);

      // The relay fails: the run gives up, the event and the source's handlers say so.
      expect(await sendGithub(page, url, secret, '{"n": 1}', 'relayed')).toBe(200);
      await nav(page, 'Events').click();
      await page.getByRole('row', { name: /relayed/ }).locator('a.row-link').click();
      await expect(page.locator('#handlers .badge').first()).toHaveText('failed', { timeout: 20_000 });
      await nav(page, 'Sources').click();
      await page.getByRole('link', { name: 'Inspector handlers' }).click();
      await expect(handlers.getByText('1 run failed')).toBeVisible();
      await expect(handlers).toContainText('HTTP 500');

      receiver.succeed = true;
      await handlers.getByRole('button', { name: 'Run the failed handlers again' }).click();
      await expect(handlers.getByRole('status')).toContainText('1 run queued again.');
      await nav(page, 'Events').click();
      await page.getByRole('row', { name: /relayed/ }).locator('a.row-link').click();
      await expect(page.locator('#handlers .badge').first()).toHaveText('done', { timeout: 20_000 });
    } finally {
      await receiver.close();
    }
  });

  test('lists page both ways with totals; rows open what they list; times stay on one line', async ({ page }) => {
    await logIn(page);
    await waitForHydration(page);
    const url = await addGithubSource(page, 'Inspector paging', secret);
    const source = url.split('/').pop();
    for (let batch = 0; batch < 5; batch++) {
      const sent = await Promise.all(
        Array.from({ length: 11 }, (_, i) => sendGithub(page, url, secret, `{"n": ${batch * 11 + i}}`, 'paged')),
      );
      expect(sent).toEqual(Array(11).fill(200));
    }
    await page.goto(`/events?source=${source}`);
    const pager = page.getByRole('navigation', { name: 'Pages' });
    await expect(pager).toContainText('1–50 of 55');
    await expect(pager.getByRole('link', { name: '‹ Newer' })).toHaveCount(0);
    await pager.getByRole('link', { name: 'Older ›' }).click();
    await expect(pager).toContainText('51–55 of 55');
    await expect(page.locator('table.events tbody tr')).toHaveCount(5);
    await expect(pager.getByRole('link', { name: 'Older ›' })).toHaveCount(0);
    await pager.getByRole('link', { name: '‹ Newer' }).click();
    await expect(pager).toContainText('1–50 of 55');
    await expect(page).toHaveURL(new RegExp(`source=${source}&after=\\d+$`));
    await pager.getByRole('link', { name: 'Older ›' }).click();
    await pager.getByRole('link', { name: '« Newest' }).click();
    await expect(page).toHaveURL(new RegExp(`/events\\?source=${source}$`));

    // Times, sizes and ids keep to one line at any width.
    for (const cell of ['td.when', 'td.size', '.id-cell']) {
      const first = page.locator(`table.events tbody tr ${cell}`).first();
      expect(await first.evaluate((el) => getComputedStyle(el).whiteSpace)).toBe('nowrap');
    }
    // Once hydrated, times read relative, the exact time on hover.
    const time = page.locator('table.events tbody tr time').first();
    await expect(time).toHaveText(/just now|s ago|min ago/);
    await expect(time).toHaveAttribute('title', /^\d{4}-\d\d-\d\d \d\d:\d\d:\d\d UTC$/);
    // A click anywhere in a row opens it, not only on its link: the middle of its event type.
    const box = (await page.locator('table.events tbody tr').first().locator('td').nth(2).boundingBox())!;
    await page.mouse.click(box.x + box.width / 2, box.y + box.height / 2);
    await expect(page).toHaveURL(/\/events\/\d+$/);
  });
});

test.describe("times in the browser's zone", () => {
  test.use({ timezoneId: 'Asia/Kolkata' });

  test('the UTC or local choice is kept in the browser', async ({ page }) => {
    await logIn(page);
    await waitForHydration(page);
    await nav(page, 'Events').click();
    const time = page.locator('table.events tbody tr time').first();
    await expect(time).toHaveAttribute('title', / UTC$/);
    await page.getByRole('button', { name: 'Times: UTC' }).click();
    await expect(page.getByRole('button', { name: 'Times: local' })).toBeVisible();
    await expect(time).toHaveAttribute('title', / UTC\+05:30$/);
    await page.reload();
    await waitForHydration(page);
    await expect(page.getByRole('button', { name: 'Times: local' })).toBeVisible();
    await expect(page.locator('table.events tbody tr time').first()).toHaveAttribute('title', / UTC\+05:30$/);
    await page.getByRole('button', { name: 'Times: local' }).click();
    await expect(page.getByRole('button', { name: 'Times: UTC' })).toBeVisible();
  });
});
