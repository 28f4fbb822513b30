// Things that happen close together: the shopper ends the call while the customer checks
// out, and a double click on Share. Each checks the pages against what the session holds.

import assert from 'node:assert/strict';
import {
  ADMIN_TOKEN,
  call,
  catalog,
  createShopper,
  openPage,
  assertNoErrors,
  requestSession,
  shot,
  startServer,
  waitFor,
} from './harness.mjs';
import { acceptAndStart, addVariant, endCall, joinAsCustomer, openConsole, orderShown, searchAndPush } from './flows.mjs';

const folder = 'overlaps';

/** A live call in English with the customer on the call page; runs `steps` in it. */
async function withLiveCall(base, browser, names, steps) {
  const text = catalog('en');
  const info = await createShopper(base, names.shopper);
  const shopper = await openPage(browser);
  const customer = await openPage(browser);
  try {
    await openConsole(shopper, base, info.token);
    const session = await requestSession(base, names.customer);
    await joinAsCustomer(customer, session.join_url, 'en', text);
    await customer.getByTestId('consent-accept').click();
    await customer.getByTestId('customer-call').waitFor();
    await acceptAndStart(shopper, session.session_id);
    await steps({ shopper, customer, session, text });
    assertNoErrors(shopper, 'the console');
    assertNoErrors(customer, 'the customer page');
  } finally {
    await shopper.context().close();
    await customer.context().close();
  }
}

/**
 * On a node of its own, so that the call it ends (no survey, no chat) is not the newest
 * ended call the admin test opens.
 */
export async function endWhileCheckingOut(browser) {
  const server = await startServer();
  const { base } = server;
  const names = { shopper: 'Ending Shopper', customer: 'Iris Checkout' };
  try {
    await withLiveCall(base, browser, names, async ({ shopper, customer, session, text }) => {
      await searchAndPush(shopper, 'field watch', 'harbor-field-watch');
      await addVariant(customer, text, 'harbor-field-watch', 'Strap', 'Tan Leather');
      await customer.getByTestId('open-cart').click();
      await customer.getByTestId('checkout').click();
      // The shopper ends as soon as the order exists, with the customer's drawer still open.
      await shopper.getByTestId('order').waitFor();
      await endCall(shopper);

      const state = await call(base, 'GET', `/v1/sessions/${session.session_id}`, { token: ADMIN_TOKEN });
      assert.equal(state.orders.length, 1);
      await orderShown(customer.getByTestId('survey'), text, state.orders[0].order_id);
      await shot(customer, folder, '01-survey-after-checkout');
    });
  } finally {
    await server.stop();
  }
}

export async function shareClickedTwice(base, browser) {
  const names = { shopper: 'Double Shopper', customer: 'Teo Twice' };
  await withLiveCall(base, browser, names, async ({ shopper, customer, session }) => {
    await shopper.getByTestId('search-input').fill('field watch');
    await shopper.getByTestId('search-submit').click();
    const result = shopper.locator('[data-testid=search-result][data-product="harbor-field-watch"]');
    await result.getByTestId('push').dblclick();
    await customer.locator('[data-testid=product-card]').waitFor();
    // Give a second card the time to arrive, then count: the card was shared once.
    await new Promise((r) => setTimeout(r, 500));
    assert.equal(await shopper.locator('[data-testid=shared-cards] li').count(), 1);
    assert.equal(await customer.locator('[data-testid=product-card]').count(), 1);
    const state = await call(base, 'GET', `/v1/sessions/${session.session_id}`, { token: ADMIN_TOKEN });
    assert.equal(state.cards.length, 1);
    // The button is back once the push is answered.
    await waitFor(() => result.getByTestId('push').isEnabled(), 'Share enabled again');
  });
}
