/**
 * Listing, deleting and downloading objects. Every reply of the store is validated (names, sizes,
 * counts bounded: replies.ts), and a download is hashed in the same pass as it is written.
 */
import { createHash } from 'node:crypto';
import { createWriteStream } from 'node:fs';
import { rm } from 'node:fs/promises';
import { Transform, type Readable } from 'node:stream';
import { pipeline } from 'node:stream/promises';
import { DeleteObjectCommand, GetObjectCommand, ListObjectsV2Command } from '@aws-sdk/client-s3';
import { checkKey, checkListing, MAX_LISTED, type Listed } from './replies.js';
import { call, StoreError, type Store } from './s3.js';

/** Every object under `under` (a full key prefix), paginated, at most `max` of them. */
export async function listObjects(store: Store, under: string, max = MAX_LISTED): Promise<Listed[]> {
  const out: Listed[] = [];
  let token: string | undefined;
  for (;;) {
    const r = await call(store, `list ${under}`, () =>
      store.client.send(
        new ListObjectsV2Command({ Bucket: store.bucket, Prefix: under, ContinuationToken: token }),
      ),
    );
    const page = checkListing(r.Contents, store.prefix);
    if (!page.ok) throw new StoreError(`${store.label}: the store listed ${page.error}`);
    for (const l of page.value) {
      if (!l.key.startsWith(under))
        throw new StoreError(`${store.label}: the store listed an object outside ${under}`);
    }
    out.push(...page.value);
    if (out.length > max) throw new StoreError(`${store.label}: more than ${max} objects under ${under}`);
    if (!r.IsTruncated) return out;
    if (typeof r.NextContinuationToken !== 'string' || r.NextContinuationToken === token) {
      throw new StoreError(`${store.label}: a listing that does not advance`);
    }
    token = r.NextContinuationToken;
  }
}

/** Delete objects one by one (Swift's DeleteObjects wants a Content-MD5 current SDKs do not send). */
export async function deleteObjects(store: Store, keys: readonly string[], concurrency = 4): Promise<void> {
  const queue = [...keys];
  const worker = async () => {
    for (let k = queue.shift(); k !== undefined; k = queue.shift()) {
      const key = k;
      const ok = checkKey(key, store.prefix);
      if (!ok.ok) throw new StoreError(`bad object name: ${ok.error}`);
      await call(store, `delete ${key}`, () =>
        store.client.send(new DeleteObjectCommand({ Bucket: store.bucket, Key: key })),
      );
    }
  };
  await Promise.all(Array.from({ length: Math.max(1, concurrency) }, worker));
}

/** The body of an object as a stream, with its size as the store states it (bounded by `maxBytes`). */
export async function openObject(
  store: Store,
  key: string,
  maxBytes: number,
): Promise<{ body: Readable; size: number }> {
  const r = await call(store, `read ${key}`, () =>
    store.client.send(new GetObjectCommand({ Bucket: store.bucket, Key: key })),
  );
  const size = r.ContentLength;
  if (typeof size !== 'number' || !Number.isSafeInteger(size) || size < 0 || size > maxBytes) {
    (r.Body as Readable | undefined)?.destroy?.();
    throw new StoreError(`${store.label}: ${key} is ${size} bytes, more than the ${maxBytes} expected`);
  }
  return { body: r.Body as Readable, size };
}

/** Counts and hashes what passes; fails past `max` bytes (a store that sends more than it said). */
export class HashCount extends Transform {
  readonly hash = createHash('sha256');
  bytes = 0;
  constructor(private readonly max: number) {
    super();
  }
  override _transform(chunk: Buffer, _e: BufferEncoding, cb: (e?: Error | null, d?: Buffer) => void): void {
    this.bytes += chunk.length;
    if (this.bytes > this.max) {
      cb(new StoreError(`the object is longer than the ${this.max} bytes expected`));
      return;
    }
    this.hash.update(chunk);
    cb(null, chunk);
  }
  hex(): string {
    return this.hash.digest('hex');
  }
}

/**
 * Download `key` to `file` (created, 0600), sha256 in the same pass. With `expect`, a size or hash
 * that differs removes the file and throws: nothing half-downloaded is left.
 */
export async function downloadTo(
  store: Store,
  key: string,
  file: string,
  expect: { size?: number; sha256?: string; maxBytes: number },
): Promise<{ size: number; sha256: string }> {
  const { body, size } = await openObject(store, key, expect.size ?? expect.maxBytes);
  const h = new HashCount(size);
  try {
    await pipeline(body, h, createWriteStream(file, { mode: 0o600, flags: 'wx' }));
    if (h.bytes !== size || (expect.size !== undefined && h.bytes !== expect.size)) {
      throw new StoreError(`${store.label}: ${key} was ${h.bytes} bytes, expected ${expect.size ?? size}`);
    }
    const sha256 = h.hex();
    if (expect.sha256 !== undefined && sha256 !== expect.sha256) {
      throw new StoreError(
        `${store.label}: ${key} does not match its recorded sha256 (altered in the store?)`,
      );
    }
    return { size: h.bytes, sha256 };
  } catch (e) {
    await rm(file, { force: true });
    if (e instanceof StoreError) throw e;
    throw new StoreError(`${store.label}: download of ${key} failed: ${(e as Error).message}`);
  }
}
