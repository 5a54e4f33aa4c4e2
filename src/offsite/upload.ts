/**
 * The resumable multipart upload of a spooled file. The upload id and each acknowledged part's ETag
 * are recorded in `<spool>.upload.json` (written atomically), so a run killed with -9 resumes with
 * ListParts and does not send again what the store already holds. Parts are read from the spool one
 * buffer each (memory: part size x concurrency, whatever the file's size), sent with Content-MD5,
 * and the ETag the store returns must be that MD5 (so the SDK's own sha256 of each body is skipped:
 * UNSIGNED-PAYLOAD). With `growing`, the upload starts while the writer (age) is still filling the
 * spool: a part is sent once the file holds all of it, or the writer has finished.
 */
import { createHash } from 'node:crypto';
import { open, readFile, rename, rm, stat, writeFile } from 'node:fs/promises';
import {
  AbortMultipartUploadCommand,
  CompleteMultipartUploadCommand,
  CreateMultipartUploadCommand,
  HeadObjectCommand,
  ListMultipartUploadsCommand,
  ListPartsCommand,
  PutObjectCommand,
  UploadPartCommand,
} from '@aws-sdk/client-s3';
import { tempName } from '../util/excl.js';
import {
  parseState,
  planParts,
  resumeDecision,
  stateMatches,
  type Part,
  type UploadState,
} from './multipart.js';
import { checkKey, checkParts, checkUploadId, etagMd5, MAX_PARTS, type ListedPart } from './replies.js';
import { call, describeS3Error, StoreError, type Store } from './s3.js';

export interface UploadOptions {
  partSize: number;
  concurrency: number;
  /** Bytes per second over all parts; undefined: unlimited. */
  bandwidth?: number;
  /** Where the state lives; default `<file>.upload.json`. */
  statePath?: string;
  /** After each part is stored (progress, tests). */
  onPart?: (p: Part, sentBytes: number) => void;
  /** The spool is still being written: upload it as it grows (a fresh upload, never a resume). */
  growing?: Growing;
}

export interface Growing {
  /** At least the final size (chooses the part size before the size is known). */
  maxSize: number;
  /** Settles when the writer is done: resolved, the file is complete; rejected, it failed. */
  finished: Promise<unknown>;
  /**
   * Called once the state records the final size and mtime: the caller moves the file into place
   * (a kill before that re-encrypts from scratch; after it, the upload resumes).
   */
  seal: () => Promise<void>;
}

/** How often a growing spool's size is looked at while a part waits for its bytes. */
const GROW_POLL_MS = 10;

export interface UploadResult {
  key: string;
  size: number;
  parts: number;
  /** Parts sent by this call (a resume sends fewer). */
  sent: number;
  resumed: boolean;
}

async function readPart(fd: Awaited<ReturnType<typeof open>>, p: Part): Promise<Buffer> {
  const buf = Buffer.allocUnsafe(p.length);
  let got = 0;
  while (got < p.length) {
    const { bytesRead } = await fd.read(buf, got, p.length - got, p.offset + got);
    if (bytesRead === 0) throw new StoreError(`the spool is shorter than planned (part ${p.n})`);
    got += bytesRead;
  }
  return buf;
}

const md5 = (b: Buffer): Buffer => createHash('md5').update(b).digest();

/**
 * Sign the part's body as UNSIGNED-PAYLOAD: Content-MD5 and the ETag check already cover its
 * integrity, and the SDK's sha256 of every body was a second full hash pass on the main thread.
 */
function unsignedPayload(cmd: UploadPartCommand): UploadPartCommand {
  cmd.middlewareStack.add(
    (next) => async (args) => {
      const req = args.request as { headers?: Record<string, string> };
      if (req.headers) req.headers['x-amz-content-sha256'] = 'UNSIGNED-PAYLOAD';
      return next(args);
    },
    { step: 'build', name: 'xbUnsignedPayload' },
  );
  return cmd;
}

/** Atomic replace: a kill -9 leaves the old state or the new one, never half of one. */
async function writeState(path: string, s: UploadState): Promise<void> {
  const tmp = tempName(path, 'tmp');
  await writeFile(tmp, JSON.stringify(s), { mode: 0o600, flag: 'wx' });
  await rename(tmp, path);
}

async function loadState(path: string): Promise<UploadState | undefined> {
  let text: string;
  try {
    text = await readFile(path, 'utf8');
  } catch {
    return undefined;
  }
  const p = parseState(text.slice(0, 1 << 20));
  return p.ok ? p.value : undefined;
}

/** Every part the store lists for an upload (paginated, bounded, validated). */
async function listParts(store: Store, key: string, uploadId: string): Promise<ListedPart[]> {
  const out: ListedPart[] = [];
  let marker: string | undefined;
  for (let page = 0; page < MAX_PARTS / 1000 + 1; page++) {
    const r = await call(store, `list the parts of ${key}`, () =>
      store.client.send(
        new ListPartsCommand({
          Bucket: store.bucket,
          Key: key,
          UploadId: uploadId,
          PartNumberMarker: marker,
        }),
      ),
    );
    const parts = checkParts(r.Parts);
    if (!parts.ok) throw new StoreError(`${store.label}: the store answered ${parts.error} for ${key}`);
    out.push(...parts.value);
    if (!r.IsTruncated) return out;
    const next = r.NextPartNumberMarker;
    if (next === undefined || next === marker)
      throw new StoreError(`${store.label}: a part listing that does not advance`);
    marker = String(next);
  }
  throw new StoreError(`${store.label}: more than ${MAX_PARTS} parts listed for ${key}`);
}

/** A simple shared rate limit: each part waits until the bytes sent so far fit the bandwidth. */
function limiter(bandwidth: number | undefined): (bytes: number) => Promise<void> {
  if (bandwidth === undefined) return async () => {};
  const t0 = Date.now();
  let total = 0;
  return async (bytes) => {
    total += bytes;
    const due = t0 + (total / bandwidth) * 1000 - Date.now();
    if (due > 0) await new Promise((r) => setTimeout(r, due));
  };
}

/**
 * Upload `file` to `key` (relative to nothing: a full key), resuming the upload recorded beside
 * it when it is of this same file. On success the state file is gone and the object is complete
 * (its size checked with HeadObject).
 */
export async function uploadSpooled(
  store: Store,
  key: string,
  file: string,
  o: UploadOptions,
): Promise<UploadResult> {
  const k = checkKey(key, store.prefix);
  if (!k.ok) throw new StoreError(`bad object name: ${k.error}`);
  const statePath = o.statePath ?? `${file}.upload.json`;
  const g = o.growing;
  // Taken over below once the upload is open; a failure before that must not go unhandled.
  g?.finished.catch(() => {});
  const st = await stat(file);
  // Growing: the part size is chosen for the largest the spool can get; the plan waits for its end.
  const ps = planParts(g ? Math.max(g.maxSize, st.size) : st.size, o.partSize).partSize;
  let plan: Part[] | undefined = g ? undefined : planParts(st.size, ps).parts;
  const spool = { bucket: store.bucket, key, size: st.size, mtimeMs: st.mtimeMs, partSize: ps };
  let state = g ? undefined : await loadState(statePath);
  if (state && !stateMatches(state, spool)) {
    await abortUpload(store, state.key, state.uploadId);
    state = undefined;
  }
  const fd = await open(file, 'r');
  // Growing: settles (never rejects) once the writer is done and the state records the final size.
  let sealed: Promise<unknown> = Promise.resolve();
  try {
    let toSend = plan ?? [];
    const etags = new Map<number, string>();
    let resumed = false;
    if (state && plan) {
      let listed: ListedPart[] | undefined;
      try {
        listed = await listParts(store, key, state.uploadId);
      } catch (e) {
        // NoSuchUpload: aborted or expired meanwhile; start over. Anything else is a real failure.
        if (!(e instanceof StoreError) || !/NoSuchUpload/.test(e.message)) throw e;
      }
      if (listed) {
        resumed = true;
        const d = resumeDecision(plan, listed, state.etags);
        for (const [n, m] of d.kept) etags.set(n, m);
        const byN = new Map(listed.map((l) => [l.n, l.md5]));
        toSend = d.send;
        for (const p of d.toHash) {
          const m = md5(await readPart(fd, p)).toString('hex');
          if (m === byN.get(p.n)) etags.set(p.n, m);
          else toSend.push(p);
        }
        toSend.sort((a, b) => a.n - b.n);
        state.etags = Object.fromEntries([...etags].map(([n, m]) => [String(n), m]));
        await writeState(statePath, state);
      } else {
        state = undefined;
      }
    }
    if (!state) {
      const r = await call(store, `start the upload of ${key}`, () =>
        store.client.send(new CreateMultipartUploadCommand({ Bucket: store.bucket, Key: key })),
      );
      const id = checkUploadId(r.UploadId);
      if (!id.ok) throw new StoreError(`${store.label}: the store answered ${id.error}`);
      state = { v: 1, ...spool, uploadId: id.value, etags: {} };
      await writeState(statePath, state);
    }
    const s = state;
    // State writes are serialized: each one is the whole map at that moment.
    let writing = Promise.resolve();
    const record = (n: number, m: string): Promise<void> => {
      s.etags[String(n)] = m;
      writing = writing.then(() => writeState(statePath, { ...s, etags: { ...s.etags } }));
      return writing;
    };
    let stopped = false;
    let finalSize: number | undefined;
    let writerError: unknown;
    if (g) {
      sealed = g.finished.then(
        async () => {
          const end = await fd.stat();
          s.size = end.size;
          s.mtimeMs = end.mtimeMs;
          writing = writing.then(() => writeState(statePath, { ...s, etags: { ...s.etags } }));
          await writing;
          await g.seal();
          finalSize = end.size;
        },
        (e: unknown) => {
          writerError = e;
        },
      );
      sealed = sealed.catch((e: unknown) => {
        writerError = e;
      });
    }
    /** Growing: part `n` once the spool holds all of it; undefined past the end. */
    const grown = async (n: number): Promise<Part | undefined> => {
      const offset = (n - 1) * ps;
      for (;;) {
        if (stopped) return undefined;
        if (writerError !== undefined) throw writerError;
        if (finalSize !== undefined) {
          if (offset >= finalSize && !(n === 1 && finalSize === 0)) return undefined;
          return { n, offset, length: Math.min(ps, finalSize - offset) };
        }
        // A whole part is there: sent now, whether or not the spool ends right after it.
        if ((await fd.stat()).size >= offset + ps) return { n, offset, length: ps };
        await Promise.race([sealed, new Promise((r) => setTimeout(r, GROW_POLL_MS))]);
      }
    };
    const queue = [...toSend];
    let nextN = 1;
    const take = (): Promise<Part | undefined> =>
      g ? grown(nextN++) : Promise.resolve(stopped ? undefined : queue.shift());
    const throttle = limiter(o.bandwidth);
    let sentBytes = 0;
    let sent = 0;
    const worker = async () => {
      for (let p = await take(); p; p = await take()) {
        const body = await readPart(fd, p);
        const digest = md5(body);
        await throttle(p.length);
        const part = p;
        const r = await call(store, `upload part ${part.n} of ${key}`, () =>
          store.client.send(
            unsignedPayload(
              new UploadPartCommand({
                Bucket: store.bucket,
                Key: key,
                UploadId: s.uploadId,
                PartNumber: part.n,
                Body: body,
                ContentLength: part.length,
                ContentMD5: digest.toString('base64'),
              }),
            ),
          ),
        );
        const got = etagMd5(r.ETag);
        if (got !== digest.toString('hex')) {
          throw new StoreError(
            `${store.label}: part ${part.n} of ${key} was stored with a different checksum`,
          );
        }
        etags.set(part.n, got);
        await record(part.n, got);
        sentBytes += part.length;
        sent++;
        o.onPart?.(part, sentBytes);
      }
    };
    // The first failure stops the queue; the parts in flight finish (or fail) before the spool closes.
    const workers = Array.from(
      { length: Math.max(1, g ? o.concurrency : Math.min(o.concurrency, toSend.length)) },
      () =>
        worker().catch((e: unknown) => {
          stopped = true;
          throw e;
        }),
    );
    const failed = (await Promise.allSettled(workers)).find((r) => r.status === 'rejected');
    // A growing spool is finished and sealed even when a part failed: the next sync resumes it.
    await sealed;
    if (writerError !== undefined) throw writerError;
    if (failed) throw failed.reason;
    await writing;
    const size = finalSize ?? st.size;
    plan ??= planParts(size, ps).parts;
    if (plan.some((p) => !etags.has(p.n)))
      throw new StoreError(`${store.label}: a part of ${key} was not sent (the spool changed?)`);
    await call(store, `complete the upload of ${key}`, () =>
      store.client.send(
        new CompleteMultipartUploadCommand({
          Bucket: store.bucket,
          Key: key,
          UploadId: s.uploadId,
          MultipartUpload: {
            Parts: plan!.map((p) => ({ PartNumber: p.n, ETag: `"${etags.get(p.n)!}"` })),
          },
        }),
      ),
    );
    const head = await call(store, `check ${key}`, () =>
      store.client.send(new HeadObjectCommand({ Bucket: store.bucket, Key: key })),
    );
    if (head.ContentLength !== size) {
      throw new StoreError(
        `${store.label}: ${key} is ${head.ContentLength} bytes in the store, ${size} here`,
      );
    }
    await rm(statePath, { force: true });
    return { key, size, parts: plan.length, sent, resumed };
  } finally {
    await sealed;
    await fd.close();
  }
}

/** Upload a small object (a manifest, an index) in one PUT with Content-MD5. */
export async function putSmall(store: Store, key: string, body: Buffer | string): Promise<void> {
  const k = checkKey(key, store.prefix);
  if (!k.ok) throw new StoreError(`bad object name: ${k.error}`);
  const b = Buffer.isBuffer(body) ? body : Buffer.from(body);
  if (b.length > 16 * 1024 * 1024) throw new RangeError('putSmall is for objects up to 16 MiB');
  await call(store, `write ${key}`, () =>
    store.client.send(
      new PutObjectCommand({
        Bucket: store.bucket,
        Key: key,
        Body: b,
        ContentLength: b.length,
        ContentMD5: md5(b).toString('base64'),
      }),
    ),
  );
}

export async function abortUpload(store: Store, key: string, uploadId: string): Promise<void> {
  try {
    await store.client.send(
      new AbortMultipartUploadCommand({ Bucket: store.bucket, Key: key, UploadId: uploadId }),
    );
  } catch (e) {
    if ((e as { name?: string }).name === 'NoSuchUpload') return;
    throw new StoreError(describeS3Error(e, store, `abort the upload of ${key}`));
  }
}

export interface OpenUpload {
  key: string;
  uploadId: string;
}

/** The multipart uploads open under `under` (a key prefix below the store's), validated, bounded. */
export async function listUploads(store: Store, under: string): Promise<OpenUpload[]> {
  const out: OpenUpload[] = [];
  let keyMarker: string | undefined;
  let idMarker: string | undefined;
  for (let page = 0; page < 100; page++) {
    const r = await call(store, 'list open uploads', () =>
      store.client.send(
        new ListMultipartUploadsCommand({
          Bucket: store.bucket,
          Prefix: under,
          KeyMarker: keyMarker,
          UploadIdMarker: idMarker,
        }),
      ),
    );
    for (const u of r.Uploads ?? []) {
      const k = checkKey(u.Key, store.prefix);
      const id = checkUploadId(u.UploadId);
      if (!k.ok || !id.ok)
        throw new StoreError(
          `${store.label}: the store listed an upload with ${k.ok ? (id as { error: string }).error : k.error}`,
        );
      out.push({ key: k.value, uploadId: id.value });
    }
    if (!r.IsTruncated) return out;
    if (r.NextKeyMarker === keyMarker && r.NextUploadIdMarker === idMarker) break;
    keyMarker = r.NextKeyMarker;
    idMarker = r.NextUploadIdMarker;
  }
  throw new StoreError(`${store.label}: an upload listing that does not end`);
}

/** Abort every open upload under `under` except those still wanted (by upload id). */
export async function abortAbandoned(
  store: Store,
  under: string,
  keep: ReadonlySet<string> = new Set(),
): Promise<number> {
  let n = 0;
  for (const u of await listUploads(store, under)) {
    if (keep.has(u.uploadId)) continue;
    await abortUpload(store, u.key, u.uploadId);
    n++;
  }
  return n;
}
