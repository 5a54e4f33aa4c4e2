/**
 * e2e of the off-site copy (issue 16) on sandbox host sb1 and the sandbox's Swift + s3api:
 * `run` with offsite_url uploads full + incremental + ready files, age-encrypted (a marker row is
 * in no object in the clear); the store stopped during a run: exit 1 naming the store, the local
 * backup intact, the next `offsite sync` catches up; `offsite sync` killed with -9 during a large
 * upload, then again: no open multipart upload, at most the in-flight parts sent twice; off-site
 * retention with `--now` a month later; sync throughput against a raw SDK Upload of the same bytes.
 */
import t from 'tap';
import { createHash, randomBytes } from 'node:crypto';
import { createReadStream, existsSync, mkdirSync, readFileSync, readdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { execa } from 'execa';
import { GetObjectCommand } from '@aws-sdk/client-s3';
import { Upload } from '@aws-sdk/lib-storage';
import { repo, sandboxUp, sql, testConfig, xbMgr } from './sandbox.js';
import { ageKeys, objstore, objstoreEnv, offsiteConfig } from './offsite-env.js';
import { openStore } from '../../src/offsite/s3.js';
import { deleteObjects, listObjects } from '../../src/offsite/objects.js';
import { listUploads } from '../../src/offsite/upload.js';
import { encryptFile } from '../../src/offsite/age.js';

const MiB = 1024 * 1024;
sandboxUp(2);
const env = objstoreEnv();
const keys = ageKeys();
const prefix = `sync-${process.pid}`;
const s3 = openStore(offsiteConfig(env, prefix));
const secret = readFileSync(env.XB_S3_SECRET_FILE!, 'utf8').trim();
const { file: conf, dir } = testConfig([], {
  sb1: [
    `offsite_url = s3://${env.XB_S3_BUCKET}/${prefix}`,
    `s3_endpoint = ${env.XB_S3_ENDPOINT}`,
    `s3_access_key_id = ${env.XB_S3_ACCESS_KEY_ID}`,
    `s3_secret_access_key = ${secret}`,
    `offsite_recipients = ${keys.recipient}`,
    'offsite_part_size = 5M',
    'offsite_concurrency = 2',
    'offsite_retain_days = 7',
    'offsite_retain_num_ready_backups = 2',
    // Slow enough for the kill -9 test to catch an upload in flight (the throughput test lifts it).
    'offsite_bandwidth = 10M',
  ],
});
const root = join(dir, 'backups', 'sb1');
const under = `${prefix}/sb1/`;
t.teardown(async () => {
  objstore('start-proxy');
  const left = await listObjects(s3, `${prefix}/`).catch(() => []);
  await deleteObjects(
    s3,
    left.map((l) => l.key),
  ).catch(() => undefined);
  s3.client.destroy();
});

const cli = (...args: string[]) => xbMgr(['--config', conf, ...args]);
const names = async () => (await listObjects(s3, under)).map((o) => o.key.slice(under.length)).sort();
async function body(key: string): Promise<Buffer> {
  const r = await s3.client.send(new GetObjectCommand({ Bucket: s3.bucket, Key: key }));
  return Buffer.from(await r.Body!.transformToByteArray());
}
interface Listed {
  backups: { id: string; type: string }[];
  readies: { id: string }[];
}
async function index(): Promise<Listed> {
  const j = JSON.parse((await body(`${under}index.json`)).toString()) as {
    items: { kind: string; manifest?: { id: string; type: string }; info?: { id: string } }[];
  };
  return {
    backups: j.items.flatMap((i) => (i.manifest ? [i.manifest] : [])),
    readies: j.items.flatMap((i) => (i.info ? [i.info] : [])),
  };
}

const marker = `OFFSITE-MARKER-${randomBytes(8).toString('hex')}`;

t.test('run with offsite_url: full, then incremental, uploaded age-encrypted', async (t) => {
  let r = await cli('run', '--host', 'sb1', '--json', '--full', '--now', '2026-11-01T01:00:00Z');
  t.equal(r.exitCode, 0, `full run: ${r.stderr.slice(-600)}`);
  let rep = JSON.parse(r.stdout) as {
    hosts: { ok: boolean; offsite?: { ok: boolean; uploaded: string[] } }[];
  };
  t.same(
    rep.hosts[0]!.offsite?.uploaded,
    ['ready/20261101T010000Z', 'full/20261101T010000Z'],
    'the new ready file first',
  );
  sql('sb1', `INSERT INTO shop.orders (account_id, amount, note) VALUES (1, 5, '${marker}')`);
  r = await cli('run', '--host', 'sb1', '--json', '--now', '2026-11-02T01:00:00Z');
  t.equal(r.exitCode, 0, `incremental run: ${r.stderr.slice(-600)}`);
  rep = JSON.parse(r.stdout) as typeof rep;
  t.ok(rep.hosts[0]!.offsite?.ok);
  const n = await names();
  for (const want of [
    'owner.json',
    'index.json',
    'full/20261101T010000Z/manifest.json.age',
    'incremental/20261102T010000Z/manifest.json.age',
    'ready/20261102T010000Z.json.age',
  ])
    t.ok(n.includes(want), `${want} stored`);
  for (const k of n) {
    const b = await body(`${under}${k}`);
    if (k.endsWith('.age')) t.ok(b.toString('latin1').startsWith('age-encryption.org/v1'), `${k} is age`);
    t.notOk(b.includes(marker), `${k} does not hold the marker in the clear`);
  }
  const idx = await index();
  t.same(
    idx.backups.map((b) => b.id),
    ['20261101T010000Z', '20261102T010000Z'],
  );
  t.equal((await listUploads(s3, under)).length, 0, 'no open upload');
  const rec = JSON.parse(readFileSync(join(root, 'offsite.json'), 'utf8')) as {
    ok: boolean;
    offsite: string[];
  };
  t.ok(rec.ok && rec.offsite.includes('incremental/20261102T010000Z'), 'the record says what is off-site');
});

t.test('the store down during a run: exit 1, local backup intact, the next sync catches up', async (t) => {
  objstore('stop-proxy');
  let r: Awaited<ReturnType<typeof cli>>;
  try {
    r = await cli('run', '--host', 'sb1', '--now', '2026-11-03T01:00:00Z');
  } finally {
    objstore('start-proxy');
  }
  t.equal(r.exitCode, 1, 'the host failed');
  t.match(
    r.stdout,
    new RegExp(`off-site copy to s3://${env.XB_S3_BUCKET}/${prefix}/sb1 failed: .*unreachable|connection`),
  );
  t.ok(
    existsSync(join(root, 'incremental', '20261103T010000Z', 'manifest.json')),
    'the local backup is committed',
  );
  t.ok(
    readdirSync(join(root, 'ready')).some((f) => f.startsWith('20261103T010000Z')),
    'the local ready file is there',
  );
  const rec = JSON.parse(readFileSync(join(root, 'offsite.json'), 'utf8')) as {
    ok: boolean;
    backlog_items: number;
  };
  t.notOk(rec.ok);
  t.equal(rec.backlog_items, 2, 'backlog: the incremental and its ready file');
  const s = await cli('offsite', 'sync', '--json', '--now', '2026-11-03T02:00:00Z');
  t.equal(s.exitCode, 0, `sync: ${s.stderr.slice(-600)}`);
  const rep = JSON.parse(s.stdout) as { hosts: { uploaded: string[] }[] };
  t.same(rep.hosts[0]!.uploaded.sort(), ['incremental/20261103T010000Z', 'ready/20261103T010000Z']);
  t.ok((await index()).backups.some((b) => b.id === '20261103T010000Z'));
});

/** A synthetic full backup of `size` random bytes in the local catalog (sync uploads any item). */
function syntheticFull(id: string, size: number): void {
  const d = join(root, 'full', id);
  mkdirSync(d, { recursive: true });
  const data = randomBytes(size);
  writeFileSync(join(d, 'backup.xbstream.zst'), data);
  const m = {
    format: 1,
    id,
    type: 'full',
    host: 'sb1',
    parent: null,
    from_lsn: 0,
    to_lsn: 1,
    file: 'backup.xbstream.zst',
    bytes: size,
    sha256: createHash('sha256').update(data).digest('hex'),
    compress: 'zstd',
    tool: 'mariabackup',
    reason: 'synthetic',
    started_at: '2026-10-30T01:00:00.000Z',
    finished_at: '2026-10-30T01:00:01.000Z',
    seconds: 1,
  };
  writeFileSync(join(d, 'manifest.json'), JSON.stringify(m));
}

function partPuts(key: string): number {
  const log = readFileSync(env.XB_S3_PROXY_LOG!, 'utf8');
  const needle = `PUT /${env.XB_S3_BUCKET}/${key}%3FpartNumber%3D`;
  return log.split('\n').filter((l) => l.includes(needle) && / HTTP\/1\.\d 200 /.test(l)).length;
}

const BIG = 60 * MiB;
const bigId = '20261030T010000Z';

t.test('kill -9 of offsite sync mid-upload, then sync again', async (t) => {
  syntheticFull(bigId, BIG);
  const spool = join(root, 'tmp', 'offsite');
  const state = join(spool, `full-${bigId}-backup.xbstream.zst.upload.json`);
  const child = execa(
    'node',
    [join(repo, 'dist', 'cli.js'), '--config', conf, 'offsite', 'sync', '--now', '2026-11-03T02:00:00Z'],
    {
      reject: false,
    },
  );
  let recorded = 0;
  for (let i = 0; i < 1200 && recorded < 3; i++) {
    await new Promise((r) => setTimeout(r, 50));
    try {
      recorded = Object.keys((JSON.parse(readFileSync(state, 'utf8')) as { etags: object }).etags).length;
    } catch {
      // not there yet
    }
  }
  t.ok(recorded >= 3 && recorded < 12, `killed after ${recorded} of 12 parts`);
  process.kill(child.pid!, 'SIGKILL');
  await child;
  await new Promise((r) => setTimeout(r, 500));
  const key = `${under}full/${bigId}/backup.xbstream.zst.age`;
  const before = partPuts(key);
  t.equal((await listUploads(s3, under)).length, 1, 'one open upload after the kill');
  const s = await cli('offsite', 'sync', '--json', '--now', '2026-11-03T02:00:00Z');
  t.equal(s.exitCode, 0, `sync again: ${s.stderr.slice(-600)}`);
  const puts = partPuts(key);
  const parts = Math.ceil((BIG + 1024) / (5 * MiB));
  t.ok(puts <= parts + 2, `${puts} part PUTs for ${parts} parts (at most the 2 in flight sent twice)`);
  t.ok(puts - before < parts, `the resume sent ${puts - before} parts, not all ${parts}`);
  t.equal((await listUploads(s3, `${prefix}/`)).length, 0, 'no open multipart upload');
  t.ok((await index()).backups.some((b) => b.id === bigId));
  t.notOk(existsSync(spool), 'the spool is emptied');
});

t.test('off-site retention a month later keeps the newest chain and ready file', async (t) => {
  const s = await cli('offsite', 'sync', '--json', '--now', '2026-12-03T02:00:00Z');
  t.equal(s.exitCode, 0, s.stderr.slice(-600));
  const after = await index();
  t.same(
    after.backups.map((b) => b.id).sort(),
    ['20261101T010000Z', '20261102T010000Z', '20261103T010000Z'],
    'the synthetic old full goes, the newest chain stays',
  );
  t.same(
    after.readies.map((r) => r.id).sort(),
    ['20261102T010000Z', '20261103T010000Z'],
    'offsite_retain_num_ready_backups = 2 ready files',
  );
  const n = await names();
  t.notOk(
    n.some((k) => k.includes(bigId)),
    'its objects are gone',
  );
});

t.test('throughput: offsite sync vs a raw SDK Upload of the same bytes (encrypted)', async (t) => {
  const id = '20261104T010000Z';
  syntheticFull(id, BIG);
  const fast = join(dir, 'fast.conf');
  writeFileSync(fast, readFileSync(conf, 'utf8').replace(/^offsite_bandwidth = .*$/m, ''), { mode: 0o600 });
  const t1 = Date.now();
  const s = await xbMgr([
    '--config',
    fast,
    '--log-level',
    'info',
    'offsite',
    'sync',
    '--json',
    '--now',
    '2026-12-03T03:00:00Z',
  ]);
  const syncSeconds = (Date.now() - t1) / 1000;
  t.equal(s.exitCode, 0, s.stderr.slice(-600));
  const spool = join(dir, 'raw.age');
  const src = join(root, 'full', id, 'backup.xbstream.zst');
  const t0 = Date.now();
  await encryptFile(src, spool, [keys.recipient]);
  await new Upload({
    client: s3.client,
    params: { Bucket: s3.bucket, Key: `${prefix}/raw/x.age`, Body: createReadStream(spool) },
    partSize: 5 * MiB,
    queueSize: 2,
  }).done();
  const raw = (Date.now() - t0) / 1000;
  const ratio = raw / Math.max(syncSeconds, 0.001);
  // The item's own time (encrypt + upload + index + manifest), from the sync's log line.
  const item = Number(/uploaded full\/20261104T010000Z \(\d+ bytes, ([\d.]+) s/.exec(s.stderr)?.[1] ?? NaN);
  t.comment(
    `${BIG} bytes: offsite sync item ${item} s (whole command ${syncSeconds.toFixed(1)} s); raw encrypt + SDK Upload ${raw.toFixed(1)} s; ratio ${(raw / item).toFixed(2)} (whole command ${ratio.toFixed(2)})`,
  );
  t.ok(item > 0, `the sync logged the item upload ${s.stderr.slice(-300)}`);
});
