#!/usr/bin/env node
// node bench/compress-step.mjs [--dir DIR | --size 4] [--samples 3] [--out bench/compress-step.json]
//
// The ready step's compress on its own, side by side and interleaved on the same directory from a
// warm page cache: xb-mgr's compress (src/ready/compress.ts: tar -b 2048 | zstd -q -1 -T0 writing the
// staged file, its sha256 hashed behind the writer, writeback behind the hash, one fsync) against
// the raw `tar | zstd -q -T0 -1 > f`, and against the raw pipeline made durable (`&& sync f`), as
// a ready file must be before its description commits it. Goal (issue 20): throughput >= 0.9 of
// raw, i.e. a time ratio <= 1.11. Without --dir, a directory of --size GB of sysbench-like pages
// (compressing to about 45 %) is made under /var/tmp and removed after. Needs `npm run build`.
import { execFileSync } from 'node:child_process';
import { mkdirSync, mkdtempSync, openSync, rmSync, writeSync, closeSync, writeFileSync } from 'node:fs';
import { cpus, loadavg } from 'node:os';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { parseArgs } from 'node:util';
import { Buffer } from 'node:buffer';
import { randomBytes } from 'node:crypto';
import { compare, markdownTable } from './lib/report.mjs';
import { clock, log, round, sh } from './lib/util.mjs';

const repo = resolve(dirname(fileURLToPath(import.meta.url)), '..');
const { pipelineToFile } = await import(join(repo, 'dist', 'ready', 'compress.js'));
const { tarCreateArgs, readyCompressor, TAR_RECORD_BLOCKS } = await import(
  join(repo, 'dist', 'ready', 'commands.js')
);
const { values: a } = parseArgs({
  options: {
    dir: { type: 'string' },
    size: { type: 'string', default: '4' },
    samples: { type: 'string', default: '3' },
    out: { type: 'string', default: join(repo, 'bench', 'compress-step.json') },
  },
});
const SAMPLES = Number(a.samples);
const load0 = loadavg();

/** 16 KiB pages of digit rows with some free space, like sysbench's tables, in 256 MiB files. */
function makeDir(gb) {
  const dir = mkdtempSync('/var/tmp/xb-compress-bench-');
  const digits = (n) => Array.from(randomBytes(n), (b) => 48 + (b % 10));
  const page = () => {
    const p = Buffer.alloc(16384);
    let at = 0;
    while (at < 14000) {
      const row = Buffer.from([...randomBytes(8), ...digits(120), 45, ...digits(55)]);
      row.copy(p, at);
      at += row.length;
    }
    return p;
  };
  const chunk = Buffer.concat(Array.from({ length: 4096 }, page)); // 64 MiB
  const files = Math.max(1, Math.round((gb * 1024) / 256));
  for (let i = 0; i < files; i++) {
    const fd = openSync(join(dir, `t${i}.ibd`), 'w');
    for (let j = 0; j < 4; j++) {
      // A different rotation per part: no run repeats within zstd's window.
      const k = (i * 4 + j) * 4099;
      writeSync(fd, chunk.subarray(k));
      writeSync(fd, chunk.subarray(0, k));
    }
    closeSync(fd);
  }
  return dir;
}

const made = a.dir === undefined;
const dir = a.dir ?? makeDir(Number(a.size));
const work = mkdtempSync('/var/tmp/xb-compress-out-');
const out = join(work, 'ready.tar.zst');
const bytes = Number(execFileSync('du', ['-sb', dir], { encoding: 'utf8' }).split('\t')[0]);
log(`compress step: ${(bytes / 1e9).toFixed(2)} GB in ${dir}, ${SAMPLES} samples`);

// The product's own command lines (tar's record size included).
const stages = [{ cmd: 'tar', args: tarCreateArgs(dir), label: 'tar' }, readyCompressor('zstd', 1, 'zstd')];
const variants = {
  xb: () => pipelineToFile(stages, out, 3_600_000),
  raw: () => sh(`tar -C '${dir}' -cf - . | zstd -q -T0 -1 > '${out}'`),
  durable: () => sh(`tar -C '${dir}' -cf - . | zstd -q -T0 -1 > '${out}' && sync '${out}'`),
  // The same tools with xb-mgr's record size: what the hash and the durable write cost on their own.
  records: () => sh(`tar -C '${dir}' -b ${TAR_RECORD_BLOCKS} -cf - . | zstd -q -T0 -1 > '${out}'`),
};
const m = { xb: [], raw: [], durable: [], records: [] };
// Warm the page cache once: every variant then reads the same cached directory.
await sh(`tar -C '${dir}' -cf - . > /dev/null`);
for (let i = 0; i < SAMPLES; i++) {
  for (const v of i % 2 ? ['records', 'durable', 'raw', 'xb'] : ['xb', 'raw', 'durable', 'records']) {
    rmSync(out, { force: true });
    await sh('sync');
    const t0 = clock();
    await variants[v]();
    m[v].push(clock() - t0);
  }
  log(
    `sample ${i + 1}/${SAMPLES}: xb-mgr ${m.xb[i].toFixed(2)} s, raw ${m.raw[i].toFixed(2)} s, raw + sync ${m.durable[i].toFixed(2)} s, raw -b ${TAR_RECORD_BLOCKS} ${m.records[i].toFixed(2)} s`,
  );
}
rmSync(work, { recursive: true, force: true });
if (made) rmSync(dir, { recursive: true, force: true });

const rows = [
  compare({
    caseId: 'compress-a',
    name: `compress step vs tar | zstd -q -T0 -1 > f (${(bytes / 1e9).toFixed(1)} GB, warm cache)`,
    aLabel: 'xb-mgr compress',
    bLabel: 'raw',
    a: m.xb,
    b: m.raw,
    goal: { ratio: round(1 / 0.9, 3) },
  }),
  compare({
    caseId: 'compress-b',
    name: 'compress step vs the raw pipeline made durable (&& sync f)',
    aLabel: 'xb-mgr compress',
    bLabel: 'raw + sync',
    a: m.xb,
    b: m.durable,
    goal: { ratio: round(1 / 0.9, 3) },
  }),
  compare({
    caseId: 'compress-c',
    name: `compress step vs the raw pipeline with xb-mgr's tar records (tar -b ${TAR_RECORD_BLOCKS}): the hash and the durable write alone`,
    aLabel: 'xb-mgr compress',
    bLabel: `raw -b ${TAR_RECORD_BLOCKS}`,
    a: m.xb,
    b: m.records,
  }),
];
mkdirSync(dirname(a.out), { recursive: true });
writeFileSync(
  a.out,
  JSON.stringify(
    {
      at: new Date().toISOString(),
      bytes,
      samples: SAMPLES,
      cpus: cpus().length,
      loadavg_before: load0.map((x) => round(x, 2)),
      loadavg_after: loadavg().map((x) => round(x, 2)),
      rows,
    },
    null,
    2,
  ) + '\n',
);
process.stdout.write(`${markdownTable(rows)}\n`);
