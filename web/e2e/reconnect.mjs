// The node dies mid-call and comes back: both pages reconnect by themselves, resume from
// the last seq they saw, and a message written while the node was down is sent once.

import assert from 'node:assert/strict';
import { catalog, createShopper, openPage, requestSession, shot, startServer, waitFor } from './harness.mjs';
import { acceptAndStart, assertText, joinAsCustomer, openConsole, searchAndPush } from './flows.mjs';

const folder = 'reconnect';

/** Chrome's own console lines for sockets and requests refused while the node is down. */
const REFUSED = /WebSocket connection to .* failed|Failed to load resource: net::ERR_CONNECTION_REFUSED/;

export async function reconnectAfterCrash(browser) {
  const text = catalog('en');
  const server = await startServer();
  const shopper = await openPage(browser);
  const customer = await openPage(browser);
  try {
    const info = await createShopper(server.base, 'Restart Shopper');
    await openConsole(shopper, server.base, info.token);
    const session = await requestSession(server.base, 'Nora Restart');
    await joinAsCustomer(customer, session.join_url, 'en', text);
    await customer.getByTestId('consent-accept').click();
    await customer.getByTestId('customer-call').waitFor();
    await acceptAndStart(shopper, session.session_id);
    await searchAndPush(shopper, 'field watch', 'harbor-field-watch');
    await customer.locator('[data-testid=product-card]').waitFor();

    const restarting = server.crashAndRestart(1500);
    await assertText(customer.getByTestId('link-state'), text['common.reconnecting']);
    // Written while the node is down: sent when the link is back, with the same id.
    await customer.getByTestId('chat-input').fill('Sent while offline');
    await customer.getByTestId('chat-send').click();
    await shot(customer, folder, '01-reconnecting');
    await restarting;

    await shopper.locator('[data-testid=chat-line]', { hasText: 'Sent while offline' }).waitFor();
    await customer.getByTestId('link-state').waitFor({ state: 'detached' });
    await searchAndPush(shopper, 'tote', 'city-tote');
    await customer.locator('[data-testid=product-card][data-product="city-tote"]').waitFor();
    await shot(customer, folder, '02-resumed');

    // Give any repeat a moment to show up, then count: each thing is there once.
    await new Promise((r) => setTimeout(r, 500));
    assert.equal(await customer.locator('[data-testid=product-card]').count(), 2);
    assert.equal(await customer.locator('[data-testid=chat-line]', { hasText: 'Sent while offline' }).count(), 1);
    assert.equal(await shopper.locator('[data-testid=chat-line]', { hasText: 'Sent while offline' }).count(), 1);
    for (const [page, label] of [
      [shopper, 'the console'],
      [customer, 'the customer page'],
    ]) {
      const unexpected = page.errors.filter((e) => !REFUSED.test(e));
      assert.deepEqual(unexpected, [], `${label} logged errors beyond the refused connections`);
    }
    await waitFor(async () => (await customer.getByTestId('customer-call').getAttribute('data-status')) === 'live', 'live');
  } finally {
    await shopper.context().close();
    await customer.context().close();
    await server.stop();
  }
}
