import t from 'tap';
import {
  majorVersion,
  missingPrivileges,
  parseVersionOutput,
  requiredPrivileges,
} from '../../src/engine/versions.js';

t.test('majorVersion: table', async (t) => {
  const cases: [string | undefined | null, string | undefined][] = [
    ['10.11.19-MariaDB-0+deb12u1-log', '10.11'],
    ['10.11.19-MariaDB', '10.11'],
    ['10.6.18', '10.6'],
    ['11.4.2-MariaDB-ubu2404', '11.4'],
    ['8.0.35-27', '8.0'],
    ['8.0.36-0ubuntu0.22.04.1', '8.0'],
    ['8.4.0', '8.4'],
    ['5.7.44-log', '5.7'],
    ['10.6', '10.6'],
    ['v8.0.1', '8.0'],
    ['mariabackup based on MariaDB server 10.11.19-MariaDB', '10.11'],
    ['10', undefined],
    ['MariaDB', undefined],
    ['', undefined],
    [undefined, undefined],
    [null, undefined],
  ];
  for (const [v, want] of cases) t.equal(majorVersion(v), want, String(v));
});

t.test('parseVersionOutput: real --version outputs', async (t) => {
  const cases: [string, string | undefined][] = [
    ['mariadbd  Ver 10.11.19-MariaDB-0+deb12u1 for debian-linux-gnu on x86_64 (Debian 12)', '10.11.19'],
    [
      '/usr/sbin/mariadbd  Ver 10.11.19-MariaDB-0+deb12u1 for debian-linux-gnu on x86_64 (Debian 12)\n',
      '10.11.19',
    ],
    ['mariabackup based on MariaDB server 10.11.19-MariaDB debian-linux-gnu (x86_64)', '10.11.19'],
    ['/usr/bin/mariabackup based on MariaDB server 10.11.19-MariaDB debian-linux-gnu (x86_64)\n', '10.11.19'],
    ['mariadb-backup based on MariaDB server 11.4.2-MariaDB debian-linux-gnu (x86_64)', '11.4.2'],
    ['xtrabackup version 8.0.35-30 based on MySQL server 8.0.35 Linux (x86_64)', '8.0.35'],
    [
      'xtrabackup version 8.0.35-30 based on MySQL server 8.0.35 Linux (x86_64) (revision id: 6beb4b49)',
      '8.0.35',
    ],
    [
      '2024-03-01T10:00:00.000000-00:00 0 [Note] [MY-011825] [Xtrabackup] recognized server arguments: --datadir=/var/lib/mysql\n' +
        'xtrabackup version 8.0.35-30 based on MySQL server 8.0.35 Linux (x86_64) (revision id: 6beb4b49)\n',
      '8.0.35',
    ],
    [
      'xtrabackup version 8.4.0-1 based on MySQL server 8.4.0 Linux (x86_64) (revision id: da5ac1e7)',
      '8.4.0',
    ],
    ['mysqld  Ver 8.0.36 for Linux on x86_64', '8.0.36'],
    ['/usr/sbin/mysqld  Ver 8.0.36-0ubuntu0.22.04.1 for Linux on x86_64 ((Ubuntu))', '8.0.36'],
    [
      '/usr/sbin/mysqld  Ver 8.0.36-28 for Linux on x86_64 (Percona Server (GPL), Release 28, Revision 47601f19)',
      '8.0.36',
    ],
    ['mysqld  Ver 10.3.39-MariaDB-0+deb10u1 for debian-linux-gnu on x86_64 (Debian 10)', '10.3.39'],
    ['mysqld  Ver 5.7.44 for Linux on x86_64 (MySQL Community Server - GPL)', '5.7.44'],
    ['my_print_defaults  Ver 1.8 for debian-linux-gnu at x86_64', undefined],
    ['bash: mariabackup: command not found', undefined],
    ['', undefined],
  ];
  for (const [out, want] of cases) t.equal(parseVersionOutput(out), want, out.split('\n').at(-2) ?? out);
});

t.test('requiredPrivileges: table', async (t) => {
  const cases: ['mariabackup' | 'xtrabackup', { logBin: boolean; slaveInfo: boolean }, string[]][] = [
    ['mariabackup', { logBin: false, slaveInfo: false }, ['RELOAD', 'PROCESS']],
    ['mariabackup', { logBin: true, slaveInfo: false }, ['RELOAD', 'PROCESS', 'BINLOG MONITOR']],
    ['mariabackup', { logBin: false, slaveInfo: true }, ['RELOAD', 'PROCESS', 'SLAVE MONITOR']],
    [
      'mariabackup',
      { logBin: true, slaveInfo: true },
      ['RELOAD', 'PROCESS', 'BINLOG MONITOR', 'SLAVE MONITOR'],
    ],
    [
      'xtrabackup',
      { logBin: false, slaveInfo: false },
      ['RELOAD', 'PROCESS', 'LOCK TABLES', 'REPLICATION CLIENT', 'BACKUP_ADMIN'],
    ],
    [
      'xtrabackup',
      { logBin: true, slaveInfo: true },
      ['RELOAD', 'PROCESS', 'LOCK TABLES', 'REPLICATION CLIENT', 'BACKUP_ADMIN'],
    ],
  ];
  for (const [tool, opts, want] of cases) {
    t.strictSame(requiredPrivileges(tool, opts), want, `${tool} ${JSON.stringify(opts)}`);
  }
  const a = requiredPrivileges('mariabackup', { logBin: false, slaveInfo: false });
  a.push('MUTATED');
  t.strictSame(
    requiredPrivileges('mariabackup', { logBin: false, slaveInfo: false }),
    ['RELOAD', 'PROCESS'],
    'a fresh list each call',
  );
});

t.test('missingPrivileges: table', async (t) => {
  const MB = ['RELOAD', 'PROCESS', 'BINLOG MONITOR', 'SLAVE MONITOR'];
  const XB = ['RELOAD', 'PROCESS', 'LOCK TABLES', 'REPLICATION CLIENT', 'BACKUP_ADMIN'];
  const cases: [string, string[], string[], string[]][] = [
    ['all granted', MB, ['BINLOG MONITOR', 'PROCESS', 'RELOAD', 'SLAVE MONITOR'], []],
    ['nothing granted: all missing, in order', MB, [], MB],
    ['USAGE only', MB, ['USAGE'], MB],
    ['one missing', ['RELOAD', 'PROCESS'], ['RELOAD'], ['PROCESS']],
    ['case does not matter', MB, ['reload', 'Process', 'binlog monitor', 'slave monitor'], []],
    ['ALL PRIVILEGES', XB, ['ALL PRIVILEGES'], []],
    ['ALL', XB, ['ALL'], []],
    ['all privileges in lower case', MB, ['all privileges'], []],
    ['BINLOG MONITOR by its old name REPLICATION CLIENT', ['BINLOG MONITOR'], ['REPLICATION CLIENT'], []],
    ['BINLOG MONITOR by SUPER', ['BINLOG MONITOR'], ['SUPER'], []],
    ['SLAVE MONITOR by REPLICA MONITOR', ['SLAVE MONITOR'], ['REPLICA MONITOR'], []],
    ['SLAVE MONITOR by REPLICATION CLIENT (before 10.5)', ['SLAVE MONITOR'], ['REPLICATION CLIENT'], []],
    ['SLAVE MONITOR by SUPER', ['SLAVE MONITOR'], ['SUPER'], []],
    ['SLAVE MONITOR is not BINLOG MONITOR', ['SLAVE MONITOR'], ['BINLOG MONITOR'], ['SLAVE MONITOR']],
    ['REPLICATION CLIENT by BINLOG MONITOR', ['REPLICATION CLIENT'], ['BINLOG MONITOR'], []],
    ['REPLICATION CLIENT is not given by SUPER', ['REPLICATION CLIENT'], ['SUPER'], ['REPLICATION CLIENT']],
    ['RELOAD has no alias', ['RELOAD'], ['SUPER', 'REPLICATION CLIENT', 'BINLOG MONITOR'], ['RELOAD']],
    [
      'MySQL user without BACKUP_ADMIN and LOCK TABLES',
      XB,
      ['RELOAD', 'PROCESS', 'REPLICATION CLIENT'],
      ['LOCK TABLES', 'BACKUP_ADMIN'],
    ],
    [
      'the sandbox user of a real probe',
      ['RELOAD', 'PROCESS', 'BINLOG MONITOR'],
      ['BINLOG MONITOR', 'PROCESS', 'RELOAD'],
      [],
    ],
    [
      'a near name is not the privilege',
      ['BINLOG MONITOR'],
      ['BINLOG ADMIN', 'BINLOG REPLAY'],
      ['BINLOG MONITOR'],
    ],
    ['nothing required', [], [], []],
  ];
  for (const [name, required, have, want] of cases) {
    t.strictSame(missingPrivileges(required, have), want, name);
  }
});
