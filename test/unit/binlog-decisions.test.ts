/** Pure decisions of the binlog modules: window, retention, check lines, metrics, argv, backoff. */
import t from 'tap';
import { windowOf, formatWindow } from '../../src/binlog/window.js';
import { planBinlogRetention } from '../../src/binlog/retain.js';
import { binlogCheckLines, missingBinlogGrants } from '../../src/binlog/check.js';
import { binlogMetricsText } from '../../src/binlog/metrics.js';
import { backoffMs, binlogArgs, serverBinlogs } from '../../src/binlog/stream.js';
import { optionFileText, remoteTarget, sshForwardArgs } from '../../src/binlog/connect.js';
import type { StoredFile } from '../../src/binlog/store.js';
import { full, inc } from './factory.js';

const file = (n: number, extra: Partial<StoredFile> = {}): StoredFile => ({
  name: `mysql-bin.${String(n).padStart(6, '0')}`,
  bytes: 1000,
  events: 10,
  first_time: 1_795_000_000 + n * 1000,
  last_time: 1_795_000_000 + n * 1000 + 999,
  gtid_list: `0-1-${n * 10}`,
  state_end: `0-1-${n * 10 + 10}`,
  last_gtid: `0-1-${n * 10 + 10}`,
  ...extra,
});
const bl = (n: number) => ({ file: `mysql-bin.${String(n).padStart(6, '0')}`, position: 4 });

t.test('binlog retention: what a retained backup still needs stays', async (t) => {
  const files = [1, 2, 3, 4, 5].map((n) => file(n));
  const b1 = full('20261101T010000Z', 100, { binlog: bl(3), started_at: '2026-11-01T01:00:00Z' });
  const b2 = inc('20261102T010000Z', b1, 200, { binlog: bl(5) });
  const cases: [string, Parameters<typeof planBinlogRetention>, string[]][] = [
    ['no backups: keep all', [files, []], []],
    ['from the oldest backup position', [files, [b2, b1]], ['mysql-bin.000001', 'mysql-bin.000002']],
    [
      'newer backup only',
      [files, [b2]],
      ['mysql-bin.000001', 'mysql-bin.000002', 'mysql-bin.000003', 'mysql-bin.000004'],
    ],
    [
      'never the newest stored file',
      [files, [full('20261103T010000Z', 1, { binlog: bl(9) })]],
      ['mysql-bin.000001', 'mysql-bin.000002', 'mysql-bin.000003', 'mysql-bin.000004'],
    ],
    [
      'without a position: by time, a minute of margin',
      [
        files,
        [
          full('20261101T010000Z', 1, {
            started_at: new Date((1_795_000_000 + 3999 + 61) * 1000).toISOString(),
          }),
        ],
      ],
      ['mysql-bin.000001', 'mysql-bin.000002', 'mysql-bin.000003'],
    ],
    ['one file', [[file(1)], [b2]], []],
  ];
  for (const [what, args, want] of cases) t.same(planBinlogRetention(...args), want, what);
});

t.test('recoverable window', async (t) => {
  const now = new Date((1_795_000_000 + 6000) * 1000);
  const files = [2, 3, 4].map((n) => file(n));
  const point = {
    file: 'mysql-bin.000005',
    offset: 500,
    time: 1_795_000_000 + 5990,
    gtid: '0-1-55',
    state: '0-1-55',
  };
  const old = full('20261101T010000Z', 1, { binlog: bl(1) });
  const covered = inc('20261102T010000Z', old, 2, { binlog: bl(3) });
  const w = windowOf({ backups: [covered, old], files, point, gaps: [], now, supervisorRunning: true });
  t.equal(w.from?.backup, covered.id, 'the oldest backup the stored binlogs continue');
  t.same(w.to, {
    time: new Date(point.time * 1000).toISOString(),
    gtid: '0-1-55',
    file: 'mysql-bin.000005',
    offset: 500,
  });
  t.equal(w.age_seconds, 10);
  t.equal(w.files, 3);
  t.equal(w.bytes, 3000);
  const gap = {
    detected_at: 'x',
    after_file: 'mysql-bin.000003',
    after_state: '0-1-40',
    before_file: 'mysql-bin.000004',
    before_gtid_list: '0-1-45',
    reason: 'purged',
  };
  const later = inc('20261103T010000Z', covered, 3, { binlog: bl(4) });
  const wg = windowOf({
    backups: [old, covered, later],
    files,
    point,
    gaps: [gap],
    now,
    supervisorRunning: false,
  });
  t.equal(wg.from?.backup, later.id, 'a gap moves the start past it');
  t.match(formatWindow(wg).join('\n'), /binlog GAP after mysql-bin.000003.*purged/);
  t.match(formatWindow(wg).join('\n'), /supervisor not running/);
  const none = windowOf({ backups: [old], files, point, gaps: [gap], now, supervisorRunning: false });
  t.equal(none.from, undefined);
  t.match(formatWindow(none).join('\n'), /recoverable window: none/);
  const staged = {
    file: 'mysql-bin.000001',
    offset: 900,
    first_time: 1_795_000_000,
    time: 1_795_000_500,
    state: '0-1-9',
  };
  const early = windowOf({
    backups: [old],
    files: [],
    point: staged,
    gaps: [],
    now,
    supervisorRunning: true,
  });
  t.equal(early.from?.backup, old.id, 'before the first rotation the staged file starts the window');
  t.equal(early.files, 0, 'a staged file is not counted as stored');
  t.equal(
    windowOf({
      backups: [full('20261201T010000Z', 1)],
      files: [],
      point: staged,
      gaps: [],
      now,
      supervisorRunning: true,
    }).from?.backup,
    '20261201T010000Z',
    'by time: a backup after the staged file first event',
  );
  const unusable = { ...covered, unusable: { reason: 'x', at: 'y' } };
  t.equal(windowOf({ backups: [unusable], files, gaps: [], now, supervisorRunning: false }).from, undefined);
  const byTime = full('20261101T010000Z', 1);
  t.equal(
    windowOf({
      backups: [byTime],
      files: [file(1, { first_time: 0 })],
      gaps: [],
      now,
      supervisorRunning: false,
    }).from?.backup,
    byTime.id,
    'no position: by time',
  );
});

t.test('check lines', async (t) => {
  const vars = {
    log_bin: 'ON',
    binlog_format: 'ROW',
    server_id: '1',
    binlog_expire_logs_seconds: '0',
    expire_logs_days: '0',
  };
  const grants = [
    "GRANT REPLICATION SLAVE, BINLOG MONITOR ON *.* TO `u`@`localhost` IDENTIFIED BY PASSWORD '*X'",
  ];
  const lines = (v: Record<string, string>, g = grants) =>
    Object.fromEntries(
      binlogCheckLines('db1', { user: 'u', vars: v, grants: g, streamServerId: 99 }).map((l) => [l.check, l]),
    );
  const ok = lines(vars);
  for (const c of ['binlog grants', 'log_bin', 'binlog_format', 'server_id', 'binlog retention'])
    t.ok(ok[c]?.ok, c);
  const cases: [string, Record<string, string>, string[] | undefined, string, RegExp][] = [
    [
      'no grants',
      vars,
      ['GRANT USAGE ON *.* TO `u`@`%`'],
      'binlog grants',
      /lacks REPLICATION SLAVE, BINLOG MONITOR: GRANT/,
    ],
    [
      'db-level grant does not count',
      vars,
      ['GRANT REPLICATION SLAVE ON `shop`.* TO `u`@`%`'],
      'binlog grants',
      /lacks REPLICATION SLAVE/,
    ],
    ['log_bin off', { ...vars, log_bin: 'OFF' }, undefined, 'log_bin', /OFF: set log_bin/],
    [
      'statement format',
      { ...vars, binlog_format: 'STATEMENT' },
      undefined,
      'binlog_format',
      /STATEMENT: use ROW/,
    ],
    ['server_id 0', { ...vars, server_id: '0' }, undefined, 'server_id', /^0:/],
    ['server_id clash', { ...vars, server_id: '99' }, undefined, 'server_id', /equals binlog_server_id/],
    [
      'an hour of binlogs',
      { ...vars, binlog_expire_logs_seconds: '3600' },
      undefined,
      'binlog retention',
      /3600 s/,
    ],
  ];
  for (const [what, v, g, check, re] of cases) {
    const l = lines(v, g)[check]!;
    t.notOk(l.ok, what);
    t.match(l.detail, re, what);
  }
  t.match(lines({ ...vars, expire_logs_days: '3' })['binlog retention']!, { ok: true, detail: /3.0 day/ });
  t.same(missingBinlogGrants(['GRANT ALL PRIVILEGES ON *.* TO `root`@`localhost`']), []);
  t.same(missingBinlogGrants(['GRANT REPLICATION SLAVE, REPLICATION CLIENT ON *.* TO `u`@`%`']), []);
});

t.test('metrics', async (t) => {
  const text = binlogMetricsText(
    [
      { host: 'db1', up: true, lastEventTime: 1000, lastGtid: '0-1-42', gaps: 0 },
      { host: 'd"b2', up: false, gaps: 2 },
    ],
    new Date(1_010_000),
  );
  t.match(text, /xb_mgr_binlog_stream_up\{host="db1"\} 1\n/);
  t.match(text, /xb_mgr_binlog_stream_up\{host="d\\"b2"\} 0\n/);
  t.match(text, /xb_mgr_binlog_seconds_since_last_event\{host="db1"\} 10\n/);
  t.match(text, /xb_mgr_binlog_last_gtid_seq\{host="db1",domain="0",server_id="1"\} 42\n/);
  t.match(text, /xb_mgr_binlog_gaps\{host="d\\"b2"\} 2\n/);
  t.match(text, /\nxb_mgr_binlog_metrics_timestamp_seconds 1010\n/);
  t.notMatch(text, /xb_mgr_last_backup/, 'names of its own');
});

t.test('argv, option file, backoff', async (t) => {
  const inv = {
    name: 'db1',
    address: '10.0.0.5',
    port: 2222,
    user: 'ops',
    privateKeyFile: '/k',
    sshArgs: ['-o', 'UserKnownHostsFile=/kh'],
    vars: {},
  };
  const h = { mysqlSocket: '/run/my.sock', mysqlPort: undefined, sshUser: 'root', timeouts: { ssh: 30 } };
  const a = sshForwardArgs(h, inv, '/tmp/x/s');
  t.same(a.slice(-6), ['-l', 'ops', '-L', '/tmp/x/s:/run/my.sock', '--', '10.0.0.5']);
  t.ok(a.includes('ExitOnForwardFailure=yes') && a.includes('ConnectTimeout=30'));
  t.same(a.slice(a.indexOf('-p'), a.indexOf('-p') + 2), ['-p', '2222']);
  t.ok(a.join(' ').includes('-i /k -o UserKnownHostsFile=/kh'));
  t.equal(sshForwardArgs(h, { ...inv, user: undefined }, '/s').at(-5), 'root');
  t.equal(remoteTarget({ mysqlSocket: undefined, mysqlPort: 3307 }), '127.0.0.1:3307');
  t.equal(remoteTarget({ mysqlSocket: undefined, mysqlPort: undefined }), '/run/mysqld/mysqld.sock');
  const pw = 'x\'"$(touch /tmp/p)`id`{{ x }};#\\z';
  const cnf = optionFileText('u', pw, '/tmp/x/s');
  t.match(cnf, /^password="x'\\"\$\(touch \/tmp\/p\)`id`\{\{ x \}\};#\\\\z"$/m);
  t.notOk(binlogArgs('/c.cnf', '/d', 7, 'mysql-bin.000001').some((x) => x.includes(pw)));
  t.same(binlogArgs('/c.cnf', '/d', 7, 'mysql-bin.000001'), [
    '--defaults-extra-file=/c.cnf',
    '--read-from-remote-server',
    '--raw',
    '--stop-never',
    '--stop-never-slave-server-id=7',
    '--result-file=/d/',
    'mysql-bin.000001',
  ]);
  t.same(
    [0, 1, 2, 3, 4, 5, 6, 50].map((n) => backoffMs(n, 30)),
    [0, 1000, 2000, 4000, 8000, 16000, 30000, 30000],
  );
  t.same(
    serverBinlogs([
      ['mysql-bin.000001', '100'],
      ['../x', '1'],
      ['mysql-bin.000002', '5'],
    ]),
    {
      names: ['mysql-bin.000001', 'mysql-bin.000002'],
      invalid: ['../x'],
    },
  );
});

t.test('config: binlog keys, defaults from mysql_user/mysql_password, the password verbatim', async (t) => {
  const { parseConfig } = await import('../../src/config/load.js');
  const c = parseConfig(
    `[default]\nmysql_user = u\nmysql_password = p ; #x\nbackup_dir = /backup\n\n[db1]\nbinlog_stream = true\n\n[db2]\nbinlog_user = rep\nbinlog_password = s3cret ;#"\nmax_binlog_bytes = 1G\nbinlog_fsync_ms = 50\n`,
    '/etc/xb-mgr/backup.conf',
  );
  t.same(c.issues, []);
  const [db1, db2] = c.config!.hosts;
  t.same(db1!.binlog, {
    stream: true,
    serverId: 4170017,
    fsyncMs: 200,
    retryMaxSeconds: 30,
    maxBytes: 4 * 1024 ** 3,
  });
  const { binlogLogin } = await import('../../src/binlog/connect.js');
  t.same(binlogLogin(db1!), { user: 'u', password: 'p ; #x' }, 'defaults: mysql_user, mysql_password');
  t.same(binlogLogin(db2!), { user: 'rep', password: 's3cret ;#"' });
  t.match(db2!.binlog, {
    stream: false,
    user: 'rep',
    password: 's3cret ;#"',
    maxBytes: 1024 ** 3,
    fsyncMs: 50,
  });
  const bad = parseConfig(
    `[default]\nmysql_user = u\nmysql_password = p\nbackup_dir = /b\nbinlog_fsync_ms = 5\n`,
    '/f',
  );
  t.match(bad.issues, [{ key: 'binlog_fsync_ms' }]);
});
