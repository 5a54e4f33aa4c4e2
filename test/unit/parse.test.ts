import t from 'tap';
import {
  completedOk,
  extractFramed,
  parseBinlog,
  parseCheckpoints,
  parseToolVersion,
  toolError,
  type Checkpoints,
} from '../../src/engine/parse.js';

// Excerpts of a real `mariabackup --backup --stream=xbstream` log (MariaDB 10.11.19, sandbox host), as
// the helper leaves it in tool.log: the tool's stderr, then the framed checkpoints.
const HEAD = [
  '[00] 2026-11-24 04:06:25 Connecting to MariaDB server host: localhost, user: xbbackup, password: set, port: not set, socket: /work/main/.sandbox/hosts/sb1/run/mysqld.sock',
  '[00] 2026-11-24 04:06:25 Using server version 10.11.19-MariaDB-0+deb12u1-log',
  '/usr/bin/mariabackup based on MariaDB server 10.11.19-MariaDB debian-linux-gnu (x86_64)',
  '[00] 2026-11-24 04:06:25 uses posix_fadvise().',
  '[00] 2026-11-24 04:06:25 cd to /work/main/.sandbox/hosts/sb1/data/',
  '[00] 2026-11-24 04:06:25 open files limit requested 0, set to 20000',
  '[00] 2026-11-24 04:06:25 mariabackup: using the following InnoDB configuration:',
  '[00] 2026-11-24 04:06:25 innodb_data_home_dir = ',
  '[00] 2026-11-24 04:06:25 innodb_data_file_path = ibdata1:12M:autoextend',
  '[00] 2026-11-24 04:06:25 innodb_log_group_home_dir = ./',
  '2026-11-24  4:06:25 0 [Note] InnoDB: Number of transaction pools: 1',
  '2026-11-24  4:06:25 0 [Note] InnoDB: Using io_uring',
  '[00] 2026-11-24 04:06:25 mariabackup: Generating a list of tablespaces',
].join('\n');
const MIDDLE = [
  '[01] 2026-11-24 04:06:25 Streaming ./sys/x@0024host_summary_by_file_io_type.frm to <STDOUT>',
  '[01] 2026-11-24 04:06:25         ...done',
  '[01] 2026-11-24 04:06:25 Streaming ./sys/statements_with_errors_or_warnings.frm to <STDOUT>',
  '[01] 2026-11-24 04:06:25         ...done',
  '[01] 2026-11-24 04:06:25 Streaming ./sys/metrics.frm to <STDOUT>',
  '[01] 2026-11-24 04:06:25         ...done',
  '[01] 2026-11-24 04:06:25 Streaming ./sys/x@0024statements_with_errors_or_warnings.frm to <STDOUT>',
  '[01] 2026-11-24 04:06:25         ...done',
].join('\n');
const TAIL = [
  '[00] 2026-11-24 04:06:25 Streaming xtrabackup_binlog_info',
  '[00] 2026-11-24 04:06:25         ...done',
  '[00] 2026-11-24 04:06:25 Executing FLUSH NO_WRITE_TO_BINLOG ENGINE LOGS...',
  '[00] 2026-11-24 04:06:25 Finishing BACKUP STAGE BLOCK_COMMIT',
  '[00] 2026-11-24 04:06:25 Starting BACKUP STAGE END',
  '[00] 2026-11-24 04:06:25 Executing BACKUP STAGE END',
  '[00] 2026-11-24 04:06:25 All tables unlocked',
  "[00] 2026-11-24 04:06:25 Backup created in directory '/tmp/xb-mgr-backup-uhic2x12/'",
  "[00] 2026-11-24 04:06:25 MySQL binlog position: filename 'mysql-bin.000001', position '51831', GTID of the last change '0-1-9'",
  '[00] 2026-11-24 04:06:25 Streaming backup-my.cnf',
  '[00] 2026-11-24 04:06:25         ...done',
  '[00] 2026-11-24 04:06:25 Streaming xtrabackup_info',
  '[00] 2026-11-24 04:06:25         ...done',
  '[00] 2026-11-24 04:06:25 Redo log (from LSN 44554 to 274751) was copied.',
  '2026-11-24  4:06:25 0 [Note] InnoDB: Starting shutdown...',
  '[00] 2026-11-24 04:06:25 completed OK!',
].join('\n');
const CHECKPOINTS =
  'backup_type = full-backuped\nfrom_lsn = 0\nto_lsn = 44554\nlast_lsn = 274751\nrecover_binlog_info = 0\n';
const FRAME = `XB-MGR BEGIN checkpoints\n${CHECKPOINTS}XB-MGR END checkpoints\n`;
/** The whole tool.log of a good full backup. */
const GOOD_LOG = `${HEAD}\n${MIDDLE}\n${TAIL}\n${FRAME}`;

const ACCESS_DENIED_LOG = [
  '[00] 2026-11-24 04:06:25 Connecting to MariaDB server host: localhost, user: xbbackup, password: set, port: not set, socket: /run/mysqld/mysqld.sock',
  "[00] 2026-11-24 04:06:25 Failed to connect to MariaDB server: Access denied for user 'xbbackup'@'localhost' (using password: YES)",
  'XB-MGR tool exited with code 1',
  '',
].join('\n');

t.test('parseCheckpoints', async (t) => {
  const cases: [name: string, text: string, want: Checkpoints | undefined][] = [
    [
      'mariabackup full',
      CHECKPOINTS,
      { backup_type: 'full-backuped', from_lsn: 0, to_lsn: 44554, last_lsn: 274751 },
    ],
    [
      'mariabackup incremental',
      'backup_type = incremental\nfrom_lsn = 44554\nto_lsn = 50112\nlast_lsn = 50112\nrecover_binlog_info = 0\n',
      { backup_type: 'incremental', from_lsn: 44554, to_lsn: 50112, last_lsn: 50112 },
    ],
    [
      'xtrabackup 8.0 incremental',
      'backup_type = incremental\nfrom_lsn = 18217346\nto_lsn = 18217387\nlast_lsn = 18217387\nflushed_lsn = 18217387\nredo_memory = 0\nredo_frames = 0\n',
      { backup_type: 'incremental', from_lsn: 18217346, to_lsn: 18217387, last_lsn: 18217387 },
    ],
    [
      'no last_lsn',
      'backup_type = full-backuped\nfrom_lsn = 0\nto_lsn = 44554\n',
      { backup_type: 'full-backuped', from_lsn: 0, to_lsn: 44554, last_lsn: undefined },
    ],
    [
      'a non-numeric last_lsn is left out',
      'backup_type = full-backuped\nfrom_lsn = 0\nto_lsn = 44554\nlast_lsn = ?\n',
      { backup_type: 'full-backuped', from_lsn: 0, to_lsn: 44554, last_lsn: undefined },
    ],
    [
      'CRLF, other spacing and order',
      'to_lsn=44554\r\n  from_lsn =0\r\nbackup_type   =   full-prepared  \r\n',
      { backup_type: 'full-prepared', from_lsn: 0, to_lsn: 44554, last_lsn: undefined },
    ],
    [
      'no trailing newline',
      'backup_type = incremental\nfrom_lsn = 1\nto_lsn = 2',
      { backup_type: 'incremental', from_lsn: 1, to_lsn: 2, last_lsn: undefined },
    ],
    [
      'a very large LSN',
      'backup_type = incremental\nfrom_lsn = 9007199254740991\nto_lsn = 9007199254740991\n',
      {
        backup_type: 'incremental',
        from_lsn: 9007199254740991,
        to_lsn: 9007199254740991,
        last_lsn: undefined,
      },
    ],
    [
      'an LSN beyond 2^53 (it would be rounded) is refused',
      'backup_type = incremental\nfrom_lsn = 9007199254740993\nto_lsn = 9007199254740993\n',
      undefined,
    ],
    [
      'an LSN of 400 digits',
      `backup_type = full-backuped\nfrom_lsn = 0\nto_lsn = ${'9'.repeat(400)}\n`,
      undefined,
    ],
    [
      'a last_lsn beyond 2^53 is left out',
      'backup_type = full-backuped\nfrom_lsn = 0\nto_lsn = 5\nlast_lsn = 18446744073709551615\n',
      { backup_type: 'full-backuped', from_lsn: 0, to_lsn: 5, last_lsn: undefined },
    ],
    ['empty', '', undefined],
    ['no backup_type', 'from_lsn = 0\nto_lsn = 44554\n', undefined],
    ['empty backup_type', 'backup_type =\nfrom_lsn = 0\nto_lsn = 44554\n', undefined],
    ['no from_lsn', 'backup_type = full-backuped\nto_lsn = 44554\n', undefined],
    ['no to_lsn', 'backup_type = full-backuped\nfrom_lsn = 0\n', undefined],
    ['a negative LSN', 'backup_type = full-backuped\nfrom_lsn = -1\nto_lsn = 44554\n', undefined],
    ['a non-numeric LSN', 'backup_type = full-backuped\nfrom_lsn = 0\nto_lsn = 44554abc\n', undefined],
    ['a decimal LSN', 'backup_type = full-backuped\nfrom_lsn = 0\nto_lsn = 4.5\n', undefined],
    ['the whole tool log is not a checkpoints file', `${HEAD}\n${TAIL}\n`, undefined],
  ];
  for (const [name, text, want] of cases) t.strictSame(parseCheckpoints(text), want, name);
});

t.test('extractFramed', async (t) => {
  const cases: [name: string, log: string, section: string, want: string | undefined][] = [
    ['the real log', GOOD_LOG, 'checkpoints', CHECKPOINTS],
    ['the frame alone', FRAME, 'checkpoints', CHECKPOINTS],
    ['no trailing newline after END', FRAME.trimEnd(), 'checkpoints', CHECKPOINTS],
    [
      'followed by the exit line of the helper',
      `${TAIL}\n${FRAME}XB-MGR tool exited with code 1\n`,
      'checkpoints',
      CHECKPOINTS,
    ],
    ['an empty section', 'XB-MGR BEGIN checkpoints\nXB-MGR END checkpoints\n', 'checkpoints', ''],
    ['another name', GOOD_LOG, 'binlog', undefined],
    ['no frame', `${HEAD}\n${TAIL}\n`, 'checkpoints', undefined],
    [
      'a BEGIN without END (truncated)',
      `${TAIL}\nXB-MGR BEGIN checkpoints\nbackup_type = full-backuped\n`,
      'checkpoints',
      undefined,
    ],
    [
      'an END of another name',
      'XB-MGR BEGIN checkpoints\nfrom_lsn = 0\nXB-MGR END other\n',
      'checkpoints',
      undefined,
    ],
    [
      'markers not at the start of a line',
      '  XB-MGR BEGIN checkpoints\nx\n  XB-MGR END checkpoints\n',
      'checkpoints',
      undefined,
    ],
    [
      'two sections',
      'XB-MGR BEGIN a\none\nXB-MGR END a\nXB-MGR BEGIN checkpoints\ntwo\nXB-MGR END checkpoints\n',
      'checkpoints',
      'two\n',
    ],
    [
      'the first of two sections',
      'XB-MGR BEGIN a\none\nXB-MGR END a\nXB-MGR BEGIN checkpoints\ntwo\nXB-MGR END checkpoints\n',
      'a',
      'one\n',
    ],
  ];
  for (const [name, log, section, want] of cases) t.equal(extractFramed(log, section), want, name);
  t.strictSame(
    parseCheckpoints(extractFramed(GOOD_LOG, 'checkpoints') ?? ''),
    { backup_type: 'full-backuped', from_lsn: 0, to_lsn: 44554, last_lsn: 274751 },
    'the checkpoints of the real log',
  );
});

t.test('completedOk', async (t) => {
  const cases: [name: string, log: string, want: boolean][] = [
    ['the real log with the framed checkpoints after "completed OK!"', GOOD_LOG, true],
    ['the real log without the frame', `${HEAD}\n${MIDDLE}\n${TAIL}\n`, true],
    ['no trailing newline', TAIL, true],
    ['trailing blank lines and spaces', `${TAIL}\n\n  \n`, true],
    ['CRLF', `${TAIL.replace(/\n/g, '\r\n')}\r\n`, true],
    [
      'xtrabackup 8.0',
      '2026-11-24T04:06:25.123456-00:00 0 [Note] [MY-011825] [Xtrabackup] completed OK!\n',
      true,
    ],
    [
      'the frame and the helper lines are skipped',
      `${TAIL}\n${FRAME}XB-MGR compressor exited with code 0\n`,
      true,
    ],
    ['empty', '', false],
    ['only the frame', FRAME, false],
    ['the tool stopped early', `${HEAD}\n${MIDDLE}\n`, false],
    ['access denied', ACCESS_DENIED_LOG, false],
    [
      'the last tool line is an error, then the frame',
      `${HEAD}\n[00] 2026-11-24 04:06:25 Error: failed to read redo log\n${FRAME}XB-MGR tool exited with code 1\n`,
      false,
    ],
    [
      '"completed OK!" followed by an error line',
      `${TAIL}\n[00] 2026-11-24 04:06:26 mariabackup: Error writing file 'UNOPENED' (Errcode: 32 "Broken pipe")\n${FRAME}`,
      false,
    ],
    [
      '"completed OK!" not at the end of the line',
      '[00] 2026-11-24 04:06:25 completed OK! but then\n',
      false,
    ],
    [
      'a truncated frame: the checkpoint lines are the last lines',
      `${TAIL}\nXB-MGR BEGIN checkpoints\nbackup_type = full-backuped\nfrom_lsn = 0\n`,
      false,
    ],
  ];
  for (const [name, log, want] of cases) t.equal(completedOk(log), want, name);
});

t.test('parseBinlog', async (t) => {
  const cases: [name: string, log: string, want: ReturnType<typeof parseBinlog>][] = [
    [
      'the real line',
      "[00] 2026-11-24 04:06:25 MySQL binlog position: filename 'mysql-bin.000001', position '51831', GTID of the last change '0-1-9'",
      { file: 'mysql-bin.000001', position: 51831, gtid: '0-1-9' },
    ],
    ['in the whole log', GOOD_LOG, { file: 'mysql-bin.000001', position: 51831, gtid: '0-1-9' }],
    [
      'without GTID',
      "[00] 2026-11-24 04:06:25 MySQL binlog position: filename 'mysql-bin.000003', position '1234'",
      { file: 'mysql-bin.000003', position: 1234 },
    ],
    [
      'an empty GTID',
      "[00] 2026-11-24 04:06:25 MySQL binlog position: filename 'mysql-bin.000003', position '1234', GTID of the last change ''",
      { file: 'mysql-bin.000003', position: 1234 },
    ],
    [
      'GTIDs of several domains',
      "MySQL binlog position: filename 'db1-bin.000042', position '4', GTID of the last change '0-1-9,1-2-30'",
      { file: 'db1-bin.000042', position: 4, gtid: '0-1-9,1-2-30' },
    ],
    [
      'xtrabackup 8.0 (MySQL GTID)',
      "2026-11-24T04:06:25.123456-00:00 0 [Note] [MY-011825] [Xtrabackup] MySQL binlog position: filename 'binlog.000002', position '157', GTID of the last change '3e11fa47-71ca-11e1-9e33-c80aa9429562:1-5'",
      { file: 'binlog.000002', position: 157, gtid: '3e11fa47-71ca-11e1-9e33-c80aa9429562:1-5' },
    ],
    [
      'an unquoted position (older tools)',
      "MySQL binlog position: filename 'mysql-bin.000001', position 107",
      { file: 'mysql-bin.000001', position: 107 },
    ],
    // The log comes from the DB host: what is not a plain file name, an exact position and GTID
    // characters is not recorded.
    [
      'a file name with a slash',
      "MySQL binlog position: filename '../../etc/passwd', position '4'",
      undefined,
    ],
    ["a file name '..'", "MySQL binlog position: filename '..', position '4'", undefined],
    [
      'a file name with a control character',
      "MySQL binlog position: filename 'a\x01b', position '4'",
      undefined,
    ],
    [
      'a position beyond 2^53',
      "MySQL binlog position: filename 'mysql-bin.000001', position '99999999999999999999'",
      undefined,
    ],
    [
      'a GTID with other characters',
      "MySQL binlog position: filename 'mysql-bin.000001', position '4', GTID of the last change '0-1-9; DROP'",
      undefined,
    ],
    ['no binlog line (log_bin off)', `${HEAD}\n[00] 2026-11-24 04:06:25 completed OK!\n`, undefined],
    ['empty', '', undefined],
  ];
  for (const [name, log, want] of cases) t.strictSame(parseBinlog(log), want, name);
});

t.test('parseToolVersion', async (t) => {
  const cases: [name: string, log: string, want: string | undefined][] = [
    ['the real log', GOOD_LOG, '10.11.19'],
    [
      'mariabackup without a path',
      'mariabackup based on MariaDB server 10.11.19-MariaDB debian-linux-gnu (x86_64)',
      '10.11.19',
    ],
    [
      'mariabackup 10.6',
      '/usr/bin/mariabackup based on MariaDB server 10.6.16-MariaDB Linux (x86_64)',
      '10.6.16',
    ],
    [
      'xtrabackup 8.0',
      '/usr/bin/xtrabackup version 8.0.35-30 based on MySQL server 8.0.35 Linux (x86_64) (revision id: 6beb4b49)',
      '8.0.35',
    ],
    [
      'only the server version line',
      '[00] 2026-11-24 04:06:25 Using server version 10.11.19-MariaDB-0+deb12u1-log\n',
      '10.11.19-MariaDB-0+deb12u1-log',
    ],
    ['access denied', ACCESS_DENIED_LOG, undefined],
    ['empty', '', undefined],
  ];
  for (const [name, log, want] of cases) t.equal(parseToolVersion(log), want, name);
});

t.test('toolError', async (t) => {
  const cases: [name: string, log: string, want: string][] = [
    [
      'access denied',
      ACCESS_DENIED_LOG,
      "Failed to connect to MariaDB server: Access denied for user 'xbbackup'@'localhost' (using password: YES)",
    ],
    [
      'no error words: the last three lines, without the [NN] timestamp prefix',
      '[00] 2026-11-24 04:06:25 one\n[00] 2026-11-24 04:06:25 two\n\nthree\n[01] 2026-11-24 04:06:26 four\nXB-MGR tool exited with code 137\n',
      'two | three | four',
    ],
    [
      'the last three error lines',
      [
        '[00] 2026-11-24 04:06:25 Error: one',
        '[00] 2026-11-24 04:06:25 fine',
        '[00] 2026-11-24 04:06:25 cannot two',
        "[00] 2026-11-24 04:06:25 can't three",
        '[00] 2026-11-24 04:06:25 FATAL four',
        '[00] 2026-11-24 04:06:25 fine again',
      ].join('\n'),
      "cannot two | can't three | FATAL four",
    ],
    [
      'an InnoDB error line keeps its own prefix',
      '2026-11-24  4:06:25 0 [ERROR] InnoDB: Unable to lock ./ibdata1 error: 11\n',
      '2026-11-24  4:06:25 0 [ERROR] InnoDB: Unable to lock ./ibdata1 error: 11',
    ],
    ['empty', '', ''],
    ['only helper lines', 'XB-MGR tool exited with code 1\n', ''],
  ];
  for (const [name, log, want] of cases) t.equal(toolError(log), want, name);
});

t.test('toolError: file names are not errors', async (t) => {
  // A stream that broke after the sys schema was copied: the two lines that say what failed.
  const log = [
    HEAD,
    MIDDLE,
    '[01] 2026-11-24 04:06:26 mariabackup: Error writing file \'UNOPENED\' (Errcode: 32 "Broken pipe")',
    '[01] 2026-11-24 04:06:26 failed to copy datafile.',
    'XB-MGR tool exited with code 1',
  ].join('\n');
  t.equal(
    toolError(log),
    'mariabackup: Error writing file \'UNOPENED\' (Errcode: 32 "Broken pipe") | failed to copy datafile.',
    'a broken pipe',
  );
  // The tool succeeded and the compressor failed: no line of the tool log is an error.
  const comp = `${GOOD_LOG}XB-MGR compressor exited with code 1\n`;
  t.notMatch(toolError(comp), /statements_with_errors_or_warnings/, 'a compressor failure');
});
