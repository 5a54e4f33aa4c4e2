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
import { KEYS, KEY_NAMES, type KeySpec } from '../../src/config/keys.js';

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

/** A valid value of a key (used where only the placement is wrong). */
function validValue(env: Env, key: string): string {
  const spec = KEYS[key as keyof typeof KEYS] as KeySpec;
  if (spec.secret) return `${env.secret}-x`;
  if (spec.default !== undefined) return spec.default;
  switch (spec.type) {
    case 'path':
      return `${env.dir}/${key}`;
    case 'size':
      return '10G';
    case 'int':
      return '5';
    case 'hostname':
      return 'db9.invalid';
    case 'emails':
      return 'ops@example.invalid';
    default:
      return key === 'timezone' ? 'UTC' : 'x';
  }
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

/** Values of a key that its type rejects. None contains whitespace then ; or # (an inline comment). */
function badValues(env: Env, key: string): string[] {
  const spec = KEYS[key as keyof typeof KEYS] as KeySpec;
  const p = payloads(env);
  const huge = (s: string) => s.repeat(Math.ceil(110_000 / s.length));
  if (key === 'timezone') return ['Mars/Base', 'Europe/Nowhere', 'UTC;x', p[0]!, p[5]!, 'America/New York'];
  if (typeof spec.type === 'object') {
    const allowed = spec.type.enum;
    const a = allowed[0]!;
    return [
      'rsync',
      'lzma',
      'innobackupex',
      'sometimes',
      `"${a}"`,
      `${a}x`,
      a.slice(1),
      `${a};touch ${env.canary}`,
      `${a}|touch ${env.canary}`,
      `${a}${p[0]}`,
      p[1]!,
      p[5]!,
      `${a},${allowed[1]}`,
      huge('z'),
    ].filter((v) => !allowed.includes(v.trim().toLowerCase()));
  }
  switch (spec.type) {
    case 'int':
      return [
        'seven',
        '-1',
        '-999999',
        '1.5',
        '1e3',
        '0x10',
        '+5',
        '5days',
        '1_000',
        '３',
        '99999999999999999999',
        huge('9'),
        huge('x'),
        `5;touch ${env.canary}`,
        p[0]!,
        p[1]!,
        p[5]!,
        ...(spec.min !== undefined && spec.min >= 1 ? ['0'] : []),
      ];
    case 'size':
      return [
        'ten gigs',
        '-1',
        '0',
        '1.5G',
        '10X',
        '10 GiBs',
        '1e9',
        '0x10',
        '99999999999999T',
        huge('9'),
        `10G;touch ${env.canary}`,
        p[0]!,
        p[1]!,
        p[5]!,
      ];
    case 'bool':
      return ['maybe', 'ja', '2', '-1', 'tru', 'yes please', 'on;off', p[0]!, p[5]!];
    case 'day':
      return [
        'Sundy',
        'Funday',
        'Sonntag',
        'su',
        'sunday;x',
        '7',
        '0',
        'Sun day',
        'Mon,Tue',
        'tues',
        p[0]!,
        p[1]!,
        huge('sun'),
      ];
    case 'hostname':
      return [
        `db1${p[0]}`,
        '../../etc',
        'db1/../x',
        `-oProxyCommand=touch ${env.canary}`,
        `db1;touch ${env.canary}`,
        'db 1',
        'db1.invalid:22',
        'root@db1.invalid',
        'a'.repeat(64) + '.invalid',
        'x..y',
        '.db1',
        p[1]!,
        p[5]!,
        huge('a.'),
      ];
    case 'path':
      return [
        'backups',
        'var/log/x.log',
        '~/backups',
        './b',
        '..',
        '../etc/passwd',
        `${env.dir}/../../etc`,
        '/a/../b',
        '/..',
        `${env.dir}/x/..`,
        p[0]!,
        p[1]!,
        p[5]!,
        huge('rel/'),
      ];
    case 'emails':
      return [
        'nobody',
        'a@',
        '@example.invalid',
        'a@@b.invalid',
        'ops@example.invalid nobody',
        'ops@example.invalid;dev@example.invalid',
        '<ops@example.invalid>',
        `ops@example.invalid, ${p[0]}`,
        `${p[1]}@example.invalid`,
        huge('x'),
      ];
    case 'command':
      return [
        `/bin/systemctl stop "mariadb`,
        `'/usr/sbin/service' 'mariadb stop`,
        `sh -c "touch ${env.canary}`,
      ];
    case 'string':
      return [];
  }
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
    const candidates = KEY_NAMES.filter((k) => badValues(env, k).length > 0);
    const key = pick(r, candidates);
    const spec = KEYS[key] as KeySpec;
    const section =
      spec.scope === 'global' || spec.type === 'hostname'
        ? spec.scope === 'global'
          ? 'default'
          : pick(r, ['db1', 'db2'])
        : pick(r, SECTIONS);
    const v = pick(r, badValues(env, key));
    return {
      name: `${section}.${key}=${JSON.stringify(v.slice(0, 40))}`,
      lines: setKey(base, section, key, v),
      want: new RegExp(`\\[${section}\\] ${key} = "`),
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
