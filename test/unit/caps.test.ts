import t from 'tap';
import {
  freeReserveBytes,
  maxExtractBytes,
  maxStreamBytes,
  overCapMessage,
  parseByteSize,
  toolLogTailBytes,
  workerLimits,
  type Cap,
} from '../../src/engine/caps.js';
import { Tail } from '../../src/util/tail.js';

const MiB = 1024 * 1024;
const GiB = 1024 * MiB;
const TiB = 1024 * GiB;

t.test('maxStreamBytes', async (t) => {
  const cases: {
    name: string;
    configured?: number;
    lastFull?: number;
    free: number;
    reserve?: number;
    bytes: number;
    source: Cap['source'];
  }[] = [
    { name: 'first full: 10 GiB', free: TiB, bytes: 10 * GiB, source: 'default' },
    {
      name: 'small last full: still 10 GiB',
      lastFull: 1 * GiB,
      free: TiB,
      bytes: 10 * GiB,
      source: 'default',
    },
    {
      name: 'last full 2.5 GiB: 4x is exactly 10 GiB',
      lastFull: 2.5 * GiB,
      free: TiB,
      bytes: 10 * GiB,
      source: 'default',
    },
    { name: 'last full 30 GiB: 4x', lastFull: 30 * GiB, free: TiB, bytes: 120 * GiB, source: 'default' },
    {
      name: '4x over the free space: the free space less 1 GiB',
      lastFull: 30 * GiB,
      free: 51 * GiB,
      bytes: 50 * GiB,
      source: 'free space',
    },
    {
      name: '10 GiB over 5 GiB free: 10 % of it is kept free (less than 1 GiB)',
      free: 5 * GiB,
      bytes: 4.5 * GiB,
      source: 'free space',
    },
    {
      name: 'a 300 MiB filesystem (the tests tmpfs): 270 MiB, not 0',
      free: 300 * MiB,
      bytes: 270 * MiB,
      source: 'free space',
    },
    {
      name: 'with 10 GiB free the reserve is 1 GiB',
      free: 10 * GiB,
      bytes: 9 * GiB,
      source: 'free space',
    },
    { name: 'nothing free: 0', free: 0, bytes: 0, source: 'free space' },
    { name: 'negative free space (a bad statfs) is 0', free: -1, bytes: 0, source: 'free space' },
    {
      name: 'configured wins over 4x',
      configured: 1 * GiB,
      lastFull: 30 * GiB,
      free: TiB,
      bytes: 1 * GiB,
      source: 'config',
    },
    {
      name: 'configured above the default',
      configured: 500 * GiB,
      free: TiB,
      bytes: 500 * GiB,
      source: 'config',
    },
    {
      name: 'configured, but the free space is less',
      configured: 500 * GiB,
      free: 101 * GiB,
      bytes: 100 * GiB,
      source: 'free space',
    },
    { name: 'own reserve', free: 5 * GiB, reserve: 3 * GiB, bytes: 2 * GiB, source: 'free space' },
    {
      name: 'reserve 0, exactly the default fits',
      free: 10 * GiB,
      reserve: 0,
      bytes: 10 * GiB,
      source: 'default',
    },
  ];
  for (const c of cases) {
    const cap = maxStreamBytes({
      configured: c.configured,
      lastFullBytes: c.lastFull,
      freeBytes: c.free,
      reserveBytes: c.reserve,
    });
    t.equal(cap.bytes, c.bytes, `${c.name}: bytes`);
    t.equal(cap.source, c.source, `${c.name}: source`);
  }
  t.equal(
    maxStreamBytes({ lastFullBytes: 30 * GiB, freeBytes: TiB }).why,
    '120.0 GiB, the default: the larger of 4x the last full (30.0 GiB) and 10.0 GiB',
  );
  t.equal(
    maxStreamBytes({ freeBytes: TiB }).why,
    '10.0 GiB, the default: the larger of 4x the last full (none yet) and 10.0 GiB',
  );
  t.equal(maxStreamBytes({ configured: 2 * GiB, freeBytes: TiB }).why, '2.0 GiB, set in backup.conf');
  t.equal(
    maxStreamBytes({ freeBytes: 5 * GiB }).why,
    '4.5 GiB: the free space (5.0 GiB) less a 512.0 MiB reserve; the disk is nearly full',
  );
  t.equal(
    maxStreamBytes({ freeBytes: 20 * GiB }).why,
    '10.0 GiB, the default: the larger of 4x the last full (none yet) and 10.0 GiB',
    'room for the default: no mention of the free space',
  );
});

t.test('maxExtractBytes', async (t) => {
  const cases: {
    name: string;
    configured?: number;
    stream: number;
    free: number;
    bytes: number;
    source: Cap['source'];
  }[] = [
    {
      name: 'a small stream: the 10 GiB floor',
      stream: 1 * MiB,
      free: TiB,
      bytes: 10 * GiB,
      source: 'default',
    },
    { name: 'an empty stream: the floor', stream: 0, free: TiB, bytes: 10 * GiB, source: 'default' },
    { name: 'a 1 GiB stream: 100x', stream: 1 * GiB, free: TiB, bytes: 100 * GiB, source: 'default' },
    {
      name: '100x over the free space',
      stream: 1 * GiB,
      free: 41 * GiB,
      bytes: 40 * GiB,
      source: 'free space',
    },
    {
      name: 'configured (the bomb test)',
      configured: 64 * MiB,
      stream: 1 * MiB,
      free: TiB,
      bytes: 64 * MiB,
      source: 'config',
    },
    {
      name: 'configured, over the free space',
      configured: 64 * GiB,
      stream: 1 * MiB,
      free: 11 * GiB,
      bytes: 10 * GiB,
      source: 'free space',
    },
    {
      name: 'a small filesystem keeps 10 % free',
      stream: 1 * MiB,
      free: 200 * MiB,
      bytes: 180 * MiB,
      source: 'free space',
    },
  ];
  for (const c of cases) {
    const cap = maxExtractBytes({ configured: c.configured, streamBytes: c.stream, freeBytes: c.free });
    t.equal(cap.bytes, c.bytes, `${c.name}: bytes`);
    t.equal(cap.source, c.source, `${c.name}: source`);
  }
  t.equal(
    maxExtractBytes({ streamBytes: 1 * GiB, freeBytes: TiB }).why,
    '100.0 GiB, the default: 100x the stream (1.0 GiB), at least 10.0 GiB',
  );
});

t.test('overCapMessage: one line naming the cap', async (t) => {
  const m = overCapMessage(
    'the stream',
    'max_stream_bytes',
    maxStreamBytes({ configured: 2 * GiB, freeBytes: TiB }),
  );
  t.equal(
    m,
    'the stream is over max_stream_bytes (2.0 GiB, set in backup.conf); the partial data was removed',
  );
  const f = overCapMessage(
    'the extracted backup',
    'max_extract_bytes',
    maxExtractBytes({ streamBytes: 1, freeBytes: 2 * GiB }),
  );
  t.match(
    f,
    /^the extracted backup is over max_extract_bytes \(1\.8 GiB: the free space \(2\.0 GiB\) less a 204\.8 MiB reserve; the disk is nearly full\)/,
  );
  t.notMatch(f, /\n/);
});

t.test('freeReserveBytes: min(1 GiB, 10 % of the free space)', async (t) => {
  const cases: [free: number, reserve: number][] = [
    [TiB, GiB],
    [20 * GiB, GiB],
    [10 * GiB, GiB],
    [5 * GiB, 512 * MiB],
    [300 * MiB, 30 * MiB],
    [15, 1],
    [9, 0],
    [0, 0],
    [-1, 0],
  ];
  for (const [free, want] of cases) t.equal(freeReserveBytes(free), want, `${free} bytes free`);
});

t.test('toolLogTailBytes', async (t) => {
  t.equal(toolLogTailBytes(), MiB, 'default 1 MiB');
  t.equal(toolLogTailBytes(64 * 1024), 64 * 1024, 'configured');
});

t.test('workerLimits', async (t) => {
  const cases: {
    name: string;
    timeoutMs: number;
    threads: number;
    maxFile: number;
    cpu: number;
    fsize: number;
  }[] = [
    {
      name: 'one thread, one hour',
      timeoutMs: 3_600_000,
      threads: 1,
      maxFile: 10 * GiB,
      cpu: 3600,
      fsize: 10 * GiB,
    },
    {
      name: 'two threads double the CPU time',
      timeoutMs: 3_600_000,
      threads: 2,
      maxFile: GiB,
      cpu: 7200,
      fsize: GiB,
    },
    { name: 'partial seconds round up', timeoutMs: 1500, threads: 1, maxFile: 1, cpu: 2, fsize: 1 },
    { name: 'never 0 (0 would mean no CPU at all)', timeoutMs: 0, threads: 0, maxFile: 0, cpu: 1, fsize: 1 },
  ];
  for (const c of cases) {
    t.strictSame(
      workerLimits({ timeoutMs: c.timeoutMs, threads: c.threads, maxFileBytes: c.maxFile }),
      { cpuSeconds: c.cpu, fsizeBytes: c.fsize },
      c.name,
    );
  }
});

t.test('parseByteSize', async (t) => {
  const cases: [string, number | undefined][] = [
    ['10737418240', 10 * GiB],
    ['10G', 10 * GiB],
    ['10g', 10 * GiB],
    ['10GB', 10 * GiB],
    ['10GiB', 10 * GiB],
    [' 512 M ', 512 * MiB],
    ['1T', TiB],
    ['64k', 64 * 1024],
    ['100B', 100],
    ['0', 0],
    ['', undefined],
    ['-1G', undefined],
    ['1.5G', undefined],
    ['10P', undefined],
    ['10 iB', undefined],
    ['999999999999999T', undefined],
    ['ten', undefined],
  ];
  for (const [s, want] of cases) t.equal(parseByteSize(s), want, JSON.stringify(s));
});

t.test('Tail keeps the last bytes in bounded memory', async (t) => {
  const tail = new Tail(10);
  tail.push('abc\n');
  t.equal(tail.text(), 'abc\n', 'under the limit: everything');
  tail.push('defgh\nij');
  t.equal(tail.total, 12);
  t.equal(tail.dropped, 2);
  t.equal(tail.text(), '[... 4 bytes of the log skipped ...]\ndefgh\nij', 'the cut first line is left out');

  const one = new Tail(4);
  one.push(Buffer.from('0123456789'));
  t.equal(one.dropped, 6, 'a chunk over the limit keeps its end');
  t.equal(one.text(), '[... 10 bytes of the log skipped ...]\n', 'no whole line left');

  // A 100 MiB log in 64 KiB chunks: what stays is exactly its last MiB, ending with the verdict.
  const big = new Tail(MiB);
  const chunk = Buffer.alloc(64 * 1024, 'x\n');
  for (let i = 0; i < 1600; i++) big.push(chunk);
  big.push('[00] completed OK!\n');
  t.equal(big.total, 1600 * 64 * 1024 + 19);
  t.match(big.text(), /completed OK!\n$/);
  t.ok(big.text().length <= MiB + 64, 'about a MiB');
  t.throws(() => new Tail(0), RangeError);
});
