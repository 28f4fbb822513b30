// What the browser tests share: a real `vitrine` process on a free port with its own data
// directory, API calls to set up shoppers and sessions, Debian's Chromium through
// playwright-core, the message catalogs, screenshots and a watch on console errors.

import { spawn } from 'node:child_process';
import { mkdirSync, mkdtempSync, readFileSync, rmSync, existsSync } from 'node:fs';
import { createServer } from 'node:net';
import { tmpdir } from 'node:os';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { chromium } from 'playwright-core';

const here = dirname(fileURLToPath(import.meta.url));
export const repo = resolve(here, '../..');

/** Where screenshots of each step go; CI keeps the folder as an artifact. */
export const ARTIFACTS = join(repo, 'test-artifacts', 'web-e2e');
export const ADMIN_TOKEN = 'web-e2e-admin-token-0123456789';
/** How long a step may take before the test fails. */
export const PATIENCE_MS = 15000;

const CHROMIUM = process.env.CHROMIUM_PATH ?? '/usr/bin/chromium';
const CHROMIUM_FLAGS = [
  '--headless',
  '--no-sandbox',
  '--disable-gpu',
  '--disable-background-networking',
  '--use-fake-device-for-media-stream',
  '--use-fake-ui-for-media-stream',
];

export function catalog(lang) {
  return JSON.parse(readFileSync(join(repo, 'web/src/i18n', `${lang}.json`), 'utf8'));
}

/** The `vitrine` binary cargo built: VITRINE_BIN, else $CARGO_TARGET_DIR/debug/vitrine. */
function binary() {
  if (process.env.VITRINE_BIN) return process.env.VITRINE_BIN;
  const target = process.env.CARGO_TARGET_DIR ?? join(repo, 'target');
  return join(target, 'debug', 'vitrine');
}

function freePort() {
  return new Promise((resolvePort, reject) => {
    const server = createServer();
    server.once('error', reject);
    server.listen(0, '127.0.0.1', () => {
      const { port } = server.address();
      server.close(() => resolvePort(port));
    });
  });
}

export async function waitFor(check, what, timeout = PATIENCE_MS) {
  const deadline = Date.now() + timeout;
  let last;
  while (Date.now() < deadline) {
    try {
      const value = await check();
      if (value) return value;
    } catch (e) {
      last = e;
    }
    await new Promise((r) => setTimeout(r, 100));
  }
  throw new Error(`timed out waiting for ${what}${last ? `: ${last.message}` : ''}`);
}

/** Starts a node; resolves once it answers /readyz. */
export async function startServer() {
  const bin = binary();
  if (!existsSync(bin)) throw new Error(`${bin} is missing: build it with cargo build --bin vitrine`);
  const port = await freePort();
  const dataDir = mkdtempSync(join(tmpdir(), 'vitrine-web-e2e-'));
  // The server reads every VITRINE_* variable as a setting: pass on only ours.
  const env = Object.fromEntries(Object.entries(process.env).filter(([key]) => !key.startsWith('VITRINE_')));
  Object.assign(env, {
    VITRINE_LISTEN: `127.0.0.1:${port}`,
    VITRINE_DATA_DIR: dataDir,
    VITRINE_ADMIN_TOKEN: ADMIN_TOKEN,
    RUST_LOG: process.env.TEST_LOG ? 'info' : 'warn',
  });
  const base = `http://127.0.0.1:${port}`;

  const launch = async () => {
    const child = spawn(bin, [], { env, stdio: ['ignore', 'pipe', 'pipe'] });
    let output = '';
    child.stdout.on('data', (d) => (output += d));
    child.stderr.on('data', (d) => {
      output += d;
      if (process.env.TEST_LOG) process.stderr.write(d);
    });
    try {
      await waitFor(async () => (await fetch(`${base}/readyz`)).ok, 'the server to be ready', 30000);
    } catch (e) {
      child.kill('SIGKILL');
      throw new Error(`${e.message}\n${output}`);
    }
    return child;
  };
  const halt = (child, signal) =>
    new Promise((r) => {
      if (child.exitCode !== null) return r();
      const timer = setTimeout(() => child.kill('SIGKILL'), 5000);
      child.once('exit', () => {
        clearTimeout(timer);
        r();
      });
      child.kill(signal);
    });

  let child = await launch();
  return {
    base,
    /** Kills the process outright, then starts it again on the same port and data. */
    async crashAndRestart(downFor = 1000) {
      await halt(child, 'SIGKILL');
      await new Promise((r) => setTimeout(r, downFor));
      child = await launch();
    },
    async stop() {
      await halt(child, 'SIGTERM');
      rmSync(dataDir, { recursive: true, force: true });
    },
  };
}

export async function call(base, method, path, { token, key, body } = {}) {
  const headers = {};
  if (token) headers.Authorization = `Bearer ${token}`;
  if (key) headers['X-Vitrine-Key'] = key;
  if (body !== undefined) headers['Content-Type'] = 'application/json';
  const response = await fetch(`${base}${path}`, {
    method,
    headers,
    body: body === undefined ? undefined : JSON.stringify(body),
  });
  const text = await response.text();
  const json = text ? JSON.parse(text) : null;
  if (!response.ok) throw new Error(`${method} ${path}: ${response.status} ${text}`);
  return json;
}

/** A shopper created by the admin, with a staff token, as the README's tour does. */
export async function createShopper(base, name) {
  const email = `${name.toLowerCase().replace(/\W+/g, '.')}.${Date.now()}@example.com`;
  const shopper = await call(base, 'POST', '/v1/shoppers', {
    token: ADMIN_TOKEN,
    body: { name, email, collections: ['watches'] },
  });
  const { token } = await call(base, 'POST', `/v1/shoppers/${shopper.shopper_id}/tokens`, { token: ADMIN_TOKEN });
  return { ...shopper, token };
}

/** A session requested the way the shop's widget asks for one. */
export function requestSession(base, customerName, locale = 'en') {
  return call(base, 'POST', '/v1/sessions', {
    key: 'pk_demo',
    body: { customer: { name: customerName, locale }, context: { product_id: 'harbor-field-watch' } },
  });
}

export function launchBrowser() {
  if (!existsSync(CHROMIUM)) {
    throw new Error(`${CHROMIUM} is missing: install Debian's chromium (apt-get install -y chromium)`);
  }
  return chromium.launch({ executablePath: CHROMIUM, args: CHROMIUM_FLAGS, headless: true });
}

export const DESKTOP = { viewport: { width: 1280, height: 800 } };
export const MOBILE = { viewport: { width: 390, height: 844 }, isMobile: true, hasTouch: true, deviceScaleFactor: 1 };

/** A page whose console errors and uncaught exceptions are collected for `assertNoErrors`. */
export async function openPage(browser, options = {}) {
  const context = await browser.newContext({
    ...DESKTOP,
    ...options,
    permissions: ['camera', 'microphone'],
  });
  const page = await context.newPage();
  page.setDefaultTimeout(PATIENCE_MS);
  const errors = [];
  page.on('console', (message) => {
    if (message.type() === 'error') errors.push(`console: ${message.text()}`);
  });
  page.on('pageerror', (error) => errors.push(`page: ${error.message}`));
  page.errors = errors;
  return page;
}

export function assertNoErrors(page, label) {
  if (page.errors.length) throw new Error(`${label} logged errors:\n${page.errors.join('\n')}`);
}

/** Writes a screenshot of `page` to test-artifacts/web-e2e/<folder>/<step>.png. */
export async function shot(page, folder, step) {
  const dir = join(ARTIFACTS, folder);
  mkdirSync(dir, { recursive: true });
  await page.screenshot({ path: join(dir, `${step}.png`) });
}

/** Whether a <video> in `locator` is playing frames from a camera. */
export function videoIsPlaying(locator) {
  return locator.evaluate((video) => video.readyState >= 2 && video.videoWidth > 0 && !video.paused);
}
