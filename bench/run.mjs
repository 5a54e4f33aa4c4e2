#!/usr/bin/env node
// npm run bench -- [--size 1GB] [--reps 3] [--cases 1,2,3,4,5,6,7,8] [--out bench/results.json]
//                  [--smoke] [--keep] [--no-warmup] [--sandbox-dir DIR] [--sandbox-net 127.0.3]
//
// Benchmarks of xb-mgr against the same work done by hand, on a sandbox of its own (never the
// tests' one): each case runs xb-mgr and the hand-run commands interleaved, several times, and
// reports medians and ratios. See docs/BENCHMARKS.md.
import { cpus, totalmem, release } from 'node:os';
import { copyFileSync, mkdirSync, readdirSync, rmSync, writeFileSync } from 'node:fs';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { parseArgs } from 'node:util';
import { Sandbox } from './lib/sandbox.mjs';
import { requireFree } from './lib/scale-sample.mjs';
import { XbMgr, readySeconds } from './lib/xbmgr.mjs';
import { CASE8_DISK_PER_S, readyCase } from './lib/ready-case.mjs';
import { rawReady, rawRestore, rawTinyCycles, rawTransfer, replayChain } from './lib/raw.mjs';
import { compare, markdownTable, stepTable } from './lib/report.mjs';
import { clock, exec, log, median, round, sh } from './lib/util.mjs';

const repo = resolve(dirname(fileURLToPath(import.meta.url)), '..');
const HOST = 'sb1';

const USAGE = `usage: npm run bench -- [options]
  --size SIZE        InnoDB data on the DB host (default 1GB; e.g. 200MB)
  --reps N           repetitions of each measure, interleaved (default 3)
  --cases LIST       subset of 1,2,3,4,5,6,7,8 (default 1-7; case 8, the ready step at 4S vs S,
                     runs only when asked: it needs about 29 GB of disk at 1GB)
  --out FILE         results (default bench/results.json)
  --smoke            quick check: 20MB, 1 rep, cases 1 and 4 (under ~2 minutes)
  --keep             leave the sandbox up at the end (and reuse its data next time)
  --no-warmup        no unmeasured first cycle
  --sandbox-dir DIR  the benchmark's sandbox (default /tmp/xb-bench-sandbox)
  --sandbox-net NET  its loopback /24 (default 127.0.3; never 127.0.1 or 127.0.2)`;

function parseSize(s) {
  const m = /^(\d+(?:\.\d+)?)\s*(k|m|g)?b?$/i.exec(String(s).trim());
  if (!m) throw new Error(`--size ${s}: expected e.g. 200MB or 1GB`);
  return Math.round(Number(m[1]) * { k: 1e3, m: 1e6, g: 1e9 }[(m[2] ?? 'm').toLowerCase()]);
}

const { values: argv } = parseArgs({
  options: {
    size: { type: 'string' },
    reps: { type: 'string' },
    cases: { type: 'string' },
    out: { type: 'string', default: 'bench/results.json' },
    smoke: { type: 'boolean', default: false },
    keep: { type: 'boolean', default: false },
    'no-warmup': { type: 'boolean', default: false },
    'sandbox-dir': { type: 'string', default: '/tmp/xb-bench-sandbox' },
    'sandbox-net': { type: 'string', default: '127.0.3' },
    help: { type: 'boolean', default: false },
  },
});
if (argv.help) {
  console.log(USAGE);
  process.exit(0);
}
const size = parseSize(argv.size ?? (argv.smoke ? '20MB' : '1GB'));
const reps = Number(argv.reps ?? (argv.smoke ? 1 : 3));
const cases = new Set((argv.cases ?? (argv.smoke ? '1,4' : '1,2,3,4,5,6,7')).split(',').map(Number));
const warmup = !argv['no-warmup'] && !argv.smoke;
if (!Number.isInteger(reps) || reps < 1) throw new Error('--reps must be a positive integer');
for (const c of cases) if (!(c >= 1 && c <= 8)) throw new Error(`--cases: unknown case ${c}`);

const cli = join(repo, 'dist', 'cli.js');
const sb = new Sandbox({ repo, dir: argv['sandbox-dir'], net: argv['sandbox-net'] });

/**
 * Disk the bench needs at data size S (from the 1 GB run's sizes): datadir about 1.2 S, xb-mgr's
 * catalog kept between samples about 2.1 S plus a verify copy while a run lasts, the hand-run
 * directory about 3.3 S: 7 S + 2 GiB for cases 1-5; case 6 adds a second database and runs at 2S:
 * 10 S + 2 GiB. About 9 GB at 1 GB, 30 GB at 4 GB. Case 8 (a second host at 4S: ready-case.mjs)
 * adds about 26 S (the 4S host's data and catalog, and the free space xb-mgr's ready step of the 4S
 * full asks for): alone about 29 GB at 1 GB.
 */
export function diskNeed(s, withCase6, withCase8 = false, others = true) {
  const base = others ? (withCase6 ? 10 : 7) * s : 1.2 * s;
  return base + (withCase8 ? CASE8_DISK_PER_S * s : 0) + 2 * 1024 ** 3;
}
{
  const others = [1, 2, 3, 4, 5, 6, 7].some((c) => cases.has(c));
  const need = diskNeed(size, cases.has(6), cases.has(8), others);
  try {
    requireFree(sb.dir, need, `the bench at ${(size / 1e6).toFixed(0)} MB`);
  } catch (e) {
    console.error(`bench: ${e.message} (--size smaller, or --sandbox-dir on a bigger file system)`);
    process.exit(2);
  }
}
const work = join(sb.dir, 'work');
const rows = [];
const details = {};
const results = {
  date: new Date().toISOString(),
  machine: {},
  options: { size, reps, cases: [...cases], smoke: argv.smoke, warmup },
  sizes: {},
  cases: rows,
  details,
};
const t0 = clock();

async function machine() {
  const fs = await exec('findmnt', ['-no', 'FSTYPE', '-T', sb.dir.replace(/\/[^/]*$/, '') || '/'], {
    check: false,
  });
  const v = async (cmd, args) => (await exec(cmd, args, { check: false })).stdout.trim().split('\n')[0];
  return {
    cores: cpus().length,
    cpu: cpus()[0]?.model,
    memory_bytes: totalmem(),
    filesystem: fs.stdout.trim(),
    kernel: release(),
    node: process.version,
    mariadb: await v('mariadbd', ['--version']),
    zstd: await v('zstd', ['--version']),
    ansible: await v('ansible', ['--version']),
    ssh: (await exec('ssh', ['-V'], { check: false })).stderr.trim(),
  };
}

// Case 1 (and the full-backup halves of 2 and 3): the whole cycle, xb-mgr vs by hand, interleaved.
async function fullCycles() {
  const xb = new XbMgr(cli, sb, join(work, 'full'));
  const rawDir = join(work, 'raw-full');
  mkdirSync(rawDir, { recursive: true });
  const xs = [];
  const rs = [];
  const xbOnce = async () => {
    xb.reset();
    const r = await xb.run(['--full']);
    const h = r.report.hosts[0];
    const m = xb.manifest(HOST, h);
    return {
      wall: r.wall,
      host_seconds: h.seconds,
      transfer: m.seconds,
      ready: readySeconds(h),
      steps: Object.fromEntries(h.ready.steps.map((s) => [s.step, s.seconds])),
      breakdown: xb.transferBreakdown(HOST, h, r.report.run_id),
      peak_kb: r.peakKb,
      stream_bytes: m.bytes,
      ready_bytes: h.ready.bytes,
    };
  };
  const rawOnce = async () => {
    const stream = join(rawDir, 'stream.xbstream.zst');
    const ts = clock();
    const transfer = await rawTransfer(sb, HOST, stream);
    const ready = await rawReady(stream, join(rawDir, 'work'), join(rawDir, 'ready.tar.zst'));
    return { wall: clock() - ts, transfer, ready: ready.total, steps: ready.steps };
  };
  if (warmup) {
    log('warm-up: one xb-mgr cycle and one cycle by hand (not measured)');
    await xbOnce();
    await rawOnce();
  }
  for (let i = 0; i < reps; i++) {
    // Alternate who goes first, so neither always runs on the other's warm caches.
    for (const who of i % 2 === 0 ? ['xb', 'raw'] : ['raw', 'xb']) {
      if (who === 'xb') {
        const s = await xbOnce();
        xs.push(s);
        log(
          `full cycle ${i + 1}/${reps} xb-mgr: ${s.wall.toFixed(1)} s (transfer ${s.transfer}, ready ${s.ready.toFixed(1)})`,
        );
      } else {
        const s = await rawOnce();
        rs.push(s);
        log(
          `full cycle ${i + 1}/${reps} by hand: ${s.wall.toFixed(1)} s (transfer ${s.transfer.toFixed(1)}, ready ${s.ready.toFixed(1)})`,
        );
      }
    }
  }
  results.sizes.stream_bytes = median(xs.map((s) => s.stream_bytes));
  results.sizes.ready_bytes = median(xs.map((s) => s.ready_bytes));
  details.full_cycle = { xbmgr: xs, by_hand: rs };
  if (cases.has(1)) {
    rows.push(
      compare({
        caseId: 1,
        name: 'whole cycle, full backup (`run --full` vs ssh|zstd, extract, prepare, cp, mysqld+check, tar|zstd)',
        aLabel: 'xb-mgr',
        bLabel: 'by hand',
        a: xs.map((s) => s.wall),
        b: rs.map((s) => s.wall),
        goal: { ratio: 1.15, diff: 3 },
      }),
    );
  }
  // Measured anyway by the full cycles: reported whether or not cases 2 and 3 were asked for.
  {
    rows.push(
      compare({
        caseId: 2,
        name: 'transfer, full (manifest `seconds` vs `ssh … | zstd > file`)',
        aLabel: 'xb-mgr',
        bLabel: 'by hand',
        a: xs.map((s) => s.transfer),
        b: rs.map((s) => s.transfer),
        goal: { diff: 1 }, // issue 20: the raw pipeline + 1 s
      }),
    );
  }
  {
    rows.push(
      compare({
        caseId: 3,
        name: 'ready step, full (its wall time: ready.steps, verify and compress overlapping, vs extract, prepare, cp -a, mysqld+check, tar|zstd)',
        aLabel: 'xb-mgr',
        bLabel: 'by hand',
        a: xs.map((s) => s.ready),
        b: rs.map((s) => s.ready),
        goal: { ratio: 1.25 },
      }),
      compare({
        caseId: 3,
        name: 'ready step, full, vs by hand without the copy (verify the base itself)',
        aLabel: 'xb-mgr',
        bLabel: 'by hand, no cp',
        a: xs.map((s) => s.ready),
        b: rs.map((s) => s.ready - (s.steps.copy ?? 0)),
        goal: null,
      }),
    );
  }
  const st = stepTable(
    'Ready step, full backup: median seconds per step',
    'xb-mgr',
    'by hand',
    xs.map((s) => s.steps),
    rs.map((s) => s.steps),
  );
  const bd = {};
  for (const k of ['ansible_before_pull', 'pull', 'after_pull']) {
    bd[k] = round(median(xs.map((s) => s.breakdown?.[k]).filter((x) => x !== undefined)), 3);
  }
  bd.other = round(median(xs.map((s) => s.wall - s.transfer - s.ready)), 3);
  details.full_cycle_summary = { ready_steps: st.rows, transfer_breakdown: bd };
  details.markdown = { ...(details.markdown ?? {}), ready_steps: st.markdown };
  return xb;
}

// Case 4: restore of the newest ready file into a directory, xb-mgr vs zstd -dc | tar -x.
async function restoreCase(xb) {
  if (!xb) {
    xb = new XbMgr(cli, sb, join(work, 'full'));
    xb.reset();
    await xb.run(['--full']);
  }
  const ready = JSON.parse(
    (await sh(`ls -t ${xb.hostRoot(HOST)}/ready/*.json | head -1 | xargs cat`)).stdout,
  );
  const file = join(xb.hostRoot(HOST), 'ready', ready.file);
  const a = [];
  const b = [];
  const tx = join(work, 'restore-xb');
  const tr = join(work, 'restore-raw');
  for (let i = 0; i < reps; i++) {
    for (const who of i % 2 === 0 ? ['xb', 'raw'] : ['raw', 'xb']) {
      if (who === 'xb') {
        rmSync(tx, { recursive: true, force: true });
        a.push((await xb.restore(HOST, tx)).wall);
      } else {
        b.push(await rawRestore(file, tr));
      }
    }
    log(`restore ${i + 1}/${reps}: xb-mgr ${a.at(-1).toFixed(2)} s, by hand ${b.at(-1).toFixed(2)} s`);
  }
  rmSync(tx, { recursive: true, force: true });
  rmSync(tr, { recursive: true, force: true });
  rows.push(
    compare({
      caseId: 4,
      name: 'restore into a directory (`restore --target-dir` vs `zstd -dc | tar -x`)',
      aLabel: 'xb-mgr',
      bLabel: 'by hand',
      a,
      b,
      goal: { ratio: 1.1 },
    }),
  );
}

// Cases 2 (incremental transfer) and 3 (growth along a chain): a week, full + 6 incrementals, about
// 1 % of the rows changed before each incremental; the raw incremental starts from the same LSN.
async function chainCase() {
  const xb = new XbMgr(cli, sb, join(work, 'chain'));
  xb.reset();
  const rawDir = join(work, 'raw-inc');
  mkdirSync(rawDir, { recursive: true });
  const runs = [];
  const rawInc = [];
  let parentLsn;
  for (let k = 1; k <= 7; k++) {
    const now = `2026-11-${String(21 + k).padStart(2, '0')}T01:00:00Z`; // 22 = Sunday
    if (k > 1) await sb.touchOnePercent(HOST);
    const order = k % 2 === 0 ? ['xb', 'raw'] : ['raw', 'xb'];
    for (const who of order) {
      if (who === 'raw' && k === 1) continue;
      if (who === 'xb') {
        const r = await xb.run(['--now', now]);
        const h = r.report.hosts[0];
        const m = xb.manifest(HOST, h);
        if ((k === 1) !== (h.type === 'full')) throw new Error(`chain run ${k}: unexpected ${h.type} backup`);
        runs.push({
          run: k,
          type: h.type,
          wall: r.wall,
          transfer: m.seconds,
          ready: readySeconds(h),
          steps: h.ready.steps,
          stream_bytes: m.bytes,
          to_lsn: m.to_lsn,
          from_lsn: m.from_lsn,
          parent_lsn: parentLsn,
        });
      } else {
        const f = join(rawDir, `inc-${k}.xbstream.zst`);
        const s = await rawTransfer(sb, HOST, f, { incrementalLsn: parentLsn });
        const bytes = Number((await exec('stat', ['-c', '%s', f])).stdout);
        rawInc.push({ run: k, transfer: s, stream_bytes: bytes, from_lsn: parentLsn });
        rmSync(f, { force: true });
      }
    }
    parentLsn = runs.at(-1).to_lsn;
    const last = runs.at(-1);
    log(
      `chain run ${k} (${last.type}): xb-mgr transfer ${last.transfer} s, ready ${last.ready.toFixed(1)} s` +
        (k > 1 ? `; by hand incremental ${rawInc.at(-1).transfer.toFixed(1)} s` : ''),
    );
  }
  details.chain = { xbmgr: runs, by_hand_incremental: rawInc };
  const incs = runs.filter((r) => r.type === 'incremental');
  if (cases.has(2)) {
    rows.push(
      compare({
        caseId: 2,
        name: 'transfer, incremental after ~1 % of rows changed (`--incremental-lsn`)',
        aLabel: 'xb-mgr',
        bLabel: 'by hand',
        a: incs.map((r) => r.transfer),
        b: rawInc.map((r) => r.transfer),
        goal: { diff: 1 }, // issue 20: the raw pipeline + 1 s
      }),
    );
  }
  if (!cases.has(3)) return;
  rows.push(
    compare({
      caseId: 3,
      name: 'ready step along a chain: run 7 (6th incremental) vs run 1 (full)',
      aLabel: 'run 7',
      bLabel: 'run 1',
      a: [runs[6].ready],
      b: [runs[0].ready],
      goal: { ratio: 1.3 },
      notes: `ready seconds of runs 1..7: ${runs.map((r) => r.ready.toFixed(1)).join(', ')}`,
    }),
  );
  // The reference: replay the whole chain every run (what the original tool did), at runs 1, 4, 7.
  const streams = xb.chainStreams(HOST);
  const replay = {};
  for (const n of [1, 4, 7]) {
    const r = await replayChain(streams.slice(0, n), join(work, 'replay'), join(work, 'replay.tar.zst'));
    replay[n] = r;
    log(`replay of the chain up to run ${n}: ${r.total.toFixed(1)} s`);
  }
  rmSync(join(work, 'replay.tar.zst'), { force: true });
  details.replay = replay;
  rows.push(
    compare({
      caseId: 3,
      name: 'reference: replay the whole chain each run (original tool), run 7 vs run 1',
      aLabel: 'run 7',
      bLabel: 'run 1',
      a: [replay[7].total],
      b: [replay[1].total],
      goal: null,
      notes: `replay seconds at runs 1, 4, 7: ${[1, 4, 7].map((n) => replay[n].total.toFixed(1)).join(', ')}`,
    }),
  );
  xb.reset();
}

// Case 6: the controller's peak memory on a full run at size S and 2S (a second sysbench database).
async function memoryCase(rowsPerTable) {
  const xb = new XbMgr(cli, sb, join(work, 'memory'));
  const n = Math.min(reps, 2);
  const sample = async () => {
    const out = [];
    for (let i = 0; i < n; i++) {
      xb.reset();
      const r = await xb.run(['--full']);
      out.push({ peak_mb: r.peakKb / 1024, stream_bytes: r.report.hosts[0].bytes, wall: r.wall });
    }
    return out;
  };
  const s1 = await sample();
  log(`memory at S: ${s1.map((s) => s.peak_mb.toFixed(1)).join(', ')} MB`);
  const d2 = await sb.ensureData(HOST, 'sbtest2', rowsPerTable);
  results.sizes.memory_2s_datadir_bytes = d2.datadir;
  const s2 = await sample();
  log(`memory at 2S: ${s2.map((s) => s.peak_mb.toFixed(1)).join(', ')} MB`);
  await sb.dropData(HOST, 'sbtest2');
  xb.reset();
  details.memory = { s: s1, two_s: s2 };
  rows.push(
    compare({
      caseId: 6,
      name: `peak memory (VmHWM) of the xb-mgr process, full run at 2S vs S (streams ${(median(s2.map((s) => s.stream_bytes)) / 1e6).toFixed(0)} vs ${(median(s1.map((s) => s.stream_bytes)) / 1e6).toFixed(0)} MB)`,
      unit: 'MB',
      aLabel: '2S',
      bLabel: 'S',
      a: s2.map((s) => s.peak_mb),
      b: s1.map((s) => s.peak_mb),
      goal: { ratio: 1.1 },
    }),
  );
}

// Case 5: four hosts with size/4 each, one `run --full`, max_parallel_hosts = 4 vs 1.
async function parallelCase(rowsPerTable) {
  await sb.up(4);
  const per = Math.max(1000, Math.round(rowsPerTable / 4));
  const hosts = ['sb1', 'sb2', 'sb3', 'sb4'];
  const bytes = [];
  for (const h of hosts) bytes.push((await sb.ensureData(h, 'sbtest', per)).db);
  results.sizes.parallel_per_host_db_bytes = bytes;
  const p4 = new XbMgr(cli, sb, join(work, 'par4'), { maxParallelHosts: 4 });
  const p1 = new XbMgr(cli, sb, join(work, 'par1'), { maxParallelHosts: 1 });
  const a = [];
  const b = [];
  const perHost = { parallel: [], serial: [] };
  for (let i = 0; i < reps; i++) {
    for (const who of i % 2 === 0 ? [p4, p1] : [p1, p4]) {
      who.reset();
      const r = await who.run(['--full']);
      const secs = r.report.hosts.map((h) => h.seconds);
      if (who === p4) {
        a.push(r.wall);
        perHost.parallel.push(secs);
      } else {
        b.push(r.wall);
        perHost.serial.push(secs);
      }
    }
    log(`4 hosts ${i + 1}/${reps}: parallel ${a.at(-1).toFixed(1)} s, serial ${b.at(-1).toFixed(1)} s`);
  }
  p4.reset();
  p1.reset();
  details.parallel = perHost;
  rows.push(
    compare({
      caseId: 5,
      name: `4 hosts × ${(median(bytes) / 1e6).toFixed(0)} MB, one \`run --full\`: max_parallel_hosts 4 vs 1`,
      aLabel: 'parallel 4',
      bLabel: 'serial',
      a,
      b,
      goal: null,
    }),
  );
}

// Case 7: the demo's tiny database (the sandbox's sample data on sb2, nothing to install): a
// Sunday full and the Monday incremental, `xb-mgr run` against the same cycles by hand.
const TINY = 'sb2';
async function tinyCase() {
  await sb.up(2);
  const xb = new XbMgr(cli, sb, join(work, 'tiny'));
  const rawDir = join(work, 'raw-tiny');
  const xbOnce = async () => {
    xb.reset();
    const full = await xb.run(['--host', TINY, '--now', '2026-11-22T01:00:00Z']);
    const inc = await xb.run(['--host', TINY, '--now', '2026-11-23T01:00:00Z']);
    const f = full.report.hosts[0];
    const i = inc.report.hosts[0];
    if (f.type !== 'full' || i.type !== 'incremental')
      throw new Error('tiny: expected a full, then an incremental');
    const step = (h) => ({
      transfer: xb.manifest(TINY, h).seconds,
      ready: readySeconds(h),
      host: h.seconds,
      steps: Object.fromEntries(h.ready.steps.map((s) => [s.step, s.seconds])),
    });
    return { full: full.wall, incremental: inc.wall, full_steps: step(f), incremental_steps: step(i) };
  };
  const rawOnce = () => rawTinyCycles(sb, TINY, rawDir);
  if (warmup) {
    log('tiny: warm-up (installs the helper on sb2; not measured)');
    await xbOnce();
    await rawOnce();
  }
  const xs = [];
  const rs = [];
  for (let i = 0; i < reps; i++) {
    for (const who of i % 2 === 0 ? ['xb', 'raw'] : ['raw', 'xb']) {
      if (who === 'xb') xs.push(await xbOnce());
      else rs.push(await rawOnce());
    }
    log(
      `tiny ${i + 1}/${reps}: full ${xs.at(-1).full.toFixed(1)} s vs ${rs.at(-1).full.toFixed(1)} s by hand, ` +
        `incremental ${xs.at(-1).incremental.toFixed(1)} s vs ${rs.at(-1).incremental.toFixed(1)} s`,
    );
  }
  xb.reset();
  details.tiny = { xbmgr: xs, by_hand: rs };
  for (const kind of ['full', 'incremental']) {
    rows.push(
      compare({
        caseId: 7,
        name: `tiny database (the demo's), ${kind} run: \`xb-mgr run\` vs the same cycle by hand`,
        aLabel: 'xb-mgr',
        bLabel: 'by hand',
        a: xs.map((s) => s[kind]),
        b: rs.map((s) => s[kind]),
        goal: { diff: 3 }, // issue 20: the hand-run cycle + 3 s
        notes:
          `xb-mgr median transfer ${median(xs.map((s) => s[kind + '_steps'].transfer))} s, ready ` +
          `${round(median(xs.map((s) => s[kind + '_steps'].ready)), 2)} s; by hand transfer ` +
          `${round(median(rs.map((s) => s[kind + '_steps'].transfer)), 2)} s`,
      }),
    );
  }
}

// Where the fixed costs are: each piece timed on its own.
async function diagnostics(xb) {
  const d = {};
  const med = async (fn, n = 3) => {
    const v = [];
    for (let i = 0; i < n; i++) v.push(await fn());
    return round(median(v), 3);
  };
  const inv = join(sb.dir, 'inventory', 'hosts');
  d.node_cli_start = await med(async () => (await exec('node', [cli, '--version'])).seconds);
  d.ansible_inventory_list = await med(
    async () => (await exec('ansible-inventory', ['-i', inv, '--list'])).seconds,
  );
  d.ansible_ping_one_host = await med(
    async () =>
      (
        await exec('ansible', [HOST, '-i', inv, '-m', 'ansible.builtin.ping'], {
          env: { ANSIBLE_PIPELINING: 'true', ANSIBLE_SSH_ARGS: '-o ControlMaster=no' },
        })
      ).seconds,
  );
  d.ssh_connect_true = await med(
    async () => (await exec(sb.ssh(HOST)[0], [...sb.ssh(HOST).slice(1), 'true'])).seconds,
  );
  const stream = join(work, 'diag.xbstream.zst');
  d.raw_transfer_default_cipher = await med(() => rawTransfer(sb, HOST, stream));
  d.raw_transfer_aes128_gcm = await med(() =>
    rawTransfer(sb, HOST, stream, { sshExtra: ['-c', 'aes128-gcm@openssh.com'] }),
  );
  d.sha256sum_stream = await med(async () => (await exec('sha256sum', [stream])).seconds);
  const readyFiles = (await sh(`ls ${xb.hostRoot(HOST)}/ready/*.tar.zst`)).stdout.trim().split('\n');
  d.sha256sum_ready = await med(async () => (await exec('sha256sum', [readyFiles[0]])).seconds);
  d.stream_bytes = Number((await exec('stat', ['-c', '%s', stream])).stdout);
  rmSync(stream, { force: true });
  rmSync(stream + '.log', { force: true });
  d.backup_playbook = await playbookTasks(join(work, 'diag-pb'));
  details.diagnostics = d;
}

// backup.yml run by hand with xb-mgr's Ansible settings and the json callback: seconds per task.
async function playbookTasks(dir) {
  rmSync(dir, { recursive: true, force: true });
  mkdirSync(join(dir, 'cp'), { recursive: true });
  const cred = join(dir, 'cred.cnf');
  copyFileSync(sb.confValue(HOST, 'remote_credentials_file'), cred);
  const vars = {
    xb_host_settings: {
      [HOST]: {
        remote_backup_cmd: sb.confValue(HOST, 'remote_backup_cmd'),
        credentials_file: sb.confValue(HOST, 'remote_credentials_file'),
        credentials_src: cred,
        tool: 'mariabackup',
      },
    },
    xb_hosts: HOST,
    xb_out_dir: join(dir, 'out'),
    xb_type: 'full',
    xb_tool_args: ['--backup', '--stream=xbstream', '--parallel=2'],
  };
  writeFileSync(join(dir, 'vars.json'), JSON.stringify(vars));
  const r = await exec(
    'ansible-playbook',
    [
      '-i',
      join(sb.dir, 'inventory', 'hosts'),
      '-l',
      HOST,
      '-e',
      `@${join(dir, 'vars.json')}`,
      join(repo, 'playbooks', 'backup.yml'),
    ],
    {
      env: {
        ANSIBLE_STDOUT_CALLBACK: 'ansible.posix.json',
        ANSIBLE_PIPELINING: 'true',
        ANSIBLE_PYTHON_INTERPRETER: 'auto_silent',
        ANSIBLE_SSH_ARGS: '-o ControlMaster=auto -o ControlPersist=60s',
        ANSIBLE_SSH_CONTROL_PATH_DIR: join(dir, 'cp'),
        ANSIBLE_LOCAL_TEMP: join(dir, 'tmp'),
      },
    },
  );
  const doc = JSON.parse(r.stdout);
  const tasks = doc.plays[0].tasks.map((t) => ({
    task: t.task.name,
    seconds: round((Date.parse(t.task.duration.end) - Date.parse(t.task.duration.start)) / 1000, 3),
  }));
  const inTasks = tasks.reduce((s, t) => s + t.seconds, 0);
  for (const f of readdirSync(join(dir, 'cp'))) {
    await exec('ssh', ['-o', `ControlPath=${join(dir, 'cp', f)}`, '-O', 'exit', 'x'], { check: false });
  }
  rmSync(dir, { recursive: true, force: true });
  return { wall: round(r.seconds, 3), tasks, outside_tasks: round(r.seconds - inTasks, 3) };
}

const out = resolve(repo, argv.out);

/** Write the results so far (after each case, so an interrupted run keeps what it measured). */
function save(partial) {
  rows.sort((x, y) => x.case - y.case);
  results.partial = partial;
  results.markdown = markdownTable(rows);
  mkdirSync(dirname(out), { recursive: true });
  writeFileSync(out, JSON.stringify(results, null, 2) + '\n');
  return results.markdown;
}

async function main() {
  mkdirSync(work, { recursive: true });
  log(
    `sandbox ${sb.dir} on ${sb.net}.x; size ${(size / 1e6).toFixed(0)} MB, ${reps} reps, cases ${[...cases].join(',')}`,
  );
  await sb.up(1);
  results.machine = await machine();
  const rowsPerTable = Sandbox.rowsFor(size);
  const tg = clock();
  const d = await sb.ensureData(HOST, 'sbtest', rowsPerTable);
  results.sizes = {
    target_bytes: size,
    rows_per_table: rowsPerTable,
    tables: 4,
    sbtest_bytes: d.db,
    datadir_bytes: d.datadir,
    generate_seconds: round(clock() - tg, 1),
  };
  log(`data: sbtest ${(d.db / 1e6).toFixed(0)} MB, datadir ${(d.datadir / 1e6).toFixed(0)} MB`);
  let xb;
  if (cases.has(1) || cases.has(2) || cases.has(3)) xb = await fullCycles();
  save(true);
  if (cases.has(4)) await restoreCase(xb);
  if (xb && !argv.smoke) await diagnostics(xb);
  save(true);
  xb?.reset();
  if (cases.has(2) || cases.has(3)) await chainCase();
  save(true);
  if (cases.has(6)) await memoryCase(rowsPerTable);
  save(true);
  if (cases.has(7)) await tinyCase();
  save(true);
  if (cases.has(8)) {
    await readyCase({ sb, cli, work, reps, warmup, rowsPerTable, rows, details, results });
    save(true);
  }
  if (cases.has(5)) await parallelCase(rowsPerTable);
  results.seconds = round(clock() - t0, 1);
}

let failed;
try {
  await main();
} catch (e) {
  failed = e;
  results.error = String(e?.message ?? e);
} finally {
  if (!argv.keep) {
    await sb.down().catch((e) => log(`sandbox down failed: ${e.message}`));
  }
}
const table = save(false);
console.log(table);
if (details.markdown?.ready_steps) console.log('\n' + details.markdown.ready_steps);
if (details.markdown?.ready_case_steps) console.log('\n' + details.markdown.ready_case_steps);
if (details.full_cycle_summary)
  console.log(
    '\ntransfer breakdown (median s):',
    JSON.stringify(details.full_cycle_summary.transfer_breakdown),
  );
if (details.diagnostics) console.log('diagnostics (median s):', JSON.stringify(details.diagnostics));
console.log(`\nresults in ${out} (${results.seconds ?? '?'} s)`);
if (failed) {
  console.error(`bench: failed: ${failed.stack ?? failed}`);
  process.exit(1);
}
