// The off-site benchmark's references: the same bytes moved by the raw tools, no xb-mgr.
// Upload: `age -r KEY < file` piped into the SDK's plain Upload (lib-storage; same part size and
// concurrency as the sync). Download: GetObject piped into `age -d -i KEY | zstd -dc | tar -x`.
import { spawn } from 'node:child_process';
import { createReadStream, mkdirSync } from 'node:fs';
import { GetObjectCommand, S3Client } from '@aws-sdk/client-s3';
import { Upload } from '@aws-sdk/lib-storage';
import { clock, q } from './util.mjs';

/** An S3 client for the sandbox's object store (scripts/objstore env), as the CLI configures it. */
export function s3Client(env, secret) {
  return new S3Client({
    endpoint: env.XB_S3_ENDPOINT,
    region: 'us-east-1',
    forcePathStyle: true,
    credentials: { accessKeyId: env.XB_S3_ACCESS_KEY_ID, secretAccessKey: secret },
    requestChecksumCalculation: 'WHEN_REQUIRED',
    responseChecksumValidation: 'WHEN_REQUIRED',
  });
}

function exited(child, what) {
  return new Promise((resolve, reject) => {
    let err = '';
    child.stderr?.on('data', (c) => (err += c));
    child.on('error', reject);
    child.on('close', (code) =>
      code === 0 ? resolve() : reject(new Error(`${what} exited ${code}: ${err}`)),
    );
  });
}

/** `age -r RECIPIENT < file | Upload`: seconds. */
export async function rawUpload(client, bucket, key, file, recipient, { partSize, queueSize }) {
  const t0 = clock();
  const age = spawn('age', ['-r', recipient], { stdio: ['pipe', 'pipe', 'pipe'] });
  createReadStream(file).pipe(age.stdin);
  const done = exited(age, 'age');
  await new Upload({
    client,
    params: { Bucket: bucket, Key: key, Body: age.stdout },
    partSize,
    queueSize,
  }).done();
  await done;
  return clock() - t0;
}

/** GetObject | age -d > file: seconds. */
export async function rawDownload(client, bucket, key, identity, file) {
  const t0 = clock();
  const r = await client.send(new GetObjectCommand({ Bucket: bucket, Key: key }));
  const age = spawn('age', ['-d', '-i', identity, '-o', file], { stdio: ['pipe', 'ignore', 'pipe'] });
  const done = exited(age, 'age -d');
  r.Body.pipe(age.stdin);
  await done;
  return clock() - t0;
}

/** GetObject | age -d | zstd -dc | tar -x -C dir: seconds. */
export async function rawRestore(client, bucket, key, identity, dir) {
  const t0 = clock();
  mkdirSync(dir, { recursive: true });
  const r = await client.send(new GetObjectCommand({ Bucket: bucket, Key: key }));
  const unpack = spawn(
    'bash',
    ['-o', 'pipefail', '-ec', `age -d -i ${q(identity)} | zstd -q -dc | tar -C ${q(dir)} -xf -`],
    { stdio: ['pipe', 'ignore', 'pipe'] },
  );
  const done = exited(unpack, 'age | zstd | tar');
  r.Body.pipe(unpack.stdin);
  await done;
  return clock() - t0;
}
