/**
 * The generated malformed configs of test/e2e/badinput.test.ts, run through the loader in-process:
 * each gives exactly one issue, on its line, matching its pattern, and the exact one-line message is
 * pinned in test/fixtures/badinput-messages.txt (the e2e test checks the CLI around it). After an
 * intended change of a message or of the generator: XB_WRITE_FIXTURES=1 npx tap test/unit/config-badinput.test.ts
 */
import t from 'tap';
import { readFileSync, writeFileSync } from 'node:fs';
import { configCases, type Env } from '../e2e/badinput-gen.js';
import { notUtf8Lines, parseConfig } from '../../src/config/load.js';
import { formatConfigIssue } from '../../src/errors.js';

// The e2e test's default seed and count; a fixed directory instead of its temporary one.
const SEED = 20260607;
const env: Env = { dir: '/xb-badinput', canary: '/xb-badinput/CANARY', secret: `PW-SECRET-${SEED}` };
const FIXTURE = new URL('../fixtures/badinput-messages.txt', import.meta.url);

t.test('every generated bad config gives its one exact line', async (t) => {
  const file = '/xb-badinput/backup.conf';
  const got: string[] = [];
  for (const c of configCases(SEED, 200, env)) {
    // A directory or a missing file is the reader's business, not the parser's.
    if (c.special) continue;
    const bytes = c.bytes!;
    const { config, issues } = parseConfig(bytes.toString('utf8'), file, notUtf8Lines(bytes));
    const lines = issues.map(formatConfigIssue);
    t.equal(config, undefined, `${c.name}: rejected`);
    t.equal(lines.length, 1, `${c.name}: one issue (${lines.join(' | ').slice(0, 300)})`);
    t.match(lines[0], c.want, c.name);
    if (c.line !== undefined)
      t.ok(lines[0]?.startsWith(`${file}:${c.line}`), `${c.name}: names line ${c.line}`);
    t.notMatch(lines.join('\n'), env.secret, `${c.name}: no password`);
    got.push(JSON.stringify([c.name, lines.join('\n')]));
  }
  const text = got.join('\n') + '\n';
  if (process.env.XB_WRITE_FIXTURES === '1') writeFileSync(FIXTURE, text);
  const want = readFileSync(FIXTURE, 'utf8').split('\n');
  const diff = got.flatMap((g, i) => (g === want[i] ? [] : [`- ${want[i]}\n+ ${g}`]));
  t.same(diff, [], 'the messages are the pinned ones (see the header of this file)');
  t.equal(got.length, want.length - 1, 'as many cases as pinned');
});
