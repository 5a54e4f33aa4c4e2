import t from 'tap';
import { probeChecks, type CheckLine, type Probe } from '../../src/checks.js';
import { parseConfig, type HostConfig } from '../../src/config/load.js';

const BASE = `[default]
mysql_user = backup_man
mysql_password = p
backup_dir = /backup
`;

function host(extra = ''): HostConfig {
  const r = parseConfig(`${BASE}${extra}\n[db1]\nhostname = db1.example.com\n`, 'backup.conf');
  if (!r.config) throw new Error(JSON.stringify(r.issues));
  return r.config.hosts[0]!;
}

const MARIABACKUP = {
  path: '/usr/bin/mariabackup',
  version: '10.11.19',
  version_line: '/usr/bin/mariabackup based on MariaDB server 10.11.19-MariaDB debian-linux-gnu (x86_64)',
};
const XTRABACKUP = {
  path: '/usr/bin/xtrabackup',
  version: '8.0.35',
  version_line: '/usr/bin/xtrabackup version 8.0.35-30 based on MySQL server 8.0.35 Linux (x86_64)',
};

/** What the helper printed for the sandbox host (taken from a real setup run). */
const GOOD: Probe = {
  helper_version: '1',
  tools: { mariabackup: MARIABACKUP },
  login: true,
  server_version: '10.11.19-MariaDB-0+deb12u1-log',
  datadir: '/var/lib/mysql/',
  log_bin: true,
  privileges: ['BINLOG MONITOR', 'PROCESS', 'RELOAD'],
};
const MGR = { path: '/usr/sbin/mariadbd', version: '10.11.19' };

const ACCESS_DENIED =
  "ERROR 1045 (28000): Access denied for user 'backup_man'@'localhost' (using password: YES)";

type Line = [check: string, ok: boolean, detail: string];

const OK_TOOL: Line = ['backup tool', true, '/usr/bin/mariabackup 10.11.19'];
const OK_LOGIN: Line = ['mysql login', true, 'backup_man on 10.11.19-MariaDB-0+deb12u1-log'];
const OK_VERSION: Line = ['tool version', true, 'mariabackup 10.11.19 matches server 10.11'];
const OK_PRIVS: Line = ['privileges', true, 'RELOAD, PROCESS, BINLOG MONITOR'];
const OK_MGR: Line = ['manager mysqld', true, '/usr/sbin/mariadbd 10.11.19 matches server 10.11'];

interface Case {
  name: string;
  conf?: string;
  probe: Probe;
  mgr?: { path?: string; version?: string };
  want: Line[];
}

const cases: Case[] = [
  {
    name: 'all OK',
    probe: GOOD,
    want: [OK_TOOL, OK_LOGIN, OK_VERSION, OK_PRIVS, OK_MGR],
  },
  {
    name: 'tool missing, no other tool',
    probe: { ...GOOD, tools: {} },
    want: [
      ['backup tool', false, 'mariabackup is not installed on the host (not found on its PATH)'],
      OK_LOGIN,
      OK_PRIVS,
      OK_MGR,
    ],
  },
  {
    name: 'no tools key at all',
    probe: { ...GOOD, tools: undefined },
    want: [
      ['backup tool', false, 'mariabackup is not installed on the host (not found on its PATH)'],
      OK_LOGIN,
      OK_PRIVS,
      OK_MGR,
    ],
  },
  {
    name: 'the other tool is there: say which backup_tool to set',
    probe: { ...GOOD, tools: { xtrabackup: XTRABACKUP } },
    want: [
      [
        'backup tool',
        false,
        'backup_tool = mariabackup but the host has xtrabackup: set backup_tool = xtrabackup',
      ],
      OK_LOGIN,
      OK_PRIVS,
      OK_MGR,
    ],
  },
  {
    name: 'xtrabackup configured, mariabackup installed',
    conf: 'backup_tool = xtrabackup\n',
    probe: { ...GOOD, log_bin: false },
    want: [
      [
        'backup tool',
        false,
        'backup_tool = xtrabackup but the host has mariabackup: set backup_tool = mariabackup',
      ],
      OK_LOGIN,
      [
        'privileges',
        false,
        'backup_man lacks LOCK TABLES, BACKUP_ADMIN: GRANT LOCK TABLES, BACKUP_ADMIN ON *.* TO backup_man',
      ],
      OK_MGR,
    ],
  },
  {
    name: 'both tools installed: the configured one is used',
    probe: { ...GOOD, tools: { xtrabackup: XTRABACKUP, mariabackup: MARIABACKUP } },
    want: [OK_TOOL, OK_LOGIN, OK_VERSION, OK_PRIVS, OK_MGR],
  },
  {
    name: 'login failed: stops after the login line',
    probe: { ...GOOD, login: false, login_error: ACCESS_DENIED, server_version: null, privileges: [] },
    want: [OK_TOOL, ['mysql login', false, `backup_man cannot log in: ${ACCESS_DENIED}`]],
  },
  {
    name: 'login failed without a reason, tool missing too',
    probe: { tools: {}, login: false },
    want: [
      ['backup tool', false, 'mariabackup is not installed on the host (not found on its PATH)'],
      ['mysql login', false, 'backup_man cannot log in: unknown error'],
    ],
  },
  {
    name: 'an empty probe',
    probe: {},
    mgr: {},
    want: [
      ['backup tool', false, 'mariabackup is not installed on the host (not found on its PATH)'],
      ['mysql login', false, 'backup_man cannot log in: unknown error'],
    ],
  },
  {
    name: 'tool and server majors differ',
    probe: { ...GOOD, tools: { mariabackup: { ...MARIABACKUP, version: '10.6.18' } } },
    want: [
      ['backup tool', true, '/usr/bin/mariabackup 10.6.18'],
      OK_LOGIN,
      [
        'tool version',
        false,
        "mariabackup 10.6.18 does not match the server's major version 10.11: install the 10.11 backup tool on the host",
      ],
      OK_PRIVS,
      OK_MGR,
    ],
  },
  {
    name: 'tool version unknown',
    probe: { ...GOOD, tools: { mariabackup: { path: '/usr/bin/mariabackup', version: null } } },
    want: [
      ['backup tool', true, '/usr/bin/mariabackup (unknown version)'],
      OK_LOGIN,
      [
        'tool version',
        false,
        "mariabackup ? does not match the server's major version 10.11: install the 10.11 backup tool on the host",
      ],
      OK_PRIVS,
      OK_MGR,
    ],
  },
  {
    name: 'server version unknown',
    probe: { ...GOOD, server_version: null },
    want: [
      OK_TOOL,
      ['mysql login', true, 'backup_man on unknown server'],
      [
        'tool version',
        false,
        "mariabackup 10.11.19 does not match the server's major version ?: install the matching backup tool on the host",
      ],
      OK_PRIVS,
      [
        'manager mysqld',
        false,
        "/usr/sbin/mariadbd 10.11.19 does not match the host's server ?: set mysqld for this host to a matching server binary",
      ],
    ],
  },
  {
    name: 'missing privileges: the GRANT to run',
    probe: { ...GOOD, privileges: ['PROCESS'] },
    want: [
      OK_TOOL,
      OK_LOGIN,
      OK_VERSION,
      [
        'privileges',
        false,
        'backup_man lacks RELOAD, BINLOG MONITOR: GRANT RELOAD, BINLOG MONITOR ON *.* TO backup_man',
      ],
      OK_MGR,
    ],
  },
  {
    name: 'no binary log: BINLOG MONITOR is not needed',
    probe: { ...GOOD, log_bin: false, privileges: ['RELOAD', 'PROCESS'] },
    want: [OK_TOOL, OK_LOGIN, OK_VERSION, ['privileges', true, 'RELOAD, PROCESS'], OK_MGR],
  },
  {
    name: 'log_bin unknown counts as off',
    probe: { ...GOOD, log_bin: null, privileges: ['RELOAD', 'PROCESS'] },
    want: [OK_TOOL, OK_LOGIN, OK_VERSION, ['privileges', true, 'RELOAD, PROCESS'], OK_MGR],
  },
  {
    name: 'slave_info needs SLAVE MONITOR',
    conf: 'slave_info = true\n',
    probe: GOOD,
    want: [
      OK_TOOL,
      OK_LOGIN,
      OK_VERSION,
      ['privileges', false, 'backup_man lacks SLAVE MONITOR: GRANT SLAVE MONITOR ON *.* TO backup_man'],
      OK_MGR,
    ],
  },
  {
    name: 'ALL PRIVILEGES is enough',
    conf: 'slave_info = true\n',
    probe: { ...GOOD, privileges: ['ALL PRIVILEGES'] },
    want: [
      OK_TOOL,
      OK_LOGIN,
      OK_VERSION,
      ['privileges', true, 'RELOAD, PROCESS, BINLOG MONITOR, SLAVE MONITOR'],
      OK_MGR,
    ],
  },
  {
    name: 'no privileges key: everything missing',
    probe: { ...GOOD, privileges: undefined },
    want: [
      OK_TOOL,
      OK_LOGIN,
      OK_VERSION,
      [
        'privileges',
        false,
        'backup_man lacks RELOAD, PROCESS, BINLOG MONITOR: GRANT RELOAD, PROCESS, BINLOG MONITOR ON *.* TO backup_man',
      ],
      OK_MGR,
    ],
  },
  {
    name: 'manager mysqld missing',
    probe: GOOD,
    mgr: {},
    want: [
      OK_TOOL,
      OK_LOGIN,
      OK_VERSION,
      OK_PRIVS,
      [
        'manager mysqld',
        false,
        'no mysqld or mariadbd on the manager host: install the server package (it checks the backups)',
      ],
    ],
  },
  {
    name: 'manager mysqld of another major version',
    probe: GOOD,
    mgr: { path: '/usr/sbin/mysqld', version: '8.0.36' },
    want: [
      OK_TOOL,
      OK_LOGIN,
      OK_VERSION,
      OK_PRIVS,
      [
        'manager mysqld',
        false,
        "/usr/sbin/mysqld 8.0.36 does not match the host's server 10.11: set mysqld for this host to a 10.11 server binary",
      ],
    ],
  },
  {
    name: 'manager mysqld of unknown version',
    probe: GOOD,
    mgr: { path: '/usr/sbin/mariadbd' },
    want: [
      OK_TOOL,
      OK_LOGIN,
      OK_VERSION,
      OK_PRIVS,
      [
        'manager mysqld',
        false,
        "/usr/sbin/mariadbd ? does not match the host's server 10.11: set mysqld for this host to a 10.11 server binary",
      ],
    ],
  },
  {
    name: 'remote_tool_path that exists is the tool checked',
    conf: 'remote_tool_path = /opt/mariadb/bin/mariabackup\n',
    probe: {
      ...GOOD,
      tools: { mariabackup: { ...MARIABACKUP, version: '10.6.18' } },
      configured_tool: { path: '/opt/mariadb/bin/mariabackup', exists: true, version: '10.11.8' },
    },
    want: [
      ['backup tool', true, '/opt/mariadb/bin/mariabackup 10.11.8'],
      OK_LOGIN,
      ['tool version', true, 'mariabackup 10.11.8 matches server 10.11'],
      OK_PRIVS,
      OK_MGR,
    ],
  },
  {
    name: 'remote_tool_path that exists but of the wrong major',
    conf: 'remote_tool_path = /opt/mariadb/bin/mariabackup\n',
    probe: {
      ...GOOD,
      configured_tool: { path: '/opt/mariadb/bin/mariabackup', exists: true, version: '10.5.9' },
    },
    want: [
      ['backup tool', true, '/opt/mariadb/bin/mariabackup 10.5.9'],
      OK_LOGIN,
      [
        'tool version',
        false,
        "mariabackup 10.5.9 does not match the server's major version 10.11: install the 10.11 backup tool on the host",
      ],
      OK_PRIVS,
      OK_MGR,
    ],
  },
  {
    name: 'xtrabackup on MySQL 8.0: all OK',
    conf: 'backup_tool = xtrabackup\n',
    probe: {
      helper_version: '1',
      tools: { xtrabackup: XTRABACKUP },
      login: true,
      server_version: '8.0.36-0ubuntu0.22.04.1',
      log_bin: true,
      privileges: ['RELOAD', 'PROCESS', 'LOCK TABLES', 'REPLICATION CLIENT', 'BACKUP_ADMIN'],
    },
    mgr: { path: '/usr/sbin/mysqld', version: '8.0.36' },
    want: [
      ['backup tool', true, '/usr/bin/xtrabackup 8.0.35'],
      ['mysql login', true, 'backup_man on 8.0.36-0ubuntu0.22.04.1'],
      ['tool version', true, 'xtrabackup 8.0.35 matches server 8.0'],
      ['privileges', true, 'RELOAD, PROCESS, LOCK TABLES, REPLICATION CLIENT, BACKUP_ADMIN'],
      ['manager mysqld', true, '/usr/sbin/mysqld 8.0.36 matches server 8.0'],
    ],
  },
];

const lines = (got: CheckLine[]) => got.map((l) => [l.check, l.ok, l.detail]);

t.test('probeChecks: table', async (t) => {
  for (const c of cases) {
    const got = probeChecks(host(c.conf), c.probe, c.mgr ?? MGR);
    t.strictSame(lines(got), c.want, c.name);
    t.ok(
      got.every((l) => l.host === 'db1'),
      `${c.name}: every line names the xb-mgr host (section), not the inventory name`,
    );
  }
});

// When neither version is known, the check fails (right) but says the versions match.
t.test('unknown versions on both sides never read as a match', async (t) => {
  const todo = {};
  const got = probeChecks(
    host(),
    {
      ...GOOD,
      server_version: null,
      tools: { mariabackup: { path: '/usr/bin/mariabackup', version: null } },
    },
    { path: '/usr/sbin/mariadbd' },
  );
  const version = got.find((l) => l.check === 'tool version');
  const mgr = got.find((l) => l.check === 'manager mysqld');
  t.equal(version?.ok, false, 'tool version fails');
  t.equal(mgr?.ok, false, 'manager mysqld fails');
  t.equal(
    version?.detail,
    "mariabackup ? does not match the server's major version ?: install the matching backup tool on the host",
    'tool version detail',
    todo,
  );
  t.equal(
    mgr?.detail,
    "/usr/sbin/mariadbd ? does not match the host's server ?: set mysqld for this host to a matching server binary",
    'manager mysqld detail',
    todo,
  );
});

// remote_tool_path is what the backup runs; when it is missing, the tool found on PATH says nothing
// about whether the backup can work.
t.test('a missing remote_tool_path: no version verdict from another binary', async (t) => {
  const got = probeChecks(
    host('remote_tool_path = /opt/missing/mariabackup\n'),
    { ...GOOD, configured_tool: { path: '/opt/missing/mariabackup', exists: false } },
    MGR,
  );
  t.strictSame(got[0], {
    host: 'db1',
    check: 'backup tool',
    ok: false,
    detail: 'remote_tool_path /opt/missing/mariabackup is not an executable file on the host',
  });
  t.notOk(
    got.some((l) => l.check === 'tool version' && l.ok),
    'no passing tool version line for /usr/bin/mariabackup',
  );
});

t.test('checkExitCode: 2 for an unusable inventory, 1 for any other failed check, else 0', async (t) => {
  const { checkExitCode } = await import('../../src/commands/check.js');
  const line = (host: string, check: string, ok: boolean) => ({ host, check, ok, detail: '' });
  const cases: [string, ReturnType<typeof line>[], number][] = [
    ['all ok', [line('manager', 'inventory', true), line('db1', 'ssh', true)], 0],
    ['a host failed', [line('manager', 'inventory', true), line('db1', 'ssh', false)], 1],
    [
      'a host missing from the inventory',
      [line('manager', 'inventory', true), line('db1', 'inventory', false)],
      1,
    ],
    ['the inventory is unusable', [line('manager', 'inventory', false), line('manager', 'zstd', true)], 2],
    [
      'unusable inventory and a failed tool',
      [line('manager', 'inventory', false), line('manager', 'zstd', false)],
      2,
    ],
  ];
  for (const [what, lines, want] of cases) t.equal(checkExitCode(lines), want, what);
});
