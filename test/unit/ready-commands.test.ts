import t from 'tap';
import {
  decompressor,
  mysqlcheckArgs,
  mysqldArgs,
  pingArgs,
  readyCompressor,
  readyExtension,
  shutdownArgs,
  tarCreateArgs,
  tarExtractArgs,
  type ReadyCompress,
  type ServerPaths,
} from '../../src/ready/commands.js';

const P: ServerPaths = {
  datadir: '/var/backups/db1/prepare/verify-20261124T031500Z',
  socket: '/var/backups/db1/tmp/verify.sock',
  pidFile: '/var/backups/db1/tmp/verify.pid',
  errorLog: '/var/backups/db1/tmp/verify.err',
};

const OPTS = [
  '--no-defaults',
  '--innodb-page-size=16384',
  '--innodb-log-file-size=67108864',
  '--plugin-dir=/usr/lib/mysql/plugin',
];

const SERVER_COMMON = [
  '--datadir=/var/backups/db1/prepare/verify-20261124T031500Z',
  '--socket=/var/backups/db1/tmp/verify.sock',
  '--pid-file=/var/backups/db1/tmp/verify.pid',
  '--log-error=/var/backups/db1/tmp/verify.err',
  '--skip-networking',
  '--skip-grant-tables',
  '--skip-slave-start',
  '--skip-log-bin',
  '--innodb-buffer-pool-size=256M',
  '--innodb-read-only',
  '--loose-innodb-buffer-pool-load-at-startup=0',
  '--loose-innodb-buffer-pool-dump-at-shutdown=0',
];

t.test("mysqldArgs: the data options first, never the backup's option file, never --user", async (t) => {
  const cases: { name: string; paths: ServerPaths; options: string[]; want: string[] }[] = [
    {
      name: 'allowlisted layout after --no-defaults',
      paths: P,
      options: OPTS,
      want: [...OPTS, ...SERVER_COMMON],
    },
    {
      name: 'paths with spaces stay one argument each',
      paths: { datadir: '/b k/d', socket: '/b k/s', pidFile: '/b k/p', errorLog: '/b k/e' },
      options: ['--no-defaults'],
      want: [
        '--no-defaults',
        '--datadir=/b k/d',
        '--socket=/b k/s',
        '--pid-file=/b k/p',
        '--log-error=/b k/e',
        '--skip-networking',
        '--skip-grant-tables',
        '--skip-slave-start',
        '--skip-log-bin',
        '--innodb-buffer-pool-size=256M',
        '--innodb-read-only',
        '--loose-innodb-buffer-pool-load-at-startup=0',
        '--loose-innodb-buffer-pool-dump-at-shutdown=0',
      ],
    },
  ];
  for (const c of cases) {
    const argv = mysqldArgs(c.paths, c.options);
    t.strictSame(argv, c.want, c.name);
    // mariadbd reads --no-defaults only as the very first option.
    t.equal(argv[0], '--no-defaults', `${c.name}: --no-defaults first`);
    t.notOk(
      argv.some((a) => a.startsWith('--defaults-file') || a.startsWith('--user')),
      `${c.name}: no option file, no --user`,
    );
  }
});

t.test('client command lines', async (t) => {
  const cases: { name: string; got: string[]; want: string[] }[] = [
    {
      name: 'mysqlcheckArgs',
      got: mysqlcheckArgs('/tmp/s.sock'),
      want: ['--no-defaults', '--socket=/tmp/s.sock', '--all-databases'],
    },
    {
      name: 'pingArgs',
      got: pingArgs('/tmp/s.sock'),
      want: ['--no-defaults', '--socket=/tmp/s.sock', '--connect-timeout=2', 'ping'],
    },
    {
      name: 'shutdownArgs',
      got: shutdownArgs('/tmp/s.sock'),
      want: ['--no-defaults', '--socket=/tmp/s.sock', 'shutdown'],
    },
    {
      name: 'mysqlcheckArgs: a socket path with a space',
      got: mysqlcheckArgs('/tmp/a b/s.sock'),
      want: ['--no-defaults', '--socket=/tmp/a b/s.sock', '--all-databases'],
    },
    {
      name: 'tarCreateArgs',
      got: tarCreateArgs('/var/backups/db1/prepare/verify-x'),
      want: ['-C', '/var/backups/db1/prepare/verify-x', '-b', '2048', '-cf', '-', '.'],
    },
    {
      name: 'tarCreateArgs: a directory starting with a dash stays the -C operand',
      got: tarCreateArgs('-odd dir'),
      want: ['-C', '-odd dir', '-b', '2048', '-cf', '-', '.'],
    },
    {
      name: 'tarExtractArgs: the same record size as the ready file',
      got: tarExtractArgs('/restore/.db.xb-mgr-1'),
      want: ['-C', '/restore/.db.xb-mgr-1', '-b', '2048', '-xf', '-'],
    },
  ];
  for (const c of cases) t.strictSame(c.got, c.want, c.name);
  t.equal(mysqlcheckArgs('/s')[0], '--no-defaults', 'mysqlcheck: --no-defaults first');
  t.equal(pingArgs('/s')[0], '--no-defaults', 'ping: --no-defaults first');
  t.equal(shutdownArgs('/s')[0], '--no-defaults', 'shutdown: --no-defaults first');
});

t.test('readyExtension', async (t) => {
  const cases: [ReadyCompress, string][] = [
    ['zstd', '.tar.zst'],
    ['gzip', '.tar.gz'],
    ['qpress', '.tar.qp'],
    ['none', '.tar'],
  ];
  for (const [c, want] of cases) t.equal(readyExtension(c), want, c);
});

t.test('readyCompressor', async (t) => {
  const cases: {
    c: ReadyCompress;
    level: number;
    bin: string;
    want: { cmd: string; args: string[] } | undefined;
  }[] = [
    { c: 'zstd', level: 1, bin: 'zstd', want: { cmd: 'zstd', args: ['-q', '-1', '-T0'] } },
    { c: 'zstd', level: 3, bin: '/usr/bin/zstd', want: { cmd: '/usr/bin/zstd', args: ['-q', '-3', '-T0'] } },
    { c: 'zstd', level: 19, bin: 'zstd', want: { cmd: 'zstd', args: ['-q', '-19', '-T0'] } },
    { c: 'zstd', level: 20, bin: 'zstd', want: { cmd: 'zstd', args: ['-q', '-19', '-T0'] } },
    { c: 'zstd', level: 22, bin: 'zstd', want: { cmd: 'zstd', args: ['-q', '-19', '-T0'] } },
    { c: 'gzip', level: 1, bin: 'gzip', want: { cmd: 'gzip', args: ['-1', '-c'] } },
    { c: 'gzip', level: 6, bin: 'pigz', want: { cmd: 'pigz', args: ['-6', '-c'] } },
    { c: 'gzip', level: 9, bin: 'gzip', want: { cmd: 'gzip', args: ['-9', '-c'] } },
    { c: 'gzip', level: 10, bin: 'gzip', want: { cmd: 'gzip', args: ['-9', '-c'] } },
    { c: 'gzip', level: 19, bin: 'gzip', want: { cmd: 'gzip', args: ['-9', '-c'] } },
    { c: 'qpress', level: 1, bin: 'qpress', want: { cmd: 'qpress', args: ['-io', 'backup.tar'] } },
    { c: 'qpress', level: 9, bin: '/opt/qpress', want: { cmd: '/opt/qpress', args: ['-io', 'backup.tar'] } },
    { c: 'none', level: 1, bin: 'zstd', want: undefined },
    { c: 'none', level: 19, bin: '', want: undefined },
  ];
  for (const x of cases) {
    t.strictSame(readyCompressor(x.c, x.level, x.bin), x.want, `${x.c} level ${x.level} with ${x.bin}`);
  }
});

t.test('decompressor', async (t) => {
  const cases: { c: ReadyCompress; bin: string; want: { cmd: string; args: string[] } | undefined }[] = [
    { c: 'zstd', bin: 'zstd', want: { cmd: 'zstd', args: ['-dcq'] } },
    { c: 'zstd', bin: '/usr/local/bin/zstd', want: { cmd: '/usr/local/bin/zstd', args: ['-dcq'] } },
    { c: 'gzip', bin: 'gzip', want: { cmd: 'gzip', args: ['-dc'] } },
    { c: 'gzip', bin: 'pigz', want: { cmd: 'pigz', args: ['-dc'] } },
    { c: 'qpress', bin: 'qpress', want: { cmd: 'qpress', args: ['-dio'] } },
    { c: 'none', bin: 'zstd', want: undefined },
  ];
  for (const x of cases) t.strictSame(decompressor(x.c, x.bin), x.want, `${x.c} with ${x.bin}`);
});

t.test(
  'every compressor has an extension, and a compressor exactly when it has a decompressor',
  async (t) => {
    const all: ReadyCompress[] = ['zstd', 'gzip', 'qpress', 'none'];
    for (const c of all) {
      t.match(readyExtension(c), /^\.tar(\.[a-z]+)?$/, `${c}: extension`);
      t.equal(
        readyCompressor(c, 1, 'x') === undefined,
        decompressor(c, 'x') === undefined,
        `${c}: both or neither`,
      );
      t.equal(
        readyCompressor(c, 1, 'x') === undefined,
        readyExtension(c) === '.tar',
        `${c}: plain tar when none`,
      );
    }
  },
);
