/**
 * The generated malformed configs of test/e2e/badinput.test.ts, run through the loader in-process:
 * each gives exactly one issue, on its line, matching its pattern, and the exact one-line message is
 * pinned in test/fixtures/badinput-messages.txt (the e2e test checks the CLI around it). After an
 * intended change of a message or of the generator: XB_WRITE_FIXTURES=1 npx tap test/unit/config-badinput.test.ts
 */
import t from 'tap';
import { readFileSync, writeFileSync } from 'node:fs';
import {
  FAMILIES,
  configCases,
  explicitConfigs,
  keyCaseConfig,
  keyCaseSample,
  keyCases,
  type Env,
} from '../e2e/badinput-gen.js';
import { KEY_NAMES, KINDS, key } from '../../src/config/keys.js';
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

/**
 * Issue 19: every key of the schema with every family of bad value (keyCases: empty, wrong type,
 * below and above its range, Jinja and shell syntax, a control character, huge, the range another
 * key gives it). Generated from the key table alone, so a key added later is covered here too.
 */
t.test('every key x every family of bad value: one line naming file, line, section and key', async (t) => {
  const file = '/xb-badinput/backup.conf';
  const cases = keyCases(env);
  for (const c of cases) {
    const cfg = keyCaseConfig(c, env);
    const { config, issues } = parseConfig(cfg.bytes!.toString('utf8'), file);
    const lines = issues.map(formatConfigIssue);
    const label = `${cfg.name} (${lines.join(' | ').slice(0, 300)})`;
    t.equal(config, undefined, `${label}: rejected`);
    t.equal(lines.length, 1, `${label}: one issue`);
    const at = c.atHeader ? `[${c.also![0]![0]}]` : `[${c.section}]`;
    t.ok(
      lines[0]?.startsWith(`${file}:${cfg.line} ${at} ${c.key}`),
      `${label}: names line ${cfg.line}, ${at}, ${c.key}`,
    );
    t.match(lines[0], c.want, label);
    t.notMatch(lines.join('\n'), env.secret, `${label}: no password`);
    t.notMatch(lines.join('\n'), /\n|\s{2}at /, `${label}: one line, no stack`);
  }
  const keys = new Set(cases.map((c) => c.key));
  t.same(
    KEY_NAMES.filter((k) => !keys.has(k)),
    [],
    'every key has cases',
  );
  t.same(
    FAMILIES.filter((f) => !cases.some((c) => c.family === f)),
    [],
    'every family has cases',
  );
  t.comment(`${cases.length} key cases over ${keys.size} keys`);
});

t.test('the CLI sample covers every key and every family; the explicit rows are exact', async (t) => {
  const sample = keyCaseSample(env);
  t.same(
    KEY_NAMES.filter((k) => !sample.some((c) => c.key === k)),
    [],
    'every key at least once',
  );
  t.same(
    FAMILIES.filter((f) => !sample.some((c) => c.family === f)),
    [],
    'every family at least once',
  );
  const file = '/xb-badinput/backup.conf';
  for (const x of explicitConfigs(env)) {
    const { issues } = parseConfig(x.bytes!.toString('utf8'), file);
    t.same(issues.map(formatConfigIssue), [`${file}:${x.message}`], x.name);
  }
});

t.test('keys added later are covered by declaring them (a table of their own)', async (t) => {
  // The shape of keys other tasks add: an off-site tier with a URL that may be empty, counts.
  const table = {
    offsite_url: key(KINDS.textOrNone, { scope: 'global', doc: 'URL.' }),
    offsite_retain_days: key(KINDS.int(0, 3650), { scope: 'host', defaultFrom: 'retain_days', doc: '' }),
    offsite_part_size: key(KINDS.bytes(5 * 1024 * 1024, 1024 ** 3), {
      scope: 'host',
      default: '16M',
      doc: '',
    }),
    offsite_encryption: key(KINDS.oneOf(['age', 'none']), { scope: 'host', default: 'age', doc: '' }),
  };
  const cases = keyCases(env, table);
  const families = (k: string) => [...new Set(cases.filter((c) => c.key === k).map((c) => c.family))];
  t.same(
    families('offsite_url'),
    ['control character'],
    'free text, empty means none: only control characters',
  );
  t.same(families('offsite_retain_days'), [
    'empty',
    'wrong type',
    'below range',
    'above range',
    'Jinja',
    'shell',
    'huge',
    'control character',
  ]);
  t.ok(cases.some((c) => c.key === 'offsite_part_size' && c.value === String(5 * 1024 * 1024 - 1)));
  t.ok(
    cases.some(
      (c) => c.key === 'offsite_part_size' && c.family === 'above range' && /1G\$/.test(c.want.source),
    ),
  );
  t.ok(cases.some((c) => c.key === 'offsite_encryption' && c.value === 'rsync'));
});
