import t from 'tap';
import { z } from 'zod';
import { KEYS, KEY_NAMES, KINDS, key, type KeySpec } from '../../src/config/keys.js';
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

t.test('an empty value: not set, except free text without a default, where it means none', async (t) => {
  const one = (text: string) => parseConfig(text, 'f.conf');
  const h = (text: string) => one(text).config?.hosts[0];
  t.equal(
    h(`${BASE}ssh_user = root\n[h]\nssh_user =\n`)?.sshUser,
    undefined,
    'free text: none, over [default]',
  );
  t.equal(h(`${BASE}ssh_user = root\n[h]\n`)?.sshUser, 'root');
  t.equal(
    h(`${BASE}mysql_socket = /s\n[h]\nmysql_socket =\n`)?.mysqlSocket,
    '/s',
    'a path: not set, [default] holds',
  );
  t.equal(h(`${BASE}[h]\nretain_days =\n`)?.retainDays, 7, 'an int: not set, the default holds');
  t.equal(
    one(`${BASE}email_from =\n[h]\n`).config?.global.emailFrom,
    'xb-mgr@localhost',
    'text with a default',
  );
  t.equal(one(`${BASE}smtp_host =\n[h]\n`).config?.global.smtp.host, undefined);
  t.same(
    one(`${BASE}timezone =\n[h]\n`).issues.map(formatConfigIssue),
    [
      'f.conf:5 [default] timezone = "": is not a known time zone (use an IANA name such as Europe/Berlin or UTC)',
    ],
    'a time zone must be one',
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
