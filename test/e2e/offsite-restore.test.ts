/**
 * Restore after losing the manager: backups of a sandbox host are copied to the sandbox's object
 * store (real Swift + s3api), backup_dir is moved away, and a manager with only backup.conf and
 * the age identity lists, verifies and restores from the store alone (a ready file, and a chain
 * with --backup). A wrong identity and an object altered in the store are refused in one line,
 * with nothing half-restored left. Also measured: restore from the store against a raw download
 * of the same objects plus the local restore.
 */
import t, { type Test } from 'tap';
import { execFileSync } from 'node:child_process';
import { createHash } from 'node:crypto';
import { hostname } from 'node:os';
import {
  existsSync,
  mkdtempSync,
  readdirSync,
  readFileSync,
  renameSync,
  rmSync,
  writeFileSync,
} from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { GetObjectCommand, PutObjectCommand } from '@aws-sdk/client-s3';
import { sandbox, sandboxDir, sandboxUp, sb2Address, sql, testConfig, xbMgr } from './sandbox.js';
import { FINGERPRINT_SQL, sourceFingerprint, startOnDir } from './restore-helpers.js';
import { ageKeys, objstoreEnv, offsiteConfig } from './offsite-env.js';
import { openStore as openS3, keyOf } from '../../src/offsite/s3.js';
import { deleteObjects, listObjects } from '../../src/offsite/objects.js';
import { LocalStore } from '../../src/storage/local.js';
import { S3Store } from '../../src/storage/s3.js';

sandboxUp(2);
const env = objstoreEnv();
const keys = ageKeys();
const other = ageKeys();
const prefix = `rst-${process.pid}`;
const secret = readFileSync(env.XB_S3_SECRET_FILE!, 'utf8').trim();
const s3 = openS3(offsiteConfig(env, prefix));
t.teardown(async () => {
  const left = await listObjects(s3, `${prefix}/`).catch(() => []);
  await deleteObjects(
    s3,
    left.map((l) => l.key),
  ).catch(() => undefined);
  s3.client.destroy();
});

interface HostResult {
  ok: boolean;
  id?: string;
  error?: string;
}

async function run(file: string, now: string): Promise<HostResult> {
  const r = await xbMgr(['--config', file, 'run', '--json', '--host', 'sb1', '--now', now]);
  return (JSON.parse(r.stdout) as { hosts: HostResult[] }).hosts[0]!;
}

/** A small valid ready file of someone else's making: a tar of one file, zstd-compressed. */
function zstdTar(): Buffer {
  const d = mkdtempSync(join(tmpdir(), 'xb-forged-'));
  try {
    writeFileSync(join(d, 'ibdata1'), 'not your data\n');
    const tar = execFileSync('tar', ['-C', d, '-cf', '-', 'ibdata1']);
    return execFileSync('zstd', ['-q', '-c'], { input: tar });
  } finally {
    rmSync(d, { recursive: true, force: true });
  }
}

async function raw(key: string): Promise<Buffer> {
  const r = await s3.client.send(new GetObjectCommand({ Bucket: s3.bucket, Key: key }));
  return Buffer.from(await r.Body!.transformToByteArray());
}

/**
 * Copy the host's catalog to the store: `xb-mgr offsite sync`, or while that command is not in
 * this build, the S3 driver's commits of each local item (what sync does, oldest first).
 */
async function fill(t: Test, file: string, hostRoot: string): Promise<void> {
  const sync = await xbMgr(['--config', file, 'offsite', 'sync', '--host', 'sb1']);
  if (!/unknown command/.test(sync.stderr)) {
    t.equal(sync.exitCode, 0, sync.stderr);
    return;
  }
  const local = new LocalStore(hostRoot);
  const remote = new S3Store({
    host: 'sb1',
    offsite: offsiteConfig(env, prefix, { recipients: { keys: [keys.recipient] } }),
    spoolDir: join(hostRoot, 'tmp', 'offsite'),
    manager: `${hostname()}:${hostRoot}`,
  });
  try {
    const { backups, readies } = await local.list();
    for (const m of backups) await remote.commitBackup(join(hostRoot, m.type, m.id), m);
    for (const r of readies)
      await remote.commitReady(local.localPath(r, r.file), await local.readReady(r.id));
  } finally {
    remote.s3.client.destroy();
  }
}

const seconds = (t0: bigint) => Number(process.hrtime.bigint() - t0) / 1e9;

t.test('restore from the object store alone', async (t) => {
  const offsiteKeys = [
    `offsite_url = s3://${env.XB_S3_BUCKET}/${prefix}`,
    `s3_endpoint = ${env.XB_S3_ENDPOINT}`,
    `s3_access_key_id = ${env.XB_S3_ACCESS_KEY_ID}`,
    `s3_secret_access_key = ${secret}`,
    `offsite_recipients = ${keys.recipient}`,
  ];
  const { file, dir } = testConfig(['retain_num_ready_backups = 1', ...offsiteKeys]);
  const full = await run(file, '2026-11-22T01:00:00Z');
  t.ok(full.ok, full.error ?? '');
  sql('sb1', "INSERT INTO shop.orders (account_id, amount, note) VALUES (5, 55, 'offsite restore marker')");
  const inc = await run(file, '2026-11-23T01:00:00Z');
  t.ok(inc.ok, inc.error ?? '');
  const atInc = sourceFingerprint('sb1');
  await fill(t, file, join(dir, 'backups', 'sb1'));

  // The manager is lost: only backup.conf and the identity remain.
  renameSync(join(dir, 'backups'), join(dir, 'backups.lost'));
  const xb = (...a: string[]) => xbMgr(['--config', file, ...a]);
  /** The latest ready file from the store alone, into `target`. */
  const restoreFromStore = (target: string) =>
    xb('restore', '--host', 'sb1', '--from-offsite', '--identity', keys.identity, '--target-dir', target);

  // list --offsite: from the plaintext index, no key.
  const l = await xb('list', '--offsite', '--host', 'sb1', '--json');
  t.equal(l.exitCode, 0, l.stderr);
  const h = (
    JSON.parse(l.stdout) as {
      hosts: {
        chains: { backups: { id: string; type: string }[] }[];
        ready: { id: string; file: string }[];
      }[];
    }
  ).hosts[0]!;
  t.same(
    h.chains.flatMap((c) => c.backups.map((b) => `${b.type} ${b.id}`)),
    [`full ${full.id}`, `incremental ${inc.id}`],
  );
  t.same(
    h.ready.map((r) => r.id),
    [inc.id],
  );
  const readyFile = h.ready[0]!.file;
  const human = (await xb('list', '--offsite', '--host', 'sb1')).stdout;
  t.match(human, /sb1 {2}\(s3:\/\/.*\/sb1\)/);
  t.match(human, new RegExp(`ready ${readyFile} .* contains 2 backup\\(s\\)$`, 'm'));

  // verify --offsite without a key; --deep with it.
  let v = await xb('verify', '--offsite', '--host', 'sb1');
  t.equal(v.exitCode, 0, v.stdout + v.stderr);
  v = await xb('verify', '--offsite', '--deep', '--identity', keys.identity, '--host', 'sb1');
  t.equal(v.exitCode, 0, v.stdout + v.stderr);
  t.match(v.stdout, /0 problem\(s\)/);

  // A wrong identity: one line, exit 1, nothing created.
  const work = mkdtempSync(join(tmpdir(), 'xb-offrst-'));
  t.teardown(() => {
    rmSync(work, { recursive: true, force: true });
    rmSync(dir, { recursive: true, force: true });
  });
  // No identity for an encrypted copy: a usage error before anything is read.
  let r = await xb('restore', '--host', 'sb1', '--from-offsite', '--target-dir', join(work, 'w'));
  t.equal(r.exitCode, 2, r.stderr);
  t.match(r.stderr, /give --identity FILE/);
  const staging = join(dir, 'backups', 'sb1', 'prepare');
  const stagingLeft = () =>
    (existsSync(staging) ? readdirSync(staging) : []).filter((n) => n.startsWith('offsite'));
  r = await xb(
    'restore',
    '--host',
    'sb1',
    '--from-offsite',
    '--identity',
    other.identity,
    '--target-dir',
    join(work, 'w'),
  );
  t.equal(r.exitCode, 1, r.stderr);
  t.equal(r.stderr.trim().split('\n').length, 1, `one line: ${r.stderr}`);
  t.match(r.stderr, /nothing was restored/);
  t.comment(`wrong identity: ${r.stderr.trim()}`);
  t.notOk(existsSync(join(work, 'w')), 'no target');
  t.same(stagingLeft(), [], 'no staging left');
  t.same(
    readdirSync(work).filter((n) => n.includes('.xb-mgr-')),
    [],
    'no partial restore beside the target',
  );

  // The ready file, from the store alone.
  const target = join(work, 'ready');
  let t0 = process.hrtime.bigint();
  r = await restoreFromStore(target);
  const firstFromStore = seconds(t0);
  t.equal(r.exitCode, 0, r.stderr);
  t.match(r.stdout, new RegExp(`restored sb1 ready/${readyFile} into ${target}`));
  t.same(stagingLeft(), [], 'the download is removed after the restore');
  const s1 = await startOnDir(target);
  try {
    t.equal(await s1.query(FINGERPRINT_SQL), atInc, 'the data of the last backup');
  } finally {
    await s1.stop();
  }

  // A chain, prepared from the streams of the store.
  const chainTarget = join(work, 'chain');
  r = await xb(
    'restore',
    '--host',
    'sb1',
    '--from-offsite',
    '--identity',
    keys.identity,
    '--backup',
    inc.id!,
    '--target-dir',
    chainTarget,
  );
  t.equal(r.exitCode, 0, r.stderr);
  t.match(r.stdout, /prepared from its chain/);
  const s2 = await startOnDir(chainTarget);
  try {
    t.equal(await s2.query(FINGERPRINT_SQL), atInc, 'the chain gives the same data');
  } finally {
    await s2.stop();
  }

  // Onto a DB host of the inventory: the ready file is downloaded, then restore.yml copies it.
  const d2 = join(sandboxDir, 'hosts/sb2');
  t.teardown(() => {
    const aside = readdirSync(d2)
      .filter((n) => n.startsWith('data.old-'))
      .sort()[0];
    if (!aside) return;
    sandbox('stop-db', 'sb2');
    rmSync(join(d2, 'data'), { recursive: true, force: true });
    renameSync(join(d2, aside), join(d2, 'data'));
    for (const n of readdirSync(d2).filter((x) => /^data\.(old|failed|xb-new|xb-restore)-/.test(x)))
      rmSync(join(d2, n), { recursive: true, force: true });
    sandbox('start-db', 'sb2');
  });
  r = await xb(
    'restore',
    '--host',
    'sb1',
    '--from-offsite',
    '--identity',
    keys.identity,
    '--to-host',
    sb2Address,
    '--force',
  );
  t.equal(r.exitCode, 0, r.stderr);
  t.match(r.stdout, /the server was started on the restored data and answers/);
  t.equal(sourceFingerprint('sb2'), atInc, 'sb2 has the data of the last backup of sb1');
  t.same(stagingLeft(), [], 'the download is removed after the restore');

  // The figure: a raw download of the same object plus the local restore of that file, against
  // the restore from the store; best of two, interleaved (the machine is shared and noisy).
  const readyKey = keyOf(s3, `sb1/ready/${readyFile}.age`);
  // The old catalog, as it was on the lost manager, under a config of its own.
  const oldConf = join(dir, 'old.conf');
  writeFileSync(
    oldConf,
    readFileSync(file, 'utf8').replace(/^backup_dir = .*$/m, `backup_dir = ${dir}/backups.lost`),
    { mode: 0o600 },
  );
  let download = Infinity;
  let local = Infinity;
  let fromStore = firstFromStore;
  for (const k of [1, 2]) {
    t0 = process.hrtime.bigint();
    writeFileSync(join(work, `raw${k}.age`), await raw(readyKey));
    download = Math.min(download, seconds(t0));
    t0 = process.hrtime.bigint();
    r = await xbMgr([
      '--config',
      oldConf,
      'restore',
      '--host',
      'sb1',
      '--target-dir',
      join(work, `local${k}`),
    ]);
    local = Math.min(local, seconds(t0));
    t.equal(r.exitCode, 0, r.stderr);
    if (k === 2) break;
    t0 = process.hrtime.bigint();
    r = await xb(
      'restore',
      '--host',
      'sb1',
      '--from-offsite',
      '--identity',
      keys.identity,
      '--target-dir',
      join(work, 'again'),
    );
    fromStore = Math.min(fromStore, seconds(t0));
    t.equal(r.exitCode, 0, r.stderr);
  }
  const ratio = fromStore / (download + local);
  t.comment(
    `restore from the store ${fromStore.toFixed(2)} s; raw download ${download.toFixed(2)} s + local restore ${local.toFixed(2)} s; ratio ${ratio.toFixed(2)}`,
  );
  process.stderr.write(
    `OFFSITE-RESTORE-FIGURE ratio=${ratio.toFixed(3)} store=${fromStore.toFixed(2)} raw=${download.toFixed(2)} local=${local.toFixed(2)}\n`,
  );

  // An object altered in the store (same size): caught by --deep, refused by restore.
  const cipher = await raw(readyKey);
  const at = Math.floor(cipher.length / 2);
  cipher[at] = cipher[at]! ^ 0x55;
  await s3.client.send(new PutObjectCommand({ Bucket: s3.bucket, Key: readyKey, Body: cipher }));
  v = await xb('verify', '--offsite', '--host', 'sb1');
  t.equal(v.exitCode, 0, 'same size: a non-deep verify cannot see it');
  v = await xb('verify', '--offsite', '--deep', '--identity', keys.identity, '--host', 'sb1');
  t.equal(v.exitCode, 1, v.stdout);
  t.match(v.stdout, new RegExp(`sb1 {2}ready/${readyFile} {2}FAILED`));
  t.comment(`verify --deep: ${v.stdout.trim()}`);
  const bad = join(work, 'bad');
  r = await restoreFromStore(bad);
  t.equal(r.exitCode, 1, r.stdout);
  t.equal(r.stderr.trim().split('\n').length, 1, `one line: ${r.stderr}`);
  t.match(r.stderr, /nothing was restored/);
  // The sealed path caught it: the ciphertext's sha256 against the seal in the encrypted description.
  t.match(r.stderr, new RegExp(`sha256 mismatch: ready/${readyFile} \\(its encrypted object\\)`));
  t.comment(`altered object: ${r.stderr.trim()}`);
  t.notOk(existsSync(bad), 'no target');

  // A whole other object that decrypts fine (anyone with the public key can make one): the seal
  // refuses it as well, before anything is renamed into place.
  const forged = execFileSync('age', ['-r', keys.recipient], { input: zstdTar() });
  await s3.client.send(new PutObjectCommand({ Bucket: s3.bucket, Key: readyKey, Body: forged }));
  // The store rewrites its plaintext index to match (size and sha256), so the item stays listed.
  const indexKey = keyOf(s3, 'sb1/index.json');
  const index = JSON.parse((await raw(indexKey)).toString('utf8')) as {
    items: { kind: string; objects: { file: string; bytes: number; sha256: string }[] }[];
  };
  for (const i of index.items)
    for (const o of i.objects)
      if (i.kind === 'ready' && o.file === readyFile) {
        o.bytes = forged.length;
        o.sha256 = createHash('sha256').update(forged).digest('hex');
      }
  await s3.client.send(
    new PutObjectCommand({ Bucket: s3.bucket, Key: indexKey, Body: JSON.stringify(index) }),
  );
  r = await restoreFromStore(bad);
  t.equal(r.exitCode, 1, r.stdout);
  t.equal(r.stderr.trim().split('\n').length, 1, `one line: ${r.stderr}`);
  t.match(
    r.stderr,
    new RegExp(`sha256 mismatch: ready/${readyFile} \\(its encrypted object\\).*nothing was restored`),
  );
  t.notOk(existsSync(bad), 'no target');
  t.same(stagingLeft(), [], 'no staging left');
  t.same(
    readdirSync(work).filter((n) => n.includes('.xb-mgr-')),
    [],
    'no partial restore beside the target',
  );

  // A missing object: named by the non-deep verify.
  const checkpoints = keyOf(s3, `sb1/incremental/${inc.id}/xtrabackup_checkpoints.age`);
  await deleteObjects(s3, [checkpoints]);
  v = await xb('verify', '--offsite', '--host', 'sb1');
  t.equal(v.exitCode, 1);
  t.match(v.stdout, /incremental\/\d{8}T\d{6}Z\/xtrabackup_checkpoints\.age.*missing/);
});
