import t from 'tap';
import { backupVars } from '../../src/backup.js';
import { installDigest } from '../../src/install-record.js';
import { parseConfig, type HostConfig } from '../../src/config/load.js';
import type { Manifest } from '../../src/catalog/manifest.js';
import type { Decision } from '../../src/schedule.js';

const BASE = `[default]
mysql_user = backup_man
mysql_password = p'"$(id)
backup_dir = /backup
`;

function host(defaults = '', section = ''): HostConfig {
  const r = parseConfig(`${BASE}${defaults}\n[db1]\nhostname = db1.example.com\n${section}`, 'backup.conf');
  if (!r.config) throw new Error(JSON.stringify(r.issues));
  return r.config.hosts[0]!;
}

const PARENT: Manifest = {
  format: 1,
  id: '20261124T031500Z',
  type: 'full',
  host: 'db1',
  parent: null,
  from_lsn: 0,
  to_lsn: 44554,
  file: 'backup.xbstream.zst',
  bytes: 1000,
  sha256: 'f'.repeat(64),
  compress: 'zstd',
  tool: 'mariabackup',
  reason: 'no usable backup yet',
  started_at: '2026-11-24T03:15:00.000Z',
  finished_at: '2026-11-24T03:15:09.000Z',
  seconds: 9,
};

const FULL: Decision = { type: 'full', reason: 'no usable backup yet' };
const INCREMENTAL: Decision = {
  type: 'incremental',
  parent: PARENT,
  reason: 'incremental from 20261124T031500Z',
};
const OUT = '/backup/db1/tmp/20261124T111500Z';
const CRED = '/run/user/0/xb-mgr-run/credentials-db1.cnf';
const RECEIVER = '/usr/local/lib/xb-mgr/playbooks/files/xb_pull';

t.test('backupVars: a full with the defaults', async (t) => {
  t.strictSame(backupVars(host(), FULL, OUT, CRED, RECEIVER), {
    xb_host_settings: {
      'db1.example.com': {
        remote_backup_cmd: '/usr/local/xb-mgr/bin/backup_local',
        credentials_file: '/etc/xb-mgr/credentials-db1.cnf',
        credentials_src: CRED,
        tool: 'mariabackup',
      },
    },
    xb_out_dir: OUT,
    xb_type: 'full',
    xb_tool_args: ['--backup', '--stream=xbstream', '--parallel=2'],
    xb_compress: 'zstd',
    xb_compress_level: 1,
    xb_nice: 10,
    xb_ionice: 'best-effort',
    xb_stream_file: 'backup.xbstream.zst',
    xb_connect_timeout: 30,
    xb_transfer: 'pull',
    xb_install: true,
  });
});

t.test('backupVars: an incremental with the defaults', async (t) => {
  t.strictSame(backupVars(host(), INCREMENTAL, OUT, CRED, RECEIVER), {
    xb_host_settings: {
      'db1.example.com': {
        remote_backup_cmd: '/usr/local/xb-mgr/bin/backup_local',
        credentials_file: '/etc/xb-mgr/credentials-db1.cnf',
        credentials_src: CRED,
        tool: 'mariabackup',
      },
    },
    xb_out_dir: OUT,
    xb_type: 'incremental',
    xb_incremental_lsn: 44554,
    xb_tool_args: ['--backup', '--stream=xbstream', '--parallel=2', '--incremental-lsn=44554'],
    xb_compress: 'zstd',
    xb_compress_level: 1,
    xb_nice: 10,
    xb_ionice: 'best-effort',
    xb_stream_file: 'backup.xbstream.zst',
    xb_connect_timeout: 30,
    xb_transfer: 'pull',
    xb_install: true,
  });
});

t.test('backupVars: every setting that reaches the playbook', async (t) => {
  const h = host(
    'ssh_user = root\ncompress = gzip\n',
    [
      'backup_tool = xtrabackup',
      'remote_tool_path = /opt/percona/bin/xtrabackup',
      'remote_backup_cmd = /opt/xb-mgr/backup_local',
      'remote_credentials_file = /etc/mysql/xb.cnf',
      'parallel = 4',
      'compress_level = 6',
      'throttle = 50',
      'slave_info = yes',
      'remote_nice = 19',
      'remote_ionice = idle',
      'timeout_ssh = 12',
      '',
    ].join('\n'),
  );
  t.strictSame(backupVars(h, INCREMENTAL, OUT, CRED, RECEIVER), {
    xb_host_settings: {
      'db1.example.com': {
        remote_backup_cmd: '/opt/xb-mgr/backup_local',
        credentials_file: '/etc/mysql/xb.cnf',
        credentials_src: CRED,
        tool: 'xtrabackup',
        tool_path: '/opt/percona/bin/xtrabackup',
        ssh_user: 'root',
      },
    },
    xb_out_dir: OUT,
    xb_type: 'incremental',
    xb_incremental_lsn: 44554,
    xb_tool_args: [
      '--backup',
      '--stream=xbstream',
      '--parallel=4',
      '--incremental-lsn=44554',
      '--throttle=50',
      '--slave-info',
    ],
    xb_compress: 'gzip',
    xb_compress_level: 6,
    xb_nice: 19,
    xb_ionice: 'idle',
    xb_stream_file: 'backup.xbstream.gz',
    xb_connect_timeout: 12,
    xb_transfer: 'pull',
    xb_install: true,
  });
});

t.test('backupVars: push transfer', async (t) => {
  const cases: [managerHost: string, options: string, dest: string, port: number, sshOptions: string][] = [
    [
      'xbmgr@backup.example.com:2222',
      'push_ssh_options = -i /root/.ssh/xb_key\n',
      'xbmgr@backup.example.com',
      2222,
      '-i /root/.ssh/xb_key',
    ],
    ['backup.example.com', '', 'backup.example.com', 22, ''],
    ['root@10.0.0.9', '', 'root@10.0.0.9', 22, ''],
  ];
  for (const [managerHost, options, dest, port, sshOptions] of cases) {
    const h = host('', `transfer = push\nbackup_manager_host = ${managerHost}\n${options}`);
    const v = backupVars(h, FULL, OUT, CRED, RECEIVER, undefined, {
      id: '20261124T111500Z',
      maxStreamBytes: 5000,
    });
    t.strictSame(
      {
        xb_transfer: v.xb_transfer,
        xb_push_dest: v.xb_push_dest,
        xb_push_port: v.xb_push_port,
        xb_push_ssh_options: v.xb_push_ssh_options,
        xb_receiver: v.xb_receiver,
        xb_push_backup_dir: v.xb_push_backup_dir,
        xb_push_host: v.xb_push_host,
        xb_push_id: v.xb_push_id,
      },
      {
        xb_transfer: 'push',
        xb_push_dest: dest,
        xb_push_port: port,
        xb_push_ssh_options: sshOptions,
        xb_receiver: RECEIVER,
        xb_push_backup_dir: '/backup',
        xb_push_host: 'db1',
        xb_push_id: '20261124T111500Z',
      },
      managerHost,
    );
    t.notOk(
      'xb_max_stream_bytes' in v,
      `${managerHost}: the push cap is root's file on the manager, never a variable the DB host sees`,
    );
    t.strictSame(
      v.xb_tool_args,
      ['--backup', '--stream=xbstream', '--parallel=2'],
      `${managerHost}: tool args`,
    );
  }
  const pull = backupVars(host('', 'backup_manager_host = backup.example.com\n'), FULL, OUT, CRED, RECEIVER);
  t.strictSame(
    Object.keys(pull).filter((k) => k.startsWith('xb_push') || k === 'xb_receiver'),
    [],
    'pull mode sets no push variables',
  );
});

t.test('backupVars: pull passes max_stream_bytes to xb_pull', async (t) => {
  const v = backupVars(host(), FULL, OUT, CRED, RECEIVER, undefined, {
    id: 'x',
    maxStreamBytes: 10737418240,
  });
  t.equal(v.xb_max_stream_bytes, 10737418240);
  t.notOk('xb_push_id' in v, 'no push variables');
  t.notOk('xb_max_stream_bytes' in backupVars(host(), FULL, OUT, CRED, RECEIVER), 'no cap given, none set');
});

t.test('backupVars: compression of the stream', async (t) => {
  const cases: [compress: string, stream: string, file: string][] = [
    ['zstd', 'zstd', 'backup.xbstream.zst'],
    ['gzip', 'gzip', 'backup.xbstream.gz'],
    ['qpress', 'zstd', 'backup.xbstream.zst'],
    ['none', 'none', 'backup.xbstream'],
  ];
  for (const [compress, stream, file] of cases) {
    const v = backupVars(host(`compress = ${compress}\n`), FULL, OUT, CRED, RECEIVER);
    t.equal(v.xb_compress, stream, `${compress}: xb_compress`);
    t.equal(v.xb_stream_file, file, `${compress}: xb_stream_file`);
  }
});

t.test('backupVars: secrets never reach the variables', async (t) => {
  const v = JSON.stringify(backupVars(host(), INCREMENTAL, OUT, CRED, RECEIVER));
  t.notMatch(v, /backup_man/, 'no MySQL user');
  t.notMatch(v, /\$\(id\)/, 'no MySQL password');
});

t.test('backupVars: the host key is the inventory hostname; the section name only names files', async (t) => {
  const r = parseConfig(`${BASE}\n[web]\n[db2]\nhostname = 10.0.0.2\n`, 'backup.conf');
  const hosts = r.config!.hosts;
  const names = hosts.map((h) =>
    Object.keys(backupVars(h, FULL, OUT, CRED, RECEIVER).xb_host_settings as object),
  );
  t.strictSame(names, [['web'], ['10.0.0.2']]);
  const db2 = backupVars(hosts[1]!, FULL, OUT, CRED, RECEIVER).xb_host_settings as Record<
    string,
    Record<string, string>
  >;
  t.equal(db2['10.0.0.2']!.credentials_file, '/etc/xb-mgr/credentials-db2.cnf');
});

t.test(
  'backupVars: install skipped, with the helper checksum the helper checks itself against',
  async (t) => {
    const v = backupVars(host(), FULL, OUT, CRED, RECEIVER, { install: false, helperSha256: 'a'.repeat(64) });
    t.equal(v.xb_install, false);
    t.equal(v.xb_helper_sha256, 'a'.repeat(64));
    t.notOk('xb_helper_sha256' in backupVars(host(), FULL, OUT, CRED, RECEIVER), 'no checksum, no check');
  },
);

/** The digest with a fixed manager key (install-record.test.ts covers the key itself). */
const installKey = (h: HostConfig, sha: string, user: string | undefined) =>
  installDigest(h, sha, user, Buffer.alloc(32, 7));

t.test('installKey: changes with everything an install puts on the host, and only then', async (t) => {
  const sha = 'b'.repeat(64);
  const base = installKey(host(), sha, undefined);
  t.equal(installKey(host(), sha, undefined), base, 'stable for the same inputs');
  t.equal(installKey(host('retain_days = 3\n'), sha, undefined), base, 'unrelated settings do not count');
  const cases: [string, string][] = [
    ['helper changed', installKey(host(), 'c'.repeat(64), undefined)],
    ['password changed', installKey(host('', 'mysql_password = other\n'), sha, undefined)],
    ['user changed', installKey(host('', 'mysql_user = other\n'), sha, undefined)],
    ['socket changed', installKey(host('', 'mysql_socket = /run/other.sock\n'), sha, undefined)],
    [
      'helper path changed',
      installKey(host('', 'remote_backup_cmd = /opt/x/backup_local\n'), sha, undefined),
    ],
    [
      'credentials path changed',
      installKey(host('', 'remote_credentials_file = /etc/x.cnf\n'), sha, undefined),
    ],
    ['ssh user changed', installKey(host(), sha, 'backup')],
    ['tool path changed', installKey(host('', 'remote_tool_path = /opt/mariabackup\n'), sha, undefined)],
  ];
  for (const [what, key] of cases) t.not(key, base, what);
});
