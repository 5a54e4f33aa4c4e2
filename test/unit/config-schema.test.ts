import t from 'tap';
import { z } from 'zod';
import { KEYS, KEY_NAMES, KINDS, key, type KeyName, type KeySpec } from '../../src/config/keys.js';
import { GLOBAL_SHAPE, HOST_SHAPE, keyFields, schemaInput, withDefaults } from '../../src/config/schema.js';
import { parseConfig } from '../../src/config/load.js';
import { formatConfigIssue } from '../../src/errors.js';

const BASE = `[default]
mysql_user = u
mysql_password = p
backup_dir = /backup
`;

t.test('derived defaults: a key defaults to the value of another, wherever that one is set', async (t) => {
  // The shape of later keys (an off-site tier kept as long as the local one unless told otherwise).
  const TABLE = {
    retain_days: key(KINDS.int(0), { scope: 'host', default: '7', doc: 'local' }),
    offsite_retain_days: key(KINDS.int(0), { scope: 'host', defaultFrom: 'retain_days', doc: 'off-site' }),
    archive_days: key(KINDS.int(0), { scope: 'host', defaultFrom: 'offsite_retain_days', doc: 'a chain' }),
  };
  const schema = z.object({
    retainDays: TABLE.retain_days.field,
    offsite: z.object({ retainDays: TABLE.offsite_retain_days.field, archiveDays: TABLE.archive_days.field }),
  });
  // A derived default always has a value: the field is not optional.
  const typed: { offsite: { retainDays: number } } = { offsite: { retainDays: 1 } };
  t.ok(typed);
  const load = (defaults: Record<string, string>, own: Record<string, string>) =>
    schema.parse(schemaInput(TABLE, schema.shape, withDefaults(TABLE, { ...defaults, ...own })));
  const cases: [string, Record<string, string>, Record<string, string>, z.output<typeof schema>][] = [
    [
      'nothing set: the default of the source',
      {},
      {},
      { retainDays: 7, offsite: { retainDays: 7, archiveDays: 7 } },
    ],
    [
      'the source set in [default]',
      { retain_days: '5' },
      {},
      { retainDays: 5, offsite: { retainDays: 5, archiveDays: 5 } },
    ],
    [
      'the source set in the host section overrides [default], and the derived key follows',
      { retain_days: '5' },
      { retain_days: '2' },
      { retainDays: 2, offsite: { retainDays: 2, archiveDays: 2 } },
    ],
    [
      'the derived key set itself',
      { retain_days: '5' },
      { offsite_retain_days: '30' },
      { retainDays: 5, offsite: { retainDays: 30, archiveDays: 30 } },
    ],
    [
      'set in [default], not overridden by the host setting the source',
      { offsite_retain_days: '30' },
      { retain_days: '2' },
      { retainDays: 2, offsite: { retainDays: 30, archiveDays: 30 } },
    ],
  ];
  for (const [name, defaults, own, want] of cases) t.same(load(defaults, own), want, name);
  const LOOP = {
    a: key(KINDS.int(0), { scope: 'host', defaultFrom: 'b', doc: '' }),
    b: key(KINDS.int(0), { scope: 'host', defaultFrom: 'a', doc: '' }),
  };
  t.throws(() => withDefaults(LOOP, {}), /defaultFrom cycle: a -> b -> a/);
  t.same(withDefaults(LOOP, { b: '3' }), { a: '3', b: '3' }, 'no cycle once one of them is set');
});

t.test('the key table and the config schemas agree', async (t) => {
  const host = keyFields(KEYS, HOST_SHAPE).map((f) => f.key);
  const global = keyFields(KEYS, GLOBAL_SHAPE).map((f) => f.key);
  const byScope = (s: KeySpec['scope']) => KEY_NAMES.filter((k) => KEYS[k].scope === s);
  t.same([...host].sort(), byScope('host').sort(), 'each host key is one field of HostConfig');
  t.same(
    [...global].sort(),
    [...byScope('global'), 'log'].sort(),
    'each [default]-only key is one field of GlobalConfig (and log, the run log)',
  );
  for (const name of KEY_NAMES) {
    const spec: KeySpec = KEYS[name];
    if (spec.default !== undefined) {
      t.ok(spec.value.safeParse(spec.default).success, `${name}: its default ${spec.default} is valid`);
    }
    if (spec.defaultFrom !== undefined) {
      const from: KeySpec | undefined = Object.entries(KEYS).find(([k]) => k === spec.defaultFrom)?.[1];
      t.ok(from, `${name}: defaultFrom names a key`);
      t.same(from?.type, spec.type, `${name}: defaultFrom names a key of its type`);
    }
    const always = spec.required === true || spec.default !== undefined || spec.defaultFrom !== undefined;
    t.equal(
      spec.field.safeParse(undefined).success,
      !always,
      `${name}: optional field unless it always has a value`,
    );
  }
});

t.test('an empty value: an error, except for keys that say what empty means (issue 19)', async (t) => {
  const one = (text: string) => parseConfig(text, 'f.conf');
  const h = (text: string) => one(text).config?.hosts[0];
  const msg = (text: string) => one(text).issues.map(formatConfigIssue);
  // Accepted: unset for that section, over [default].
  t.equal(
    h(`${BASE}ssh_user = root\n[h]\nssh_user =\n`)?.sshUser,
    undefined,
    'free text: none, over [default]',
  );
  t.equal(h(`${BASE}ssh_user = root\n[h]\n`)?.sshUser, 'root');
  t.equal(
    h(`${BASE}mysql_socket = /s\n[h]\nmysql_socket =\n`)?.mysqlSocket,
    undefined,
    'a path: none, over [default]',
  );
  t.same(h(`${BASE}mysqld = /m\n[h]\nmysqld =\n`)?.bins, {}, 'a binary: found on PATH');
  t.same(h(`${BASE}error_email_recipient = a@b.c\n[h]\nerror_email_recipient =\n`)?.errorEmailRecipients, []);
  t.equal(one(`${BASE}smtp_host =\n[h]\n`).config?.global.smtp.host, undefined);
  t.equal(one(`${BASE}metrics_file =\n[h]\n`).config?.global.metricsFile, undefined);
  // Refused, never the default: a half-typed line must not change what the file means.
  const refused: [string, string][] = [
    [
      `${BASE}[h]\nretain_days =\n`,
      'f.conf:6 [h] retain_days: must not be empty (remove the line for the default, 7)',
    ],
    [
      `${BASE}retain_num_ready_backups =\n[h]\n`,
      'f.conf:5 [default] retain_num_ready_backups: must not be empty (remove the line for the default, 1)',
    ],
    [
      `${BASE}email_from =\n[h]\n`,
      'f.conf:5 [default] email_from: must not be empty (remove the line for the default, xb-mgr@localhost)',
    ],
    [
      `${BASE}timezone =\n[h]\n`,
      'f.conf:5 [default] timezone: must not be empty (remove the line to leave it unset)',
    ],
    [
      `${BASE}[h]\nhostname =\n`,
      'f.conf:6 [h] hostname: must not be empty (remove the line to leave it unset)',
    ],
    [
      `${BASE}[h]\nmysql_port =\n`,
      'f.conf:6 [h] mysql_port: must not be empty (remove the line to leave it unset)',
    ],
    [
      `${BASE}[h]\nmax_stream_bytes =\n`,
      'f.conf:6 [h] max_stream_bytes: must not be empty (remove the line to leave it unset)',
    ],
    [
      `${BASE}slave_info =\n[h]\n`,
      'f.conf:5 [default] slave_info: must not be empty (remove the line for the default, false)',
    ],
    [
      `${BASE}[h]\ncompress =\n`,
      'f.conf:6 [h] compress: must not be empty (remove the line for the default, zstd)',
    ],
    [
      `${BASE}[h]\nlog =\n`,
      'f.conf:6 [h] log: must not be empty (remove the line for the default, /var/log/xb-mgr/backup_manager.log)',
    ],
    [`${BASE}[h]\nmysql_user =\n`, 'f.conf:6 [h] mysql_user: must not be empty'],
  ];
  for (const [text, want] of refused) t.same(msg(text), [want], want);
  // The reference says which keys take an empty value, and what it means.
  for (const name of KEY_NAMES) {
    const spec: KeySpec = KEYS[name];
    const always = spec.required === true || spec.default !== undefined || spec.defaultFrom !== undefined;
    if (spec.empty !== undefined)
      t.notOk(always, `${name}: empty means "${spec.empty}" only for a key without a default`);
  }
  const taking = KEY_NAMES.filter((k) => KEYS[k].empty !== undefined);
  t.ok(
    taking.includes('error_email_recipient') && !taking.includes('retain_days'),
    `empty taken by: ${taking.join(', ')}`,
  );
});

t.test('ranges: every int and size key has both bounds, and takes exactly them', async (t) => {
  for (const name of KEY_NAMES) {
    const spec: KeySpec = KEYS[name];
    if (spec.type !== 'int' && spec.type !== 'size') continue;
    t.ok(
      spec.min !== undefined && spec.max !== undefined,
      `${name}: a range (int(min, max) or bytes(min, max))`,
    );
    if (spec.min === undefined || spec.max === undefined) continue;
    t.ok(spec.value.safeParse(String(spec.min)).success, `${name}: ${spec.min} accepted`);
    t.ok(spec.value.safeParse(String(spec.max)).success, `${name}: ${spec.max} accepted`);
    t.notOk(spec.value.safeParse(String(spec.max + 1)).success, `${name}: ${spec.max + 1} refused`);
    if (spec.min > 0)
      t.notOk(spec.value.safeParse(String(spec.min - 1)).success, `${name}: ${spec.min - 1} refused`);
  }
  const cases: [string, number | string][] = [
    ['smtp_port = 65535', 65535],
    ['smtp_port = 70000', 'must be at most 65535'],
    ['smtp_port = 0', 'must be at least 1'],
    ['mysql_port = 65536', 'must be at most 65535'],
    ['retain_days = 3650', 3650],
    ['retain_days = 3651', 'must be at most 3650'],
    ['remote_nice = 20', 'must be at most 19'],
    ['timeout_ssh = 3601', 'must be at most 3600'],
    ['max_stream_bytes = 64K', 65536],
    ['max_stream_bytes = 10', 'must be at least 64K'],
    ['max_stream_bytes = 1025T', 'must be at most 1024T'],
    ['tool_log_tail_bytes = 33M', 'must be at most 32M'],
    ['max_extract_bytes = 10 G', 'must be a size in bytes such as 10G (K, M, G, T are powers of 1024)'],
  ];
  for (const [line, want] of cases) {
    const [k, v] = line.split(' = ') as [KeyName, string];
    const r = (KEYS[k] as KeySpec).value.safeParse(v);
    t.same(r.success ? r.data : r.error.issues[0]?.message, want, line);
  }
});

t.test('compress_level: the range of the compressor; qpress and none take no level', async (t) => {
  const msg = (text: string) => parseConfig(text, 'f.conf').issues.map(formatConfigIssue);
  const level = (text: string) => parseConfig(text, 'f.conf').config?.hosts.map((h) => h.compressLevel);
  t.same(level(`${BASE}compress_level = 19\n[h]\n`), [19], 'zstd 19');
  t.same(level(`${BASE}compress = gzip\ncompress_level = 9\n[h]\n`), [9], 'gzip 9');
  t.same(level(`${BASE}compress = none\n[h]\n`), [1], 'none: the default level is not "set"');
  const cases: [string, string][] = [
    [`${BASE}compress_level = 99\n[h]\n`, 'f.conf:5 [default] compress_level = "99": must be at most 19'],
    [`${BASE}compress_level = 0\n[h]\n`, 'f.conf:5 [default] compress_level = "0": must be at least 1'],
    [
      `${BASE}compress_level = 10\ncompress = gzip\n[h]\n`,
      'f.conf:5 [default] compress_level = "10": must be at most 9 with compress = gzip',
    ],
    [
      `${BASE}compress = gzip\n[h]\ncompress_level = 12\n`,
      'f.conf:7 [h] compress_level = "12": must be at most 9 with compress = gzip',
    ],
    [
      `${BASE}[h]\ncompress = none\ncompress_level = 3\n`,
      'f.conf:7 [h] compress_level = "3": is not used with compress = none: remove it',
    ],
    [
      `${BASE}compress = qpress\ncompress_level = 1\n[h]\n`,
      'f.conf:6 [default] compress_level = "1": is not used with compress = qpress: remove it',
    ],
    [
      `${BASE}compress_level = 12\n[h]\ncompress = gzip\n`,
      'f.conf:6 [h] compress_level = "12": must be at most 9 with compress = gzip',
    ],
  ];
  for (const [text, want] of cases) t.same(msg(text), [want], want);
  t.same(
    level(`${BASE}compress_level = 12\n[a]\ncompress = none\n[b]\n`),
    [12, 12],
    'a level from [default] is left unused by a host that chose none (it is meant for the others)',
  );
});

t.test('every problem of a host is reported, the rules between keys included', async (t) => {
  const r = parseConfig(
    `[default]\nmysql_user = u\nbackup_dir = /b\n[a]\ntransfer = push\n[b]\nhostname = a\ntransfer = push\nbackup_manager_host = x@\n`,
    'f.conf',
  );
  t.same(r.issues.map(formatConfigIssue), [
    'f.conf:4 [a] mysql_password: is required: set it in [default] or in [a]',
    'f.conf:4 [a] backup_manager_host: is required with transfer = push',
    'f.conf:6 [b] mysql_password: is required: set it in [default] or in [b]',
    'f.conf:6 [b] backup_manager_host = "x@": must be [user@]host[:port]',
    'f.conf:6 [b] hostname = "a": is also the hostname of [a]',
  ]);
});

t.test('the typed config: defaults, the {host} placeholder, hostname and no recipients', async (t) => {
  const { config } = parseConfig(
    `${BASE}remote_credentials_file = /c/{host}-{host}.cnf\ntimeout_ssh = 5\n[h]\nmysqld = /opt/m/bin/mariadbd\n`,
    'f.conf',
  );
  const h = config!.hosts[0]!;
  t.equal(h.hostname, 'h');
  t.equal(h.remoteCredentialsFile, '/c/h-h.cnf');
  t.same(h.errorEmailRecipients, []);
  t.same(h.timeouts, { backup: 21600, prepare: 21600, verify: 21600, compress: 21600, ssh: 5 });
  t.same(h.bins, { mysqld: '/opt/m/bin/mariadbd' });
  t.equal(h.remoteIonice, 'best-effort');
  t.equal(h.slaveInfo, false);
  t.same(config!.global.smtp, { port: 25, tls: 'starttls', allowPlaintextAuth: false });
  t.equal(config!.global.file, 'f.conf');
});
