/**
 * A hostile store's answer to a part upload (an in-process S3 endpoint on loopback that answers
 * with the ETag each case gives): a wrong or malformed ETag fails the upload in one line.
 */
import t from 'tap';
import { createServer, type IncomingMessage, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { createHash, randomBytes } from 'node:crypto';
import { openStore, type OffsiteConfig } from '../../src/offsite/s3.js';
import { uploadSpooled } from '../../src/offsite/upload.js';

const dir = mkdtempSync(join(tmpdir(), 'xb-etag-'));
t.teardown(() => rmSync(dir, { recursive: true, force: true }));
const body = randomBytes(1000);
const file = join(dir, 'item');
writeFileSync(file, body);
const md5 = createHash('md5').update(body).digest('hex');

/** The store's behaviour: the ETag it returns for a part. */
let partEtag = '';
const server = createServer((req: IncomingMessage, res: ServerResponse) => {
  req.resume();
  req.on('end', () => {
    const url = new URL(req.url ?? '/', 'http://x');
    res.setHeader('content-type', 'application/xml');
    if (req.method === 'POST' && url.searchParams.has('uploads')) {
      res.end(
        '<InitiateMultipartUploadResult><Bucket>b</Bucket><Key>p/k</Key><UploadId>U1</UploadId></InitiateMultipartUploadResult>',
      );
    } else if (req.method === 'PUT' && url.searchParams.has('partNumber')) {
      res.setHeader('etag', partEtag);
      res.end();
    } else if (req.method === 'POST' && url.searchParams.has('uploadId')) {
      res.end(
        `<CompleteMultipartUploadResult><Bucket>b</Bucket><Key>p/k</Key><ETag>"${md5}-1"</ETag></CompleteMultipartUploadResult>`,
      );
    } else if (req.method === 'HEAD') {
      // The completed object, as the upload checks it.
      res.setHeader('content-length', String(body.length));
      res.setHeader('etag', `"${md5}-1"`);
      res.end();
    } else if (req.method === 'DELETE') {
      res.statusCode = 204;
      res.end();
    } else {
      res.statusCode = 404;
      res.end('<Error><Code>NoSuchKey</Code></Error>');
    }
  });
});
await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
t.teardown(() => server.close());
const port = (server.address() as AddressInfo).port;

const config: OffsiteConfig = {
  url: { bucket: 'b', prefix: 'p' },
  endpoint: `http://127.0.0.1:${port}`,
  region: 'us-east-1',
  accessKeyId: 'id',
  secretAccessKey: 'secret-value',
  forcePathStyle: true,
  recipients: undefined,
  encryption: 'none',
  retainDays: 7,
  retainNumReadyBackups: 1,
  partSize: 5 * 1024 * 1024,
  concurrency: 1,
  bandwidth: undefined,
};
const store = openStore(config);
t.teardown(() => store.client.destroy());

const cases: [name: string, etag: string, md5Check: boolean, want: RegExp | 'ok'][] = [
  ['the MD5 of the part, checked', `"${md5}"`, true, 'ok'],
  [
    'another MD5 than the part',
    `"${'0'.repeat(32)}"`,
    true,
    /part 1 of p\/k was stored with a different checksum/,
  ],
  ['not an MD5 at all', '"<script>"', true, /part 1 of p\/k was stored with a malformed ETag/],
  ['not an MD5, nothing hashed here (ciphertext)', 'garbage', false, /was stored with a malformed ETag/],
  ['an MD5-shaped ETag, nothing hashed here (ciphertext)', `"${'a'.repeat(32)}"`, false, 'ok'],
];
for (const [name, etag, md5Check, want] of cases) {
  t.test(name, async (t) => {
    partEtag = etag;
    const run = uploadSpooled(store, 'p/k', file, {
      partSize: config.partSize,
      concurrency: 1,
      bandwidth: undefined,
      statePath: join(dir, `${name.length}.upload.json`),
      md5: md5Check,
    });
    if (want === 'ok') t.equal((await run).size, body.length, 'uploaded');
    else await t.rejects(run, want);
  });
}
