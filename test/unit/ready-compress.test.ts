/** The compress step's output: written by the last stage itself, hashed behind it, replaced whole. */
import t from 'tap';
import { createHash } from 'node:crypto';
import { existsSync, mkdirSync, mkdtempSync, readFileSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { pipelineToFile } from '../../src/ready/compress.js';
import { tarCreateArgs, tarExtractArgs } from '../../src/ready/commands.js';
import { pipeline } from '../../src/util/proc.js';
import { ProcessError } from '../../src/errors.js';

const node = process.execPath;
const sha = (b: Buffer) => createHash('sha256').update(b).digest('hex');
const dir = mkdtempSync(join(tmpdir(), 'xb-compress-'));
t.teardown(() => rmSync(dir, { recursive: true, force: true }));

// A writer in bursts with pauses: the hash catches up with the file and must wait for more.
const bursts = (n: number, size: number, pauseMs: number) => ({
  cmd: node,
  args: [
    '-e',
    `const fs = require('fs'); let i = 0;
     const next = () => { if (i++ === ${n}) return;
       const b = Buffer.alloc(${size}); for (let j = 0; j < b.length; j++) b[j] = (i * 31 + j * 7) & 255;
       fs.writeSync(1, b); setTimeout(next, ${pauseMs}); };
     next();`,
  ],
  label: 'bursts',
});

const cases: { name: string; stages: Parameters<typeof pipelineToFile>[0]; bytes: number }[] = [
  { name: 'more than one read chunk, in bursts', stages: [bursts(5, 5_000_000, 60)], bytes: 25_000_000 },
  { name: 'small output', stages: [bursts(1, 1000, 0)], bytes: 1000 },
  { name: 'empty output', stages: [{ cmd: node, args: ['-e', ''] }], bytes: 0 },
  {
    name: 'two stages fd to fd (the compressor is the last)',
    stages: [bursts(3, 3_000_000, 30), { cmd: 'gzip', args: ['-1', '-c'] }],
    bytes: -1,
  },
];

for (const c of cases) {
  t.test(`pipelineToFile: ${c.name}`, async (t) => {
    const file = join(dir, `${c.name.replace(/\W+/g, '-')}.part`);
    const w = await pipelineToFile(c.stages, file, 30_000);
    const data = readFileSync(file);
    t.equal(w.bytes, data.length, 'bytes are those of the file');
    if (c.bytes >= 0) t.equal(w.bytes, c.bytes);
    t.equal(w.sha256, sha(data), 'the hash is that of the whole file');
    t.equal(statSync(file).mode & 0o777, 0o600, 'private');
  });
}

t.test('pipelineToFile: a stale file of a killed run is replaced, not appended to', async (t) => {
  const file = join(dir, 'stale.part');
  writeFileSync(file, 'x'.repeat(100_000), { mode: 0o644 });
  const w = await pipelineToFile([bursts(1, 10, 0)], file, 30_000);
  t.equal(w.bytes, 10);
  t.equal(readFileSync(file).length, 10);
  t.equal(statSync(file).mode & 0o777, 0o600);
});

t.test('pipelineToFile: a failing stage is a ProcessError and leaves no file', async (t) => {
  const file = join(dir, 'fail.part');
  const e = await pipelineToFile(
    [
      // A first stage that writes nothing cannot fail on the broken pipe first.
      { cmd: node, args: ['-e', ''] },
      {
        cmd: node,
        args: ['-e', 'process.stdout.write("part"); setTimeout(() => process.exit(5), 50)'],
        label: 'z',
      },
    ],
    file,
    30_000,
  ).catch((x: unknown) => x);
  t.ok(e instanceof ProcessError, String(e));
  t.match((e as ProcessError).message, /\bz\b/);
  t.notOk(existsSync(file), 'partial file removed');
});

t.test('pipelineToFile: a timeout stops the pipeline and leaves no file', async (t) => {
  const file = join(dir, 'slow.part');
  const e = await pipelineToFile(
    [{ cmd: node, args: ['-e', 'process.stdout.write("x"); setInterval(() => {}, 1000)'] }],
    file,
    300,
  ).catch((x: unknown) => x);
  t.ok(e instanceof ProcessError && e.timedOut, String(e));
  t.notOk(existsSync(file));
});

t.test(
  'pipelineToFile: a stage that fails downstream is the one named, not the writer it broke',
  async (t) => {
    const file = join(dir, 'downstream.part');
    const e = await pipelineToFile(
      [
        bursts(20, 5_000_000, 10),
        { cmd: node, args: ['-e', 'setTimeout(() => process.exit(6), 50)'], label: 'z' },
      ],
      file,
      30_000,
    ).catch((x: unknown) => x);
    t.ok(e instanceof ProcessError, String(e));
    t.match((e as ProcessError).message, /\bz\b.*\b6\b/);
    t.notOk(existsSync(file));
  },
);

t.test(
  'pipelineToFile: stopped by its signal (a failed check beside it): every stage killed, no file',
  async (t) => {
    const cases = [
      { name: 'stopped while running', abortAfterMs: 300 },
      { name: 'stopped before it starts', abortAfterMs: -1 },
    ];
    for (const c of cases) {
      const file = join(dir, `stopped-${c.abortAfterMs}.part`);
      const stop = new AbortController();
      if (c.abortAfterMs < 0) stop.abort();
      else setTimeout(() => stop.abort(), c.abortAfterMs);
      const t0 = Date.now();
      const e = await pipelineToFile(
        [
          { cmd: node, args: ['-e', 'process.stdout.write("x"); setInterval(() => {}, 1000)'], label: 'a' },
          { cmd: 'cat', args: [], label: 'b' },
        ],
        file,
        30_000,
        stop.signal,
      ).catch((x: unknown) => x);
      t.equal((e as Error).name, 'AbortError', `${c.name}: rejects with the signal's reason (${String(e)})`);
      t.ok(Date.now() - t0 < 10_000, `${c.name}: does not wait for the timeout`);
      t.notOk(existsSync(file), `${c.name}: no file left`);
    }
  },
);

t.test('a ready file unpacks through a pipeline with both stages exiting 0 (records of 1 MiB)', async (t) => {
  const src = join(dir, 'src');
  mkdirSync(src, { recursive: true });
  // The data ends just past a 1 MiB record: almost all of the last record is padding.
  writeFileSync(join(src, 'a.ibd'), Buffer.alloc(3 << 20, 7));
  writeFileSync(join(src, 'b'), 'x');
  const cases = [
    {
      name: 'a ready file (tarCreateArgs), read with tarExtractArgs',
      create: tarCreateArgs(src),
      extract: tarExtractArgs,
      ok: true,
    },
    {
      name: 'an earlier ready file (10 KiB records), read with tarExtractArgs',
      create: ['-C', src, '-cf', '-', '.'],
      extract: tarExtractArgs,
      ok: true,
    },
    // The control: what tarExtractArgs exists for.
    {
      name: 'a ready file read without -b',
      create: tarCreateArgs(src),
      extract: (d: string) => ['-C', d, '-xf', '-'],
      ok: false,
    },
  ];
  for (const [i, c] of cases.entries()) {
    const file = join(dir, `records-${i}.tar.zst`);
    await pipelineToFile(
      [
        { cmd: 'tar', args: c.create },
        { cmd: 'zstd', args: ['-q', '-1'] },
      ],
      file,
      30_000,
    );
    const out = join(dir, `records-${i}`);
    mkdirSync(out);
    const e = await pipeline(
      [
        { cmd: 'zstd', args: ['-dcq'] },
        { cmd: 'tar', args: c.extract(out) },
      ],
      {
        inputFile: file,
        timeoutMs: 30_000,
      },
    ).then(
      () => undefined,
      (x: unknown) => x,
    );
    if (c.ok) {
      t.equal(e, undefined, `${c.name}: no stage failed`);
      t.equal(readFileSync(join(out, 'a.ibd')).length, 3 << 20, `${c.name}: the data is there`);
    } else {
      t.ok(
        e instanceof ProcessError && e.command === 'zstd',
        `${c.name}: zstd fails on the closed pipe (${String(e)})`,
      );
    }
  }
});
