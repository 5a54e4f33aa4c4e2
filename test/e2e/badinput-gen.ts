/**
 * Generator of malformed backup.conf files and Ansible inventories for test/e2e/badinput.test.ts.
 *
 * Every case is invalid BY CONSTRUCTION and holds exactly ONE problem: it starts from a valid
 * config (BASE) and applies one mutation, so the loader must report exactly one line. The case
 * knows the line of the problem (where there is one) and a pattern the message must match.
 * Everything is derived from a seeded PRNG, so a failure is reproduced by its seed and case name.
 *
 * Safety: the configs name only hosts under the reserved `.invalid` domain, point the inventory at
 * a file that does not exist, and keep every path in the test's temporary directory; injection
 * payloads all `touch` a canary file in that directory, which must never appear.
 */
import { KEYS, KEY_NAMES, type KeySpec, type KeyType } from '../../src/config/keys.js';
import type { KeyTable } from '../../src/config/schema.js';
import { formatSize } from '../../src/config/values.js';

export type Rng = () => number;

/** mulberry32: small, fast, deterministic. */
export function prng(seed: number): Rng {
  let a = seed >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

const pick = <T>(r: Rng, xs: readonly T[]): T => xs[Math.floor(r() * xs.length)] as T;
const int = (r: Rng, lo: number, hi: number) => lo + Math.floor(r() * (hi - lo + 1));

export interface Env {
  /** The test's temporary directory (no characters special to the config format). */
  dir: string;
  /** Absolute path of the canary file every injection payload would create. */
  canary: string;
  /** A token inside the password: must never be printed. */
  secret: string;
}

/** Shell, backtick, separator and Jinja payloads, all touching the canary. */
export function payloads(env: Env): string[] {
  const c = env.canary;
  return [
    `$(touch ${c})`,
    `\`touch ${c}\``,
    `x;touch ${c}`,
    `x|touch ${c}`,
    `x&&touch ${c}`,
    `{{ lookup('pipe','touch ${c}') }}`,
    `{% raw %}{{ lookup('pipe','touch ${c}') }}{% endraw %}`,
    `\${IFS}touch\${IFS}${c}`,
    `x$(touch${'${IFS}'}${c})`,
  ];
}

interface Line {
  text: string;
  /** Bytes to write instead of text (for invalid UTF-8). */
  bytes?: Buffer;
  section?: string;
  key?: string;
  /** The line the problem is on. */
  bad?: boolean;
}

export interface ConfigCase {
  name: string;
  /** File content; undefined with `path` set means: use that path as --config as it is. */
  bytes?: Buffer;
  /** 'dir': --config names a directory; 'missing': a file that does not exist. */
  special?: 'dir' | 'missing';
  /** 1-based line the one message must name, when the problem is on a line. */
  line?: number;
  /** What the one message must say. */
  want: RegExp;
}

/** The valid config every case starts from: two hosts, nothing reachable. */
export function baseLines(env: Env): Line[] {
  const d = env.dir;
  const [p0, p1, , , , p5] = payloads(env);
  const rows: [string | undefined, string][] = [
    [undefined, '# base config of the bad-input test: valid as it is'],
    [undefined, '[default]'],
    ['default', 'mysql_user = backup_man'],
    // The password is data: quotes, payloads, ; and # included, never interpreted or printed.
    ['default', `mysql_password = ${env.secret}'"${p0}${p1}${p5} ;# end`],
    ['default', 'ssh_user = root'],
    ['default', `backup_dir = ${d}/backups`],
    ['default', `log = ${d}/log/xb-mgr.log`],
    ['default', `pid = ${d}/xb-mgr.pid`],
    ['default', `ansible_inventory = ${d}/no-such-inventory.ini`],
    ['default', 'full_backup_day = Sunday'],
    ['default', 'retain_days = 7 ; a week'],
    ['default', 'retain_num_ready_backups = 1'],
    ['default', 'transfer = pull'],
    ['default', 'compress = zstd'],
    ['default', 'backup_tool = mariabackup'],
    ['default', 'timezone = UTC'],
    ['default', 'timeout_ssh = 5'],
    [undefined, ''],
    [undefined, '[db1]'],
    ['db1', 'hostname = db1.invalid'],
    ['db1', `log = ${d}/log/db1.log`],
    ['db1', 'mysql_port = 3306'],
    ['db1', 'remote_nice = 10'],
    [undefined, ''],
    [undefined, '[db2]'],
    ['db2', 'hostname = db2.invalid'],
    ['db2', 'retain_days = 3'],
    ['db2', 'full_backup_day = sat'],
  ];
  return rows.map(([section, text]) => {
    const m = /^([a-z_]+) = /.exec(text);
    return { text, section: section ?? headerName(text), key: section && m ? m[1] : undefined };
  });
}

function headerName(text: string): string | undefined {
  return /^\[(.*)\]$/.exec(text)?.[1];
}

export function serialize(lines: Line[], o: { crlf?: boolean; bom?: boolean } = {}): Buffer {
  const eol = Buffer.from(o.crlf ? '\r\n' : '\n');
  const parts: Buffer[] = o.bom ? [Buffer.from([0xef, 0xbb, 0xbf])] : [];
  for (const l of lines) parts.push(l.bytes ?? Buffer.from(l.text, 'utf8'), eol);
  return Buffer.concat(parts);
}

const SECTIONS = ['default', 'db1', 'db2'] as const;

/** Index just after the last line of a section (where a new key goes). */
function sectionEnd(lines: Line[], section: string): number {
  let last = -1;
  lines.forEach((l, i) => {
    if (l.section === section) last = i;
  });
  return last + 1;
}

/** Set key = value in a section: replace the key's line if it has one, else append. */
function setKey(lines: Line[], section: string, key: string, value: string, bad = true): Line[] {
  const out = lines.map((l) => ({ ...l }));
  const line: Line = { text: `${key} = ${value}`, section, key, bad };
  const i = out.findIndex((l) => l.section === section && l.key === key);
  if (i >= 0) out[i] = line;
  else out.splice(sectionEnd(out, section), 0, line);
  return out;
}

function mark(lines: Line[], i: number, patch: Partial<Line>): Line[] {
  const out = lines.map((l) => ({ ...l }));
  out[i] = { ...out[i]!, ...patch, bad: true };
  return out;
}

function keyLines(lines: Line[], filter: (l: Line) => boolean = () => true): number[] {
  return lines.flatMap((l, i) => (l.key && filter(l) ? [i] : []));
}

/** A valid value of a key (used where only the placement is wrong, or a character is). */
export function validValue(env: Env, key: string, keys: KeyTable = KEYS): string {
  const spec = keys[key]!;
  if (spec.secret) return `${env.secret}-x`;
  if (spec.default !== undefined) return spec.default;
  const type = spec.type;
  if (typeof type === 'object') return type.enum[0]!;
  const n = spec.min ?? 1;
  const samples: Record<KeyTypeName, string> = {
    path: `${env.dir}/${key}`,
    size: formatSize(Math.max(n, spec.type === 'size' ? 64 * 1024 : 1)),
    int: String(n),
    hostname: 'db9.invalid',
    emails: 'ops@example.invalid',
    user: 'backup',
    timezone: 'UTC',
    command: '/bin/true',
    day: 'sun',
    bool: 'true',
    string: 'x',
  };
  return samples[type];
}

const LETTERS = 'abcdefghijklmnopqrstuvwxyz';

function randomWord(r: Rng, min = 3, max = 20): string {
  const alphabet = LETTERS + LETTERS.toUpperCase() + '0123456789_';
  let w = pick(r, LETTERS.split(''));
  const n = int(r, min, max);
  while (w.length < n) w += pick(r, alphabet.split(''));
  return w;
}

function misspell(r: Rng, key: string): string {
  for (;;) {
    const i = int(r, 0, key.length - 1);
    const kind = int(r, 0, 3);
    let w: string;
    if (kind === 0) w = key.slice(0, i) + key.slice(i + 1);
    else if (kind === 1) w = key.slice(0, i) + key[i] + key.slice(i);
    else if (kind === 2 && i < key.length - 1) w = key.slice(0, i) + key[i + 1] + key[i] + key.slice(i + 2);
    else w = key.slice(0, i) + pick(r, LETTERS.split('')) + key.slice(i + 1);
    if (w !== '' && w !== key && !(w in KEYS) && /^[a-z_]/.test(w)) return w;
  }
}

type KeyTypeName = Exclude<KeyType, object>;

/**
 * The case families of one key, as the issue names them. Which apply to a key follows from its
 * metadata alone (keys.ts): its type, range, `empty` and `rangeBy`.
 */
export const FAMILIES = [
  'empty',
  'wrong type',
  'below range',
  'above range',
  'Jinja',
  'shell',
  'control character',
  'huge',
  'range of another key',
  'range inherited from [default]',
] as const;
export type Family = (typeof FAMILIES)[number];

/** One bad value of one key: set in `section` (with `also` set beside it), one problem. */
export interface KeyCase {
  name: string;
  key: string;
  family: Family;
  section: 'default' | 'db1' | 'db2';
  value: string;
  /** Other lines of the case, valid on their own: [section, key, value]. */
  also?: [string, string, string][];
  /** The problem is reported at this section's header, not on the key's line. */
  atHeader?: boolean;
  want: RegExp;
}

/**
 * Values no key of a type accepts, beside the generic families. Exhaustive over the types: a new
 * type of key fails to compile until it has its wrong values here; a new key of a known type needs
 * nothing. Types that keep any text as literal data (free text, a command split into words) take
 * Jinja, shell syntax and huge values as they are (test/unit/config-payloads.test.ts).
 */
const WRONG: Record<KeyTypeName, (env: Env) => string[]> = {
  int: () => ['seven', '1.5', '1e3', '0x10', '+5', '5days', '1_000', '３', '5 5'],
  size: () => ['ten gigs', '1.5G', '10X', '10 G', '10 GiBs', '1e9', '0x10', '-1', '+5', '10iB', '10GG'],
  bool: () => ['maybe', 'ja', '2', '-1', 'tru', 'yes please', 'on;off'],
  day: () => ['Sundy', 'Funday', 'Sonntag', 'su', 'sunday;x', '7', 'Sun day', 'Mon,Tue', 'tues'],
  hostname: (env) => [
    'db 1',
    '../../etc',
    'db1/../x',
    `-oProxyCommand=touch ${env.canary}`,
    'db1.invalid:22',
    'root@db1.invalid',
    'a'.repeat(64) + '.invalid',
    'x..y',
    '.db1',
  ],
  path: (env) => ['backups', 'var/log/x.log', '~/backups', './b', '..', '/a/../b', `${env.dir}/x/..`],
  emails: () => [
    'nobody',
    'a@',
    '@example.invalid',
    'a@@b.invalid',
    'ops@example.invalid nobody',
    'ops@example.invalid;dev@example.invalid',
    '<ops@example.invalid>',
  ],
  user: () => ['-root', 'root user', 'root@db1', 'x'.repeat(33), 'r$oot', '1root'],
  timezone: () => ['Mars/Base', 'Europe/Nowhere', 'UTC;x', 'America/New York', '+25:00'],
  command: (env) => [
    `/bin/systemctl stop "mariadb`,
    `'/usr/sbin/service' 'mariadb stop`,
    `sh -c "touch ${env.canary}`,
  ],
  string: () => [],
};

const LITERAL: ReadonlySet<KeyTypeName> = new Set(['string', 'command']);
const CONTROLS = ['\x01', '\x1b[31m', '\x7f', '\x85', '\x0b', '\x08', '\x9b'];
const HOST_SECTIONS = ['default', 'db1', 'db2'] as const;

const re = (s: string) => s.replace(/[.*+?^${}()|[\]\\]/g, '\\$&');

/** Every bad-value case of every key of the table, in a fixed order (no randomness). */
export function keyCases(env: Env, keys: KeyTable = KEYS): KeyCase[] {
  const p = payloads(env);
  const out: KeyCase[] = [];
  let turn = 0;
  for (const [key, spec] of Object.entries(keys)) {
    const type: KeyTypeName | 'enum' = typeof spec.type === 'object' ? 'enum' : spec.type;
    const literal = type !== 'enum' && LITERAL.has(type);
    // Where a value goes: [default] for a [default]-only key, else each section in turn.
    const where = () => (spec.scope === 'global' ? 'default' : HOST_SECTIONS[turn++ % 3]!);
    const add = (family: Family, value: string, want: string, extra: Partial<KeyCase> = {}) => {
      const section = extra.section ?? where();
      const shown = spec.secret ? '' : ' = "[^\\n]*"';
      out.push({
        name: `${key} ${family}: ${JSON.stringify(value.slice(0, 40))}`,
        key,
        family,
        section,
        value,
        want: new RegExp(`\\[${section}\\] ${key}(${shown})?: ${want}`, 'm'),
        ...extra,
      });
    };
    if (spec.empty === undefined) add('empty', '', 'must not be empty');
    const wrong = typeof spec.type === 'object' ? enumWrong(spec.type.enum, env) : WRONG[spec.type](env);
    for (const v of wrong) add('wrong type', v, '');
    if (spec.type === 'int' || spec.type === 'size') {
      const show = (n: number) => (spec.type === 'size' ? formatSize(n) : String(n));
      if (spec.min !== undefined && spec.min > 0)
        add('below range', String(spec.min - 1), `must be at least ${show(spec.min)}$`);
      if (spec.min === 0) add('below range', '-1', 'must not be negative$');
      if (spec.max !== undefined)
        add('above range', String(spec.max + 1), `must be at most ${show(spec.max)}$`);
    }
    if (!literal) {
      add('Jinja', p[5]!, '');
      add('Jinja', p[6]!, '');
      add('shell', p[0]!, '');
      add('shell', p[1]!, '');
      add('shell', p[2]!, '');
      add('huge', 'x'.repeat(110_000), '');
    }
    const control = CONTROLS[out.length % CONTROLS.length]!;
    const good = validValue(env, key, keys);
    const section = where();
    out.push({
      name: `${key} control character: ${JSON.stringify(control)}`,
      key,
      family: 'control character',
      section,
      // At the end: a secret stays whole, so an echo of it would be seen.
      value: `${good}${control}x`,
      want: new RegExp(`\\[${section}\\] ${key}: contains a control character \\(U\\+`),
    });
    if (spec.rangeBy) {
      const by = spec.rangeBy.key;
      for (const [byValue, range] of Object.entries(spec.rangeBy.ranges)) {
        const kindMin = spec.min ?? 0;
        const kindMax = spec.max ?? Number.MAX_SAFE_INTEGER;
        const cases: [string, string][] =
          range === undefined
            ? [[String(kindMin), `is not used with ${by} = ${byValue}: remove it`]]
            : [
                ...(range[1] < kindMax
                  ? [
                      [String(range[1] + 1), `must be at most ${range[1]} with ${by} = ${byValue}`] as [
                        string,
                        string,
                      ],
                    ]
                  : []),
                ...(range[0] > kindMin
                  ? [
                      [String(range[0] - 1), `must be at least ${range[0]} with ${by} = ${byValue}`] as [
                        string,
                        string,
                      ],
                    ]
                  : []),
              ];
        for (const [v, want] of cases) {
          const s = spec.scope === 'global' ? 'default' : where();
          add('range of another key', v, `${re(want)}$`, { section: s, also: [[s, by, byValue]] });
          // A host choosing the other key, inheriting this one from [default]: at its header.
          if (range !== undefined && spec.scope === 'host' && keys[by]?.scope === 'host') {
            const h = turn++ % 2 === 0 ? 'db1' : 'db2';
            out.push({
              name: `${key} range inherited from [default]: ${v} with ${by} = ${byValue} in [${h}]`,
              key,
              family: 'range inherited from [default]',
              section: 'default',
              value: v,
              also: [[h, by, byValue]],
              atHeader: true,
              want: new RegExp(`^[^\\n]*:\\d+ \\[${h}\\] ${key} = "${v}": ${re(want)}$`, 'm'),
            });
          }
        }
      }
    }
  }
  return out;
}

const cache = new Map<string, KeyCase[]>();
function cachedKeyCases(env: Env): KeyCase[] {
  const id = JSON.stringify(env);
  if (!cache.has(id)) cache.set(id, keyCases(env));
  return cache.get(id)!;
}

function enumWrong(allowed: readonly string[], env: Env): string[] {
  const a = allowed[0]!;
  return [
    'rsync',
    'lzma',
    'sometimes',
    `"${a}"`,
    `${a}x`,
    a.slice(1),
    `${a};touch ${env.canary}`,
    `${a}|touch ${env.canary}`,
    `${a},${allowed[1] ?? a}`,
  ].filter((v) => !allowed.includes(v.trim().toLowerCase()));
}

/**
 * The explicit rows of issue 19, each with its whole expected line (after `FILE:LINE `): an empty
 * value is never the default, and ports and levels have their real ranges.
 */
export const EXPLICIT: readonly {
  name: string;
  section: 'default' | 'db1';
  key: string;
  value: string;
  message: string;
}[] = [
  {
    name: 'retain_days = (empty)',
    section: 'default',
    key: 'retain_days',
    value: '',
    message: '[default] retain_days: must not be empty (remove the line for the default, 7)',
  },
  {
    name: 'retain_num_ready_backups = (empty)',
    section: 'db1',
    key: 'retain_num_ready_backups',
    value: '',
    message: '[db1] retain_num_ready_backups: must not be empty (remove the line for the default, 1)',
  },
  {
    name: 'smtp_port = 70000',
    section: 'default',
    key: 'smtp_port',
    value: '70000',
    message: '[default] smtp_port = "70000": must be at most 65535',
  },
  {
    name: 'compress_level = 99',
    section: 'default',
    key: 'compress_level',
    value: '99',
    message: '[default] compress_level = "99": must be at most 19',
  },
];

/** A key case as a config file: the base with the case's lines; the line of its one problem. */
export function keyCaseConfig(c: KeyCase, env: Env): ConfigCase {
  let lines = baseLines(env);
  for (const [s, k, v] of c.also ?? []) lines = setKey(lines, s, k, v, false);
  lines = setKey(lines, c.section, c.key, c.value, !c.atHeader);
  if (c.atHeader) {
    const h = c.also![0]![0];
    lines = lines.map((l) => (l.text === `[${h}]` ? { ...l, bad: true } : l));
  }
  const line = lines.findIndex((l) => l.bad) + 1;
  return { name: `${c.family} ${c.name}`, bytes: serialize(lines), line, want: c.want };
}

/** The explicit rows as config files, with their exact lines. */
export function explicitConfigs(env: Env): (ConfigCase & { message: string })[] {
  return EXPLICIT.map((x) => {
    const lines = setKey(baseLines(env), x.section, x.key, x.value);
    const line = lines.findIndex((l) => l.bad) + 1;
    return {
      name: `explicit: ${x.name}`,
      bytes: serialize(lines),
      line,
      want: new RegExp(`:${line} ${re(x.message)}$`, 'm'),
      message: `${line} ${x.message}`,
    };
  });
}

/**
 * A fixed sample of the key cases for the real CLI: every key at least once (its families in
 * turn), and every family at least once. The whole list runs in-process in the unit tests.
 */
export function keyCaseSample(env: Env, keys: KeyTable = KEYS): KeyCase[] {
  const all = keyCases(env, keys);
  const names = Object.keys(keys);
  const picked: KeyCase[] = names.flatMap((k, i) => {
    const mine = all.filter((c) => c.key === k);
    return mine.length > 0 ? [mine[i % mine.length]!] : [];
  });
  for (const f of FAMILIES) {
    if (!picked.some((c) => c.family === f)) {
      const first = all.find((c) => c.family === f);
      if (first) picked.push(first);
    }
  }
  return picked;
}

type Mutator = (
  r: Rng,
  base: Line[],
  env: Env,
) => { name: string; lines: Line[]; want: RegExp; crlf?: boolean; bom?: boolean };

const UNKNOWN = /unknown key/;

const mutators: Record<string, Mutator> = {
  unknownKey(r, base) {
    let k = randomWord(r).toLowerCase();
    while (k in KEYS) k = randomWord(r).toLowerCase();
    const s = pick(r, SECTIONS);
    return {
      name: `${s}.${k}`,
      lines: setKey(base, s, k, pick(r, ['1', 'yes', '/x', 'value'])),
      want: UNKNOWN,
    };
  },
  misspelledKey(r, base) {
    const i = pick(r, keyLines(base));
    const l = base[i]!;
    const w = misspell(r, l.key!);
    return {
      name: `${l.section}.${l.key}->${w}`,
      lines: mark(base, i, { text: l.text.replace(l.key!, w), key: w }),
      want: UNKNOWN,
    };
  },
  badValue(r, base, env) {
    // One case of the schema-driven list (keyCases), on the mutated base.
    const c = pick(r, cachedKeyCases(env));
    let lines = base;
    for (const [s, k, v] of c.also ?? []) lines = setKey(lines, s, k, v, false);
    lines = setKey(lines, c.section, c.key, c.value, !c.atHeader);
    if (c.atHeader) lines = lines.map((l) => (l.text === `[${c.also![0]![0]}]` ? { ...l, bad: true } : l));
    return {
      name: `${c.section}.${c.key} ${c.family}=${JSON.stringify(c.value.slice(0, 40))}`,
      lines,
      want: c.want,
    };
  },
  globalKeyInHost(r, base, env) {
    const key = pick(
      r,
      KEY_NAMES.filter((k) => (KEYS[k] as KeySpec).scope === 'global'),
    );
    const s = pick(r, ['db1', 'db2']);
    return {
      name: `${s}.${key}`,
      lines: setKey(base, s, key, validValue(env, key)),
      want: new RegExp(`\\[${s}\\] ${key}( = "[^"]*")?: may only be set in \\[default\\]`),
    };
  },
  emptyRequired(r, base) {
    const key = pick(r, ['mysql_user', 'mysql_password', 'backup_dir']);
    const s = pick(r, SECTIONS);
    return {
      name: `${s}.${key}`,
      lines: setKey(base, s, key, ''),
      want: new RegExp(`${key}: must not be empty`),
    };
  },
  missingRequired(r, base) {
    // Removed from [default] and set in db2 only: db1 (only) lacks it.
    const key = pick(r, ['mysql_user', 'mysql_password', 'backup_dir']);
    const i = base.findIndex((l) => l.section === 'default' && l.key === key);
    const kept = base[i]!;
    let lines = base.filter((_, j) => j !== i);
    lines = setKey(lines, 'db2', key, kept.text.slice(kept.text.indexOf('=') + 2), false);
    // The problem is reported at the [db1] header.
    lines = lines.map((l) => (l.text === '[db1]' ? { ...l, bad: true } : l));
    return { name: key, lines, want: new RegExp(`\\[db1\\] ${key}: is required`) };
  },
  pushWithoutManagerHost(r, base) {
    const s = pick(r, ['db1', 'db2']);
    const lines = setKey(base, s, 'transfer', 'push', false).map((l) =>
      l.text === `[${s}]` ? { ...l, bad: true } : l,
    );
    return { name: s, lines, want: /backup_manager_host: is required with transfer = push/ };
  },
  badManagerHost(r, base, env) {
    const s = pick(r, ['db1', 'db2']);
    const v = pick(r, [
      'root@',
      'root@db.invalid:0',
      'root@db.invalid:99999',
      'root@db.invalid:123456',
      'root@db.invalid:ssh',
      `root@${payloads(env)[0]}`,
      `root@db;touch ${env.canary}`,
      'a@b@c',
      '-oProxyCommand@db.invalid',
      '-x@db.invalid',
      'root@-oProxyCommand',
      'root@[::1',
      'root@db..invalid',
      'root@db.invalid:22:22',
      `root@${'h'.repeat(300)}`,
    ]);
    let lines = setKey(base, s, 'transfer', 'push', false);
    lines = setKey(lines, s, 'backup_manager_host', v, false);
    lines = lines.map((l) => (l.text === `[${s}]` ? { ...l, bad: true } : l));
    return {
      name: `${s}=${JSON.stringify(v.slice(0, 40))}`,
      lines,
      want: /backup_manager_host = ".*": must be \[user@\]host\[:port\]/,
    };
  },
  duplicateKey(r, base) {
    const i = pick(
      r,
      keyLines(base, (l) => l.key !== 'mysql_password'),
    );
    const l = base[i]!;
    const lines = base.map((x) => ({ ...x }));
    lines.splice(sectionEnd(lines, l.section!), 0, { ...l, bad: true });
    return {
      name: `${l.section}.${l.key}`,
      lines,
      want: new RegExp(`\\[${l.section}\\] ${l.key}: key set twice`),
    };
  },
  duplicateSection(r, base) {
    const [name, header] = pick(r, [
      ['db1', '[db1]'],
      ['db2', '[db2]'],
      ['default', '[default]'],
      ['DEFAULT', '[DEFAULT]'],
      ['Default', '[Default]'],
    ] as const);
    const lines = base.map((x) => ({ ...x }));
    lines.push({ text: header, bad: true }, { text: 'email_on = failure', section: name, key: 'email_on' });
    return { name, lines, want: /section appears twice/ };
  },
  badSectionName(r, base, env) {
    const p = payloads(env);
    const n = pick(r, [
      '',
      ' ',
      '../etc',
      'db1/../x',
      '../../tmp/x',
      'a..b',
      '.hidden',
      '-db',
      '_db',
      'db 1',
      'db;touch',
      'db#1',
      'db1:22',
      '/abs',
      'x'.repeat(129),
      'x'.repeat(120_000),
      'ünïcödé',
      'db\u200b1',
      p[0]!,
      p[1]!,
      p[2]!,
      p[3]!,
      p[5]!,
    ]);
    const lines = base.map((x) => ({ ...x }));
    lines.push(
      { text: `[${n}]`, bad: true },
      { text: 'hostname = db3.invalid', section: n, key: 'hostname' },
    );
    return { name: JSON.stringify(n.slice(0, 40)), lines, want: /section name must be a safe host name/ };
  },
  lineWithoutEquals(r, base, env) {
    const p = payloads(env);
    let junk = pick(r, [
      'just words',
      'retain_days 7',
      `mysql_password ${env.secret}`,
      `MYSQL_PASSWORD ${env.secret}-other`,
      `smtp_password ${env.secret}`,
      '[db1',
      'db1]',
      '"quoted"',
      "'single'",
      '= value without key',
      '== x',
      p[0]!,
      p[1]!,
      p[5]!,
      `x`.repeat(150_000),
      'random',
    ]);
    if (junk === 'random') {
      const alphabet = 'abcXYZ019 _-.,!?@%^&*()+/\\|~"\'<>{}$`';
      junk = pick(r, 'abcXYZ019_-.,!?@%^&*()+/\\|~"\'<>{}$`'.split(''));
      const n = int(r, 1, 60);
      while (junk.length < n) junk += pick(r, alphabet.split(''));
      junk = junk.trimEnd();
    }
    const s = pick(r, SECTIONS);
    const lines = base.map((x) => ({ ...x }));
    lines.splice(sectionEnd(lines, s), 0, { text: junk, section: s, bad: true });
    return { name: `${s}:${JSON.stringify(junk.slice(0, 40))}`, lines, want: /expected "key = value"/ };
  },
  indentedLine(r, base) {
    const i = pick(r, keyLines(base));
    const l = base[i]!;
    return {
      name: `${l.section}.${l.key}`,
      lines: mark(base, i, { text: pick(r, [' ', '  ', '\t', '    ']) + l.text }),
      want: /unexpected indented line/,
    };
  },
  keyBeforeSection(r, base) {
    const l = base[pick(r, keyLines(base))]!;
    const lines = [{ text: l.text, key: l.key, bad: true }, ...base.map((x) => ({ ...x }))];
    return { name: l.key!, lines, want: /key before any \[section\]/ };
  },
  invalidUtf8(r, base) {
    const i = pick(r, keyLines(base));
    const l = base[i]!;
    const seq = pick(r, [
      [0xff],
      [0xfe],
      [0xc3],
      [0xed, 0xa0, 0x80],
      [0xc0, 0xaf],
      [0xe2, 0x82],
      [0xf8, 0x88, 0x80, 0x80, 0x80],
      [0x80],
      [0xe9],
    ]);
    const text = Buffer.from(l.text, 'utf8');
    const at = int(r, 0, text.length);
    const bytes = Buffer.concat([text.subarray(0, at), Buffer.from(seq), text.subarray(at)]);
    return {
      name: `${l.section}.${l.key}@${at}:${seq.map((b) => b.toString(16)).join('')}`,
      lines: mark(base, i, { bytes }),
      want: /is not valid UTF-8/,
    };
  },
  controlChar(r, base) {
    const i = pick(r, keyLines(base));
    const l = base[i]!;
    const c = pick(r, ['\x01', '\x08', '\x0b', '\x0c', '\x1b', '\x1b[31m', '\x7f', '\x85', '\x9b', '\r']);
    const at = int(r, 1, l.text.length - 1);
    return {
      name: `${l.section}.${l.key}@${at}:${JSON.stringify(c)}`,
      lines: mark(base, i, { text: l.text.slice(0, at) + c + l.text.slice(at) }),
      want: /contains a control character/,
    };
  },
  nulByte(r, base) {
    const i = int(r, 0, base.length - 1);
    const l = base[i]!;
    const at = int(r, 0, l.text.length);
    return {
      name: `line${i + 1}@${at}`,
      lines: mark(base, i, { text: l.text.slice(0, at) + '\0' + l.text.slice(at) }),
      want: /contains NUL bytes/,
    };
  },
  // One problem in a file with a byte order mark and/or CRLF line ends: still one line, right number.
  bomOrCrlf(r, base, env) {
    const inner = pick(r, [
      'unknownKey',
      'badValue',
      'lineWithoutEquals',
      'badSectionName',
      'duplicateKey',
      'controlChar',
      'invalidUtf8',
    ]);
    const c = mutators[inner]!(r, base, env);
    const bom = r() < 0.6;
    const crlf = !bom || r() < 0.5;
    return { ...c, name: `${bom ? 'bom+' : ''}${crlf ? 'crlf+' : ''}${inner}:${c.name}`, bom, crlf };
  },
};

/** `n` single-problem configs (at least two of every kind), then the file-level cases. */
export function configCases(seed: number, n: number, env: Env): ConfigCase[] {
  const r = prng(seed);
  const base = baseLines(env);
  const kinds = Object.keys(mutators);
  const out: ConfigCase[] = [];
  for (let i = 0; i < n; i++) {
    const kind = i < kinds.length * 2 ? kinds[i % kinds.length]! : pick(r, kinds);
    const c = mutators[kind]!(r, base, env);
    const line = c.lines.findIndex((l) => l.bad) + 1;
    out.push({
      name: `#${i} ${kind} ${c.name}`,
      bytes: serialize(c.lines, { crlf: c.crlf, bom: c.bom }),
      line: line > 0 ? line : undefined,
      want: c.want,
    });
  }
  const whole = (name: string, bytes: Buffer, want: RegExp, line?: number): ConfigCase => ({
    name,
    bytes,
    want,
    line,
  });
  const text = (s: string) => Buffer.from(s, 'utf8');
  const baseText = serialize(base).toString('utf8');
  const noHosts = baseText.slice(0, baseText.indexOf('[db1]'));
  out.push(
    whole('empty file', text(''), /no host section/),
    whole('only comments', text('# nothing\n; here\n\n'), /no host section/),
    whole('only a byte order mark', Buffer.from([0xef, 0xbb, 0xbf]), /no host section/),
    whole('only [default]', text(noHosts), /no host section/),
    whole(
      'UTF-16LE file',
      Buffer.concat([Buffer.from([0xff, 0xfe]), Buffer.from(baseText, 'utf16le')]),
      /contains NUL bytes/,
      1,
    ),
    whole(
      'UTF-16BE file',
      Buffer.concat([Buffer.from([0xfe, 0xff]), Buffer.from(baseText, 'utf16le').swap16()]),
      /contains NUL bytes/,
      1,
    ),
    whole(
      'binary junk',
      Buffer.concat([Buffer.from(Array.from({ length: 4096 }, () => int(r, 0, 255))), Buffer.from([0])]),
      /contains NUL bytes/,
    ),
    whole(
      'old Mac line ends (CR only) and an unknown key',
      text(`${baseText}retain_dayz = 3\n`.replaceAll('\n', '\r')),
      /retain_dayz: unknown key \(did you mean retain_days\?\)/,
      base.length + 1,
    ),
    whole(
      '1 MB line',
      text(`${baseText}${'k'.repeat(1_000_000)}\n`),
      /expected "key = value"/,
      base.length + 1,
    ),
    whole(
      '1 MB unknown key',
      text(`${baseText}${'k'.repeat(1_000_000)} = 1\n`),
      /unknown key/,
      base.length + 1,
    ),
    { name: 'config is a directory', special: 'dir', want: /is a directory/ },
    { name: 'config does not exist', special: 'missing', want: /file not found/ },
  );
  return out;
}

export interface InventoryCase {
  name: string;
  /** Files to write under the case's directory (relative name -> content; a name ending in / is a directory). */
  files: Record<string, Buffer | string>;
  /** ansible_inventory in the config: relative names are under the case's directory. */
  inventory: string;
  /**
   * unparsable / notfound: `run` exits 2 with one line, `check` reports the inventory FAILED (exit 1).
   * missing: parsed, but the config's hosts are not in it: exit 1, that host FAILED, no ssh.
   */
  expect: 'unparsable' | 'notfound' | 'missing';
}

/** Inventories: each is unparsable, absent, or lacks the config's hosts (db1.invalid, db2.invalid). */
export function inventoryCases(seed: number, env: Env): InventoryCase[] {
  const r = prng(seed ^ 0x5eed);
  const c = env.canary;
  const lk = `{{ lookup('pipe','touch ${c}') }}`;
  const u = (name: string, content: Buffer | string, file = 'hosts'): InventoryCase => ({
    name: `unparsable: ${name}`,
    files: { [file]: content },
    inventory: file,
    expect: 'unparsable',
  });
  const m = (name: string, content: Buffer | string, file = 'hosts'): InventoryCase => ({
    name: `missing host: ${name}`,
    files: { [file]: content },
    inventory: file,
    expect: 'missing',
  });
  const randomBytes = (n: number) => Buffer.from(Array.from({ length: n }, () => int(r, 0, 255)));
  return [
    u('unbalanced YAML flow list', 'all: [unbalanced\n', 'hosts.yml'),
    u('YAML list item in a mapping', 'all:\n  hosts:\n    db1.invalid:\n  - broken\n', 'hosts.yml'),
    u('YAML tab indentation', 'all:\n\thosts: {}\n', 'hosts.yml'),
    u('truncated JSON', '{"all": {"hosts": ', 'hosts.json'),
    u('YAML unterminated quote', 'all:\n  hosts:\n    "db1.invalid: {}\n', 'hosts.yml'),
    u('YAML unknown alias', 'all: &a\n  children: *b\n', 'hosts.yml'),
    u('YAML hosts as a list', 'all:\n  hosts: [db1.invalid, db2.invalid]\n', 'hosts.yml'),
    u('unknown inventory plugin', 'plugin: does_not_exist\n', 'hosts.yml'),
    u('INI unclosed section', '[dbs\ndb1.invalid\n'),
    u('INI unknown section type', '[dbs:badtype]\ndb1.invalid\n'),
    u('INI vars line without =', '[dbs:vars]\nnot_a_var_line\n'),
    u('INI host var without =', 'db1.invalid ansible_port\n'),
    u('INI host ending in :', 'db1.invalid:\n', 'hosts.ini'),
    u('INI bad host range', 'db[1:]\n'),
    u('INI host name $(...)', `$(touch ${c}) ansible_host=127.0.0.1\n`),
    u('INI host name backticks', `\`touch ${c}\` x\n`),
    u('INI unterminated quote with a lookup', `db1.invalid ansible_host="${lk}\n`),
    u('INI host name with ; and |', `db1.invalid;touch ${c} | x\n`),
    u('NUL byte in YAML', 'all:\n  hosts:\n    db1\0.invalid: {}\n', 'hosts.yml'),
    u('binary junk', Buffer.concat([randomBytes(2048), Buffer.from([0, 0x0a, 0x3a])])),
    u('UTF-16LE INI', Buffer.from('[dbs]\ndb1.invalid\n', 'utf16le')),
    u('200 KB line ending in :', `${'x'.repeat(200_000)}:\n`),
    {
      name: 'unparsable: empty directory',
      files: { 'invdir/': '' },
      inventory: 'invdir',
      expect: 'unparsable',
    },
    {
      name: 'unparsable: directory with a broken file',
      files: { 'invdir/hosts.yml': 'all: [x\n' },
      inventory: 'invdir',
      expect: 'unparsable',
    },
    { name: 'notfound: no such file', files: {}, inventory: 'missing-inventory.ini', expect: 'notfound' },
    { name: 'notfound: $(...) in the path', files: {}, inventory: `$(touch ${c}).ini`, expect: 'notfound' },
    {
      name: 'notfound: backticks and ; in the path',
      files: {},
      inventory: `\`touch ${c}\`;x.ini`,
      expect: 'notfound',
    },
    m('other hosts only (short names)', '[dbs]\ndb1\ndb2\n'),
    m('empty file', ''),
    // Without an .ini name the YAML plugin reads "name:" as a group: parsed, no hosts.
    m('a bare "name:" line is a YAML group', 'db1.invalid:\n'),
    m('host name $(...) in YAML', `all:\n  hosts:\n    "$(touch ${c})": {}\n`, 'hosts.yml'),
    m('host name lookup() in YAML', `all:\n  hosts:\n    "${lk}": {}\n`, 'hosts.yml'),
    m(
      'injection in host vars (INI)',
      `db9.invalid ansible_host='$(touch ${c})' ansible_port='22;touch ${c}' ansible_ssh_common_args='-o ProxyCommand="touch ${c}"'\n`,
    ),
    m(
      'lookup() in group vars (YAML)',
      `all:\n  vars:\n    x: "${lk}"\n  hosts:\n    db9.invalid: {}\n`,
      'hosts.yml',
    ),
    m('vars as a string (YAML)', `all:\n  vars: "${lk}"\n`, 'hosts.yml'),
    m('config hosts only as group names', '[db1.invalid]\n[db2.invalid]\n'),
    m('invalid UTF-8 in a host name', Buffer.from('[dbs]\ndb1\xff\xfe.invalid\n', 'latin1')),
    { name: 'missing host: a comma list path', files: {}, inventory: 'a,b', expect: 'missing' },
  ];
}
