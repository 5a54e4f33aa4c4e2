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

t.test('one mistake is one issue, never a cascade (found by test/e2e/badinput.test.ts)', async (t) => {
  const TWO = `${BASE}[a]\n[b]\n`;
  const cases: { name: string; text: string; want: RegExp }[] = [
    {
      name: 'bad value of a required key in [default] (was: also "is required" per host)',
      text: TWO.replace('backup_dir = /backup', 'backup_dir = backups'),
      want: /^f\.conf:4 \[default\] backup_dir = "backups": must be an absolute path$/,
    },
    {
      name: 'empty required key in [default]',
      text: TWO.replace('mysql_user = u', 'mysql_user ='),
      want: /^f\.conf:2 \[default\] mysql_user: must not be empty$/,
    },
    {
      name: 'misspelt required key',
      text: TWO.replace('mysql_user = u', 'mysql_usr = u'),
      want: /^f\.conf:2 \[default\] mysql_usr: unknown key \(did you mean mysql_user\?\)$/,
    },
    {
      name: 'password line without "=" (was: the password printed, and "is required")',
      text: TWO.replace('mysql_password = p', 'mysql_password hunter2'),
      want: /^f\.conf:3 \[default\]: expected "key = value", got a mysql_password line$/,
    },
    {
      name: 'indented password line',
      text: TWO.replace('mysql_password = p', '  mysql_password = hunter2'),
      want: /^f\.conf:3 \[default\]: unexpected indented line a mysql_password line$/,
    },
    {
      name: 'duplicate section (was: also "is also the hostname of")',
      text: `${TWO}[a]\ncompress = gzip\n`,
      want: /^f\.conf:7 \[a\]: section appears twice \(first on line 5\)$/,
    },
    {
      name: '[DEFAULT] after [default] (was: a host named DEFAULT)',
      text: `${TWO}[DEFAULT]\ncompress = gzip\n`,
      want: /^f\.conf:7 \[DEFAULT\]: section appears twice/,
    },
    {
      name: 'control character (was: accepted into a string value)',
      text: TWO.replace('mysql_user = u', 'mysql_user = u\x1b[31m'),
      want: /^f\.conf:2 \[default\] mysql_user: contains a control character \(U\+001B\)$/,
    },
    {
      name: 'control character in a password line: not shown',
      text: TWO.replace('mysql_password = p', 'mysql_password = hunter2\x01'),
      want: /^f\.conf:3 \[default\] mysql_password: contains a control character \(U\+0001\)$/,
    },
    {
      name: 'CR inside a line',
      text: TWO.replace('mysql_user = u', 'mysql_user = u\rx'),
      want: /control character \(U\+000D\)/,
    },
    {
      name: 'NUL byte: one issue for the file (was: one per line, or accepted)',
      text: `${TWO}\0\0\0\nmore = 1\n\0\n`,
      want: /^f\.conf:7: contains NUL bytes: not a text file/,
    },
    {
      name: 'push with a "-" user in backup_manager_host (read by ssh as an option)',
      text: `${TWO}[c]\ntransfer = push\nbackup_manager_host = -oX@m.example\n`,
      want: /backup_manager_host = "-oX@m\.example": must be \[user@\]host\[:port\]$/,
    },
    {
      name: 'a huge value is shortened in the message',
      text: TWO.replace('[a]', `[a]\nretain_days = ${'9'.repeat(200_000)}`),
      want: /^f\.conf:6 \[a\] retain_days = "9{120}\.\.\. \(200000 characters\)": must be at most 3650$/,
    },
  ];
  for (const c of cases) {
    const r = parseConfig(c.text, 'f.conf');
    t.equal(r.config, undefined, `${c.name}: rejected`);
    const lines = r.issues.map((i) => new ConfigError([i]).message);
    t.equal(lines.length, 1, `${c.name}: one issue (${lines.join(' | ').slice(0, 300)})`);
    t.match(lines[0], c.want, c.name);
    t.notMatch(lines.join('\n'), /hunter2/, `${c.name}: no password`);
  }
});

t.test('a huge unknown key is reported fast (no edit distance over a megabyte)', async (t) => {
  const t0 = Date.now();
  const r = parseConfig(`${BASE}${'k'.repeat(1_000_000)} = 1\n[h]\n`, 'f.conf');
  t.ok(Date.now() - t0 < 2000, 'under 2 s');
  t.equal(r.issues.length, 1);
  t.match(r.issues[0]?.message, /^unknown key$/);
});

t.test('byte order mark, CRLF and old Mac line ends load; bytes that are not UTF-8 do not', async (t) => {
  const text = `${BASE}[h]\n`;
  t.ok(parseConfig(`\uFEFF${text}`, 'f.conf').config, 'BOM');
  t.ok(parseConfig(text.replaceAll('\n', '\r\n'), 'f.conf').config, 'CRLF');
  t.ok(parseConfig(text.replaceAll('\n', '\r'), 'f.conf').config, 'CR only');
  const dir = mkdtempSync(join(tmpdir(), 'xbcfg-'));
  const f = join(dir, 'latin1.conf');
  writeFileSync(f, Buffer.from(`${BASE}[h]\nmysql_user = j\xf6rg\n`, 'latin1'), { mode: 0o600 });
  const e = (() => {
    try {
      loadConfig(f);
    } catch (err) {
      return err as ConfigError;
    }
  })();
  t.equal(e?.issues.length, 1, 'one issue');
  t.match(e?.message, /latin1\.conf:6 \[h\] mysql_user: is not valid UTF-8 \(save the file as UTF-8\)$/);
  const u16 = join(dir, 'utf16.conf');
  writeFileSync(u16, Buffer.concat([Buffer.from([0xff, 0xfe]), Buffer.from(`${BASE}[h]\n`, 'utf16le')]), {
    mode: 0o600,
  });
  t.throws(() => loadConfig(u16), {
    message: /^[^\n]*utf16\.conf:1: contains NUL bytes: not a text file[^\n]*$/,
  });
});
