// The admin pages: sign in, the session list with a filter, a session's detail with its
// timeline and transcript, and the shoppers page with validation and a new shopper.

import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { ADMIN_TOKEN, call, catalog, openPage, assertNoErrors, requestSession, shot, waitFor } from './harness.mjs';
import { assertText } from './flows.mjs';

const folder = 'admin';

export async function adminPages(base, browser) {
  const text = catalog('en');
  const session = await requestSession(base, 'Admin Filter Test');
  const page = await openPage(browser);
  try {
    await page.goto(`${base}/admin?lang=en`);
    await page.getByTestId('login-token').fill('not-a-token');
    await page.getByTestId('login-submit').click();
    await assertText(page.getByRole('alert'), text['login.tokenRejected']);
    // Chrome reports every refused request in the console; this one was provoked on purpose.
    assert.deepEqual(page.errors, ['console: Failed to load resource: the server responded with a status of 401 (Unauthorized)']);
    page.errors.length = 0;
    await page.getByTestId('login-token').fill(ADMIN_TOKEN);
    await page.getByTestId('login-submit').click();
    await page.getByTestId('session-list').waitFor();
    await page.locator('[data-testid=session-row]').first().waitFor();
    await shot(page, folder, '01-sessions');

    // Only ended sessions: the new, requested one is filtered out.
    await page.getByTestId('filter-status').selectOption('ended');
    await page.getByTestId('filter-apply').click();
    await page.locator(`[data-testid=session-row][data-session="${session.session_id}"]`).waitFor({ state: 'detached' });
    const ended = await page.locator('[data-testid=session-row]').count();
    assert.ok(ended > 0, 'the calls that ended are listed');
    await shot(page, folder, '02-sessions-ended');

    // An ended call's detail: timeline and transcript.
    await page.locator('[data-testid=session-row] a').first().click();
    await page.getByTestId('session-detail').waitFor();
    await assertText(page.getByTestId('detail-status'), text['status.ended']);
    await page.locator('[data-testid=timeline] li[data-kind="survey.completed"]').waitFor();
    const download = page.waitForEvent('download');
    await page.getByTestId('download-transcript').click();
    const file = await (await download).path();
    assert.match(readFileSync(file, 'utf8'), /\(customer\): /);
    await shot(page, folder, '03-session-detail');

    await page.getByTestId('nav-shoppers').click();
    await page.getByTestId('shoppers').waitFor();
    await page.getByTestId('shopper-create').click();
    await assertText(page.locator('#name-problem'), text['shoppers.nameInvalid']);
    await page.getByTestId('shopper-name').fill('Jordi Puig');
    await page.getByTestId('shopper-email').fill('jordi.puig@example.com');
    await page.getByTestId('shopper-collections').fill('watches, bags');
    await page.getByTestId('shopper-create').click();
    await page.locator('[data-testid=shopper-row]', { hasText: 'Jordi Puig' }).waitFor();
    await page.getByRole('button', { name: 'Issue a token for Jordi Puig' }).click();
    const field = page.getByTestId('issued-token').locator('input');
    const token = await field.inputValue();
    // The new token has the focus, ready to copy.
    await waitFor(() => field.evaluate((input) => document.activeElement === input), 'the token to have the focus');
    await page.evaluate(() => window.scrollTo(0, 0));
    await shot(page, folder, '04-shoppers');

    // The token the page issued opens the shopper's queue.
    const queue = await call(base, 'GET', '/v1/sessions?status=requested', { token });
    assert.ok(queue.sessions.some((s) => s.session_id === session.session_id));
    assertNoErrors(page, 'the admin');
  } finally {
    await page.context().close();
  }
}
