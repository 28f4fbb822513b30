// The steps of a call as people do them in the pages: the shopper in the console, the
// customer on the join link. Each step checks what the other side sees.

import assert from 'node:assert/strict';
import { catalog, shot, videoIsPlaying, waitFor } from './harness.mjs';

const en = catalog('en');

/** Signs in to the console with a staff token and waits for the queue. */
export async function openConsole(page, base, token) {
  await page.goto(`${base}/console?lang=en`);
  await page.getByTestId('login-token').fill(token);
  await page.getByTestId('login-submit').click();
  await page.getByTestId('queue').waitFor();
}

/** Opens the join link (with `?lang=` when given) and accepts the privacy notice. */
export async function joinAsCustomer(page, joinUrl, lang, text) {
  const url = new URL(joinUrl);
  if (lang) url.searchParams.set('lang', lang);
  await page.goto(url.toString());
  const consent = page.getByTestId('consent');
  await consent.waitFor();
  await assertText(page.locator('#consent-title'), text['consent.title']);
  // The token left the address as soon as the page read it.
  assert.equal(new URL(page.url()).searchParams.get('t'), null);
  return consent;
}

export async function assertText(locator, expected) {
  await waitFor(async () => (await locator.innerText()).trim() === expected, `“${expected}”`).catch(async (e) => {
    throw new Error(`${e.message}; found “${(await locator.innerText().catch(() => '')).trim()}”`);
  });
}

/** The shopper accepts `sessionId` from the queue and starts the call. */
export async function acceptAndStart(page, sessionId) {
  const row = page.locator(`[data-testid=queue-row][data-session="${sessionId}"]`);
  await row.getByTestId('accept').click();
  await page.getByTestId('console-call').waitFor();
  await page.getByTestId('start-call').click();
  await assertText(page.getByTestId('session-status'), en['status.live']);
}

/** Whether the node carries media for `page`, once its link has asked (and the stage says so). */
export async function mediaCarried(page) {
  const carried = await waitFor(
    () => page.evaluate(() => window.__vitrineMedia?.ready().then((ok) => ({ ok }))),
    'the media link to be set up',
  );
  const expected = carried.ok ? 'available' : 'unavailable';
  const stage = page.getByTestId('stage');
  await waitFor(async () => (await stage.getAttribute('data-media')) === expected, `the stage to say media is ${expected}`);
  return carried.ok;
}

/**
 * Checks media in both directions: with a node that carries media, each page plays the
 * other's video and its byte counters grow; without, the customer is told there is none.
 */
export async function checkMedia(shopper, customer, text) {
  for (const page of [shopper, customer]) {
    await waitFor(() => videoIsPlaying(page.locator('[data-testid=local-preview] video')), 'the local camera preview');
  }
  if (!(await mediaCarried(customer))) {
    await assertText(customer.getByTestId('remote-status'), text['call.videoUnavailable']);
    return 'media not carried by this server: byte counters not checked';
  }
  for (const page of [shopper, customer]) {
    await waitFor(() => videoIsPlaying(page.locator('[data-testid=remote-video] video')), 'the other person’s video');
    const first = await page.evaluate(() => window.__vitrineMedia.stats());
    await waitFor(async () => {
      const later = await page.evaluate(() => window.__vitrineMedia.stats());
      return later.bytesSent > first.bytesSent && later.bytesReceived > first.bytesReceived;
    }, 'media byte counters to grow');
  }
  return 'media flowing both ways';
}

export async function searchAndPush(shopper, query, productId) {
  await shopper.getByTestId('search-input').fill(query);
  await shopper.getByTestId('search-submit').click();
  const result = shopper.locator(`[data-testid=search-result][data-product="${productId}"]`);
  await result.waitFor();
  const shared = shopper.locator('[data-testid=shared-cards] li');
  const before = await shared.count();
  await result.getByTestId('push').click();
  await waitFor(async () => (await shared.count()) === before + 1, 'the card among those shared');
}

/** Mute and camera off, and back, with the catalog's labels on the buttons. */
export async function toggleMicAndCamera(customer, text) {
  const mute = customer.getByTestId('mute');
  await mute.click();
  await assertText(mute, text['call.unmute']);
  assert.equal(await mute.getAttribute('aria-pressed'), 'true');
  await mute.click();
  await assertText(mute, text['call.mute']);
  const camera = customer.getByTestId('camera');
  await camera.click();
  await assertText(customer.locator('.self-off'), text['call.cameraIsOff']);
  await camera.click();
  await waitFor(() => videoIsPlaying(customer.locator('[data-testid=local-preview] video')), 'the camera back on');
}

/** The shopper shares their screen in place of the camera, then goes back to the camera. */
export async function shareScreen(shopper, folder) {
  const button = shopper.getByTestId('screen-share');
  await button.click();
  await waitFor(async () => (await button.getAttribute('aria-pressed')) === 'true', 'the screen to be shared');
  await waitFor(() => videoIsPlaying(shopper.locator('[data-testid=local-preview] video')), 'the shared screen');
  await shot(shopper, folder, '06-console-screen-share');
  await button.click();
  await waitFor(async () => (await button.getAttribute('aria-pressed')) === 'false', 'the camera to come back');
}

/** Picks the variant by option and adds it to the cart; returns the card locator. */
export async function addVariant(customer, text, productId, option, value) {
  const card = customer.locator(`[data-testid=product-card][data-product="${productId}"]`);
  await card.waitFor();
  await card.getByTestId(`option-${option}`).selectOption(value);
  const add = card.getByTestId('add-to-cart');
  await assertText(add, text['card.addToCart']);
  await add.click();
  await waitFor(async () => (await customer.getByTestId('cart-count').innerText()).trim() === '1', 'the cart count');
  return card;
}

/** Both pages show the same cart lines and quantities. */
export async function sameCart(shopper, customer, variantId, quantity) {
  await customer.getByTestId('open-cart').click();
  const drawer = customer.getByTestId('cart-drawer');
  await drawer.waitFor();
  const lines = async (scope) =>
    scope.locator('[data-testid=cart-line]').evaluateAll((items) =>
      items.map((li) => ({
        variant: li.dataset.variant,
        quantity: li.querySelector('[data-testid=line-quantity]').textContent.replace(/\D/g, ''),
      })),
    );
  const expected = [{ variant: variantId, quantity: String(quantity) }];
  await waitFor(async () => JSON.stringify(await lines(drawer)) === JSON.stringify(expected), 'the customer cart');
  await waitFor(
    async () => JSON.stringify(await lines(shopper.getByTestId('console-cart'))) === JSON.stringify(expected),
    'the shopper to see the same cart',
  );
  const version = async (page) => page.getByTestId('cart').first().getAttribute('data-version');
  assert.equal(await version(customer), await version(shopper));
}

export async function closeCart(customer) {
  await customer.getByTestId('close-cart').click();
  await customer.getByTestId('cart-drawer').waitFor({ state: 'detached' });
}

/** A message each way; on a phone the customer switches to the chat tab first. */
export async function chatBothWays(shopper, customer, mobile) {
  if (mobile) await customer.getByTestId('tab-chat').click();
  // Typed and sent with Enter, as from a keyboard.
  await customer.getByTestId('chat-input').focus();
  await customer.keyboard.type('¿Tenéis la correa marrón?');
  await customer.keyboard.press('Enter');
  await shopper.locator('[data-testid=chat-line]', { hasText: '¿Tenéis la correa marrón?' }).waitFor();
  await shopper.getByTestId('chat-input').fill('Yes — the tan leather one is on your screen.');
  await shopper.getByTestId('chat-send').click();
  await customer.locator('[data-testid=chat-line]', { hasText: 'the tan leather one' }).waitFor();
}

/** The customer checks out from the cart drawer; returns the order's id. */
export async function checkout(shopper, customer, text) {
  await customer.getByTestId('open-cart').click();
  await customer.getByTestId('checkout').click();
  const order = customer.getByTestId('order');
  await order.waitFor();
  await assertText(order.locator('h3'), text['order.placed']);
  await shopper.getByTestId('order').waitFor();
  const id = async (page) => page.getByTestId('order').getAttribute('data-order');
  const orderId = await id(customer);
  assert.equal(orderId, await id(shopper), 'both see the same order');
  return orderId;
}

/** `screen` confirms the order with its number, in the page's language. */
export async function orderShown(screen, text, orderId) {
  const order = screen.locator(`[data-testid=order][data-order="${orderId}"]`);
  await order.waitFor();
  await assertText(order.getByRole('heading'), text['order.placed']);
  await assertText(order.locator('p.muted'), text['order.number'].replace('{id}', orderId));
}

export async function endCall(shopper) {
  await shopper.getByTestId('end-call').click();
  await shopper.getByTestId('confirm-end').click();
  await assertText(shopper.getByTestId('session-status'), en['status.ended']);
}

export async function answerSurvey(customer, text, score) {
  const survey = customer.getByTestId('survey');
  await survey.waitFor();
  await assertText(survey.locator('h1'), text['survey.title']);
  // Sending without a score is refused with the catalog's message.
  await customer.getByTestId('survey-submit').click();
  await assertText(survey.getByRole('alert'), text['survey.pickScore']);
  await customer.getByTestId(`score-${score}`).check({ force: true });
  await customer.getByTestId('survey-comment').fill('Very helpful');
  await customer.getByTestId('survey-submit').click();
  await assertText(customer.getByTestId('thanks').locator('h1'), text['survey.thanksTitle']);
}

/** The whole call, screenshot at each step into test-artifacts/web-e2e/<folder>/. */
export async function wholeCall({ base, shopper, customer, shopperToken, lang, mobile, folder, customerName }) {
  const text = catalog(lang);
  const { requestSession, call, ADMIN_TOKEN } = await import('./harness.mjs');

  await openConsole(shopper, base, shopperToken);
  await shot(shopper, folder, '01-console-queue');

  const session = await requestSession(base, customerName, lang);
  await joinAsCustomer(customer, session.join_url, lang === 'es' ? null : lang, text);
  await shot(customer, folder, '02-customer-consent');
  // The notice is answered from the keyboard: its heading has the focus, Tab reaches "accept".
  await customer.keyboard.press('Tab');
  assert.equal(await customer.evaluate(() => document.activeElement?.dataset.testid), 'consent-accept');
  await customer.keyboard.press('Enter');
  await customer.getByTestId('customer-call').waitFor();
  await assertText(customer.getByTestId('remote-status'), text['call.waitingForShopper']);
  await shot(customer, folder, '03-customer-waiting');

  await shopper.locator(`[data-testid=queue-row][data-session="${session.session_id}"]`).waitFor();
  await shot(shopper, folder, '04-console-queue-waiting');
  await acceptAndStart(shopper, session.session_id);
  const media = await checkMedia(shopper, customer, text);
  await toggleMicAndCamera(customer, text);
  await shot(shopper, folder, '05-console-live');

  await searchAndPush(shopper, 'field watch', 'harbor-field-watch');
  await shot(shopper, folder, '06-console-pushed');
  if (!mobile) await shareScreen(shopper, folder);
  const card = await addVariant(customer, text, 'harbor-field-watch', 'Strap', 'Tan Leather');
  // The compare-at price shows struck through next to the sale price.
  await card.locator('s.price-was').waitFor();
  await shot(customer, folder, '07-customer-card');

  await sameCart(shopper, customer, 'VDS-WAT-HFW-TAN', 1);
  await shot(customer, folder, '08-customer-cart');
  await closeCart(customer);

  await chatBothWays(shopper, customer, mobile);
  await shot(customer, folder, '09-customer-chat');

  const orderId = await checkout(shopper, customer, text);
  await shot(customer, folder, '10-customer-order');
  await closeCart(customer);

  await endCall(shopper);
  // The order of the call stays in view above the survey, and after it.
  await orderShown(customer.getByTestId('survey'), text, orderId);
  await shot(customer, folder, '11-customer-survey');
  await answerSurvey(customer, text, 9);
  await orderShown(customer.getByTestId('thanks'), text, orderId);
  await shot(customer, folder, '12-customer-thanks');

  const state = await call(base, 'GET', `/v1/sessions/${session.session_id}`, { token: ADMIN_TOKEN });
  assert.equal(state.status, 'ended');
  assert.equal(state.survey.score, 9);
  assert.deepEqual(state.orders.map((o) => o.order_id), [orderId]);
  return { session, media };
}
