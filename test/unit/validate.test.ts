import t from 'tap';
import { judgeTransfer, type TransferFacts, type Verdict } from '../../src/engine/validate.js';

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
const FULL_OK: TransferFacts = {
  exitCode: 0,
  log: OK_LOG,
  checkpoints: { backup_type: 'full-backuped', from_lsn: 0, to_lsn: 44554, last_lsn: 274751 },
  bytes: 3_500_000,
  type: 'full',
};
const INC_OK: TransferFacts = {
  exitCode: 0,
  log: OK_LOG,
  checkpoints: { backup_type: 'incremental', from_lsn: 44554, to_lsn: 50112, last_lsn: 50112 },
  bytes: 120_000,
  type: 'incremental',
  parent: PARENT,
};

const cases: [name: string, facts: TransferFacts, want: Verdict][] = [
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
  ['exit code 1', { ...FULL_OK, exitCode: 1 }, { commit: false, error: 'the transfer failed (exit code 1)' }],
  [
    'exit code 255 (ssh)',
    { ...INC_OK, exitCode: 255 },
    { commit: false, error: 'the transfer failed (exit code 255)' },
  ],
  [
    'killed by a signal (negative code)',
    { ...FULL_OK, exitCode: -9 },
    { commit: false, error: 'the transfer failed (exit code -9)' },
  ],
  [
    'a non-zero exit wins over everything else',
    { ...FULL_OK, exitCode: 2, log: '', bytes: 0, checkpoints: undefined },
    { commit: false, error: 'the transfer failed (exit code 2)' },
  ],
  [
    'exit 0 but no "completed OK!"',
    { ...FULL_OK, log: FAILED_LOG },
    { commit: false, error: 'the backup tool did not log "completed OK!"' },
  ],
  [
    'exit 0 and an empty log',
    { ...FULL_OK, log: '' },
    { commit: false, error: 'the backup tool did not log "completed OK!"' },
  ],
  ['an empty stream', { ...FULL_OK, bytes: 0 }, { commit: false, error: 'the stream is empty' }],
  [
    'no checkpoints',
    { ...FULL_OK, checkpoints: undefined },
    { commit: false, error: 'xtrabackup_checkpoints is missing or unreadable' },
  ],
  [
    'no checkpoints for an incremental',
    { ...INC_OK, checkpoints: undefined },
    { commit: false, error: 'xtrabackup_checkpoints is missing or unreadable' },
  ],
  // LSN links
  [
    'an incremental without a parent',
    { ...INC_OK, parent: undefined },
    { commit: false, error: 'an incremental without a parent' },
  ],
  [
    'incremental from_lsn below the parent to_lsn',
    { ...INC_OK, checkpoints: { backup_type: 'incremental', from_lsn: 44000, to_lsn: 50112 } },
    { commit: false, error: "from_lsn 44000 is not the parent 20261124T031500Z's to_lsn 44554" },
  ],
  [
    'incremental from_lsn above the parent to_lsn',
    { ...INC_OK, checkpoints: { backup_type: 'incremental', from_lsn: 44555, to_lsn: 50112 } },
    { commit: false, error: "from_lsn 44555 is not the parent 20261124T031500Z's to_lsn 44554" },
  ],
  [
    'incremental taken as a full by the tool (from_lsn 0)',
    { ...INC_OK, checkpoints: { backup_type: 'full-backuped', from_lsn: 0, to_lsn: 50112 } },
    { commit: false, error: "from_lsn 0 is not the parent 20261124T031500Z's to_lsn 44554" },
  ],
  [
    'the server went back: to_lsn < from_lsn',
    { ...INC_OK, checkpoints: { backup_type: 'incremental', from_lsn: 44554, to_lsn: 12000 } },
    {
      commit: false,
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
      retryFull: true,
      error:
        "the server's LSN 44553 is lower than the parent 20261124T031500Z's to_lsn 44554: the server was restored or rebuilt",
    },
  ],
  [
    'a full with from_lsn != 0',
    { ...FULL_OK, checkpoints: { backup_type: 'full-backuped', from_lsn: 100, to_lsn: 44554 } },
    { commit: false, error: 'a full backup with from_lsn 100' },
  ],
  [
    'a full whose checkpoints say incremental',
    { ...FULL_OK, checkpoints: { backup_type: 'incremental', from_lsn: 44554, to_lsn: 50112 } },
    { commit: false, error: 'a full backup with from_lsn 44554' },
  ],
  ['a full ignores a parent it was given', { ...FULL_OK, parent: { id: 'x', to_lsn: 99 } }, { commit: true }],
];

t.test('judgeTransfer: table', async (t) => {
  for (const [name, facts, want] of cases) t.strictSame(judgeTransfer(facts), want, name);
});

t.test('judgeTransfer: only a server that went back asks for a full', async (t) => {
  for (const [name, facts] of cases) {
    const v = judgeTransfer(facts);
    const retry = !v.commit && v.retryFull === true;
    t.equal(retry, name.startsWith('the server went back'), name);
    if (retry && !v.commit) t.match(v.error, /the server was restored or rebuilt/);
  }
});
