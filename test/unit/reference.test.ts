import t from 'tap';
import { readFileSync } from 'node:fs';
import { configReference } from '../../src/config/reference.js';

t.test('the README configuration reference is the one generated from the key table', async (t) => {
  const readme = readFileSync(new URL('../../README.md', import.meta.url), 'utf8');
  const m = /<!-- config-reference:start -->\n([\s\S]*?)\n<!-- config-reference:end -->/.exec(readme);
  t.ok(m, 'README has the config-reference markers');
  t.equal(m?.[1], configReference(), 'run: node scripts/config-reference.mjs --write');
});
