// The customer's tab reloads mid-call: the page comes back with the same cards, cart and
// chat, without asking for consent again, and a card pushed while it was reloading shows
// exactly once.

import assert from 'node:assert/strict';
import { catalog, createShopper, openPage, assertNoErrors, requestSession, shot, waitFor } from './harness.mjs';
import { acceptAndStart, addVariant, joinAsCustomer, openConsole, searchAndPush } from './flows.mjs';

const folder = 'reload';

async function visible(customer) {
  const cards = await customer.locator('[data-testid=product-card]').evaluateAll((els) => els.map((e) => e.dataset.product));
  const chat = await customer.locator('[data-testid=chat-line] .text').allInnerTexts();
  const cart = (await customer.getByTestId('cart-count').innerText()).trim();
  return { cards, chat, cart };
}

export async function reloadMidCall(base, browser) {
  const text = catalog('en');
  const info = await createShopper(base, 'Reload Shopper');
  const shopper = await openPage(browser);
  const customer = await openPage(browser);
  try {
    await openConsole(shopper, base, info.token);
    const session = await requestSession(base, 'Ana Reload');
    await joinAsCustomer(customer, session.join_url, 'en', text);
    await customer.getByTestId('consent-accept').click();
    await customer.getByTestId('customer-call').waitFor();
    await acceptAndStart(shopper, session.session_id);

    await searchAndPush(shopper, 'field watch', 'harbor-field-watch');
    await addVariant(customer, text, 'harbor-field-watch', 'Strap', 'Tan Leather');
    await customer.getByTestId('chat-input').fill('Before the reload');
    await customer.getByTestId('chat-send').click();
    await shopper.locator('[data-testid=chat-line]', { hasText: 'Before the reload' }).waitFor();
    const before = await visible(customer);
    await shot(customer, folder, '01-before-reload');

    // Push a second card while the customer's page is reloading.
    const reloading = customer.reload({ waitUntil: 'commit' });
    await searchAndPush(shopper, 'tote', 'city-tote');
    await reloading;

    await customer.getByTestId('customer-call').waitFor();
    assert.equal(await customer.getByTestId('consent').count(), 0, 'consent is not asked again');
    await waitFor(async () => (await visible(customer)).cards.length === 2, 'both cards after the reload');
    const afterReload = await visible(customer);
    assert.deepEqual(afterReload.cards.sort(), ['city-tote', 'harbor-field-watch']);
    assert.deepEqual(afterReload.chat, before.chat);
    assert.equal(afterReload.cart, before.cart);
    await shot(customer, folder, '02-after-reload');

    // The call goes on: a message after the reload reaches the shopper.
    await customer.getByTestId('chat-input').fill('After the reload');
    await customer.getByTestId('chat-send').click();
    await shopper.locator('[data-testid=chat-line]', { hasText: 'After the reload' }).waitFor();
    // Still one of each card a moment later, once every live event has arrived.
    await new Promise((r) => setTimeout(r, 500));
    assert.equal((await visible(customer)).cards.length, 2);
    assertNoErrors(shopper, 'the console');
    assertNoErrors(customer, 'the customer page');
  } finally {
    await shopper.context().close();
    await customer.context().close();
  }
}
