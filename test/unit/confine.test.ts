import t from 'tap';
import { confine, parsePasswdLine, type ConfineOptions } from '../../src/util/confine.js';

const W = { name: 'xb-mgr-worker', uid: 999, gid: 995 };
const BINS = { unshare: '/usr/bin/unshare', setpriv: '/usr/bin/setpriv', prlimit: '/usr/bin/prlimit' };
const HEAD = [
  '--net',
  '--',
  '/usr/bin/setpriv',
  '--reuid=999',
  '--regid=995',
  '--clear-groups',
  '--no-new-privs',
  '--inh-caps=-all',
  '--ambient-caps=-all',
  '--bounding-set=-all',
  '--reset-env',
  '--pdeathsig=KILL',
  '--',
  '/usr/bin/prlimit',
];

t.test('confine: exact argv', async (t) => {
  const cases: {
    name: string;
    cmd: string;
    args: string[];
    o: ConfineOptions;
    want: { cmd: string; args: string[] };
  }[] = [
    {
      name: 'prepare with CPU and file size limits',
      cmd: '/usr/bin/mariabackup',
      args: ['--no-defaults', '--prepare', '--target-dir=/b k/w'],
      o: { worker: W, limits: { cpuSeconds: 7200, fsizeBytes: 10737418240 }, bins: BINS },
      want: {
        cmd: '/usr/bin/unshare',
        args: [
          ...HEAD,
          '--cpu=7200',
          '--fsize=10737418240',
          '--core=0',
          '--',
          '/usr/bin/mariabackup',
          '--no-defaults',
          '--prepare',
          '--target-dir=/b k/w',
        ],
      },
    },
    {
      name: 'mysqld with open files and address space, default wrapper names',
      cmd: '/usr/sbin/mariadbd',
      args: ['--no-defaults'],
      o: { worker: W, limits: { cpuSeconds: 1, fsizeBytes: 1, nofile: 4096, addressSpaceBytes: 4294967296 } },
      want: {
        cmd: 'unshare',
        args: [
          ...HEAD.slice(0, 2),
          'setpriv',
          ...HEAD.slice(3, -1),
          'prlimit',
          '--cpu=1',
          '--fsize=1',
          '--core=0',
          '--nofile=4096',
          '--as=4294967296',
          '--',
          '/usr/sbin/mariadbd',
          '--no-defaults',
        ],
      },
    },
    {
      name: 'environment passed through env(1) after the reset',
      cmd: '/usr/bin/mbstream',
      args: ['-x', '-C', '/w'],
      o: {
        worker: W,
        limits: { cpuSeconds: 60, fsizeBytes: 1024 },
        bins: BINS,
        env: { TZ: 'UTC', TMPDIR: '/w/tmp' },
      },
      want: {
        cmd: '/usr/bin/unshare',
        args: [
          ...HEAD,
          '--cpu=60',
          '--fsize=1024',
          '--core=0',
          '--',
          '/usr/bin/env',
          'TZ=UTC',
          'TMPDIR=/w/tmp',
          '/usr/bin/mbstream',
          '-x',
          '-C',
          '/w',
        ],
      },
    },
    {
      name: 'arguments that look like options stay arguments of the command',
      cmd: '/bin/echo',
      args: ['--', '--reuid=0', ';rm -rf /'],
      o: { worker: W, limits: { cpuSeconds: 1, fsizeBytes: 1 }, bins: BINS },
      want: {
        cmd: '/usr/bin/unshare',
        args: [
          ...HEAD,
          '--cpu=1',
          '--fsize=1',
          '--core=0',
          '--',
          '/bin/echo',
          '--',
          '--reuid=0',
          ';rm -rf /',
        ],
      },
    },
  ];
  for (const c of cases) t.strictSame(confine(c.cmd, c.args, c.o), c.want, c.name);
});

t.test('confine: refuses what would not confine', async (t) => {
  const L = { cpuSeconds: 1, fsizeBytes: 1 };
  const cases: { name: string; run: () => unknown; error: RegExp }[] = [
    {
      name: 'root as worker',
      run: () => confine('/bin/id', [], { worker: { ...W, uid: 0 }, limits: L }),
      error: /other than 0/,
    },
    {
      name: 'gid 0',
      run: () => confine('/bin/id', [], { worker: { ...W, gid: 0 }, limits: L }),
      error: /other than 0/,
    },
    {
      name: 'uid not a number',
      run: () => confine('/bin/id', [], { worker: { ...W, uid: NaN }, limits: L }),
      error: /uid/,
    },
    {
      name: 'relative command',
      run: () => confine('id', [], { worker: W, limits: L }),
      error: /absolute path/,
    },
    {
      name: 'no CPU limit',
      run: () => confine('/bin/id', [], { worker: W, limits: { ...L, cpuSeconds: 0 } }),
      error: /cpuSeconds/,
    },
    {
      name: 'fractional size',
      run: () => confine('/bin/id', [], { worker: W, limits: { ...L, fsizeBytes: 1.5 } }),
      error: /fsizeBytes/,
    },
    {
      name: 'infinite',
      run: () => confine('/bin/id', [], { worker: W, limits: { ...L, nofile: Infinity } }),
      error: /nofile/,
    },
    {
      name: 'env name',
      run: () => confine('/bin/id', [], { worker: W, limits: L, env: { 'A=B': 'x' } }),
      error: /environment/,
    },
    {
      name: 'env NUL',
      run: () => confine('/bin/id', [], { worker: W, limits: L, env: { A: 'x\0y' } }),
      error: /environment/,
    },
  ];
  for (const c of cases) t.throws(c.run, c.error, c.name);
});

t.test('parsePasswdLine', async (t) => {
  const cases: [string, string, unknown][] = [
    ['xb-mgr-worker:x:999:995:xb-mgr worker:/nonexistent:/usr/sbin/nologin', 'xb-mgr-worker', W],
    ['xb-mgr-worker:x:999:995:xb-mgr worker:/nonexistent:/usr/sbin/nologin\n', 'xb-mgr-worker', W],
    ['root:x:0:0:root:/root:/bin/bash', 'xb-mgr-worker', undefined],
    ['xb-mgr-worker-2:x:1:1::/:/bin/false', 'xb-mgr-worker', undefined],
    ['xb-mgr-worker:x:abc:995::/:/bin/false', 'xb-mgr-worker', undefined],
    ['xb-mgr-worker:x:999', 'xb-mgr-worker', undefined],
    ['', 'xb-mgr-worker', undefined],
  ];
  for (const [line, name, want] of cases)
    t.strictSame(parsePasswdLine(line, name), want, JSON.stringify(line));
});
