import t from 'tap';
import { chmodSync, mkdtempSync, mkdirSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { loadConfig, parseConfig, selectHosts } from '../../src/config/load.js';
import { ConfigError } from '../../src/errors.js';

const fixture = new URL('../fixtures/original.conf', import.meta.url).pathname;

const BASE = `[default]
mysql_user = u
mysql_password = p
backup_dir = /backup
`;

t.test('the original README example loads unchanged', async (t) => {
  chmodSync(fixture, 0o600);
  const c = loadConfig(fixture);
  t.equal(c.hosts.length, 1);
  const db1 = c.hosts[0]!;
  t.equal(db1.name, 'db1');
  t.equal(db1.hostname, 'db1');
  t.equal(db1.log, '/var/log/xb-mgr/db1.log', 'log overridden per host');
  t.equal(c.global.log, '/var/log/xb-mgr/backup_manager.log');
  t.equal(db1.mysqlUser, 'backup_man');
  t.equal(db1.mysqlPassword, 'some_pass');
  t.equal(db1.fullBackupDay, 0);
  t.equal(db1.retainDays, 7);
  t.equal(db1.retainNumReadyBackups, 1);
  t.same(db1.errorEmailRecipients, ['ops@example.com']);
  t.equal(db1.backupDir, '/backup');
  t.equal(db1.sshUser, 'root');
  t.equal(c.global.pid, '/var/run/xb-mgr.pid');
  t.equal(c.global.rootDir, '/usr/local/xb-mgr');
  // New keys get their defaults.
  t.equal(db1.transfer, 'pull');
  t.equal(db1.compress, 'zstd');
  t.equal(db1.backupTool, 'mariabackup');
  t.equal(c.global.maxParallelHosts, 2);
  t.equal(db1.remoteCredentialsFile, '/etc/xb-mgr/credentials-db1.cnf');
  t.same(c.warnings, []);
});

t.test('a config file readable by others gets a warning', async (t) => {
  const dir = mkdtempSync(join(tmpdir(), 'xbcfg-'));
  const f = join(dir, 'backup.conf');
  writeFileSync(f, BASE + '[db1]\n', { mode: 0o644 });
  chmodSync(f, 0o644);
  const c = loadConfig(f);
  t.match(c.warnings[0], /readable by group or others \(mode 0644\): run chmod 600/);
});

t.test('full_backup_day accepts any case, full names and abbreviations', async (t) => {
  const cases: [string, number][] = [
    ['Sunday', 0],
    ['sun', 0],
    ['MONDAY', 1],
    ['Tue', 2],
    ['wednesday', 3],
    ['thu', 4],
    ['FRI', 5],
    ['saturday', 6],
  ];
  for (const [v, want] of cases) {
    const r = parseConfig(`${BASE}full_backup_day = ${v}\n[h]\n`, 'f.conf');
    t.equal(r.config?.hosts[0]?.fullBackupDay, want, v);
  }
});

t.test('values are data: passwords keep quotes, $(), backticks, braces, ; and #', async (t) => {
  const pw = `p'"$(touch /tmp/x)\`id\`{{ lookup('pipe','id') }} ;#x \\`;
  const r = parseConfig(
    `[default]\nmysql_user = u\nmysql_password = ${pw}\nbackup_dir = /b\n[h]\n`,
    'f.conf',
  );
  t.equal(r.config?.hosts[0]?.mysqlPassword, pw.trim());
  // Other keys do take inline comments, as ConfigParser did.
  const r2 = parseConfig(`${BASE}retain_days = 3 ; three days\n[h]\n`, 'f.conf');
  t.equal(r2.config?.hosts[0]?.retainDays, 3);
});

t.test('host sections override [default]; hostname defaults to the section', async (t) => {
  const r = parseConfig(
    `${BASE}compress = gzip\n[a]\ncompress = none\nhostname = 10.0.0.5\n[b]\nmysql_user = other\n`,
    'f.conf',
  );
  const [a, b] = r.config!.hosts;
  t.equal(a!.compress, 'none');
  t.equal(a!.hostname, '10.0.0.5');
  t.equal(b!.compress, 'gzip');
  t.equal(b!.hostname, 'b');
  t.equal(b!.mysqlUser, 'other');
  t.equal(b!.remoteCredentialsFile, '/etc/xb-mgr/credentials-b.cnf');
});

t.test('command keys are split into arguments without a shell', async (t) => {
  const r = parseConfig(
    `${BASE}[h]\nmysql_start_cmd = /usr/bin/setsid "/opt/my sql/start" --x='a b' $(id)\n`,
    'f.conf',
  );
  t.same(r.config!.hosts[0]!.mysqlStartCmd, ['/usr/bin/setsid', '/opt/my sql/start', '--x=a b', '$(id)']);
});

t.test('bad input: each problem names file, section, key and value', async (t) => {
  const cases: { name: string; text: string; want: RegExp }[] = [
    {
      name: 'unknown key',
      text: `${BASE}retain_dayz = 3\n[h]\n`,
      want: /f\.conf:5 \[default\] retain_dayz: unknown key \(did you mean retain_days\?\)/,
    },
    {
      name: 'bad day',
      text: `${BASE}full_backup_day = Sundy\n[h]\n`,
      want: /\[default\] full_backup_day = "Sundy": not a day of the week/,
    },
    {
      name: 'non-numeric retain',
      text: `${BASE}[h]\nretain_days = seven\n`,
      want: /\[h\] retain_days = "seven": must be a whole number/,
    },
    {
      name: 'negative retain',
      text: `${BASE}[h]\nretain_days = -1\n`,
      want: /\[h\] retain_days = "-1": must not be negative/,
    },
    {
      name: 'negative ready',
      text: `${BASE}retain_num_ready_backups = -2\n[h]\n`,
      want: /retain_num_ready_backups = "-2": must not be negative/,
    },
    {
      name: 'zero ready',
      text: `${BASE}retain_num_ready_backups = 0\n[h]\n`,
      want: /retain_num_ready_backups = "0": must be at least 1/,
    },
    {
      name: 'path traversal section',
      text: `${BASE}[../etc]\n`,
      want: /\[\.\.\/etc\]: section name must be a safe host name/,
    },
    {
      name: 'shell metachar section',
      text: `${BASE}[db1;rm -rf]\n`,
      want: /\[db1;rm -rf\]: section name must be a safe host name/,
    },
    {
      name: 'dotdot section',
      text: `${BASE}[a..b]\n`,
      want: /\[a\.\.b\]: section name must be a safe host name/,
    },
    {
      name: 'bad hostname',
      text: `${BASE}[h]\nhostname = db1$(id)\n`,
      want: /\[h\] hostname = "db1\$\(id\)": is not a safe host name/,
    },
    {
      name: 'hostname with slash',
      text: `${BASE}[h]\nhostname = ../../x\n`,
      want: /hostname = "\.\.\/\.\.\/x": is not a safe host name/,
    },
    {
      name: 'missing required',
      text: `[default]\nmysql_user = u\nbackup_dir = /b\n[h]\n`,
      want: /\[h\] mysql_password: is required/,
    },
    {
      name: 'empty required',
      text: `${BASE}[h]\nmysql_user =\n`,
      want: /\[h\] mysql_user: must not be empty/,
    },
    {
      name: 'global key in host',
      text: `${BASE}[h]\npid = /x.pid\n`,
      want: /\[h\] pid = "\/x\.pid": may only be set in \[default\]/,
    },
    {
      name: 'relative path',
      text: `${BASE}[h]\nbackup_dir = backups\n`,
      want: /backup_dir = "backups": must be an absolute path/,
    },
    {
      name: 'bad enum',
      text: `${BASE}compress = lzma\n[h]\n`,
      want: /compress = "lzma": must be one of zstd, gzip, qpress, none/,
    },
    {
      name: 'bad bool',
      text: `${BASE}slave_info = maybe\n[h]\n`,
      want: /slave_info = "maybe": must be true or false/,
    },
    {
      name: 'bad email',
      text: `${BASE}error_email_recipient = a@b.c, nobody\n[h]\n`,
      want: /"nobody" is not an email address/,
    },
    {
      name: 'bad timezone',
      text: `${BASE}timezone = Mars/Base\n[h]\n`,
      want: /timezone = "Mars\/Base": is not a known time zone/,
    },
    { name: 'no hosts', text: BASE, want: /no host section/ },
    { name: 'duplicate key', text: `${BASE}[h]\nlog = /a\nlog = /b\n`, want: /\[h\] log: key set twice/ },
    {
      name: 'duplicate hostname',
      text: `${BASE}[a]\nhostname = x\n[b]\nhostname = x\n`,
      want: /\[b\] hostname = "x": is also the hostname of \[a\]/,
    },
    { name: 'garbage line', text: `${BASE}just words\n[h]\n`, want: /expected "key = value"/ },
    {
      name: 'unterminated quote',
      text: `${BASE}[h]\nmysql_stop_cmd = "stop\n`,
      want: /mysql_stop_cmd = "\\"stop": unterminated " quote/,
    },
  ];
  for (const c of cases) {
    const r = parseConfig(c.text, 'f.conf');
    t.equal(r.config, undefined, `${c.name}: rejected`);
    t.match(r.issues.map((i) => new ConfigError([i]).message).join('\n'), c.want, c.name);
  }
});

t.test('a secret value is never echoed in an error', async (t) => {
  const r = parseConfig(`${BASE}[h]\nsmtp_password = hunter2\n`, 'f.conf');
  const msg = new ConfigError(r.issues).message;
  t.match(msg, /smtp_password: may only be set in \[default\]/);
  t.notMatch(msg, /hunter2/);
});

t.test('missing, unreadable and directory files are clear errors', async (t) => {
  const dir = mkdtempSync(join(tmpdir(), 'xbcfg-'));
  t.throws(() => loadConfig(join(dir, 'nope.conf')), { message: /nope\.conf: file not found/ });
  const sub = join(dir, 'sub');
  mkdirSync(sub);
  t.throws(() => loadConfig(sub), { message: /sub: is a directory/ });
  const e = (() => {
    try {
      loadConfig(join(dir, 'nope.conf'));
    } catch (err) {
      return err as ConfigError;
    }
  })();
  t.equal(e?.exitCode, 2);
  if (process.getuid?.() === 0) {
    // root reads anything; unreadability is tested through the error mapping instead.
    t.pass('running as root: EACCES cannot be provoked');
  } else {
    const f = join(dir, 'locked.conf');
    writeFileSync(f, BASE, { mode: 0o000 });
    t.throws(() => loadConfig(f), { message: /permission denied/ });
  }
});

t.test('--host takes a section name or a hostname', async (t) => {
  const { config } = parseConfig(`${BASE}[a]\nhostname = 127.0.1.2\n[b]\n`, 'f.conf');
  t.same(
    selectHosts(config!, ['127.0.1.2']).map((h) => h.name),
    ['a'],
  );
  t.same(
    selectHosts(config!, undefined).map((h) => h.name),
    ['a', 'b'],
  );
  t.throws(() => selectHosts(config!, ['c']), { message: /--host c: no such host section/ });
});
