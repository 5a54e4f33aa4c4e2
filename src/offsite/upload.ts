/**
 * The resumable multipart upload of a spooled file. The upload id and each acknowledged part's ETag
 * are recorded in `<spool>.upload.json` (written atomically), so a run killed with -9 resumes with
 * ListParts and does not send again what the store already holds (a listed part is kept when its
 * size is the planned one and its ETag the recorded one; a part of unknown provenance is sent again,
 * or, with `md5`, kept when the local bytes hash to it).
 *
 * With `stream`, the bytes arrive as they are made (age's ciphertext) and pass through Node once:
 * each part is cut in memory, written to the spool (for a resume after a crash) and PUT from that
 * same buffer. The producer never waits for the store (so the spool is complete, and resumable,
 * as early as possible): a part that finds no free worker is dropped from memory and read back from
 * the spool when its turn comes. Memory: (concurrency + 2) part buffers, whatever the file's size.
 *
 * `md5` (default true) sends Content-MD5 and checks that the ETag is that MD5; without it (age's
 * ciphertext: its AEAD and the sha256 in the index catch any change) no part is hashed here.
 * The SDK's own sha256 of each body is skipped either way (UNSIGNED-PAYLOAD).
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
  /** Content-MD5 on every part and the ETag checked against it (default true). */
  md5?: boolean;
  /** The file's bytes as they are made: written to `file` and uploaded (a fresh upload). */
  stream?: Stream;
}

export interface Stream {
  /** The bytes; an error thrown by the iteration fails the upload (nothing sealed). */
  chunks: AsyncIterable<Buffer>;
  /** At least the final size (chooses the part size before the size is known). */
  maxSize: number;
  /**
   * Called once the spool is whole and the state records its final size and mtime: the caller
   * moves the file into place (a kill before that starts afresh; after it, the upload resumes).
   */
  seal: () => Promise<void>;
}

export interface UploadResult {
  key: string;
  size: number;
  parts: number;
  /** Parts sent by this call (a resume sends fewer). */
  sent: number;
  resumed: boolean;
}

type Handle = Awaited<ReturnType<typeof open>>;

/** Part `p` of the spool, into `buf` when given (reused: memory stays flat); its bytes only. */
async function readPart(fd: Handle, p: Part, buf: Buffer = Buffer.allocUnsafe(p.length)): Promise<Buffer> {
  let got = 0;
  while (got < p.length) {
    const { bytesRead } = await fd.read(buf, got, p.length - got, p.offset + got);
    if (bytesRead === 0) throw new StoreError(`the spool is shorter than planned (part ${p.n})`);
    got += bytesRead;
  }
  return buf.subarray(0, p.length);
}

async function writeAll(fd: Handle, buf: Buffer, length: number, position: number): Promise<void> {
  for (let done = 0; done < length;) {
    const { bytesWritten } = await fd.write(buf, done, length - done, position + done);
    done += bytesWritten;
  }
}

const md5 = (b: Buffer): Buffer => createHash('md5').update(b).digest();

/** Sign the part's body as UNSIGNED-PAYLOAD: the SDK would otherwise hash every body again. */
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

export async function loadState(path: string): Promise<UploadState | undefined> {
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

/** A part ready to go: its bytes still in memory, or only in the spool. */
interface Ready {
  part: Part;
  buf?: Buffer;
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
  const src = o.stream;
  const useMd5 = o.md5 ?? true;
  const st = await stat(file);
  // Streamed: the part size is chosen for the largest the file can get; the plan waits for its end.
  const ps = planParts(src ? Math.max(src.maxSize, st.size) : st.size, o.partSize).partSize;
  let plan: Part[] | undefined = src ? undefined : planParts(st.size, ps).parts;
  const spool = { bucket: store.bucket, key, size: st.size, mtimeMs: st.mtimeMs, partSize: ps };
  let state = src ? undefined : await loadState(statePath);
  if (state && !stateMatches(state, spool)) {
    await abortUpload(store, state.key, state.uploadId);
    state = undefined;
  }
  const fd = await open(file, 'r');
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
          // Unknown provenance (in flight at the kill): kept only when its MD5 is checkable here.
          const m = useMd5 ? md5(await readPart(fd, p)).toString('hex') : undefined;
          if (m !== undefined && m === byN.get(p.n)) etags.set(p.n, m);
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
    const queue: Ready[] = toSend.map((part) => ({ part }));
    let produced = !src;
    let waiting: (() => void)[] = [];
    const wake = () => {
      const w = waiting;
      waiting = [];
      for (const f of w) f();
    };
    const take = async (): Promise<Ready | undefined> => {
      for (;;) {
        if (stopped) return undefined;
        const r = queue.shift();
        if (r || produced) return r;
        await new Promise<void>((res) => waiting.push(res));
      }
    };
    // Part buffers are reused: at most `concurrency` in flight, one waiting, one being filled.
    const pool: Buffer[] = [];
    const buffer = () => pool.pop() ?? Buffer.allocUnsafe(ps);
    let finalSize: number | undefined;
    const produce = async (stream: Stream): Promise<void> => {
      const w = await open(file, 'r+');
      let cur = buffer();
      let fill = 0;
      let n = 1;
      let offset = 0;
      const emit = async () => {
        const part = { n: n++, offset, length: fill };
        await writeAll(w, cur, fill, offset);
        offset += fill;
        fill = 0;
        // Kept in memory for a worker only while one can take it soon; else read back later.
        if (!stopped && queue.every((r) => r.buf === undefined)) {
          queue.push({ part, buf: cur });
          cur = buffer();
        } else queue.push({ part });
        wake();
      };
      try {
        await w.truncate(0);
        for await (const c of stream.chunks) {
          for (let at = 0; at < c.length;) {
            const k = Math.min(ps - fill, c.length - at);
            c.copy(cur, fill, at, at + k);
            fill += k;
            at += k;
            if (fill === ps) await emit();
          }
        }
        if (fill > 0 || n === 1) await emit();
        const end = await w.stat();
        s.size = end.size;
        s.mtimeMs = end.mtimeMs;
      } finally {
        await w.close();
      }
      if (s.size !== offset) throw new StoreError(`the spool ${file} changed while it was written`);
      writing = writing.then(() => writeState(statePath, { ...s, etags: { ...s.etags } }));
      await writing;
      await stream.seal();
      finalSize = s.size;
    };
    const producing = src
      ? produce(src).finally(() => {
          produced = true;
          wake();
        })
      : Promise.resolve();
    // A producer failure stops the workers (its error is thrown below).
    producing.catch(() => {
      stopped = true;
      wake();
    });
    const throttle = limiter(o.bandwidth);
    let sentBytes = 0;
    let sent = 0;
    const worker = async () => {
      for (let r = await take(); r; r = await take()) {
        const part = r.part;
        const buf = r.buf ?? buffer();
        const body = r.buf ? buf.subarray(0, part.length) : await readPart(fd, part, buf);
        const digest = useMd5 ? md5(body).toString('hex') : undefined;
        await throttle(part.length);
        const res = await call(store, `upload part ${part.n} of ${key}`, () =>
          store.client.send(
            unsignedPayload(
              new UploadPartCommand({
                Bucket: store.bucket,
                Key: key,
                UploadId: s.uploadId,
                PartNumber: part.n,
                Body: body,
                ContentLength: part.length,
                ...(digest ? { ContentMD5: Buffer.from(digest, 'hex').toString('base64') } : {}),
              }),
            ),
          ),
        );
        pool.push(buf);
        const got = etagMd5(res.ETag);
        if (got === undefined || (digest !== undefined && got !== digest)) {
          throw new StoreError(
            `${store.label}: part ${part.n} of ${key} was stored with ${got === undefined ? 'a malformed ETag' : 'a different checksum'}`,
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
      { length: Math.max(1, src ? o.concurrency : Math.min(o.concurrency, toSend.length)) },
      () =>
        worker().catch((e: unknown) => {
          stopped = true;
          throw e;
        }),
    );
    const failed = (await Promise.allSettled(workers)).find((r) => r.status === 'rejected');
    // The spool is written to its end and sealed even when a part failed: the next sync resumes it.
    await producing;
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
