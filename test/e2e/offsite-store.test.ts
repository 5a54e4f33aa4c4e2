/**
 * The off-site building blocks against a real Swift with s3api (scripts/objstore, started by the
 * sandbox): a resumable multipart upload killed with -9 and resumed (parts not resent, counted in
 * Swift's proxy log), age encrypt + upload then download + decrypt, the store probe of `check`
 * (and a wrong secret named without being echoed), and throughput against the SDK's plain Upload.
 */
import t from 'tap';
import { execFileSync } from 'node:child_process';
import { createHash } from 'node:crypto';
import {
  createReadStream,
  createWriteStream,
  existsSync,
  readFileSync,
  renameSync,
  statSync,
  writeFileSync,
} from 'node:fs';
import { join } from 'node:path';
import { pipeline } from 'node:stream/promises';
import { execa } from 'execa';
import { GetObjectCommand } from '@aws-sdk/client-s3';
import { Upload } from '@aws-sdk/lib-storage';
import { e2eTempDir, repo, sandboxUp, testConfig, xbMgr } from './sandbox.js';
import { openStore, type OffsiteConfig, type Store } from '../../src/offsite/s3.js';
import { abortAbandoned, listUploads, uploadSpooled } from '../../src/offsite/upload.js';
import { deleteObjects, downloadTo, listObjects, openObject } from '../../src/offsite/objects.js';
import { AgeError, decryptStream, encryptFile } from '../../src/offsite/age.js';
import { CreateMultipartUploadCommand } from '@aws-sdk/client-s3';

const MiB = 1024 * 1024;
sandboxUp(2);
const env = Object.fromEntries(
  execFileSync('bash', [join(repo, 'scripts', 'objstore'), 'env'], { encoding: 'utf8' })
    .trim()
    .split('\n')
    .map((l) => l.split('=', 2) as [string, string]),
);
const secret = readFileSync(env.XB_S3_SECRET_FILE!, 'utf8').trim();
const prefix = `e2e-${process.pid}`;
const offsite: OffsiteConfig = {
  url: { bucket: env.XB_S3_BUCKET!, prefix },
  endpoint: env.XB_S3_ENDPOINT,
  region: 'us-east-1',
  accessKeyId: env.XB_S3_ACCESS_KEY_ID,
  secretAccessKey: secret,
  forcePathStyle: undefined,
  recipients: undefined,
  encryption: 'age',
  retainDays: 7,
  retainNumReadyBackups: 1,
  partSize: 5 * MiB,
  concurrency: 2,
  bandwidth: undefined,
};
const store: Store = openStore(offsite);
t.teardown(async () => {
  await abortAbandoned(store, `${prefix}/`).catch(() => 0);
  const left = await listObjects(store, `${prefix}/`).catch(() => []);
  await deleteObjects(
    store,
    left.map((l) => l.key),
  ).catch(() => undefined);
  store.client.destroy();
});

const dir = e2eTempDir('xb-offsite-');
const SIZE = 48 * MiB;
const spool = join(dir, 'spool.bin');
// Random bytes: nothing compresses or deduplicates, as with ciphertext.
writeFileSync(spool, execFileSync('head', ['-c', String(SIZE), '/dev/urandom'], { maxBuffer: SIZE + 1 }));
const sha256File = (f: string) => createHash('sha256').update(readFileSync(f)).digest('hex');
const spoolSha = sha256File(spool);

/** Part PUTs of `key` that reached Swift, from the proxy's access log. */
function partPuts(key: string): number {
  const log = readFileSync(env.XB_S3_PROXY_LOG!, 'utf8');
  const needle = `PUT /${env.XB_S3_BUCKET}/${key}%3FpartNumber%3D`;
  return log.split('\n').filter((l) => l.includes(needle) && / HTTP\/1\.\d 200 /.test(l)).length;
}

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

t.test('kill -9 mid-upload, then resume: parts stored are not sent again', async (t) => {
  const key = `${prefix}/h/full/x/backup.bin`;
  const state = `${spool}.upload.json`;
  const child = execa(
    'node',
    [join(repo, 'test/e2e/fixtures/offsite-upload.mjs'), spool, key, String(5 * MiB), '2', String(12 * MiB)],
    { env: { ...env, XB_S3_PREFIX: prefix }, reject: false },
  );
  let recorded = 0;
  for (let i = 0; i < 600 && recorded < 4; i++) {
    await sleep(50);
    try {
      recorded = Object.keys((JSON.parse(readFileSync(state, 'utf8')) as { etags: object }).etags).length;
    } catch {
      // not written yet, or being replaced
    }
  }
  t.ok(recorded >= 4 && recorded < 10, `killed after ${recorded} of 10 parts were recorded`);
  process.kill(child.pid!, 'SIGKILL');
  const r1 = await child;
  t.equal(r1.signal, 'SIGKILL', 'the uploader was killed');
  await sleep(500);
  const before = partPuts(key);
  t.ok(existsSync(state), 'the state survived the kill');
  t.equal((await listUploads(store, key)).length, 1, 'one open upload');

  const r2 = await execa(
    'node',
    [join(repo, 'test/e2e/fixtures/offsite-upload.mjs'), spool, key, String(5 * MiB), '2', '0'],
    {
      env: { ...env, XB_S3_PREFIX: prefix },
      reject: false,
    },
  );
  t.equal(r2.exitCode, 0, `resume succeeded ${r2.stderr.slice(-400)}`);
  const res = JSON.parse(r2.stdout) as { sent: number; parts: number; resumed: boolean };
  t.ok(res.resumed, 'resumed the recorded upload');
  t.equal(res.parts, 10);
  t.ok(res.sent <= 10 - recorded, `sent ${res.sent} parts, not the ${recorded} recorded ones`);
  const after = partPuts(key);
  t.equal(after - before, res.sent, 'the proxy saw exactly the parts the resume sent');
  t.ok(after <= 10 + 2, `part PUTs in all: ${after} (at most the 2 in flight at the kill sent twice)`);
  t.notOk(existsSync(state), 'the state file is gone');
  t.same(await listUploads(store, key), [], 'no open multipart upload');
  const got = await downloadTo(store, key, join(dir, 'down.bin'), { size: SIZE, maxBytes: SIZE });
  t.equal(got.sha256, spoolSha, 'sha256 of the download equals the spool');
});

t.test('a download that does not match is removed, not left half-written', async (t) => {
  const key = `${prefix}/h/full/x/backup.bin`;
  const out = join(dir, 'wrong.bin');
  await t.rejects(downloadTo(store, key, out, { sha256: '0'.repeat(64), maxBytes: SIZE }), /recorded sha256/);
  t.notOk(existsSync(out));
  await t.rejects(downloadTo(store, key, out, { size: SIZE - 1, maxBytes: SIZE }), /expected/);
  t.notOk(existsSync(out));
});

t.test('age: encrypt to a spool, upload, download and decrypt in one pass', async (t) => {
  const id = join(dir, 'identity.txt');
  execFileSync('age-keygen', ['-o', id], { stdio: 'ignore' });
  const recipient = execFileSync('age-keygen', ['-y', id], { encoding: 'utf8' }).trim();
  const plain = join(dir, 'plain.bin');
  writeFileSync(
    plain,
    Buffer.concat([Buffer.from('MARKER-ROW-TEXT '), readFileSync(spool).subarray(0, 12 * MiB)]),
  );
  const enc = join(dir, 'plain.bin.age');
  const h = await encryptFile(plain, enc, [recipient]);
  t.equal(h.plainSha256, sha256File(plain), 'plaintext sha256 in the same pass');
  t.equal(h.cipherSha256, sha256File(enc), 'ciphertext sha256 in the same pass');
  t.equal(readFileSync(enc).subarray(0, 21).toString(), 'age-encryption.org/v1');
  const key = `${prefix}/h/ready/x.tar.zst.age`;
  await uploadSpooled(store, key, enc, { partSize: 5 * MiB, concurrency: 2 });
  const stored = join(dir, 'stored.age');
  await downloadTo(store, key, stored, { sha256: h.cipherSha256, maxBytes: h.cipherBytes });
  t.notOk(readFileSync(stored).includes('MARKER-ROW-TEXT'), 'the store holds no plaintext');
  const out = join(dir, 'decrypted.bin');
  const { body } = await openObject(store, key, h.cipherBytes);
  const d = await decryptStream(body, id, out, h.plainSha256);
  t.equal(d.plainSha256, h.plainSha256);
  t.equal(sha256File(out), h.plainSha256, 'round trip is exact');

  const other = join(dir, 'other.txt');
  execFileSync('age-keygen', ['-o', other], { stdio: 'ignore' });
  const wrong = join(dir, 'wrong-id.bin');
  const o2 = await openObject(store, key, h.cipherBytes);
  await t.rejects(decryptStream(o2.body, other, wrong), AgeError);
  t.notOk(existsSync(wrong), 'a wrong identity leaves nothing');
});

/** `total` bytes of the spool's data a MiB at a time, slowly; throws after `failAt`. */
async function* slowChunks(total: number, failAt = Infinity): AsyncGenerator<Buffer> {
  const src = readFileSync(spool);
  for (let off = 0; off < total; off += MiB) {
    if (off >= failAt) throw new Error('the writer failed');
    yield src.subarray(off, Math.min(off + MiB, total));
    await sleep(40);
  }
}

t.test(
  'a streamed upload: parts go while the bytes come, the spool sealed once the state has its size',
  async (t) => {
    const file = join(dir, 'growing.bin');
    const placed = join(dir, 'grown.bin');
    const statePath = join(dir, 'growing.upload.json');
    writeFileSync(file, '', { mode: 0o600 });
    const total = 23 * MiB + 123; // the last part short
    let firstPart = 0;
    let sealedAt = 0;
    let sealedState: { size: number; mtimeMs: number; etags: object } | undefined;
    const key = `${prefix}/grow/x.age`;
    const r = await uploadSpooled(store, key, file, {
      partSize: 5 * MiB,
      concurrency: 2,
      statePath,
      md5: false,
      onPart: () => (firstPart ||= Date.now()),
      stream: {
        maxSize: total + 4096,
        chunks: slowChunks(total),
        seal: async () => {
          sealedAt = Date.now();
          sealedState = JSON.parse(readFileSync(statePath, 'utf8')) as typeof sealedState;
          renameSync(file, placed);
        },
      },
    });
    t.ok(firstPart > 0 && firstPart < sealedAt, 'a part was stored before the bytes ended');
    t.equal(sealedState?.size, total, 'the state had the final size before the seal');
    t.equal(sealedState?.mtimeMs, statSync(placed).mtimeMs, '... and the final mtime');
    t.equal(
      sha256File(placed),
      createHash('sha256').update(readFileSync(spool).subarray(0, total)).digest('hex'),
      'the spool holds every byte',
    );
    t.match(r, { size: total, parts: 5, sent: 5, resumed: false });
    t.notOk(existsSync(statePath), 'the state is gone after success');
    const got = join(dir, 'grown.down');
    await downloadTo(store, key, got, { sha256: sha256File(placed), maxBytes: total });
    t.equal(sha256File(got), sha256File(placed), 'the object is the whole file');
  },
);

t.test('a streamed upload whose bytes fail: the upload fails with it, nothing sealed', async (t) => {
  const file = join(dir, 'failing.bin');
  writeFileSync(file, '', { mode: 0o600 });
  let sealed = false;
  await t.rejects(
    uploadSpooled(store, `${prefix}/grow/failing.age`, file, {
      partSize: 5 * MiB,
      concurrency: 2,
      statePath: join(dir, 'failing.upload.json'),
      stream: {
        maxSize: 30 * MiB,
        chunks: slowChunks(30 * MiB, 12 * MiB),
        seal: async () => {
          sealed = true;
        },
      },
    }),
    /the writer failed/,
  );
  t.notOk(sealed, 'not sealed');
});

t.test('abandoned uploads are aborted', async (t) => {
  const key = `${prefix}/h/tmp/abandoned`;
  await store.client.send(new CreateMultipartUploadCommand({ Bucket: store.bucket, Key: key }));
  t.equal((await listUploads(store, `${prefix}/h/tmp/`)).length, 1);
  t.equal(await abortAbandoned(store, `${prefix}/h/tmp/`), 1);
  t.same(await listUploads(store, `${prefix}/h/tmp/`), []);
});

t.test('throughput against the SDK plain Upload and GetObject (same file, same store)', async (t) => {
  const mb = (ms: number) => (SIZE / MiB / (ms / 1000)).toFixed(0);
  const timed = async (fn: () => Promise<unknown>) => {
    const t0 = performance.now();
    await fn();
    return performance.now() - t0;
  };
  // Interleaved, best of two each: the machine is shared and noisy; the ratio is what counts.
  const best = { ours: Infinity, raw: Infinity, down: Infinity, rawDown: Infinity };
  for (let round = 0; round < 2; round++) {
    const o = await timed(() =>
      uploadSpooled(store, `${prefix}/bench/ours`, spool, { partSize: 8 * MiB, concurrency: 4 }),
    );
    const r = await timed(() =>
      new Upload({
        client: store.client,
        params: { Bucket: store.bucket, Key: `${prefix}/bench/raw`, Body: createReadStream(spool) },
        partSize: 8 * MiB,
        queueSize: 4,
      }).done(),
    );
    const out = join(dir, `bench-${round}.out`);
    const d = await timed(() => downloadTo(store, `${prefix}/bench/ours`, out, { maxBytes: SIZE }));
    const rd = await timed(async () => {
      const g = await store.client.send(
        new GetObjectCommand({ Bucket: store.bucket, Key: `${prefix}/bench/raw` }),
      );
      await pipeline(g.Body as NodeJS.ReadableStream, createWriteStream(join(dir, `bench-raw-${round}.out`)));
    });
    t.equal(statSync(out).size, SIZE);
    best.ours = Math.min(best.ours, o);
    best.raw = Math.min(best.raw, r);
    best.down = Math.min(best.down, d);
    best.rawDown = Math.min(best.rawDown, rd);
  }
  const { ours, raw, down, rawDown } = best;
  const line = `upload ${mb(ours)} MB/s vs raw Upload ${mb(raw)} MB/s (${(raw / ours).toFixed(2)}x); download+sha256 ${mb(down)} MB/s vs raw GetObject ${mb(rawDown)} MB/s (${(rawDown / down).toFixed(2)}x); ${SIZE / MiB} MiB`;
  t.comment(line);
  process.stderr.write(`offsite-store throughput: ${line}\n`);
});

t.test('the store stopped: one clear line, the state kept for the resume', async (t) => {
  const objstore = (cmd: string) =>
    execFileSync('bash', [join(repo, 'scripts', 'objstore'), cmd], { stdio: 'ignore' });
  const key = `${prefix}/h/outage.bin`;
  objstore('stop-proxy');
  try {
    await t.rejects(
      uploadSpooled(store, key, spool, { partSize: 8 * MiB, concurrency: 2 }),
      /^s3:\/\/\S+ at http:\S+: start the upload of \S+: the store is unreachable \(ECONNREFUSED\)$/,
    );
  } finally {
    objstore('start-proxy');
  }
  const r = await uploadSpooled(store, key, spool, { partSize: 8 * MiB, concurrency: 2 });
  t.equal(r.size, SIZE, 'the next attempt uploads it');
});

t.test('check probes the store; a wrong secret is named, never echoed', async (t) => {
  const id = join(dir, 'identity.txt');
  const recipient = execFileSync('age-keygen', ['-y', id], { encoding: 'utf8' }).trim();
  const store1 = [
    `offsite_url = s3://${env.XB_S3_BUCKET}/${prefix}`,
    `s3_endpoint = ${env.XB_S3_ENDPOINT}`,
    `s3_access_key_id = ${env.XB_S3_ACCESS_KEY_ID}`,
    `offsite_recipients = ${recipient}`,
  ];
  const good = testConfig([...store1, `s3_secret_access_key = ${secret}`]);
  const r = await xbMgr(['--config', good.file, 'check', '--host', 'sb1', '--json']);
  const lines = (
    JSON.parse(r.stdout) as { checks: { host: string; check: string; ok: boolean; detail: string }[] }
  ).checks;
  const off = lines.filter((l) => l.check.startsWith('offsite') || l.check === 'age');
  t.same(
    off.map((l) => [l.check, l.ok]),
    [
      ['offsite store', true],
      ['offsite access', true],
      ['offsite recipients', true],
      ['age', true],
    ],
    JSON.stringify(off),
  );
  t.equal(r.exitCode, 0, 'check passes');
  t.same(
    (await listObjects(store, `${prefix}/sb1/`)).map((l) => l.key),
    [],
    'the probe object is gone',
  );

  const wrongSecret = `WRONG-${secret.slice(0, 8)}-"$(x)`;
  const bad = testConfig([...store1, `s3_secret_access_key = ${wrongSecret}`]);
  const r2 = await xbMgr(['--config', bad.file, 'check', '--host', 'sb1']);
  t.equal(r2.exitCode, 1, 'check fails');
  t.match(
    r2.stdout,
    /offsite store\s+FAILED\s+s3:\/\/\S+ at http:\S+: bucket \S+: the store refused the credentials/,
  );
  t.notMatch(r2.stdout + r2.stderr, wrongSecret, 'the wrong secret is not echoed');
  t.notMatch(r2.stdout + r2.stderr, secret, 'nor the right one');
  const logs = ['backup_manager.log', 'sb1.log'].map((f) => join(bad.dir, f)).filter((f) => existsSync(f));
  for (const f of logs) t.notMatch(readFileSync(f, 'utf8'), 'WRONG-', `${f} holds no secret`);
});
