// Case 8 (issue 20): the ready step follows the change, not the database size. Two DB hosts side by
// side: sb1 at size S (4 sysbench tables) and sb3 at 4S (16 tables of the same table size: four
// sysbench databases). Each repetition, for each size (the first alternates): a Sunday full, the
// same small change (about 1 % of the rows of ONE table), a Monday incremental; after each run a
// raw `tar | zstd -T0 -1` of the same prepared base, for the compress step's throughput.
import { mkdirSync, rmSync } from 'node:fs';
import { join } from 'node:path';
import { setTimeout as delay } from 'node:timers/promises';
import { XbMgr, readySeconds, stepSeconds } from './xbmgr.mjs';
import { compare, stepTable } from './report.mjs';
import { duBytes, exec, log, median, q, round, sh } from './util.mjs';

const S_HOST = 'sb1';
const BIG_HOST = 'sb3';
/** S is sbtest (4 tables); 4S adds these three databases of 4 tables each on its own host. */
const EXTRA_DBS = ['sbtest_b', 'sbtest_c', 'sbtest_d'];
const FULL_AT = '2026-11-22T01:00:00Z'; // a Sunday: the sandbox's full_backup_day
const INC_AT = '2026-11-23T01:00:00Z';
/** Throughput goal of the compress step against the raw pipeline: time ratio <= 1 / 0.9. */
const COMPRESS_GOAL = 0.9;
/**
 * The compress step's own goal is measured on its own (bench/compress-step.mjs): in a run it
 * shares the CPUs with the verify it runs beside (MariaBackup), so its seconds here are not its
 * throughput.
 */
const IN_RUN_NOTE = `no goal here: beside the verify it shares the CPUs; the step on its own (goal: throughput ≥ ${COMPRESS_GOAL}) is bench/compress-step.mjs`;

/**
 * Disk case 8 needs beyond the other cases, at data size S (from the 1 GB sizes of case 1). In use
 * at the 4S full's ready step: the 4S host's datadir 4.8 S, its stream 1.7 S, S's catalog 2.1 S
 * (about 9 S; later the 4S base 4.8 S, its ready file and the raw output 1.7 S each). But xb-mgr's
 * ready step of a full refuses to start with less free than 2.5 × (4 × its stream): about 17 S at
 * 4S. So about 26 S; alone with sb1's datadir (1.2 S) and 2 GiB of headroom: about 29 GB at 1 GB.
 */
export const CASE8_DISK_PER_S = 26;

/** The one small change: about 1 % of the rows of one table (sbtest.sbtest1). */
async function touchOneTable(sb, host) {
  await sb.sql(host, 'UPDATE sbtest.sbtest1 SET k=k+1 WHERE id % 100 = 0');
}

/** `tar -C BASE -cf - . | zstd -q -T0 -1 > f` as root on the same prepared base: seconds and bytes. */
async function rawCompress(base, out) {
  rmSync(out, { force: true });
  const r = await sh(`tar -C ${q(base)} -cf - . | zstd -q -T0 -1 > ${q(out)}`);
  const bytes = Number((await exec('stat', ['-c', '%s', out])).stdout);
  rmSync(out, { force: true });
  return { seconds: r.seconds, bytes };
}

/**
 * The same raw pipeline from a cold page cache (caches dropped first; root only, else undefined):
 * what the compress step meets when the base is no longer cached.
 */
async function rawCompressCold(base, out) {
  try {
    await sh('sync && echo 3 > /proc/sys/vm/drop_caches');
  } catch {
    return undefined;
  }
  return rawCompress(base, out);
}

/** Bytes of the base's files in the page cache (fincore), for the compress step's context. */
async function cachedBytes(base) {
  try {
    const r = await sh(
      `find ${q(base)} -type f -print0 | xargs -0 -r fincore --bytes --noheadings --output RES`,
    );
    return r.stdout
      .split('\n')
      .map(Number)
      .filter(Number.isFinite)
      .reduce((a, b) => a + b, 0);
  } catch {
    return undefined;
  }
}

/**
 * Run `fn` while sampling the base's cached bytes every second: the lowest figure is about what the
 * compress step found when it started (nothing else reads the whole base in an incremental's run).
 * This machine's hypervisor pages out memory idle for about a minute (DAMON `pageout`, min age 12 x
 * 5 s), and the DB host's incremental scan of its own datadir shares the page cache here.
 */
async function sampleCached(base, fn) {
  let min;
  let running = true;
  const loop = (async () => {
    while (running) {
      const b = await cachedBytes(base);
      if (b !== undefined) min = Math.min(min ?? b, b);
      await delay(1000);
    }
  })();
  try {
    return { result: await fn(), minCached: () => min };
  } finally {
    running = false;
    await loop;
  }
}

/** Fraction of the base below which its compress is compared with the raw pipeline from a cold cache. */
const COLD_BELOW = 0.5;

function summary(kind, h) {
  return {
    kind,
    id: h.id,
    type: h.type,
    ready: readySeconds(h),
    // The other steps' sum: the compress may run beside the verify (readySeconds).
    ready_without_compress: h.ready.steps
      .filter((x) => x.step !== 'compress')
      .reduce((s, x) => s + x.seconds, 0),
    compress: stepSeconds(h, 'compress'),
    steps: h.ready.steps,
    ready_bytes: h.ready.bytes,
    check: h.ready.check ? { scope: h.ready.check.scope, tables: h.ready.check.tables } : undefined,
  };
}

function pct(part, whole) {
  return part === undefined || !whole ? '-' : `${Math.round((100 * part) / whole)} %`;
}

function stepsOf(s) {
  const o = {};
  for (const x of s.steps) o[x.step] = (o[x.step] ?? 0) + x.seconds;
  return o;
}

/**
 * Run case 8 and push its rows. ctx: { sb, cli, work, reps, warmup, rowsPerTable, rows, details,
 * results }.
 */
export async function readyCase(ctx) {
  const { sb, cli, work, reps, rowsPerTable, rows, details, results } = ctx;
  await sb.up(3);
  const dS = await sb.ensureData(S_HOST, 'sbtest', rowsPerTable);
  let big = { db: 0, datadir: 0 };
  for (const db of ['sbtest', ...EXTRA_DBS]) {
    const d = await sb.ensureData(BIG_HOST, db, rowsPerTable);
    big = { db: big.db + d.db, datadir: d.datadir };
  }
  results.sizes.case8 = {
    s: { host: S_HOST, tables: 4, db_bytes: dS.db, datadir_bytes: dS.datadir },
    four_s: { host: BIG_HOST, tables: 16, db_bytes: big.db, datadir_bytes: big.datadir },
  };
  log(
    `case 8: S = ${(dS.datadir / 1e6).toFixed(0)} MB datadir (${S_HOST}), ` +
      `4S = ${(big.datadir / 1e6).toFixed(0)} MB datadir (${BIG_HOST})`,
  );
  const sizes = {
    s: { host: S_HOST, xb: new XbMgr(cli, sb, join(work, 'ready-s')), samples: [] },
    four_s: { host: BIG_HOST, xb: new XbMgr(cli, sb, join(work, 'ready-4s')), samples: [] },
  };
  const rawOut = join(work, 'ready-raw.tar.zst');
  mkdirSync(work, { recursive: true });

  const cycle = async (key) => {
    const { host, xb } = sizes[key];
    const base = join(xb.hostRoot(host), 'prepare', 'base');
    xb.reset();
    const f = (await xb.run(['--host', host, '--now', FULL_AT])).report.hosts[0];
    if (f.type !== 'full') throw new Error(`case 8 ${key}: expected a full backup, got ${f.type}`);
    const rawFull = await rawCompress(base, rawOut);
    const rawFullCold = await rawCompressCold(base, rawOut);
    const baseFull = await duBytes(base);
    await touchOneTable(sb, host);
    const cachedBeforeInc = await cachedBytes(base);
    const sampled = await sampleCached(base, () => xb.run(['--host', host, '--now', INC_AT]));
    const i = sampled.result.report.hosts[0];
    if (i.type !== 'incremental') throw new Error(`case 8 ${key}: expected an incremental, got ${i.type}`);
    const rawInc = await rawCompress(base, rawOut);
    const rawIncCold = await rawCompressCold(base, rawOut);
    const baseInc = await duBytes(base);
    return {
      full: {
        ...summary('full', f),
        base_bytes: baseFull,
        raw_compress: rawFull,
        raw_compress_cold: rawFullCold,
      },
      incremental: {
        ...summary('incremental', i),
        base_bytes: baseInc,
        raw_compress: rawInc,
        raw_compress_cold: rawIncCold,
        base_cached_before_run: cachedBeforeInc,
        base_cached_min_during_run: sampled.minCached(),
      },
    };
  };

  if (ctx.warmup) {
    log('case 8: warm-up (one full + incremental at each size; not measured)');
    for (const key of ['s', 'four_s']) await cycle(key);
  }
  for (let r = 0; r < reps; r++) {
    for (const key of r % 2 === 0 ? ['s', 'four_s'] : ['four_s', 's']) {
      const c = await cycle(key);
      sizes[key].samples.push(c);
      log(
        `case 8 ${r + 1}/${reps} ${key === 's' ? 'S' : '4S'}: ready full ${c.full.ready.toFixed(1)} s, ` +
          `incremental ${c.incremental.ready.toFixed(1)} s (${c.incremental.ready_without_compress.toFixed(1)} s ` +
          `without compress; checked ${c.incremental.check?.tables} tables); compress ` +
          `${c.incremental.compress} s vs raw ${c.incremental.raw_compress.seconds.toFixed(1)} s ` +
          `(cold ${c.incremental.raw_compress_cold?.seconds.toFixed(1) ?? '-'} s; base cached at least ` +
          `${pct(c.incremental.base_cached_min_during_run, c.incremental.base_bytes)} during the run); full's compress ` +
          `${c.full.compress} s vs raw ${c.full.raw_compress.seconds.toFixed(1)} s ` +
          `(cold ${c.full.raw_compress_cold?.seconds.toFixed(1) ?? '-'} s)`,
      );
    }
  }
  for (const { xb } of Object.values(sizes)) xb.reset();
  // Case 5 makes sb3 a host of size/4: leave it with sbtest only.
  for (const db of EXTRA_DBS) await sb.dropData(BIG_HOST, db);

  const S = sizes.s.samples;
  const pctText = (xs) =>
    xs.map((c) => pct(c.incremental.base_cached_min_during_run, c.incremental.base_bytes));
  const B = sizes.four_s.samples;
  details.ready_case = { s: S, four_s: B };
  rows.push(
    compare({
      caseId: 8,
      name: 'ready step of an incremental after ~1 % of one table, without compress: 4S (16 tables) vs S (4)',
      aLabel: '4S',
      bLabel: 'S',
      a: B.map((c) => c.incremental.ready_without_compress),
      b: S.map((c) => c.incremental.ready_without_compress),
      goal: { ratio: 1.5 },
    }),
  );
  for (const [key, label] of [
    ['s', 'S'],
    ['four_s', '4S'],
  ]) {
    const xs = sizes[key].samples;
    rows.push(
      compare({
        caseId: 8,
        name: `ready step at ${label}: incremental (1 % of one table) vs full (wall time of ready.steps)`,
        aLabel: 'incremental',
        bLabel: 'full',
        a: xs.map((c) => c.incremental.ready),
        b: xs.map((c) => c.full.ready),
        goal: { ratio: 1 },
      }),
    );
    // Both runs of a cycle compress a whole base: each is a sample against the raw pipeline.
    const runs = xs.flatMap((c) => [c.full, c.incremental]);
    const mbps = (bytes, s) => (bytes && s ? bytes / 1e6 / s : null);
    const xbRate = median(runs.map((x) => mbps(x.base_bytes, x.compress)));
    const rawRate = median(runs.map((x) => mbps(x.base_bytes, x.raw_compress.seconds)));
    rows.push(
      compare({
        caseId: 8,
        name: `compress step at ${label} (in the run, beside the verify) vs \`tar -C BASE -cf - . | zstd -q -T0 -1 > f\` of the same base, alone, run right after`,
        aLabel: 'compress step',
        bLabel: 'raw',
        a: runs.map((x) => x.compress),
        b: runs.map((x) => x.raw_compress.seconds),
        notes:
          `${IN_RUN_NOTE}; median throughput of the base read: ${round(xbRate, 1)} MB/s vs ${round(rawRate, 1)} MB/s raw; ` +
          `ready file ${round(median(runs.map((x) => x.ready_bytes)) / 1e6, 1)} MB vs raw ` +
          `${round(median(runs.map((x) => x.raw_compress.bytes)) / 1e6, 1)} MB`,
      }),
    );
    // Like for like: an incremental's base may have left the page cache before its compress (see
    // sampleCached); then the reference is the raw pipeline from a cold cache.
    const coldInc = (x) =>
      x.base_cached_min_during_run !== undefined &&
      x.raw_compress_cold !== undefined &&
      x.base_cached_min_during_run < COLD_BELOW * x.base_bytes;
    const sameState = (x) =>
      (x.kind === 'incremental' && coldInc(x) ? x.raw_compress_cold : x.raw_compress).seconds;
    rows.push(
      compare({
        caseId: 8,
        name: `compress step at ${label} (in the run, beside the verify) vs the raw pipeline alone in the same page-cache state (cold raw for an incremental whose base was under ${COLD_BELOW * 100} % cached before the step)`,
        aLabel: 'compress step',
        bLabel: 'raw, same cache state',
        a: runs.map((x) => x.compress),
        b: runs.map(sameState),
        notes: `${IN_RUN_NOTE}; base cached at least (incrementals): ${pctText(xs).join(', ')}; cold references: ${runs.filter((x) => x.kind === 'incremental' && coldInc(x)).length} of ${runs.length}`,
      }),
    );
    // What the overlap buys: the incremental's whole ready step against its other steps followed
    // by the raw pipeline alone (in the same cache state), as a sequential ready step would be.
    const incs = xs.map((c) => c.incremental);
    rows.push(
      compare({
        caseId: 8,
        name: `incremental's ready step at ${label} (wall) vs its other steps + the raw pipeline alone after them (same cache state)`,
        aLabel: 'ready step',
        bLabel: 'steps + raw compress',
        a: incs.map((x) => x.ready),
        b: incs.map((x) => x.ready_without_compress + sameState(x)),
      }),
    );
  }
  const md = [];
  for (const [key, label] of [
    ['s', 'S'],
    ['four_s', '4S'],
  ]) {
    const xs = sizes[key].samples;
    md.push(
      stepTable(
        `Case 8 at ${label}: median seconds per ready step`,
        'incremental',
        'full',
        xs.map((c) => stepsOf(c.incremental)),
        xs.map((c) => stepsOf(c.full)),
      ).markdown,
    );
  }
  details.markdown = { ...(details.markdown ?? {}), ready_case_steps: md.join('\n\n') };
}
