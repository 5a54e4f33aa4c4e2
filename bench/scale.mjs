#!/usr/bin/env node
// node bench/scale.mjs [--hosts 16] [--parallel 1,4,8] [--reps 1] [--out bench/scale.json]
//                      [--keep] [--sandbox-dir /tmp/xb-scale-sandbox] [--sandbox-net 127.0.36]
//
// Many hosts in one run (issue 20): N sandbox hosts with the sandbox's tiny database, one
// `xb-mgr run --full` per max_parallel_hosts value, so the per-host fixed cost dominates. Reports
// the total time per value, the per-host fixed cost (total at parallel 1 / N) and where a host's
// time went (from its log and its files), with the load average during each run. See
// docs/BENCHMARKS.md.
import { cpus, totalmem, release } from 'node:os';
import { readFileSync, writeFileSync } from 'node:fs';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { parseArgs } from 'node:util';
import { Sandbox } from './lib/sandbox.mjs';
import { XbMgr, readySeconds } from './lib/xbmgr.mjs';
import { clock, duBytes, log, median, round } from './lib/util.mjs';
import { gib, loadAverage, requireFree, scaleDiskNeed, startSampler } from './lib/scale-sample.mjs';

const repo = resolve(dirname(fileURLToPath(import.meta.url)), '..');

const USAGE = `usage: node bench/scale.mjs [options]   (as root, after npm run build)
  --hosts N          sandbox hosts (default 16)
  --parallel LIST    max_parallel_hosts values (default 1,4,8)
  --reps N           runs per value; the order of the values alternates (default 1)
  --out FILE         results (default bench/scale.json)
  --keep             leave the sandbox up at the end
  --sandbox-dir DIR  the bench's sandbox (default /tmp/xb-scale-sandbox)
  --sandbox-net NET  its loopback /24 (default 127.0.36; never 127.0.1 or 127.0.2)
Disk: about 160 MiB per host, 256 MiB per parallel slot and a 1 GiB reserve (5.5 GiB for 16
hosts at 8); it refuses to start with less free.`;

const { values: argv } = parseArgs({
  options: {
    hosts: { type: 'string', default: '16' },
    parallel: { type: 'string', default: '1,4,8' },
    reps: { type: 'string', default: '1' },
    out: { type: 'string', default: 'bench/scale.json' },
    keep: { type: 'boolean', default: false },
    'sandbox-dir': { type: 'string', default: '/tmp/xb-scale-sandbox' },
    'sandbox-net': { type: 'string', default: '127.0.36' },
    help: { type: 'boolean', default: false },
  },
});
if (argv.help) {
  console.log(USAGE);
  process.exit(0);
}
const hosts = Number(argv.hosts);
const parallels = argv.parallel.split(',').map(Number);
const reps = Number(argv.reps);
if (!Number.isInteger(hosts) || hosts < 1 || hosts > 99) throw new Error('--hosts must be 1..99');
if (!parallels.every((p) => Number.isInteger(p) && p >= 1 && p <= 64))
  throw new Error('--parallel: values 1..64');
if (!Number.isInteger(reps) || reps < 1) throw new Error('--reps must be a positive integer');

const cli = join(repo, 'dist', 'cli.js');
const sb = new Sandbox({ repo, dir: argv['sandbox-dir'], net: argv['sandbox-net'] });
const need = scaleDiskNeed(hosts, Math.max(...parallels));
try {
  requireFree(sb.dir, need, `${hosts} sandbox hosts at max_parallel_hosts ${Math.max(...parallels)}`);
} catch (e) {
  process.stderr.write(`bench: ${e.message}\n`);
  process.exit(2);
}

/** Set max_parallel_hosts in the bench's config (XbMgr wrote it into [default]). */
function setParallel(xb, p) {
  const text = readFileSync(xb.conf, 'utf8').replace(
    /^max_parallel_hosts = \d+$/m,
    `max_parallel_hosts = ${p}`,
  );
  writeFileSync(xb.conf, text, { mode: 0o600 });
}

/** Where one host's time went in a run: its log lines, its stored files, its ready steps. */
function hostBreakdown(xb, h, runId) {
  const b = xb.transferBreakdown(h.host, h, runId) ?? {};
  const steps = Object.fromEntries((h.ready?.steps ?? []).map((s) => [s.step, s.seconds]));
  const ready = readySeconds(h);
  const entries = xb.logEntries(h.host, runId);
  const t = (step) => {
    const e = entries.find((x) => x.step === step);
    return e ? Date.parse(e.time) / 1000 : undefined;
  };
  return {
    host: h.host,
    seconds: h.seconds,
    start: t('plan'),
    end: t('ready'),
    ansible_before_pull: b.ansible_before_pull,
    pull: b.pull,
    after_pull: b.after_pull,
    transfer: b.manifest_seconds,
    ready,
    ...Object.fromEntries(Object.entries(steps).map(([k, v]) => [`ready_${k}`, v])),
    // Lock, cleanup, catalog, plan before the playbook; retention after the ready step.
    other: round(h.seconds - (b.manifest_seconds ?? 0) - ready, 2),
  };
}

async function runOnce(xb, p) {
  setParallel(xb, p);
  xb.reset();
  log(`${hosts} hosts, max_parallel_hosts ${p}`);
  const stop = startSampler(sb.dir);
  const r = await xb.run(['--full']);
  const sample = await stop();
  const per = r.report.hosts.map((h) => hostBreakdown(xb, h, r.report.run_id));
  const sum = per.reduce((a, h) => a + h.seconds, 0);
  const out = {
    parallel: p,
    wall: round(r.wall, 2),
    per_host_fixed: round(r.wall / hosts, 2),
    host_seconds_sum: round(sum, 2),
    // At parallel 1 the hosts run one after the other: the rest is the run's own start and end.
    run_overhead: p === 1 ? round(r.wall - sum, 2) : undefined,
    load: sample.load,
    disk_peak_bytes: sample.disk_peak_bytes,
    peak_kb: r.peakKb,
    hosts: per,
  };
  log(`  ${out.wall} s (${out.per_host_fixed} s a host), load ${sample.load.mean} (max ${sample.load.max})`);
  return out;
}

const KEYS = [
  'seconds',
  'ansible_before_pull',
  'pull',
  'after_pull',
  'transfer',
  'ready_extract',
  'ready_prepare',
  'ready_copy',
  'ready_verify',
  'ready_compress',
  'ready',
  'other',
];

function medians(runs) {
  const hs = runs.flatMap((r) => r.hosts);
  return Object.fromEntries(KEYS.map((k) => [k, round(median(hs.map((h) => h[k])), 2)]));
}

function markdown(res) {
  const f = (x) => (x === null || x === undefined ? '—' : x.toFixed(2));
  const out = [
    `| max_parallel_hosts | total (median) | per host (total / ${hosts}) | vs parallel 1 | load avg 1-min during (mean / max) | hosts ok |`,
    '|---|---|---|---|---|---|',
  ];
  const base = res.summary.find((s) => s.parallel === 1)?.wall;
  for (const s of res.summary) {
    out.push(
      `| ${s.parallel} | ${f(s.wall)} s | ${f(s.per_host)} s | ${base ? (s.wall / base).toFixed(2) : '—'} | ` +
        `${f(s.load_mean)} / ${f(s.load_max)} | ${s.ok} |`,
    );
  }
  out.push('', `Median seconds per host (${hosts} hosts${reps > 1 ? ` x ${reps} runs` : ''}):`, '');
  out.push(`| step | ${res.summary.map((s) => `parallel ${s.parallel}`).join(' | ')} |`);
  out.push(`|---|${res.summary.map(() => '---|').join('')}`);
  const label = {
    seconds: 'whole host (lock to retention)',
    ansible_before_pull: 'Ansible start-up, play up to the pull',
    pull: 'the pull (ssh stream)',
    after_pull: 'after the pull (Ansible teardown, commit)',
    transfer: '= the playbook (manifest seconds)',
    ready_extract: 'ready: extract',
    ready_prepare: 'ready: prepare',
    ready_copy: 'ready: copy',
    ready_verify: 'ready: verify (mysqld + check)',
    ready_compress: 'ready: compress',
    ready: '= ready step',
    other: 'lock, catalog, plan, retention',
  };
  for (const k of KEYS)
    out.push(`| ${label[k]} | ${res.summary.map((s) => f(s.host_medians[k])).join(' | ')} |`);
  const p1 = res.summary.find((s) => s.parallel === 1);
  if (p1?.run_overhead !== undefined)
    out.push(
      '',
      `Run overhead at parallel 1 (CLI start-up, inventory, lock, report): ${f(p1.run_overhead)} s.`,
    );
  return out.join('\n');
}

const t0 = clock();
const results = {
  date: new Date().toISOString(),
  machine: {
    cores: cpus().length,
    cpu: cpus()[0]?.model,
    memory_bytes: totalmem(),
    kernel: release(),
    node: process.version,
    load_at_start: loadAverage(),
  },
  options: { hosts, parallel: parallels, reps, disk_needed_bytes: need },
  runs: [],
  summary: [],
};
try {
  log(`sandbox: ${hosts} hosts in ${sb.dir} on ${sb.net}.x (needs ${gib(need)} GiB free)`);
  const tUp = clock();
  await sb.up(hosts);
  results.sandbox_up_seconds = round(clock() - tUp, 1);
  const xb = new XbMgr(cli, sb, join(sb.dir, 'work', 'scale'), { maxParallelHosts: Math.max(...parallels) });
  // Unmeasured first run: installs the helper on every host (a manager that ran before skips it).
  log('warm-up run (installs the helper on every host)');
  await xb.run(['--full']);
  for (let rep = 0; rep < reps; rep++) {
    const order = rep % 2 === 0 ? parallels : [...parallels].reverse();
    for (const p of order) {
      results.runs.push({ rep, ...(await runOnce(xb, p)) });
      writeFileSync(argv.out, JSON.stringify(results, null, 2) + '\n');
    }
  }
  for (const p of parallels) {
    const runs = results.runs.filter((r) => r.parallel === p);
    const wall = median(runs.map((r) => r.wall));
    results.summary.push({
      parallel: p,
      wall: round(wall, 2),
      per_host: round(wall / hosts, 2),
      load_mean: round(median(runs.map((r) => r.load.mean)), 2),
      load_max: Math.max(...runs.map((r) => r.load.max)),
      disk_peak_bytes: Math.max(...runs.map((r) => r.disk_peak_bytes)),
      run_overhead: p === 1 ? round(median(runs.map((r) => r.run_overhead)), 2) : undefined,
      ok: `${runs[0].hosts.length}/${hosts}`,
      host_medians: medians(runs),
    });
  }
  // What the bench itself holds on disk at the end (sandbox hosts and the catalog of the last run);
  // disk_peak_bytes of a run is the whole file system's, other users' work included.
  results.sandbox_bytes = await duBytes(sb.dir);
  results.seconds = round(clock() - t0, 1);
  results.markdown = markdown(results);
  writeFileSync(argv.out, JSON.stringify(results, null, 2) + '\n');
  console.log(results.markdown);
} finally {
  if (!argv.keep) await sb.down().catch((e) => log(`sandbox down failed: ${e.message}`));
}
