// The widget page opened by a shop's button whose public key the server does not know:
// the customer learns that the shop's setup is wrong, not that their own access expired.

import assert from 'node:assert/strict';
import { ADMIN_TOKEN, call, catalog, openPage, shot } from './harness.mjs';
import { assertText } from './flows.mjs';

/** Chrome's own console line for the refused session request. */
const REFUSED = /Failed to load resource: the server responded with a status of 401/;

export async function widgetWithWrongKey(base, browser) {
  const text = catalog('en');
  const page = await openPage(browser);
  try {
    await page.goto(`${base}/widget?key=pk_wrong&lang=en`);
    await page.getByTestId('consent-accept').click();
    await page.getByTestId('widget-name').fill('Pau Wrongkey');
    await page.getByTestId('widget-start').click();

    const screen = page.getByTestId('widget-misconfigured');
    await assertText(screen.locator('h1'), text['widget.misconfiguredTitle']);
    await assertText(screen.locator('p'), text['widget.misconfiguredBody']);
    // The new screen's heading takes the focus, so a screen reader reads it out.
    assert.equal(await page.evaluate(() => document.activeElement?.id), 'misconfigured-title');
    await shot(page, 'widget', '01-wrong-key');

    const { sessions } = await call(base, 'GET', '/v1/sessions?q=Wrongkey', { token: ADMIN_TOKEN });
    assert.deepEqual(sessions, [], 'no session was created');
    assert.deepEqual(page.errors.filter((e) => !REFUSED.test(e)), [], 'the widget logged errors');
  } finally {
    await page.context().close();
  }
}
