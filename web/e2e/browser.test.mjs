// The browser app end to end, in Debian's Chromium with a fake camera and microphone:
// a whole call in every language and on a phone, audio and video through the router, a
// reload mid-call, things that happen close together, the embed snippet on another site,
// a wrong widget key, and the admin pages.

import { after, before, test } from 'node:test';
import { launchBrowser, MOBILE, createShopper, openPage, assertNoErrors, startServer } from './harness.mjs';
import { wholeCall } from './flows.mjs';
import { reloadMidCall } from './reload.mjs';
import { embedOnAnotherSite } from './embed.mjs';
import { endWhileCheckingOut, shareClickedTwice } from './overlaps.mjs';
import { widgetWithWrongKey } from './widget.mjs';
import { adminPages } from './admin.mjs';
import { reconnectAfterCrash } from './reconnect.mjs';
import { mediaThroughRouter, SRTP_RUNS } from './media.mjs';

let server;
let browser;

before(async () => {
  server = await startServer();
  browser = await launchBrowser();
});

after(async () => {
  await browser?.close();
  await server?.stop();
});

async function callIn(lang, options, folder) {
  const shopperInfo = await createShopper(server.base, `Marta ${lang}`);
  const shopper = await openPage(browser);
  const customer = await openPage(browser, { ...options, ...(lang === 'es' ? { locale: 'es-ES' } : {}) });
  try {
    const { media } = await wholeCall({
      base: server.base,
      shopper,
      customer,
      shopperToken: shopperInfo.token,
      lang,
      mobile: Boolean(options.isMobile),
      folder,
      customerName: `Zoë Ångström (${lang})`,
    });
    assertNoErrors(shopper, 'the console');
    assertNoErrors(customer, 'the customer page');
    return media;
  } finally {
    await shopper.context().close();
    await customer.context().close();
  }
}

test('a whole call in English on a desktop', async (t) => {
  t.diagnostic(await callIn('en', {}, 'en-desktop'));
});

test('a whole call in Spanish, chosen by the browser', async () => {
  await callIn('es', {}, 'es-desktop');
});

test('a whole call in Portuguese, chosen by the link', async () => {
  await callIn('pt', {}, 'pt-desktop');
});

test('a whole call in Catalan on a phone', async () => {
  await callIn('ca', MOBILE, 'ca-mobile');
});

test('a whole call in English on a phone', async () => {
  await callIn('en', MOBILE, 'en-mobile');
});

for (const [cipher, run] of Object.entries(SRTP_RUNS)) {
  test(`both pages receive the other's audio and video through the router, SRTP ${cipher}`, { todo: run.todo }, async (t) => {
    t.diagnostic(JSON.stringify(await mediaThroughRouter(server.base, browser, cipher)));
  });
}

test('a reload mid-call keeps cards, cart and chat, and a card pushed meanwhile shows once', async () => {
  await reloadMidCall(server.base, browser);
});

test('after the node dies and comes back, both pages reconnect and resume by seq', async () => {
  await reconnectAfterCrash(browser);
});

test('the shopper ends the call as the customer checks out: the order shows above the survey', async () => {
  await endWhileCheckingOut(browser);
});

test('a double click on Share shares the card once', async () => {
  await shareClickedTwice(server.base, browser);
});

test('the embed snippet on a plain page of another site opens the experience', async () => {
  await embedOnAnotherSite(server.base, browser);
});

test('the widget with a key the server does not know says the shop is not set up', async () => {
  await widgetWithWrongKey(server.base, browser);
});

test('the admin lists, filters and opens sessions, and manages shoppers', async () => {
  await adminPages(server.base, browser);
});
