/**
 * e2e of the off-site copy (issue 16) on sandbox host sb1 and the sandbox's Swift + s3api:
 * `run` with offsite_url uploads full + incremental + ready files, age-encrypted (a marker row is
 * in no object in the clear); the store stopped during a run: exit 1 naming the store, the local
 * backup intact, the next `offsite sync` catches up; `offsite sync` killed with -9 during a large
 * upload, then again: no open multipart upload, at most the in-flight parts sent twice; off-site
 * retention with `--now` a month later; sync throughput against a raw SDK Upload of the same bytes;
 * progress (a rewriting line on a TTY, log lines otherwise) and `offsite sync` exiting 75 while the
 * run lock is held; local retention during an outage (items not off-site held; under the free-space
 * reserve, on a file system of the test's own, the oldest deleted loudly) and the catch-up; a backup
 * marked unusable locally marked so in the store too, and refused by a restore from it.
 */
import t from 'tap';
import { createHash, randomBytes } from 'node:crypto';
import {
  closeSync,
  createReadStream,
  existsSync,
  mkdirSync,
  openSync,
  readFileSync,
  readdirSync,
  readSync,
  rmSync,
  statSync,
  writeFileSync,
  writeSync,
} from 'node:fs';
import { createServer, type AddressInfo } from 'node:net';
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
import { fillTo, freeBytes, loopMount } from './loopfs.js';

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
// backup_dir on a file system of its own: the outage test brings its free space under the reserve.
const unmount = loopMount(join(dir, 'backups.img'), join(dir, 'backups'), '8G');
t.teardown(() => unmount());
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
  // Killed once age is done (the spool sealed: its hashes beside it) and parts are stored: a kill
  // while age still encrypts starts afresh (a new ciphertext cannot reuse the parts sent).
  const sealed = join(spool, `full-${bigId}-backup.xbstream.zst.hash.json`);
  let recorded = 0;
  for (let i = 0; i < 1200 && (recorded < 3 || !existsSync(sealed)); i++) {
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

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));
/** Single-quoted for `script -c` (its only form): the test's own paths, no config values. */
const shellWords = (a: string[]) => a.map((x) => `'${x.replaceAll("'", `'\\''`)}'`).join(' ');
const PROGRESS = /: [\d.]+\/[\d.]+ MiB \d+% [\d.]+ MiB\/s ETA (\d+ s|\?)/;

t.test('offsite sync: progress on a TTY and in the log; a second sync meanwhile exits 75', async (t) => {
  const env = { XB_MGR_PROGRESS_MS: '300,500' };
  const id = '20261202T010000Z';
  syntheticFull(id, BIG);
  const now = '2026-12-03T04:00:00Z';
  const argv = [
    process.execPath,
    join(repo, 'dist', 'cli.js'),
    '--config',
    conf,
    'offsite',
    'sync',
    '--now',
    now,
  ];
  // `script` (util-linux) runs the sync on a pseudo-terminal and prints what the terminal shows.
  const tty = execa('script', ['-qec', shellWords(argv), '/dev/null'], {
    reject: false,
    env,
    stdin: 'ignore',
  });
  const state = join(root, 'tmp', 'offsite', `full-${id}-backup.xbstream.zst.upload.json`);
  for (let i = 0; i < 600 && !existsSync(state); i++) await sleep(100);
  t.ok(existsSync(state), 'the first sync is uploading');
  const lockFile = join(dir, 'xb-mgr.pid');
  const holder = readFileSync(lockFile, 'utf8');
  const second = await cli('offsite', 'sync', '--now', now);
  t.equal(second.exitCode, 75, `a second sync exits 75: ${second.stderr.slice(-300)}`);
  t.match(second.stderr, /another run holds the lock/);
  t.equal(readFileSync(lockFile, 'utf8'), holder, 'the lock still belongs to the first sync');
  t.ok(existsSync(state), 'the first sync still uploads');
  const first = await tty;
  const shown = String(first.stdout);
  t.equal(first.exitCode, 0, shown.slice(-600));
  // One line redrawn: each state starts with a carriage return, none with a new line.
  const redraws = shown
    .split('\r')
    .filter((l) => l.startsWith(`full/${id}/backup.xbstream.zst`) && PROGRESS.test(l));
  t.ok(redraws.length >= 2, `${redraws.length} redraws of the progress line`);
  t.notOk(
    shown.split('\n').filter((l) => PROGRESS.test(l) && !l.includes('\r')).length > 0,
    'no progress state on a line of its own',
  );
  t.ok(
    (await index()).backups.some((b) => b.id === id),
    'uploaded',
  );

  // Not a terminal: periodic lines in the host's log instead.
  const id2 = '20261202T020000Z';
  syntheticFull(id2, BIG);
  const plain = await xbMgr(['--config', conf, 'offsite', 'sync', '--now', now], env);
  t.equal(plain.exitCode, 0, plain.stderr.slice(-600));
  t.notOk(plain.stderr.includes('\r'), 'no rewriting line on a pipe');
  const logged = readFileSync(join(dir, 'sb1.log'), 'utf8')
    .split('\n')
    .filter((l) => l.includes(`full/${id2}/backup.xbstream.zst: `) && PROGRESS.test(l));
  t.ok(logged.length >= 2, `${logged.length} progress lines in the log`);
});

async function closedPort(): Promise<number> {
  const s = createServer();
  await new Promise<void>((r) => s.listen(0, '127.0.0.1', r));
  const port = (s.address() as AddressInfo).port;
  await new Promise((r) => s.close(r));
  return port;
}

const readies = () =>
  readdirSync(join(root, 'ready'))
    .filter((f) => f.endsWith('.json'))
    .map((f) => f.slice(0, -5));
interface RunJson {
  hosts: { ok: boolean; error?: string; offsite_override?: string; unusable?: { id: string } }[];
}

t.test(
  'store unreachable: runs go on and keep what is not off-site, under the reserve loudly not; then catch up',
  async (t) => {
    // The endpoint on a closed port: unreachable, and nothing of the sandbox is stopped.
    // Monday to Wednesday (Sunday is the sandbox's full_backup_day).
    const dead = join(dir, 'dead.conf');
    writeFileSync(
      dead,
      readFileSync(conf, 'utf8')
        .replace(/^s3_endpoint = .*$/m, `s3_endpoint = http://127.0.0.1:${await closedPort()}`)
        .replace(/^offsite_retain_days = 7$/m, 'offsite_retain_days = 7\nretain_num_ready_backups = 1'),
      { mode: 0o600 },
    );
    const down = (...a: string[]) => xbMgr(['--config', dead, 'run', '--host', 'sb1', ...a]);
    const where = `s3://${env.XB_S3_BUCKET}/${prefix}/sb1`;
    let r = await down('--full', '--now', '2026-12-07T01:00:00Z');
    t.equal(r.exitCode, 1, 'the host failed');
    t.match(r.stdout, new RegExp(`off-site copy to ${where} failed: .*(refused|unreachable|connect)`, 'i'));
    r = await down('--json', '--now', '2026-12-08T01:00:00Z');
    t.equal(r.exitCode, 1);
    const rep = JSON.parse(r.stdout) as RunJson;
    t.match(rep.hosts[0]!.error, new RegExp(`off-site copy to ${where} failed: .*kept locally`));
    t.notOk(rep.hosts[0]!.offsite_override, 'no override above the reserve');
    t.ok(
      readies().includes('20261207T010000Z') && readies().includes('20261208T010000Z'),
      `not off-site: both ready files kept (retain_num_ready_backups = 1): ${readies().join(' ')}`,
    );
    t.ok(existsSync(join(root, 'full', '20261207T010000Z', 'manifest.json')));
    const rec = JSON.parse(readFileSync(join(root, 'offsite.json'), 'utf8')) as {
      ok: boolean;
      backlog_items: number;
    };
    t.ok(!rec.ok && rec.backlog_items >= 4, `backlog ${rec.backlog_items} item(s)`);

    // Under the reserve (10 % of the file system): nothing is held, said loudly.
    const backups = join(dir, 'backups');
    const filler = fillTo(backups, 600 * MiB);
    t.teardown(() => rmSync(filler, { force: true }));
    t.ok(freeBytes(backups) < 700 * MiB, `${freeBytes(backups)} bytes free`);
    r = await down('--now', '2026-12-09T01:00:00Z');
    t.equal(r.exitCode, 1, r.stderr.slice(-600));
    t.match(r.stdout, /WARNING free space in .* is under the reserve .*NOT off-site yet/);
    t.match(r.stderr, /under the reserve/, 'and on stderr');
    t.same(readies(), ['20261209T010000Z'], 'the older ready files not off-site are deleted');
    rmSync(filler, { force: true });

    // The store back: the next sync uploads the backlog, then off-site retention runs.
    const s = await cli('offsite', 'sync', '--json', '--now', '2026-12-09T02:00:00Z');
    t.equal(s.exitCode, 0, s.stderr.slice(-600));
    const h = (JSON.parse(s.stdout) as { hosts: { uploaded: string[]; deleted: unknown[] }[] }).hosts[0]!;
    for (const k of [
      'full/20261207T010000Z',
      'incremental/20261208T010000Z',
      'incremental/20261209T010000Z',
      'ready/20261209T010000Z',
    ])
      t.ok(h.uploaded.includes(k), `${k} uploaded`);
    t.ok(h.deleted.length > 0, `off-site retention deleted ${h.deleted.length} item(s)`);
    const after = JSON.parse(readFileSync(join(root, 'offsite.json'), 'utf8')) as {
      ok: boolean;
      backlog_items: number;
    };
    t.ok(after.ok && after.backlog_items === 0, 'no backlog');
  },
);

t.test('a backup marked unusable locally is marked in the store at the next sync', async (t) => {
  const bad = '20261208T010000Z';
  // A stored incremental corrupted, then the base rebuilt: its sha256 fails, it is marked unusable.
  const f = join(root, 'incremental', bad, 'backup.xbstream.zst');
  const fd = openSync(f, 'r+');
  const buf = Buffer.alloc(16);
  const at = Math.floor(statSync(f).size / 2);
  readSync(fd, buf, 0, 16, at);
  for (let i = 0; i < 16; i++) buf[i] = buf[i]! ^ 0xff;
  writeSync(fd, buf, 0, 16, at);
  closeSync(fd);
  rmSync(join(root, 'prepare', 'base.json'));
  const r = await cli('run', '--host', 'sb1', '--json', '--now', '2026-12-09T09:00:00Z');
  t.equal(r.exitCode, 1);
  t.equal((JSON.parse(r.stdout) as RunJson).hosts[0]!.unusable?.id, bad, 'marked unusable locally');
  const s = await cli('offsite', 'sync', '--json', '--now', '2026-12-09T10:00:00Z');
  t.equal(s.exitCode, 0, s.stderr.slice(-600));
  t.same((JSON.parse(s.stdout) as { hosts: { marked_unusable: string[] }[] }).hosts[0]!.marked_unusable, [
    `incremental/${bad}`,
  ]);
  t.match(s.stderr, new RegExp(`marked incremental/${bad} unusable in s3://.* too: .*sha256`));
  const j = JSON.parse((await body(`${under}index.json`)).toString()) as {
    items: { manifest?: { id: string; unusable?: { reason: string } } }[];
  };
  t.match(j.items.find((i) => i.manifest?.id === bad)?.manifest?.unusable?.reason, /sha256/, 'in the index');
  const l = await cli('list', '--offsite', '--host', 'sb1');
  t.equal(l.exitCode, 0, l.stderr);
  t.match(l.stdout, new RegExp(`${bad}.*UNUSABLE: .*sha256`), 'list --offsite shows it');
  const target = join(dir, 'restore-target');
  for (const [id, why] of [
    [bad, 'it is unusable'],
    ['20261209T010000Z', `parent ${bad} of 20261209T010000Z is unusable`],
  ] as const) {
    const x = await cli(
      'restore',
      '--host',
      'sb1',
      '--from-offsite',
      '--identity',
      keys.identity,
      '--backup',
      id,
      '--target-dir',
      target,
    );
    t.not(x.exitCode, 0, `restore of ${id} refused`);
    t.match(x.stderr, new RegExp(`cannot restore ${id}: ${why}`));
    t.notOk(existsSync(target) && readdirSync(target).length > 0, 'nothing restored');
  }
  // A second sync has nothing more to mark.
  const again = await cli('offsite', 'sync', '--json', '--now', '2026-12-09T10:00:00Z');
  t.same(
    (JSON.parse(again.stdout) as { hosts: { marked_unusable: string[] }[] }).hosts[0]!.marked_unusable,
    [],
  );
});
