// Real audio and video through the node's mediasoup router, between two Chromium pages:
// the shopper's console and the customer's call each receive the other's microphone and
// camera, shown by the inbound RTP counters of their receive transport growing, and the
// SRTP profile the transports negotiated is the one the test steered to.
//
// Chromium offers no switch that limits it to one SRTP profile (its crypto options are
// native-only), but the DTLS server picks the profile from the client's list: with this
// browser as DTLS client the router picks (mediasoup prefers AEAD AES-GCM); with this
// browser as DTLS server Chromium picks, and it puts AES_CM_128_HMAC_SHA1_80 first.

import assert from 'node:assert/strict';
import { catalog, createShopper, openPage, assertNoErrors, requestSession, shot, videoIsPlaying, waitFor } from './harness.mjs';
import { acceptAndStart, joinAsCustomer, mediaCarried, openConsole } from './flows.mjs';

/** How long the counters must keep growing. */
const WATCH_MS = 5000;

/** What each run expects of the transports' `srtpCipher`, as Chromium names the profiles. */
export const SRTP_RUNS = {
  'AES_CM_128_HMAC_SHA1_80': {
    dtlsRole: 'server',
    cipher: /^(SRTP_)?AES_CM_128_HMAC_SHA1_80$/,
    // Limitation: with the router as DTLS client, its handshake with this Chromium fails
    // ("unexpected message" from OpenSSL as it reads the browser's server flight), so
    // the AES-CM path is not proven yet; the run stays visible as a known failure.
    todo: 'the router as DTLS client fails its handshake with Chromium 156',
  },
  'AEAD AES-GCM': { dtlsRole: 'client', cipher: /^(SRTP_)?AEAD_AES_(128|256)_GCM$/ },
};

const inbound = (page) => page.evaluate(() => window.__vitrineMedia.inboundStats());

/** Waits for the first decoded frame and sound, then for all counters to grow over WATCH_MS. */
async function receivesBoth(page, label) {
  await waitFor(async () => {
    const now = await inbound(page);
    return now.audio.bytesReceived > 0 && now.video.framesDecoded > 0;
  }, `${label} to receive sound and a decoded frame`);
  const first = await inbound(page);
  await new Promise((r) => setTimeout(r, WATCH_MS));
  const later = await inbound(page);
  assert.ok(later.audio.bytesReceived > first.audio.bytesReceived, `${label}: audio bytes grow`);
  assert.ok(later.video.bytesReceived > first.video.bytesReceived, `${label}: video bytes grow`);
  assert.ok(later.video.framesDecoded > first.video.framesDecoded, `${label}: decoded frames grow`);
  return {
    audioBytes: later.audio.bytesReceived - first.audio.bytesReceived,
    videoBytes: later.video.bytesReceived - first.video.bytesReceived,
    frames: later.video.framesDecoded - first.video.framesDecoded,
  };
}

/** Both transports of `page` are up, in the DTLS role asked for, with a matching profile. */
async function negotiated(page, label, run) {
  const transports = await page.evaluate(() => window.__vitrineMedia.security());
  assert.deepEqual(transports.map((t) => t.direction).sort(), ['recv', 'send'], `${label}: one transport each way`);
  for (const t of transports) {
    assert.equal(t.dtlsState, 'connected', `${label} ${t.direction}: DTLS state`);
    assert.equal(t.dtlsRole, run.dtlsRole, `${label} ${t.direction}: DTLS role`);
    assert.match(String(t.srtpCipher), run.cipher, `${label} ${t.direction}: SRTP profile`);
  }
  return transports.map((t) => t.srtpCipher);
}

/** A live call with media, this browser in `run.dtlsRole`; returns what each side measured. */
export async function mediaThroughRouter(base, browser, runName) {
  const run = SRTP_RUNS[runName];
  const folder = `media-${run.dtlsRole}`;
  const text = catalog('en');
  const info = await createShopper(base, `Media Shopper ${run.dtlsRole}`);
  const shopper = await openPage(browser);
  const customer = await openPage(browser);
  try {
    for (const page of [shopper, customer]) {
      // Read by createMediaLink when the page loads; the pages themselves never set it.
      await page.addInitScript((dtlsRole) => {
        window.__vitrineMediaOverrides = { dtlsRole };
      }, run.dtlsRole);
      // What the link says of itself, to explain a failure with the server's answers.
      page.mediaLog = [];
      page.on('console', (message) => {
        if (message.text().startsWith('media:')) page.mediaLog.push(message.text());
      });
    }
    await openConsole(shopper, base, info.token);
    const session = await requestSession(base, `Noor Media ${run.dtlsRole}`);
    await joinAsCustomer(customer, session.join_url, 'en', text);
    await customer.getByTestId('consent-accept').click();
    await customer.getByTestId('customer-call').waitFor();
    await acceptAndStart(shopper, session.session_id);

    const measured = {};
    for (const [label, page] of [['console', shopper], ['customer', customer]]) {
      try {
        assert.ok(await mediaCarried(page), `${label}: the node answers media.capabilities (media on)`);
        measured[label] = await receivesBoth(page, label);
        await waitFor(() => videoIsPlaying(page.locator('[data-testid=remote-video] video')), `${label}: the other video`);
        measured[label].srtp = await negotiated(page, label, run);
      } catch (e) {
        e.message += `\n${label} media log:\n${page.mediaLog.join('\n') || '(nothing)'}`;
        throw e;
      }
    }
    await shot(shopper, folder, '01-console-receives');
    await shot(customer, folder, '02-customer-receives');
    assertNoErrors(shopper, 'the console');
    assertNoErrors(customer, 'the customer page');
    return measured;
  } finally {
    await shopper.context().close();
    await customer.context().close();
  }
}
