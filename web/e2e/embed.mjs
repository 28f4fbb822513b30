// The embed snippet on a plain static page served from another origin: the button
// appears, opens the overlay, and the customer gets from the privacy notice to a call.
// Escape closes the overlay even with the focus inside its frame.

import assert from 'node:assert/strict';
import { createServer } from 'node:http';
import { ADMIN_TOKEN, call, catalog, openPage, assertNoErrors, shot, videoIsPlaying, waitFor } from './harness.mjs';
import { assertText } from './flows.mjs';

const folder = 'embed';

function shopPage(base) {
  return `<!doctype html>
<html lang="en">
<head><meta charset="utf-8"><title>Northpoint Time — Harbor Field Watch</title></head>
<body style="font-family: Georgia, serif; margin: 3rem; max-width: 40rem">
  <h1>Harbor Field Watch</h1>
  <p>A 40 mm field watch with a sand-blasted steel case. From $189.00.</p>
  <script src="${base}/embed.js" data-key="pk_demo" data-product="harbor-field-watch" async></script>
</body>
</html>`;
}

function serve(html) {
  return new Promise((resolve) => {
    const server = createServer((req, res) => {
      // Only the page; anything else (the browser's favicon request) is empty, not an error.
      res.writeHead(req.url === '/' ? 200 : 204, { 'Content-Type': 'text/html; charset=utf-8' });
      res.end(req.url === '/' ? html : undefined);
    });
    server.listen(0, '127.0.0.1', () => resolve(server));
  });
}

/** The tag of the element with the focus inside the snippet's shadow root. */
function focusedInSnippet(page) {
  return page.evaluate(() => document.activeElement?.shadowRoot?.activeElement?.tagName);
}

export async function embedOnAnotherSite(base, browser) {
  const text = catalog('en');
  // "localhost" and "127.0.0.1" are different origins, like a shop and its Vitrine.
  const site = await serve(shopPage(base));
  const page = await openPage(browser);
  try {
    await page.goto(`http://localhost:${site.address().port}/`);
    const button = page.getByRole('button', { name: text['embed.open'] });
    await button.waitFor();
    await shot(page, folder, '01-shop-page');

    await button.click();
    const frame = page.frameLocator('iframe');
    await assertText(frame.locator('#consent-title'), text['consent.title']);
    await shot(page, folder, '02-overlay-consent');

    // The focus is in the frame; Escape there closes the overlay all the same.
    assert.equal(await focusedInSnippet(page), 'IFRAME');
    await page.keyboard.press('Escape');
    await button.waitFor();
    assert.equal(await focusedInSnippet(page), 'BUTTON');
    await button.click();
    await frame.getByTestId('consent-accept').click();

    // The form says what is wrong before anything is sent.
    await frame.getByTestId('widget-start').click();
    await assertText(frame.locator('#name-error'), text['widget.nameRequired']);
    await frame.getByTestId('widget-name').fill('Lucía Embed');
    await frame.getByTestId('widget-start').click();
    await frame.getByTestId('customer-call').waitFor().catch(async (e) => {
      await shot(page, folder, 'failed');
      throw new Error(`${e.message}\n${page.errors.join('\n')}`);
    });
    await assertText(frame.getByTestId('remote-status'), text['call.waitingForShopper']);
    // The frame may use the camera: the site's page granted it with the iframe's `allow`.
    await waitFor(() => videoIsPlaying(frame.locator('[data-testid=local-preview] video')), 'the camera in the frame');
    await shot(page, folder, '03-overlay-call');

    const listed = await waitFor(async () => {
      const { sessions } = await call(base, 'GET', '/v1/sessions?status=requested&q=Embed', { token: ADMIN_TOKEN });
      return sessions.find((s) => s.customer_name === 'Lucía Embed');
    }, 'the requested session');
    const state = await call(base, 'GET', `/v1/sessions/${listed.session_id}`, { token: ADMIN_TOKEN });
    const customer = state.participants.find((p) => p.role === 'customer');
    assert.deepEqual(state.consents[customer.participant_id], ['privacy']);

    // Escape in the open cart drawer closes the drawer only; the next one, the overlay.
    await frame.getByTestId('open-cart').click();
    await frame.getByTestId('cart-drawer').waitFor();
    await page.keyboard.press('Escape');
    await frame.getByTestId('cart-drawer').waitFor({ state: 'detached' });
    assert.equal(await button.isVisible(), false, 'the overlay stays open');
    await page.keyboard.press('Escape');
    await button.waitFor();
    assert.equal(await focusedInSnippet(page), 'BUTTON');

    // Closing hides the overlay and gives the focus back to the button.
    await button.click();
    await page.getByRole('button', { name: text['common.close'] }).click();
    await button.waitFor();
    assert.equal(await focusedInSnippet(page), 'BUTTON');
    assertNoErrors(page, 'the shop page with the snippet');
  } finally {
    await page.context().close();
    site.close();
  }
}
