import t from 'tap';
import {
  backupToolArgs,
  compressArgs,
  streamCompression,
  streamFileName,
  type BackupArgs,
} from '../../src/engine/commands.js';
import { engineFor, type Tool } from '../../src/engine/engine.js';

const extractArgs = (tool: Tool, dir: string, parallel: number) => engineFor(tool).extractArgs(dir, parallel);
interface PrepareArgs {
  tool: Tool;
  targetDir: string;
  incrementalDir?: string;
  lastStep: boolean;
  useMemory?: string;
}
/** The engine's step; `lastStep` of a chain is the one that leaves the directory startable. */
const prepareArgs = ({ tool, lastStep, ...s }: PrepareArgs) =>
  engineFor(tool).prepareArgs({ ...s, keepApplicable: !lastStep });

t.test('backupToolArgs', async (t) => {
  const cases: [name: string, a: BackupArgs, want: string[]][] = [
    [
      'mariabackup full',
      { tool: 'mariabackup', parallel: 2, throttle: 0, slaveInfo: false },
      ['--backup', '--stream=xbstream', '--parallel=2'],
    ],
    [
      'xtrabackup full',
      { tool: 'xtrabackup', parallel: 2, throttle: 0, slaveInfo: false },
      ['--backup', '--stream=xbstream', '--parallel=2'],
    ],
    [
      'mariabackup incremental',
      { tool: 'mariabackup', parallel: 4, incrementalLsn: 44554, throttle: 0, slaveInfo: false },
      ['--backup', '--stream=xbstream', '--parallel=4', '--incremental-lsn=44554'],
    ],
    [
      'xtrabackup incremental',
      { tool: 'xtrabackup', parallel: 1, incrementalLsn: 18217346, throttle: 0, slaveInfo: false },
      ['--backup', '--stream=xbstream', '--parallel=1', '--incremental-lsn=18217346'],
    ],
    [
      'incremental from LSN 0 is still incremental',
      { tool: 'mariabackup', parallel: 2, incrementalLsn: 0, throttle: 0, slaveInfo: false },
      ['--backup', '--stream=xbstream', '--parallel=2', '--incremental-lsn=0'],
    ],
    [
      'a large LSN is written in full',
      { tool: 'mariabackup', parallel: 2, incrementalLsn: 123456789012345, throttle: 0, slaveInfo: false },
      ['--backup', '--stream=xbstream', '--parallel=2', '--incremental-lsn=123456789012345'],
    ],
    [
      'throttle',
      { tool: 'mariabackup', parallel: 2, throttle: 40, slaveInfo: false },
      ['--backup', '--stream=xbstream', '--parallel=2', '--throttle=40'],
    ],
    [
      'slave-info',
      { tool: 'xtrabackup', parallel: 2, throttle: 0, slaveInfo: true },
      ['--backup', '--stream=xbstream', '--parallel=2', '--slave-info'],
    ],
    [
      'everything, in order',
      { tool: 'mariabackup', parallel: 8, incrementalLsn: 50112, throttle: 100, slaveInfo: true },
      [
        '--backup',
        '--stream=xbstream',
        '--parallel=8',
        '--incremental-lsn=50112',
        '--throttle=100',
        '--slave-info',
      ],
    ],
    [
      'xtrabackup, everything',
      { tool: 'xtrabackup', parallel: 3, incrementalLsn: 7, throttle: 1, slaveInfo: true },
      [
        '--backup',
        '--stream=xbstream',
        '--parallel=3',
        '--incremental-lsn=7',
        '--throttle=1',
        '--slave-info',
      ],
    ],
  ];
  for (const [name, a, want] of cases) t.strictSame(backupToolArgs(a), want, name);
});

t.test('extractArgs', async (t) => {
  const cases: [tool: 'mariabackup' | 'xtrabackup', dir: string, parallel: number, want: string[]][] = [
    ['mariabackup', '/backup/db1/prepare/base', 2, ['-x', '-p', '2', '-C', '/backup/db1/prepare/base']],
    ['xtrabackup', '/backup/db1/prepare/base', 2, ['-x', '-p', '2', '-C', '/backup/db1/prepare/base']],
    ['mariabackup', '/tmp/dir with space', 16, ['-x', '-p', '16', '-C', '/tmp/dir with space']],
    ['xtrabackup', '-odd', 1, ['-x', '-p', '1', '-C', '-odd']],
  ];
  for (const [tool, dir, parallel, want] of cases)
    t.strictSame(extractArgs(tool, dir, parallel), want, `${tool} ${dir}`);
});

t.test('prepareArgs', async (t) => {
  const cases: [name: string, a: PrepareArgs, want: string[]][] = [
    [
      'mariabackup full, last step',
      { tool: 'mariabackup', targetDir: '/p/base', lastStep: true },
      ['--prepare', '--target-dir=/p/base'],
    ],
    [
      'mariabackup full, not the last step: no --apply-log-only',
      { tool: 'mariabackup', targetDir: '/p/base', lastStep: false },
      ['--prepare', '--target-dir=/p/base'],
    ],
    [
      'mariabackup incremental',
      { tool: 'mariabackup', targetDir: '/p/base', incrementalDir: '/p/inc1', lastStep: false },
      ['--prepare', '--target-dir=/p/base', '--incremental-dir=/p/inc1'],
    ],
    [
      'xtrabackup full, not the last step',
      { tool: 'xtrabackup', targetDir: '/p/base', lastStep: false },
      ['--prepare', '--target-dir=/p/base', '--apply-log-only'],
    ],
    [
      'xtrabackup full, the last step',
      { tool: 'xtrabackup', targetDir: '/p/base', lastStep: true },
      ['--prepare', '--target-dir=/p/base'],
    ],
    [
      'xtrabackup incremental, not the last step',
      { tool: 'xtrabackup', targetDir: '/p/base', incrementalDir: '/p/inc1', lastStep: false },
      ['--prepare', '--target-dir=/p/base', '--incremental-dir=/p/inc1', '--apply-log-only'],
    ],
    [
      'xtrabackup incremental, the last step',
      { tool: 'xtrabackup', targetDir: '/p/base', incrementalDir: '/p/inc2', lastStep: true },
      ['--prepare', '--target-dir=/p/base', '--incremental-dir=/p/inc2'],
    ],
    [
      'use-memory',
      { tool: 'xtrabackup', targetDir: '/p/base', lastStep: false, useMemory: '2G' },
      ['--prepare', '--target-dir=/p/base', '--apply-log-only', '--use-memory=2G'],
    ],
    [
      'mariabackup use-memory',
      {
        tool: 'mariabackup',
        targetDir: '/p/base',
        incrementalDir: '/p/i',
        lastStep: true,
        useMemory: '512M',
      },
      ['--prepare', '--target-dir=/p/base', '--incremental-dir=/p/i', '--use-memory=512M'],
    ],
    [
      'empty incrementalDir and useMemory are left out',
      { tool: 'mariabackup', targetDir: '/p/base', incrementalDir: '', lastStep: true, useMemory: '' },
      ['--prepare', '--target-dir=/p/base'],
    ],
  ];
  for (const [name, a, want] of cases) t.strictSame(prepareArgs(a), want, name);
});

t.test('prepareArgs over a chain: --apply-log-only on every xtrabackup step but the last', async (t) => {
  const steps = [undefined, '/p/inc1', '/p/inc2'];
  const argv = (tool: 'mariabackup' | 'xtrabackup') =>
    steps.map((incrementalDir, i) =>
      prepareArgs({ tool, targetDir: '/p/base', incrementalDir, lastStep: i === steps.length - 1 }),
    );
  t.strictSame(argv('xtrabackup'), [
    ['--prepare', '--target-dir=/p/base', '--apply-log-only'],
    ['--prepare', '--target-dir=/p/base', '--incremental-dir=/p/inc1', '--apply-log-only'],
    ['--prepare', '--target-dir=/p/base', '--incremental-dir=/p/inc2'],
  ]);
  t.strictSame(argv('mariabackup'), [
    ['--prepare', '--target-dir=/p/base'],
    ['--prepare', '--target-dir=/p/base', '--incremental-dir=/p/inc1'],
    ['--prepare', '--target-dir=/p/base', '--incremental-dir=/p/inc2'],
  ]);
});

t.test('compressArgs', async (t) => {
  const cases: [compress: 'zstd' | 'gzip', level: number, threads: number, want: string[]][] = [
    ['zstd', 1, 2, ['-q', '-1', '-T2']],
    ['zstd', 3, 1, ['-q', '-3', '-T1']],
    ['zstd', 19, 8, ['-q', '-19', '-T8']],
    ['zstd', 22, 4, ['-q', '-19', '-T4']],
    ['zstd', 100, 0, ['-q', '-19', '-T0']],
    ['gzip', 1, 2, ['-1', '-c']],
    ['gzip', 6, 8, ['-6', '-c']],
    ['gzip', 9, 1, ['-9', '-c']],
    ['gzip', 19, 1, ['-9', '-c']],
  ];
  for (const [compress, level, threads, want] of cases) {
    t.strictSame(
      compressArgs(compress, level, threads),
      want,
      `${compress} level ${level} threads ${threads}`,
    );
  }
});

t.test('streamCompression and streamFileName', async (t) => {
  const cases: [
    compress: 'zstd' | 'gzip' | 'qpress' | 'none',
    stream: 'zstd' | 'gzip' | 'none',
    file: string,
  ][] = [
    ['zstd', 'zstd', 'backup.xbstream.zst'],
    ['gzip', 'gzip', 'backup.xbstream.gz'],
    ['qpress', 'zstd', 'backup.xbstream.zst'],
    ['none', 'none', 'backup.xbstream'],
  ];
  for (const [compress, stream, file] of cases) {
    t.equal(streamCompression(compress), stream, `compress = ${compress}: stream compression`);
    t.equal(streamFileName(streamCompression(compress)), file, `compress = ${compress}: file name`);
  }
});
