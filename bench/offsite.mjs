#!/usr/bin/env node
// node bench/offsite.mjs [--size 200] [--samples 3] [--hosts 1] [--out bench/offsite.json] [--keep]
//
// The off-site tier against the raw tools on the same bytes and the same object store (the
// sandbox's Swift + s3api), side by side and interleaved (the order alternates per sample):
//  (a) `xb-mgr offsite sync` of a full backup and a ready file of --size MB each vs
//      `age -r KEY < file | ` the SDK's plain Upload (same part size and concurrency); goal:
//      throughput >= 0.8 of raw, i.e. a time ratio <= 1.25;
//  (b) `xb-mgr restore --from-offsite --ready latest --target-dir` vs GetObject | age -d |
//      zstd -dc | tar -x; goal <= 1.2; and (b2) the same against the issue's own reference, a raw
//      download (GetObject | age -d > f) plus the local restore of that ready file;
//  (c) the controller's peak memory (VmHWM of the xb-mgr process) of a sync with both objects
//      twice as large vs (a)'s syncs; goal <= 1.1.
// Uses the sandbox of XB_SANDBOX_DIR/XB_SANDBOX_NET (default its own), after `npm run build`.
// The machine is shared: absolute figures are noisy, the ratios are measured in the same run.
import { execFileSync } from 'node:child_process';
import { mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync, chmodSync } from 'node:fs';
import { cpus, loadavg, tmpdir } from 'node:os';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { parseArgs } from 'node:util';
import { DeleteObjectCommand, ListObjectsV2Command } from '@aws-sdk/client-s3';
import { compare, markdownTable } from './lib/report.mjs';
import { exec, log, median, round } from './lib/util.mjs';
import { syntheticItems } from './lib/offsite-data.mjs';
import { rawDownload, rawRestore, rawUpload, s3Client } from './lib/offsite-raw.mjs';

const repo = resolve(dirname(fileURLToPath(import.meta.url)), '..');
const { values: a } = parseArgs({
  options: {
    size: { type: 'string', default: '200' },
    samples: { type: 'string', default: '3' },
    // `scripts/sandbox up N` rewrites the sandbox's config for N hosts: match a sandbox already up.
    hosts: { type: 'string', default: '1' },
    out: { type: 'string', default: join(repo, 'bench', 'offsite.json') },
    // Keep the small case (its catalog, config, identity and objects) to profile a restore after.
    keep: { type: 'boolean', default: false },
  },
});
const MiB = 1 << 20;
const SIZE = Number(a.size) * 1e6;
const SAMPLES = Number(a.samples);
const PART = 16 * MiB;
const CONCURRENCY = 4;
process.env.XB_SANDBOX_DIR ??= '/tmp/xb-bench-offsite-sandbox';
process.env.XB_SANDBOX_NET ??= '127.0.6';
const sb = process.env.XB_SANDBOX_DIR;
const load0 = loadavg();

execFileSync('bash', [join(repo, 'scripts', 'sandbox'), 'up', a.hosts], {
  stdio: ['ignore', 'ignore', 'inherit'],
});
const env = Object.fromEntries(
  execFileSync('bash', [join(repo, 'scripts', 'objstore'), 'env'], { encoding: 'utf8' })
    .trim()
    .split('\n')
    .map((l) => l.split('=', 2)),
);
const secret = readFileSync(env.XB_S3_SECRET_FILE, 'utf8').trim();
const s3 = s3Client(env, secret);
const bucket = env.XB_S3_BUCKET;

const dir = mkdtempSync(join(tmpdir(), 'xb-offsite-bench-'));
chmodSync(dir, 0o711);
const identity = join(dir, 'key.txt');
execFileSync('age-keygen', ['-o', identity], { stdio: 'ignore' });
const recipient = execFileSync('age-keygen', ['-y', identity], { encoding: 'utf8' }).trim();
const ID = '20261129T010000Z';
const NOW = '2026-11-29T02:00:00Z';

/** A case: its own catalog, config and prefix in the store; items of `bytes` each. */
async function makeCase(name, bytes) {
  const d = join(dir, name);
  mkdirSync(d, { recursive: true, mode: 0o711 });
  const prefix = `bench-offsite-${process.pid}-${name}`;
  const conf = join(d, 'backup.conf');
  writeFileSync(
    conf,
    readFileSync(join(sb, 'backup.conf'), 'utf8')
      .replace(/^backup_dir = .*$/m, `backup_dir = ${d}/backups`)
      .replace(/^log = (.*)\/logs\/(\S+)$/gm, `log = ${d}/$2`)
      .replace(/^pid = .*$/m, `pid = ${d}/xb-mgr.pid`)
      .replace(
        /^\[sb1\]$/m,
        [
          '[sb1]',
          `offsite_url = s3://${bucket}/${prefix}`,
          `s3_endpoint = ${env.XB_S3_ENDPOINT}`,
          `s3_access_key_id = ${env.XB_S3_ACCESS_KEY_ID}`,
          `s3_secret_access_key = ${secret}`,
          `offsite_recipients = ${recipient}`,
          `offsite_part_size = ${PART / MiB}M`,
          `offsite_concurrency = ${CONCURRENCY}`,
        ].join('\n'),
      ),
    { mode: 0o600 },
  );
  const root = join(d, 'backups', 'sb1');
  log(`${name}: two items of ${round(bytes / 1e6, 0)} MB`);
  const items = await syntheticItems(root, 'sb1', ID, bytes);
  return { name, d, conf, prefix, root, bytes, items };
}

async function emptyPrefix(prefix) {
  let token;
  do {
    const r = await s3.send(
      new ListObjectsV2Command({ Bucket: bucket, Prefix: `${prefix}/`, ContinuationToken: token }),
    );
    for (const o of r.Contents ?? []) await s3.send(new DeleteObjectCommand({ Bucket: bucket, Key: o.Key }));
    token = r.IsTruncated ? r.NextContinuationToken : undefined;
  } while (token);
}

/** The store emptied and the record of what is off-site forgotten: the next sync uploads both again. */
async function reset(c) {
  await emptyPrefix(c.prefix);
  rmSync(join(c.root, 'offsite.json'), { force: true });
  rmSync(join(c.root, 'tmp', 'offsite'), { recursive: true, force: true });
}

const cli = (c, args, o = {}) =>
  exec('node', [join(repo, 'dist', 'cli.js'), '--config', c.conf, ...args], { check: false, ...o });

async function xbSync(c) {
  const r = await cli(c, ['offsite', 'sync', '--json', '--now', NOW], { memory: true });
  const rep = r.code === 0 ? JSON.parse(r.stdout) : undefined;
  if (r.code !== 0 || rep.hosts[0].uploaded.length !== 2)
    throw new Error(
      `offsite sync (${c.name}) exit ${r.code}: ${r.stderr.slice(-2000)} ${r.stdout.slice(-500)}`,
    );
  return { seconds: r.seconds, peakMb: r.peakKb / 1024 };
}

async function rawSync(c) {
  let s = 0;
  for (const [f, k] of [
    [c.items.stream, 'full/backup.xbstream.zst.age'],
    [c.items.ready, `ready/${c.items.readyFile}.age`],
  ])
    s += await rawUpload(s3, bucket, `${c.prefix}/raw/${k}`, f, recipient, {
      partSize: PART,
      queueSize: CONCURRENCY,
    });
  return s;
}

/** The local restore: the same ready file from the case's own catalog on this machine. */
async function xbLocalRestore(c, target) {
  const r = await cli(c, ['restore', '--host', 'sb1', '--ready', 'latest', '--target-dir', target]);
  if (r.code !== 0) throw new Error(`local restore exit ${r.code}: ${r.stderr.slice(-2000)}`);
  return r.seconds;
}

async function xbRestore(c, target) {
  const r = await cli(c, [
    'restore',
    '--host',
    'sb1',
    '--from-offsite',
    '--identity',
    identity,
    '--ready',
    'latest',
    '--target-dir',
    target,
  ]);
  if (r.code !== 0) throw new Error(`restore --from-offsite exit ${r.code}: ${r.stderr.slice(-2000)}`);
  return r.seconds;
}

const small = await makeCase('x1', SIZE);
const big = await makeCase('x2', 2 * SIZE);
const m = { sync: [], raw: [], restore: [], rawRestore: [], dlLocal: [], mem1: [], mem2: [] };
for (let i = 0; i < SAMPLES; i++) {
  await reset(small);
  await reset(big);
  const t1 = join(dir, `restore-xb-${i}`);
  const t2 = join(dir, `restore-raw-${i}`);
  const t3 = join(dir, `restore-local-${i}`);
  const steps = {
    sync: async () => {
      const r = await xbSync(small);
      m.sync.push(r.seconds);
      m.mem1.push(r.peakMb);
    },
    raw: async () => m.raw.push(await rawSync(small)),
    big: async () => m.mem2.push((await xbSync(big)).peakMb),
    restore: async () => m.restore.push(await xbRestore(small, t1)),
    rawRestore: async () =>
      m.rawRestore.push(
        await rawRestore(s3, bucket, `${small.prefix}/sb1/ready/${small.items.readyFile}.age`, identity, t2),
      ),
    // The issue's own reference: a raw download of the object, then the local restore from it.
    dlLocal: async () => {
      const f = join(dir, `download-${i}`);
      const dl = await rawDownload(
        s3,
        bucket,
        `${small.prefix}/sb1/ready/${small.items.readyFile}.age`,
        identity,
        f,
      );
      rmSync(f, { force: true });
      m.dlLocal.push(dl + (await xbLocalRestore(small, t3)));
    },
  };
  // Interleaved; the order of each pair alternates per sample. The restores read what the sync stored.
  const order =
    i % 2 === 0
      ? ['sync', 'raw', 'big', 'restore', 'rawRestore', 'dlLocal']
      : ['raw', 'sync', 'big', 'dlLocal', 'rawRestore', 'restore'];
  for (const s of order) await steps[s]();
  rmSync(t1, { recursive: true, force: true });
  rmSync(t2, { recursive: true, force: true });
  rmSync(t3, { recursive: true, force: true });
  log(
    `sample ${i + 1}/${SAMPLES}: sync ${m.sync[i].toFixed(2)} s, raw ${m.raw[i].toFixed(2)} s; restore ${m.restore[i].toFixed(2)} s, raw ${m.rawRestore[i].toFixed(2)} s, download + local ${m.dlLocal[i].toFixed(2)} s; peak ${m.mem1[i].toFixed(0)} / ${m.mem2[i].toFixed(0)} MB`,
  );
}
await reset(big);
if (a.keep) log(`kept: --config ${small.conf} ... --identity ${identity}`);
else {
  await reset(small);
  await emptyPrefix(`${small.prefix}`);
  rmSync(dir, { recursive: true, force: true });
}
s3.destroy();

const mb = (2 * SIZE) / 1e6;
const rows = [
  compare({
    caseId: 'offsite-a',
    name: `offsite sync of a backup + ready file (${mb.toFixed(0)} MB) vs age | SDK Upload (time; throughput ratio = 1/ratio)`,
    aLabel: 'xb-mgr offsite sync',
    bLabel: 'age -r + SDK Upload',
    a: m.sync,
    b: m.raw,
    goal: { ratio: 1.25 },
  }),
  compare({
    caseId: 'offsite-b',
    name: `restore --from-offsite --ready latest (${(SIZE / 1e6).toFixed(0)} MB) vs GetObject | age -d | zstd -dc | tar -x`,
    aLabel: 'xb-mgr restore',
    bLabel: 'GetObject + age -d + zstd + tar',
    a: m.restore,
    b: m.rawRestore,
    goal: { ratio: 1.2 },
  }),
  compare({
    caseId: 'offsite-b2',
    name: `restore --from-offsite --ready latest (${(SIZE / 1e6).toFixed(0)} MB) vs a raw download (GetObject | age -d > f) plus the local restore (xb-mgr restore --ready from the local catalog)`,
    aLabel: 'xb-mgr restore',
    bLabel: 'download + local restore',
    a: m.restore,
    b: m.dlLocal,
    goal: { ratio: 1.2 },
  }),
  compare({
    caseId: 'offsite-c',
    name: 'controller peak memory (VmHWM) of offsite sync, objects doubled',
    unit: 'MB',
    aLabel: `${(2 * mb).toFixed(0)} MB`,
    bLabel: `${mb.toFixed(0)} MB`,
    a: m.mem2,
    b: m.mem1,
    goal: { ratio: 1.1 },
  }),
];
const result = {
  bench: 'offsite',
  at: new Date().toISOString(),
  item_bytes: SIZE,
  samples: SAMPLES,
  part_size: PART,
  concurrency: CONCURRENCY,
  cpus: cpus().length,
  loadavg_before: load0.map((x) => round(x, 2)),
  loadavg_after: loadavg().map((x) => round(x, 2)),
  throughput_mb_s: {
    sync: round(mb / median(m.sync), 1),
    raw_upload: round(mb / median(m.raw), 1),
    restore: round(SIZE / 1e6 / median(m.restore), 1),
    raw_restore: round(SIZE / 1e6 / median(m.rawRestore), 1),
  },
  rows,
};
writeFileSync(a.out, JSON.stringify(result, null, 2) + '\n');
process.stdout.write(
  `${markdownTable(rows)}\n\nitems ${(SIZE / 1e6).toFixed(0)} MB each, ${SAMPLES} samples, part ${PART / MiB} MiB x ${CONCURRENCY}; load average ${result.loadavg_before.join(' ')} -> ${result.loadavg_after.join(' ')} (${result.cpus} cores)\n`,
);
