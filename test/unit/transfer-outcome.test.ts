import t from 'tap';
import { parseEvents, type HostOutcome } from '../../src/ansible/events.js';
import {
  judgeStream,
  PULL_TASK,
  PUSH_TASK,
  pushToolLog,
  tail,
  transferOutcome,
  type StreamFacts,
  type StreamVerdict,
  type TransferFacts,
  type TransferOutcome,
} from '../../src/transfer/outcome.js';
import { MAX_RESULT_BYTES } from '../../src/transfer/result.js';
import { maxStreamBytes } from '../../src/engine/caps.js';

const OK_LOG = [
  "[00] 2026-11-24 04:06:25 MySQL binlog position: filename 'mysql-bin.000001', position '51831', GTID of the last change '0-1-9'",
  '[00] 2026-11-24 04:06:25 Redo log (from LSN 44554 to 274751) was copied.',
  '2026-11-24  4:06:25 0 [Note] InnoDB: Starting shutdown...',
  '[00] 2026-11-24 04:06:25 completed OK!',
  'XB-MGR BEGIN checkpoints',
  'backup_type = full-backuped',
  'from_lsn = 0',
  'to_lsn = 44554',
  'last_lsn = 274751',
  'recover_binlog_info = 0',
  'XB-MGR END checkpoints',
  '',
].join('\n');
const FAILED_LOG = [
  '[00] 2026-11-24 04:06:25 Connecting to MariaDB server host: localhost, user: xbbackup, password: set, port: not set, socket: /run/mysqld/mysqld.sock',
  "[00] 2026-11-24 04:06:25 Failed to connect to MariaDB server: Access denied for user 'xbbackup'@'localhost' (using password: YES)",
  'XB-MGR tool exited with code 1',
  '',
].join('\n');

const PARENT = { id: '20261124T031500Z', to_lsn: 44554 };
const FULL_OK: StreamFacts = {
  exitCode: 0,
  log: OK_LOG,
  checkpoints: { backup_type: 'full-backuped', from_lsn: 0, to_lsn: 44554, last_lsn: 274751 },
  bytes: 3_500_000,
  type: 'full',
};
const INC_OK: StreamFacts = {
  exitCode: 0,
  log: OK_LOG,
  checkpoints: { backup_type: 'incremental', from_lsn: 44554, to_lsn: 50112, last_lsn: 50112 },
  bytes: 120_000,
  type: 'incremental',
  parent: PARENT,
};

const cases: [name: string, facts: StreamFacts, want: StreamVerdict][] = [
  ['a good full', FULL_OK, { commit: true }],
  ['a good incremental', INC_OK, { commit: true }],
  [
    'an incremental with no change: from_lsn == to_lsn == parent.to_lsn',
    { ...INC_OK, checkpoints: { backup_type: 'incremental', from_lsn: 44554, to_lsn: 44554 } },
    { commit: true },
  ],
  [
    'a full of an empty server (to_lsn 0)',
    { ...FULL_OK, checkpoints: { backup_type: 'full-backuped', from_lsn: 0, to_lsn: 0 } },
    { commit: true },
  ],
  // Transport and tool
  [
    'exit code 1',
    { ...FULL_OK, exitCode: 1 },
    { commit: false, kind: 'stream', error: 'the transfer failed (exit code 1)' },
  ],
  [
    'exit code 255 (ssh)',
    { ...INC_OK, exitCode: 255 },
    { commit: false, kind: 'stream', error: 'the transfer failed (exit code 255)' },
  ],
  [
    'killed by a signal (negative code)',
    { ...FULL_OK, exitCode: -9 },
    { commit: false, kind: 'stream', error: 'the transfer failed (exit code -9)' },
  ],
  [
    'a non-zero exit wins over everything else',
    { ...FULL_OK, exitCode: 2, log: '', bytes: 0, checkpoints: undefined },
    { commit: false, kind: 'stream', error: 'the transfer failed (exit code 2)' },
  ],
  [
    'exit 0 but no "completed OK!"',
    { ...FULL_OK, log: FAILED_LOG },
    { commit: false, kind: 'tool', error: 'the backup tool did not log "completed OK!"' },
  ],
  [
    'exit 0 and an empty log',
    { ...FULL_OK, log: '' },
    { commit: false, kind: 'tool', error: 'the backup tool did not log "completed OK!"' },
  ],
  [
    'an empty stream',
    { ...FULL_OK, bytes: 0 },
    { commit: false, kind: 'stream', error: 'the stream is empty' },
  ],
  [
    'no checkpoints',
    { ...FULL_OK, checkpoints: undefined },
    { commit: false, kind: 'tool', error: 'xtrabackup_checkpoints is missing or unreadable' },
  ],
  [
    'no checkpoints for an incremental',
    { ...INC_OK, checkpoints: undefined },
    { commit: false, kind: 'tool', error: 'xtrabackup_checkpoints is missing or unreadable' },
  ],
  // LSN links
  [
    'an incremental without a parent',
    { ...INC_OK, parent: undefined },
    { commit: false, kind: 'lsn', error: 'an incremental without a parent' },
  ],
  [
    'incremental from_lsn below the parent to_lsn',
    { ...INC_OK, checkpoints: { backup_type: 'incremental', from_lsn: 44000, to_lsn: 50112 } },
    { commit: false, kind: 'lsn', error: "from_lsn 44000 is not the parent 20261124T031500Z's to_lsn 44554" },
  ],
  [
    'incremental from_lsn above the parent to_lsn',
    { ...INC_OK, checkpoints: { backup_type: 'incremental', from_lsn: 44555, to_lsn: 50112 } },
    { commit: false, kind: 'lsn', error: "from_lsn 44555 is not the parent 20261124T031500Z's to_lsn 44554" },
  ],
  [
    'incremental taken as a full by the tool (from_lsn 0)',
    { ...INC_OK, checkpoints: { backup_type: 'full-backuped', from_lsn: 0, to_lsn: 50112 } },
    { commit: false, kind: 'lsn', error: "from_lsn 0 is not the parent 20261124T031500Z's to_lsn 44554" },
  ],
  [
    'the server went back: to_lsn < from_lsn',
    { ...INC_OK, checkpoints: { backup_type: 'incremental', from_lsn: 44554, to_lsn: 12000 } },
    {
      commit: false,
      kind: 'lsn',
      retryFull: true,
      error:
        "the server's LSN 12000 is lower than the parent 20261124T031500Z's to_lsn 44554: the server was restored or rebuilt",
    },
  ],
  [
    'the server went back by one',
    { ...INC_OK, checkpoints: { backup_type: 'incremental', from_lsn: 44554, to_lsn: 44553 } },
    {
      commit: false,
      kind: 'lsn',
      retryFull: true,
      error:
        "the server's LSN 44553 is lower than the parent 20261124T031500Z's to_lsn 44554: the server was restored or rebuilt",
    },
  ],
  [
    'a full with from_lsn != 0',
    { ...FULL_OK, checkpoints: { backup_type: 'full-backuped', from_lsn: 100, to_lsn: 44554 } },
    { commit: false, kind: 'lsn', error: 'a full backup with from_lsn 100' },
  ],
  [
    'a full whose checkpoints say incremental',
    { ...FULL_OK, checkpoints: { backup_type: 'incremental', from_lsn: 44554, to_lsn: 50112 } },
    { commit: false, kind: 'lsn', error: 'a full backup with from_lsn 44554' },
  ],
  ['a full ignores a parent it was given', { ...FULL_OK, parent: { id: 'x', to_lsn: 99 } }, { commit: true }],
];

t.test('judgeStream: table', async (t) => {
  for (const [name, facts, want] of cases) t.strictSame(judgeStream(facts), want, name);
});

t.test('judgeStream: only a server that went back asks for a full', async (t) => {
  for (const [name, facts] of cases) {
    const v = judgeStream(facts);
    const retry = !v.commit && v.retryFull === true;
    t.equal(retry, name.startsWith('the server went back'), name);
    if (retry && !v.commit) t.match(v.error, /the server was restored or rebuilt/);
  }
});

// transferOutcome: everything a transfer left -> commit, retry as a full, or one failure.

const SHA = 'e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855';
const INC_LOG = OK_LOG.replace('backup_type = full-backuped', 'backup_type = incremental')
  .replace('from_lsn = 0', 'from_lsn = 44554')
  .replace('to_lsn = 44554', 'to_lsn = 50112');
const WENT_BACK_LOG = INC_LOG.replace('to_lsn = 50112', 'to_lsn = 12000');
const NO_OK_LOG = OK_LOG.replace('completed OK!', 'Backup stopped');
const HUGE_LSN_LOG = OK_LOG.replace('to_lsn = 44554', 'to_lsn = 18446744073709551615');
const CHECKPOINTS_TEXT =
  'backup_type = full-backuped\nfrom_lsn = 0\nto_lsn = 44554\nlast_lsn = 274751\nrecover_binlog_info = 0\n';

/** One event line of the jsonl callback for host db1. */
function ev(event: string, task: string, result: Record<string, unknown>): string {
  return JSON.stringify({ _event: event, hosts: { db1: result }, task: { name: task } });
}
const INSTALL_OK = ev('v2_runner_on_ok', 'Install the helper script', { changed: false });
const PULL_OK = ev('v2_runner_on_ok', PULL_TASK, { changed: true, rc: 0, stderr: '', stdout: '{}' });
const PUSH_OK = (stderr: string) => ev('v2_runner_on_ok', PUSH_TASK, { changed: true, rc: 0, stderr });
const failed = (task: string, over: Record<string, unknown>) =>
  ev('v2_runner_on_failed', task, { failed: true, msg: 'non-zero return code', stderr: '', ...over });
const STATS = (failures: number) =>
  JSON.stringify({ _event: 'v2_playbook_on_stats', stats: { db1: { changed: 1, failures } } });

/** The host's outcome as parseEvents makes it from event lines. */
function host(...lines: string[]): HostOutcome {
  return parseEvents(lines).hosts.get('db1')!;
}

const result = (over: Record<string, unknown> = {}) =>
  JSON.stringify({ mode: 'pull', rc: 0, bytes: 3_500_000, sha256: SHA, file: '/b/db1/tmp/x/s.zst', ...over });

const GOOD: TransferFacts = {
  transfer: 'pull',
  hostname: 'db1',
  backupDir: '/backup',
  timeoutSeconds: 3600,
  playbook: { exitCode: 0, stderr: '', otherLines: [] },
  host: host(INSTALL_OK, PULL_OK, STATS(0)),
  result: result(),
  streamBytes: 3_500_000,
  toolLog: OK_LOG,
  type: 'full',
};
const GOOD_INC: TransferFacts = { ...GOOD, toolLog: INC_LOG, type: 'incremental', parent: PARENT };

const COMMIT_FULL: TransferOutcome = {
  outcome: 'commit',
  bytes: 3_500_000,
  sha256: SHA,
  checkpoints: { backup_type: 'full-backuped', from_lsn: 0, to_lsn: 44554, last_lsn: 274751 },
  checkpointsText: CHECKPOINTS_TEXT,
  binlog: { file: 'mysql-bin.000001', position: 51831, gtid: '0-1-9' },
};

type Want = TransferOutcome;
const fail = (kind: string, message: string, logTail?: string, reinstall = false): Want =>
  ({ outcome: 'failure', kind, message, ...(logTail ? { logTail } : {}), reinstall }) as Want;
const invalid = (problem: string) => fail('result', `the transfer left an invalid result.json (${problem})`);

const SSH_REFUSED = 'ssh: connect to host 10.0.0.5 port 22: Connection refused';
const GiB = 1024 ** 3;
const CONFIGURED_CAP = maxStreamBytes({ configured: 2 * GiB, freeBytes: 1024 * GiB });
const FREE_CAP = maxStreamBytes({ freeBytes: 5 * GiB });
const OVER_CAP = (bytes: number) =>
  `xb_pull: the stream is over max_stream_bytes (${bytes} bytes); the partial file was removed`;
const BROKEN_PIPE_LOG = `${NO_OK_LOG}[01] xtrabackup: Error: write() failed: Broken pipe\nXB-MGR tool exited with code -13\n`;
const NO_SPACE =
  'xb_pull: cannot write /backup/db1/tmp/20261124T031500Z/backup.xbstream.zst.part: No space left on device';

const outcomeCases: [name: string, facts: TransferFacts, want: Want][] = [
  ['a good full', GOOD, COMMIT_FULL],
  [
    'a good incremental',
    GOOD_INC,
    {
      ...COMMIT_FULL,
      checkpoints: { backup_type: 'incremental', from_lsn: 44554, to_lsn: 50112, last_lsn: 274751 },
      checkpointsText: CHECKPOINTS_TEXT.replace('full-backuped', 'incremental')
        .replace('from_lsn = 0', 'from_lsn = 44554')
        .replace('to_lsn = 44554', 'to_lsn = 50112'),
    },
  ],
  [
    'a good push: the receiver reports mode "receive"; the log came from the push task',
    {
      ...GOOD,
      transfer: 'push',
      host: host(PUSH_OK(OK_LOG)),
      result: result({ mode: 'receive' }),
    },
    COMMIT_FULL,
  ],
  [
    'the tool version is recorded when the log names it',
    { ...GOOD, toolLog: `[00] mariabackup based on MariaDB server 10.11.19-MariaDB (x86_64)\n${OK_LOG}` },
    { ...COMMIT_FULL, toolVersion: '10.11.19' },
  ],
  [
    'a hostile binlog line (a path for a file name) is not recorded; the backup is good',
    { ...GOOD, toolLog: OK_LOG.replace("'mysql-bin.000001'", "'../../etc/cron.d/x'") },
    (({ binlog: _b, ...rest }) => rest)(COMMIT_FULL as Extract<Want, { outcome: 'commit' }>),
  ],

  // The playbook
  [
    'exit 124: timeout_backup ran out (with the log so far)',
    { ...GOOD, playbook: { exitCode: 124, stderr: '', otherLines: [] }, toolLog: NO_OK_LOG },
    fail('timeout', 'the backup timed out after 3600 s (timeout_backup)', tail(NO_OK_LOG)),
  ],
  [
    'exit 124 before the stream started: no log tail',
    { ...GOOD, playbook: { exitCode: 124, stderr: '', otherLines: [] }, host: undefined, toolLog: '' },
    fail('timeout', 'the backup timed out after 3600 s (timeout_backup)'),
  ],
  [
    'a timeout wins over an unreachable host',
    {
      ...GOOD,
      playbook: { exitCode: 124, stderr: '', otherLines: [] },
      host: host(ev('v2_runner_on_unreachable', 'x', { msg: 'gone' })),
      toolLog: '',
    },
    fail('timeout', 'the backup timed out after 3600 s (timeout_backup)'),
  ],
  [
    'no host outcome: the last line of stderr',
    {
      ...GOOD,
      playbook: {
        exitCode: 1,
        stderr: '[WARNING]: x\nERROR! the playbook: backup.yml could not be found\n',
        otherLines: ['other'],
      },
      host: undefined,
    },
    fail('not-run', 'backup playbook did not run on db1: ERROR! the playbook: backup.yml could not be found'),
  ],
  [
    'no host outcome, no stderr: the last line outside the callback',
    {
      ...GOOD,
      playbook: { exitCode: 4, stderr: '  \n', otherLines: ['first', 'last words'] },
      host: undefined,
    },
    fail('not-run', 'backup playbook did not run on db1: last words'),
  ],
  [
    'no host outcome, nothing said: the exit code',
    { ...GOOD, playbook: { exitCode: 2, stderr: '', otherLines: [] }, host: undefined },
    fail('not-run', 'backup playbook did not run on db1: exit code 2'),
  ],
  [
    'unreachable',
    {
      ...GOOD,
      playbook: { exitCode: 4, stderr: '', otherLines: [] },
      host: host(
        ev('v2_runner_on_unreachable', 'Install the helper script', {
          msg: `Failed to connect to the host via ssh: ${SSH_REFUSED}\r\n`,
          unreachable: true,
        }),
      ),
    },
    fail('unreachable', `cannot reach db1 over ssh: Failed to connect to the host via ssh: ${SSH_REFUSED}`),
  ],
  [
    'another task failed: the last line of its stderr',
    {
      ...GOOD,
      playbook: { exitCode: 2, stderr: '', otherLines: [] },
      host: host(
        failed('Install the helper script', { rc: 1, stderr: 'first\nmkdir: Permission denied\n' }),
        STATS(1),
      ),
    },
    fail('task', 'task "Install the helper script" failed: mkdir: Permission denied'),
  ],
  [
    'another task failed without stderr: its msg',
    {
      ...GOOD,
      playbook: { exitCode: 2, stderr: '', otherLines: [] },
      host: host(failed('Check the backup variables', { msg: 'set xb_out_dir (absolute)' }), STATS(1)),
    },
    fail('task', 'task "Check the backup variables" failed: set xb_out_dir (absolute)'),
  ],

  // The pull or push task failed
  [
    'pull task, no space left in backup_dir',
    {
      ...GOOD,
      playbook: { exitCode: 2, stderr: '', otherLines: [] },
      host: host(failed(PULL_TASK, { rc: 3, stderr: NO_SPACE }), STATS(1)),
      result: undefined,
      toolLog: NO_OK_LOG,
    },
    fail(
      'no-space',
      'no space left in backup_dir /backup while receiving the stream (No space left on device); the partial file was removed',
      tail(NO_OK_LOG),
    ),
  ],
  [
    'push task, disk quota exceeded (the receiver said so over ssh)',
    {
      ...GOOD,
      transfer: 'push',
      playbook: { exitCode: 2, stderr: '', otherLines: [] },
      host: host(
        failed(PUSH_TASK, {
          rc: 3,
          stderr: `${NO_OK_LOG}xb_pull: cannot write /backup/db1/tmp/x/result.json: Disk quota exceeded\nXB-MGR push ssh to the manager exited with code 3`,
        }),
        STATS(1),
      ),
      result: undefined,
      toolLog: '',
    },
    fail(
      'no-space',
      'no space left in backup_dir /backup while receiving the stream (Disk quota exceeded); the partial file was removed',
    ),
  ],
  [
    'pull task, ssh failed before the tool started: the error is in its stderr',
    {
      ...GOOD,
      playbook: { exitCode: 2, stderr: '', otherLines: [] },
      host: host(failed(PULL_TASK, { rc: 255, stderr: SSH_REFUSED }), STATS(1)),
      toolLog: '',
    },
    fail('stream', `the backup stream failed (exit code 255): ${SSH_REFUSED}`, SSH_REFUSED),
  ],
  [
    'pull task, the tool failed (Access denied): a reinstall may fix the credentials file',
    {
      ...GOOD,
      playbook: { exitCode: 2, stderr: '', otherLines: [] },
      host: host(failed(PULL_TASK, { rc: 1, stderr: FAILED_LOG }), STATS(1)),
      toolLog: FAILED_LOG,
    },
    fail(
      'stream',
      "the backup stream failed (exit code 1): Failed to connect to MariaDB server: Access denied for user 'xbbackup'@'localhost' (using password: YES)",
      tail(FAILED_LOG),
      true,
    ),
  ],
  [
    'pull task, the tool failed otherwise: no reinstall',
    {
      ...GOOD,
      playbook: { exitCode: 2, stderr: '', otherLines: [] },
      host: host(failed(PULL_TASK, { rc: 1 }), STATS(1)),
      toolLog: "[00] FATAL ERROR: Can't open datadir\nXB-MGR tool exited with code 1\n",
    },
    fail(
      'stream',
      "the backup stream failed (exit code 1): [00] FATAL ERROR: Can't open datadir",
      "[00] FATAL ERROR: Can't open datadir\nXB-MGR tool exited with code 1",
    ),
  ],
  ...[90, 91, 126, 127].map((rc): [string, TransferFacts, Want] => [
    `pull task, exit ${rc}: the helper or credentials file needs a reinstall`,
    {
      ...GOOD,
      playbook: { exitCode: 2, stderr: '', otherLines: [] },
      host: host(failed(PULL_TASK, { rc, stderr: 'backup_local: reinstall it' }), STATS(1)),
      toolLog: 'backup_local: reinstall it\n',
    },
    fail(
      'stream',
      `the backup stream failed (exit code ${rc}): backup_local: reinstall it`,
      'backup_local: reinstall it',
      true,
    ),
  ]),
  [
    'push task, the helper is not there (the command module: No such file or directory)',
    {
      ...GOOD,
      transfer: 'push',
      playbook: { exitCode: 2, stderr: '', otherLines: [] },
      host: host(
        failed(PUSH_TASK, {
          msg: '[Errno 2] No such file or directory: b/bin/backup_local',
          stderr: undefined,
        }),
        STATS(1),
      ),
      toolLog: '',
    },
    fail(
      'stream',
      'the backup stream failed (exit code ?): [Errno 2] No such file or directory: b/bin/backup_local',
      '',
      true,
    ),
  ],
  [
    'pull task, No such file or directory is not a missing helper (xb_pull runs on the manager)',
    {
      ...GOOD,
      playbook: { exitCode: 2, stderr: '', otherLines: [] },
      host: host(
        failed(PULL_TASK, { msg: '[Errno 2] No such file or directory: xb_pull', stderr: undefined }),
        STATS(1),
      ),
      toolLog: '',
    },
    fail('stream', 'the backup stream failed (exit code ?): [Errno 2] No such file or directory: xb_pull'),
  ],

  // max_stream_bytes
  [
    'pull task, xb_pull stopped the stream at the configured cap',
    {
      ...GOOD,
      playbook: { exitCode: 2, stderr: '', otherLines: [] },
      host: host(failed(PULL_TASK, { rc: 4, stderr: OVER_CAP(2 * GiB) }), STATS(1)),
      result: undefined,
      streamBytes: undefined,
      toolLog: NO_OK_LOG,
      streamCap: CONFIGURED_CAP,
    },
    fail(
      'cap',
      'the stream is over max_stream_bytes (2.0 GiB, set in backup.conf); the partial data was removed',
      tail(NO_OK_LOG),
    ),
  ],
  [
    'pull task over a cap that came from the free space: said as no space left',
    {
      ...GOOD,
      playbook: { exitCode: 2, stderr: '', otherLines: [] },
      host: host(failed(PULL_TASK, { rc: 4, stderr: OVER_CAP(FREE_CAP.bytes) }), STATS(1)),
      result: undefined,
      toolLog: NO_OK_LOG,
      streamCap: FREE_CAP,
    },
    fail(
      'cap',
      'no space left in backup_dir /backup: the stream is over max_stream_bytes (4.5 GiB: the free space (5.0 GiB) less a 512.0 MiB reserve; the disk is nearly full); the partial data was removed',
      tail(NO_OK_LOG),
    ),
  ],
  [
    'push task: the receiver stopped at the cap; the tool then died of the broken pipe',
    {
      ...GOOD,
      transfer: 'push',
      playbook: { exitCode: 2, stderr: '', otherLines: [] },
      host: host(
        failed(PUSH_TASK, { rc: 141, stderr: `${NO_OK_LOG}${OVER_CAP(2 * GiB)}\n${BROKEN_PIPE_LOG}` }),
        STATS(1),
      ),
      result: undefined,
      toolLog: BROKEN_PIPE_LOG,
      streamCap: CONFIGURED_CAP,
    },
    fail(
      'cap',
      'the stream is over max_stream_bytes (2.0 GiB, set in backup.conf); the partial data was removed',
      tail(BROKEN_PIPE_LOG),
    ),
  ],
  [
    "push task: the receiver's line arrived in the middle of a tool line (it starts a new one)",
    {
      ...GOOD,
      transfer: 'push',
      playbook: { exitCode: 2, stderr: '', otherLines: [] },
      host: host(
        failed(PUSH_TASK, {
          rc: 1,
          stderr: `mariabackup: Stopping log copying thread.\n${OVER_CAP(2 * GiB)}\n${BROKEN_PIPE_LOG}`,
        }),
        STATS(1),
      ),
      result: undefined,
      toolLog: BROKEN_PIPE_LOG,
      streamCap: CONFIGURED_CAP,
    },
    fail(
      'cap',
      'the stream is over max_stream_bytes (2.0 GiB, set in backup.conf); the partial data was removed',
      tail(BROKEN_PIPE_LOG),
    ),
  ],
  [
    'the cap line without the run cap (an old caller): the number from the line',
    {
      ...GOOD,
      playbook: { exitCode: 2, stderr: '', otherLines: [] },
      host: host(failed(PULL_TASK, { rc: 4, stderr: OVER_CAP(1000) }), STATS(1)),
      toolLog: '',
    },
    fail('cap', 'the stream is over max_stream_bytes (1000 bytes); the partial data was removed'),
  ],
  [
    'a cap line inside another line is not the cap (only xb_pull starts a line with it)',
    {
      ...GOOD,
      playbook: { exitCode: 2, stderr: '', otherLines: [] },
      host: host(failed(PULL_TASK, { rc: 1, stderr: `tool says ${OVER_CAP(5)}` }), STATS(1)),
      toolLog: '',
    },
    fail(
      'stream',
      `the backup stream failed (exit code 1): tool says ${OVER_CAP(5)}`,
      `tool says ${OVER_CAP(5)}`,
    ),
  ],
  [
    'the stored stream is over the cap although the task said ok: root checks it too',
    { ...GOOD, streamCap: { ...CONFIGURED_CAP, bytes: 3_499_999 } },
    fail(
      'cap',
      'the stream is over max_stream_bytes (2.0 GiB, set in backup.conf); the partial data was removed',
      tail(OK_LOG),
    ),
  ],
  [
    'exactly at the cap: committed',
    { ...GOOD, streamCap: { ...CONFIGURED_CAP, bytes: 3_500_000 } },
    COMMIT_FULL,
  ],

  [
    "push task: the manager's receiver refused (no directory for this id): its reason, not the tool's",
    {
      ...GOOD,
      transfer: 'push',
      playbook: { exitCode: 2, stderr: '', otherLines: [] },
      host: host(
        failed(PUSH_TASK, {
          rc: 141,
          stderr: `xb_pull --receive: refused: no push was requested for backup 20261124T031500Z of host db1\n${BROKEN_PIPE_LOG}`,
        }),
        STATS(1),
      ),
      result: undefined,
      toolLog: BROKEN_PIPE_LOG,
    },
    fail(
      'stream',
      "the manager's push receiver refused the stream: no push was requested for backup 20261124T031500Z of host db1",
      tail(BROKEN_PIPE_LOG),
    ),
  ],
  [
    'pull task: a refusal line in the tool log is only log (pull mode has no receiver)',
    {
      ...GOOD,
      playbook: { exitCode: 2, stderr: '', otherLines: [] },
      host: host(failed(PULL_TASK, { rc: 1, stderr: 'xb_pull --receive: refused: x' }), STATS(1)),
      toolLog: '',
    },
    fail(
      'stream',
      'the backup stream failed (exit code 1): xb_pull --receive: refused: x',
      'xb_pull --receive: refused: x',
    ),
  ],

  // Push: root hashes the stream it took from the receiver
  [
    'push: root hashed the same bytes as result.json',
    {
      ...GOOD,
      transfer: 'push',
      host: host(PUSH_OK(OK_LOG)),
      result: result({ mode: 'receive' }),
      storedSha256: SHA,
    },
    COMMIT_FULL,
  ],
  [
    'push: result.json names another sha256 than root computed',
    {
      ...GOOD,
      transfer: 'push',
      host: host(PUSH_OK(OK_LOG)),
      result: result({ mode: 'receive' }),
      storedSha256: 'a'.repeat(64),
    },
    fail('result', `the stream file's sha256 is ${'a'.repeat(64)}, result.json says ${SHA}`, tail(OK_LOG)),
  ],
  [
    'push: no stream root would take (a link, another owner): no stream file',
    {
      ...GOOD,
      transfer: 'push',
      host: host(PUSH_OK(OK_LOG)),
      result: result({ mode: 'receive' }),
      streamBytes: undefined,
    },
    fail('result', 'the transfer left no stream file', tail(OK_LOG)),
  ],

  // The helper's result file: missing or hostile
  ['no result file', { ...GOOD, result: undefined }, fail('result', 'the transfer left no result.json')],
  ['an empty result file', { ...GOOD, result: '' }, invalid('not JSON')],
  ['a truncated result file', { ...GOOD, result: result().slice(0, 30) }, invalid('not JSON')],
  ['a JSON array', { ...GOOD, result: '[]' }, invalid('not a JSON object')],
  ['JSON null', { ...GOOD, result: 'null' }, invalid('not a JSON object')],
  ['a JSON string', { ...GOOD, result: '"ok"' }, invalid('not a JSON object')],
  [
    'an old result without mode',
    { ...GOOD, result: '{"rc":0,"bytes":5,"sha256":"' + SHA + '"}' },
    invalid('mode is not "pull" or "receive"'),
  ],
  [
    'a pull that says receive',
    { ...GOOD, result: result({ mode: 'receive' }) },
    invalid('mode "receive", not "pull"'),
  ],
  [
    'a push that says pull',
    { ...GOOD, transfer: 'push', host: host(PUSH_OK(OK_LOG)), result: result() },
    invalid('mode "pull", not "receive"'),
  ],
  ['rc as a string', { ...GOOD, result: result({ rc: '0' }) }, invalid('rc is not an integer')],
  ['rc a fraction', { ...GOOD, result: result({ rc: 0.5 }) }, invalid('rc is not an integer')],
  ['rc missing', { ...GOOD, result: result({ rc: undefined }) }, invalid('rc is not an integer')],
  ['negative bytes', { ...GOOD, result: result({ bytes: -1 }) }, invalid('bytes is not a byte count')],
  [
    'bytes as a string',
    { ...GOOD, result: result({ bytes: '3500000' }) },
    invalid('bytes is not a byte count'),
  ],
  [
    'bytes beyond 2^53',
    { ...GOOD, result: result({ bytes: 2 ** 60 }) },
    invalid('bytes is not a byte count'),
  ],
  [
    'bytes 1e999 (Infinity)',
    { ...GOOD, result: result().replace('3500000', '1e999') },
    invalid('bytes is not a byte count'),
  ],
  ['bytes a fraction', { ...GOOD, result: result({ bytes: 1.5 }) }, invalid('bytes is not a byte count')],
  [
    'sha256 missing',
    { ...GOOD, result: result({ sha256: undefined }) },
    invalid('sha256 is not 64 lowercase hex digits'),
  ],
  [
    'sha256 not hex',
    { ...GOOD, result: result({ sha256: 'z'.repeat(64) }) },
    invalid('sha256 is not 64 lowercase hex digits'),
  ],
  [
    'sha256 upper case',
    { ...GOOD, result: result({ sha256: SHA.toUpperCase() }) },
    invalid('sha256 is not 64 lowercase hex digits'),
  ],
  [
    'sha256 too short',
    { ...GOOD, result: result({ sha256: SHA.slice(1) }) },
    invalid('sha256 is not 64 lowercase hex digits'),
  ],
  [
    'sha256 with a line feed',
    { ...GOOD, result: result({ sha256: `${SHA}\n` }) },
    invalid('sha256 is not 64 lowercase hex digits'),
  ],
  [
    'sha256 a number',
    { ...GOOD, result: result({ sha256: 1 }) },
    invalid('sha256 is not 64 lowercase hex digits'),
  ],
  [
    'a huge result file',
    { ...GOOD, result: result({ pad: 'x'.repeat(MAX_RESULT_BYTES) }) },
    invalid(`more than ${MAX_RESULT_BYTES} bytes`),
  ],
  [
    'a result rc that is not 0 (the task said ok)',
    { ...GOOD, result: result({ rc: 1 }) },
    fail('stream', 'the transfer failed (exit code 1)', tail(OK_LOG)),
  ],
  [
    'the stream file is missing',
    { ...GOOD, streamBytes: undefined },
    fail('result', 'the transfer left no stream file', tail(OK_LOG)),
  ],
  [
    'the stream file does not hold the bytes the result says',
    { ...GOOD, streamBytes: 3_499_999 },
    fail('result', 'the stream file holds 3499999 bytes, result.json says 3500000', tail(OK_LOG)),
  ],
  [
    'an empty stream',
    { ...GOOD, result: result({ bytes: 0 }), streamBytes: 0 },
    fail('stream', 'the stream is empty', tail(OK_LOG)),
  ],

  // The tool's log: hostile or incomplete
  [
    'no "completed OK!"',
    { ...GOOD, toolLog: NO_OK_LOG },
    fail('tool', 'the backup tool did not log "completed OK!"', tail(NO_OK_LOG)),
  ],
  ['an empty log', { ...GOOD, toolLog: '' }, fail('tool', 'the backup tool did not log "completed OK!"')],
  [
    '"completed OK!" followed by more tool output',
    { ...GOOD, toolLog: OK_LOG + 'InnoDB: something after\n' },
    fail('tool', 'the backup tool did not log "completed OK!"', tail(OK_LOG + 'InnoDB: something after\n')),
  ],
  [
    'no framed checkpoints',
    { ...GOOD, toolLog: '[00] completed OK!\n' },
    fail('tool', 'xtrabackup_checkpoints is missing or unreadable', '[00] completed OK!'),
  ],
  [
    'an LSN beyond 2^53 in the checkpoints',
    { ...GOOD, toolLog: HUGE_LSN_LOG },
    fail('tool', 'xtrabackup_checkpoints is missing or unreadable', tail(HUGE_LSN_LOG)),
  ],
  [
    'an incremental whose from_lsn is not the parent to_lsn',
    { ...GOOD_INC, parent: { id: PARENT.id, to_lsn: 40000 } },
    fail('lsn', "from_lsn 44554 is not the parent 20261124T031500Z's to_lsn 40000", tail(INC_LOG)),
  ],
  [
    'a full where the tool took an incremental',
    { ...GOOD, toolLog: INC_LOG },
    fail('lsn', 'a full backup with from_lsn 44554', tail(INC_LOG)),
  ],
  [
    'the server went back: retry as a full',
    { ...GOOD_INC, toolLog: WENT_BACK_LOG },
    {
      outcome: 'retry-full',
      reason:
        "the server's LSN 12000 is lower than the parent 20261124T031500Z's to_lsn 44554: the server was restored or rebuilt",
    },
  ],
];

t.test('transferOutcome: table', async (t) => {
  for (const [name, facts, want] of outcomeCases) t.strictSame(transferOutcome(facts), want, name);
});

t.test('transferOutcome: one line for the user; only a failed stream asks for a reinstall', async (t) => {
  for (const [name, facts] of outcomeCases) {
    const o = transferOutcome(facts);
    if (o.outcome === 'commit') continue;
    const text = o.outcome === 'failure' ? o.message : o.reason;
    t.notMatch(text, /\n/, `${name}: one line`);
    if (o.outcome === 'failure' && o.reinstall)
      t.equal(o.kind, 'stream', `${name}: reinstall only for the stream`);
  }
});

t.test('pushToolLog: the push task stderr, if it is text', async (t) => {
  t.equal(pushToolLog(host(PUSH_OK('log text'))), 'log text');
  t.equal(pushToolLog(host(failed(PUSH_TASK, { rc: 1, stderr: 'failed log' }))), 'failed log');
  t.equal(pushToolLog(host(PULL_OK)), undefined, 'the pull task is not the push task');
  t.equal(pushToolLog(undefined), undefined);
  t.equal(pushToolLog(host(ev('v2_runner_on_ok', PUSH_TASK, { stderr: 42 }))), undefined);
});
