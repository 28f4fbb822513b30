// The four message catalogs say the same things: the same keys, no empty message, the
// same placeholders, and every key the code asks for exists.

import assert from 'node:assert/strict';
import { readFileSync, readdirSync, statSync } from 'node:fs';
import { join } from 'node:path';
import { test } from 'node:test';
import { catalog, repo } from './harness.mjs';

const LANGS = ['en', 'es', 'pt', 'ca'];
const placeholders = (text) => [...text.matchAll(/\{(\w+)\}/g)].map((m) => m[1]).sort();

function sources(dir) {
  return readdirSync(dir).flatMap((name) => {
    const path = join(dir, name);
    return statSync(path).isDirectory() ? sources(path) : /\.tsx?$/.test(name) ? [path] : [];
  });
}

test('every catalog has the English keys, filled, with the same placeholders', () => {
  const en = catalog('en');
  for (const lang of LANGS) {
    const other = catalog(lang);
    assert.deepEqual(Object.keys(other).sort(), Object.keys(en).sort(), `${lang} has the same keys`);
    for (const [key, text] of Object.entries(other)) {
      assert.ok(text.trim(), `${lang}: ${key} is empty`);
      assert.deepEqual(placeholders(text), placeholders(en[key]), `${lang}: ${key} placeholders`);
    }
  }
});

test('every literal key the code asks for is in the catalog', () => {
  const en = catalog('en');
  const missing = [];
  for (const file of sources(join(repo, 'web/src'))) {
    const code = readFileSync(file, 'utf8');
    for (const match of code.matchAll(/\bt\(\s*'([a-zA-Z]+\.[a-zA-Z_.]+)'/g)) {
      if (!(match[1] in en)) missing.push(`${file}: ${match[1]}`);
    }
  }
  assert.deepEqual(missing, []);
});
