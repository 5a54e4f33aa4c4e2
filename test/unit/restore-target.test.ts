/** The settings of a `restore --to-host` target without a section (src/commands/restore-target.ts). */
import t from 'tap';
import { defaultsFor, withEmptySection } from '../../src/commands/restore-target.js';
import { UsageError } from '../../src/errors.js';

t.test('withEmptySection keeps the file and its line ends', async (t) => {
  const cases: [string, string, string][] = [
    ['LF', '[default]\na = 1\n', '[default]\na = 1\n\n[db2]\n'],
    ['no final line end', '[default]\na = 1', '[default]\na = 1\n[db2]\n'],
    ['CRLF', '[default]\r\na = 1\r\n', '[default]\r\na = 1\r\n\n[db2]\n'],
    ['old Mac CR only', '[default]\ra = 1\r', '[default]\ra = 1\r\r[db2]\r'],
  ];
  for (const [name, text, want] of cases) t.equal(withEmptySection(text, 'db2'), want, name);
});

const CONF = `[default]
mysql_user = backup_man
mysql_password = default-pw
backup_dir = /backup
remote_credentials_file = /etc/xb-mgr/{host}/credentials.cnf
mysql_stop_cmd = systemctl stop mariadb
[db1]
mysql_password = db1-pw
remote_credentials_file = /srv/db1/db1.cnf
remote_backup_cmd = /opt/db1/backup_local
mysql_datadir = /srv/db1/data
backup_tool = xtrabackup
`;

t.test(
  "defaultsFor: [default] and the key defaults for the target's name, nothing of the source",
  async (t) => {
    const h = defaultsFor(CONF, 'backup.conf', 'db2', new Set());
    const cases: [string, unknown, unknown][] = [
      ['name', h.name, 'db2'],
      ['hostname', h.hostname, 'db2'],
      ['credentials file: {host} is the target', h.remoteCredentialsFile, '/etc/xb-mgr/db2/credentials.cnf'],
      ['helper: the key default', h.remoteBackupCmd, '/usr/local/xb-mgr/bin/backup_local'],
      ['password: [default]', h.mysqlPassword, 'default-pw'],
      ['datadir: none, the server says', h.mysqlDatadir, undefined],
      ['tool: the key default', h.backupTool, 'mariabackup'],
      ['stop command: [default]', h.mysqlStopCmd, ['systemctl', 'stop', 'mariadb']],
    ];
    for (const [name, got, want] of cases) t.strictSame(got, want, name);
    // The old way replaced the source's name inside the source's paths: /srv/db2/db2.cnf.
    t.not(h.remoteCredentialsFile, '/srv/db2/db2.cnf');
    const ip = defaultsFor(CONF, 'backup.conf', '10.0.0.7', new Set());
    t.equal(ip.remoteCredentialsFile, '/etc/xb-mgr/10.0.0.7/credentials.cnf', 'an IP address as the name');
  },
);

t.test('defaultsFor: a name that cannot be a section is a usage error, one line', async (t) => {
  for (const name of ['::1', 'a/b', '..']) {
    const e = t.throws(() => defaultsFor(CONF, 'backup.conf', name, new Set()), UsageError) as Error;
    t.match(
      e.message,
      new RegExp(`^--to-host ${name.replace(/\W/g, '\\$&')}: cannot take its settings from \\[default\\]: `),
    );
    t.notOk(e.message.includes('\n'), `${name}: one line`);
  }
});
