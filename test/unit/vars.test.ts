import t from 'tap';
import { spawnSync } from 'node:child_process';
import { existsSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { delimiter, join } from 'node:path';
import { isScalar, parse, parseDocument, visit, type ScalarTag } from 'yaml';
import { renderExtraVars } from '../../src/ansible/vars.js';

/** `!unsafe` read back as the plain string it carries. */
const unsafePlain: ScalarTag = { tag: '!unsafe', resolve: (s) => s };

/** Parse rendered vars back the way Ansible would see the data: every `!unsafe` scalar is its string. */
const readBack = (text: string): unknown => parse(text, { customTags: [unsafePlain] });

interface TaggedScalar {
  /** Path of keys and indexes from the root. */
  at: string;
  role: 'key' | 'value';
  tag: string | undefined;
  value: unknown;
}

/** Every scalar of the rendered YAML with its tag, keys and values apart. */
function scalars(text: string): TaggedScalar[] {
  const doc = parseDocument(text, { customTags: [unsafePlain] });
  const problems = [...doc.errors, ...doc.warnings];
  if (problems.length > 0) throw new Error(`rendered vars do not parse cleanly: ${problems.join('; ')}`);
  const out: TaggedScalar[] = [];
  visit(doc, {
    Scalar(key, node, path) {
      const at = path
        .filter((p) => !isScalar(p))
        .map((p) => p.constructor.name)
        .join('/');
      out.push({ at, role: key === 'key' ? 'key' : 'value', tag: node.tag, value: node.value });
    },
  });
  return out;
}

/** Values with everything that could break quoting or be templated. */
const NASTY: Record<string, string> = {
  singleQuote: "it's",
  doubleQuote: 'say "hi"',
  backslashes: 'C:\\dir\\sub\\',
  backslashSpace: 'a\\ b\\',
  escapes: '\\n is not a newline, \\t is not a tab, \\" \\\\',
  newline: 'line1\nline2\n',
  crlf: 'a\r\nb',
  tab: 'a\tb',
  template: "{{ lookup('pipe', 'id') }}",
  block: '{% for x in range(3) %}{{ x }}{% endfor %}',
  comment: '{# hidden #}',
  shell: '$(touch /tmp/pwned) `id` ${HOME} && rm -rf / ; echo',
  spaces: '  padded both ends  ',
  empty: '',
  yesWord: 'yes',
  noWord: 'no',
  nullWord: 'null',
  tilde: '~',
  number: '123',
  octal: '0755',
  hex: '0x1F',
  float: '1e3',
  dash: '- item',
  colon: 'key: value',
  hash: '# not a comment',
  flowSeq: '[a, b]',
  flowMap: '{a: 1}',
  tagLike: '!unsafe x',
  anchor: '&a',
  alias: '*a',
  directive: '%YAML 1.2',
  docStart: '---',
  docEnd: '...',
  unicode: 'pässwörd 日本語 🔑',
  control: 'nul\u0000bell\u0007esc\u001bvt\u000bff\u000c',
  lineSeparators: 'ls\u2028ps\u2029',
  long: 'x'.repeat(300) + ' ' + 'y'.repeat(300),
};

t.test('a simple map renders exactly', async (t) => {
  t.equal(
    renderExtraVars({ host: 'db1', port: 3306, full: true, parent: null, tools: ['mbstream', 'zstd'] }),
    [
      '---',
      'host: !unsafe "db1"',
      'port: 3306',
      'full: true',
      'parent: null',
      'tools:',
      '  - !unsafe "mbstream"',
      '  - !unsafe "zstd"',
      '',
    ].join('\n'),
  );
});

t.test('exact renderings of single values', async (t) => {
  const cases: [string, unknown, string][] = [
    ['plain string', 'abc', 'v: !unsafe "abc"'],
    ['empty string', '', 'v: !unsafe ""'],
    ['double quote and backslash escaped', 'a"b\\c', 'v: !unsafe "a\\"b\\\\c"'],
    ['newline escaped, one line', 'a\nb', 'v: !unsafe "a\\nb"'],
    ['template kept as text', '{{ x }}', 'v: !unsafe "{{ x }}"'],
    ['a number string stays a string', '123', 'v: !unsafe "123"'],
    ['a boolean word stays a string', 'yes', 'v: !unsafe "yes"'],
    ['integer', 42, 'v: 42'],
    ['negative float', -1.5, 'v: -1.5'],
    ['zero', 0, 'v: 0'],
    ['true', true, 'v: true'],
    ['false', false, 'v: false'],
    ['null', null, 'v: null'],
    ['empty list', [], 'v: []'],
    ['empty map', {}, 'v: {}'],
  ];
  for (const [name, value, want] of cases) {
    t.equal(renderExtraVars({ v: value }), `---\n${want}\n`, name);
  }
});

t.test('every string value is tagged !unsafe, no key is, numbers/bools/null are not', async (t) => {
  const vars = {
    name: 'db1',
    '{{ key }}': 'v',
    count: 7,
    ratio: 0.5,
    on: true,
    off: false,
    none: null,
    list: ['a', 1, true, null, ['nested', 2], { inner: 'x', n: 3 }],
    map: { deep: { deeper: { s: 's', l: ['l1', 'l2'], n: 9 } }, 'k:with colon': 'v2' },
  };
  const got = scalars(renderExtraVars(vars));
  const keys = got.filter((s) => s.role === 'key');
  const values = got.filter((s) => s.role === 'value');
  t.strictSame(
    keys.map((s) => [s.value, s.tag]),
    [
      ['name', undefined],
      ['{{ key }}', undefined],
      ['count', undefined],
      ['ratio', undefined],
      ['on', undefined],
      ['off', undefined],
      ['none', undefined],
      ['list', undefined],
      ['inner', undefined],
      ['n', undefined],
      ['map', undefined],
      ['deep', undefined],
      ['deeper', undefined],
      ['s', undefined],
      ['l', undefined],
      ['n', undefined],
      ['k:with colon', undefined],
    ],
    'keys in document order, none tagged',
  );
  t.strictSame(
    values.map((s) => [s.value, s.tag]),
    [
      ['db1', '!unsafe'],
      ['v', '!unsafe'],
      [7, undefined],
      [0.5, undefined],
      [true, undefined],
      [false, undefined],
      [null, undefined],
      ['a', '!unsafe'],
      [1, undefined],
      [true, undefined],
      [null, undefined],
      ['nested', '!unsafe'],
      [2, undefined],
      ['x', '!unsafe'],
      [3, undefined],
      ['s', '!unsafe'],
      ['l1', '!unsafe'],
      ['l2', '!unsafe'],
      [9, undefined],
      ['v2', '!unsafe'],
    ],
    'values in document order: strings tagged, others not',
  );
  t.strictSame(readBack(renderExtraVars(vars)), vars, 'round-trips');
});

t.test('nasty values round-trip exactly, each tagged', async (t) => {
  const text = renderExtraVars(NASTY);
  t.ok(text.startsWith('---\n'), 'starts a document');
  t.equal(text.split('\n').length, Object.keys(NASTY).length + 2, 'one line per value (no folding)');
  const back = readBack(text) as Record<string, unknown>;
  for (const [k, v] of Object.entries(NASTY)) t.equal(back[k], v, `${k} round-trips`);
  t.strictSame(Object.keys(back), Object.keys(NASTY), 'same keys in the same order');
  const values = scalars(text).filter((s) => s.role === 'value');
  t.equal(values.length, Object.keys(NASTY).length);
  t.ok(
    values.every((s) => s.tag === '!unsafe'),
    'all values tagged',
  );
});

t.test('nasty values round-trip inside lists and nested maps', async (t) => {
  const strings = Object.values(NASTY);
  const vars = {
    list: strings,
    nested: { a: { b: strings.map((s) => ({ s, n: s.length })) } },
    listOfLists: strings.map((s) => [s, [s]]),
  };
  t.strictSame(readBack(renderExtraVars(vars)), vars);
  const values = scalars(renderExtraVars(vars)).filter((s) => s.role === 'value');
  t.equal(values.filter((s) => typeof s.value === 'string').length, strings.length * 4);
  t.ok(
    values.every((s) => (typeof s.value === 'string') === (s.tag === '!unsafe')),
    'tagged exactly when a string',
  );
});

t.test('the same object used twice (a YAML alias) is still data, tagged once', async (t) => {
  const shared = { pw: '{{ x }}' };
  const vars = { a: shared, b: shared };
  const text = renderExtraVars(vars);
  t.strictSame(readBack(text), { a: { pw: '{{ x }}' }, b: { pw: '{{ x }}' } });
  t.notMatch(text, /^\s*pw: "/m, 'no untagged string');
});

const ansibleBin = (process.env.PATH ?? '')
  .split(delimiter)
  .map((d) => join(d, 'ansible'))
  .find((p) => existsSync(p));

/** Run `ansible localhost -m debug -a var=NAME -e @file` with the JSON callback; the printed value. */
function ansibleDebug(
  dir: string,
  varsText: string,
  name: string,
): { status: number | null; value: unknown; stderr: string } {
  const file = join(dir, `vars-${name}.yml`);
  writeFileSync(file, varsText, { mode: 0o600 });
  const r = spawnSync(
    ansibleBin!,
    [
      'localhost',
      '-i',
      'localhost,',
      '-c',
      'local',
      '-m',
      'ansible.builtin.debug',
      '-a',
      `var=${name}`,
      '-e',
      `@${file}`,
    ],
    {
      cwd: dir,
      encoding: 'utf8',
      timeout: 120_000,
      env: {
        ...process.env,
        ANSIBLE_STDOUT_CALLBACK: 'ansible.posix.json',
        ANSIBLE_LOAD_CALLBACK_PLUGINS: '1',
        ANSIBLE_NOCOLOR: '1',
        ANSIBLE_LOCAL_TEMP: join(dir, 'tmp'),
        ANSIBLE_PYTHON_INTERPRETER: 'auto_silent',
        ANSIBLE_RETRY_FILES_ENABLED: 'false',
      },
    },
  );
  if (r.status !== 0) return { status: r.status, value: undefined, stderr: r.stderr };
  const out = JSON.parse(r.stdout) as {
    plays: { tasks: { hosts: Record<string, Record<string, unknown>> }[] }[];
  };
  return { status: r.status, value: out.plays[0]?.tasks[0]?.hosts.localhost?.[name], stderr: r.stderr };
}

t.test(
  'real ansible does not template the rendered values',
  { skip: ansibleBin ? false : 'ansible is not on PATH' },
  async (t) => {
    const dir = mkdtempSync(join(tmpdir(), 'xbvars-'));
    t.teardown(() => rmSync(dir, { recursive: true, force: true }));
    const marker = join(dir, 'MARKER');
    const x = `{{ lookup('pipe', 'touch ${marker}') }}`;

    // Control: the same value without the tag is templated and runs the command. If this fails,
    // the probe below proves nothing.
    const control = join(dir, 'CONTROL');
    const plain = ansibleDebug(dir, `---\nx: "{{ lookup('pipe', 'touch ${control}') }}"\n`, 'x');
    t.equal(plain.status, 0, 'control: ansible ran', { stderr: plain.stderr });
    t.ok(existsSync(control), 'control: an untagged template does run the lookup');
    t.equal(plain.value, '', 'control: and prints the lookup result');

    const r = ansibleDebug(dir, renderExtraVars({ x }), 'x');
    t.equal(r.status, 0, 'ansible ran', { stderr: r.stderr });
    t.equal(r.value, x, 'x is printed as the literal string');
    t.notOk(existsSync(marker), 'the lookup did not run');

    // Nested lists and maps, and every nasty value, come back exactly.
    const nasty = { x, strings: Object.values(NASTY), map: { inner: [{ x }] }, n: 3, b: true };
    const r2 = ansibleDebug(dir, renderExtraVars({ nasty }), 'nasty');
    t.equal(r2.status, 0, 'ansible ran', { stderr: r2.stderr });
    t.strictSame(r2.value, nasty, 'nested values are printed as they were written');
    t.notOk(existsSync(marker), 'no lookup ran for nested values either');
  },
);

// YAML (1.1 and 1.2) does not allow DEL, the C1 controls or U+FFFE/U+FFFF unescaped, and reads a raw
// NEL (U+0085) as a line break. The yaml package writes all of them raw inside double quotes, so
// Ansible (PyYAML) rejects the whole vars file, or silently turns NEL into a space.
t.test(
  'real ansible reads back characters YAML only allows escaped',
  { skip: ansibleBin ? false : 'ansible is not on PATH' },
  async (t) => {
    const dir = mkdtempSync(join(tmpdir(), 'xbvars-'));
    t.teardown(() => rmSync(dir, { recursive: true, force: true }));
    const odd = { del: 'a\u007fb', csi: 'a\u009bb', nonchar: 'a\ufffeb' };
    t.strictSame(readBack(renderExtraVars({ odd })), { odd }, 'the yaml package itself reads them back');
    const r = ansibleDebug(dir, renderExtraVars({ odd }), 'odd');
    t.equal(r.status, 0, 'ansible can load the vars file', { stderr: r.stderr });
    t.strictSame(r.value, odd, 'and gets the exact values');
    const nel = 'a\u0085b';
    const r2 = ansibleDebug(dir, renderExtraVars({ nel }), 'nel');
    t.equal(r2.status, 0, 'ansible can load a NEL', { stderr: r2.stderr });
    t.equal(r2.value, nel, 'NEL is kept, not read as a line break');
  },
);
