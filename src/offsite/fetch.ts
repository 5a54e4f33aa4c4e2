/**
 * Download what a restore needs from a remote catalog (the object store's driver, whose openRead
 * already decrypts) into a staging directory of the host's working state, checking each file's
 * sha256 against its manifest in the same pass. The result is a CatalogStore whose metadata comes
 * from the remote and whose data files are the staged ones: the restore code then runs exactly as
 * it does on the local catalog (localPath defined, so --to-host can copy the file). A failure
 * removes the staging directory: nothing half-downloaded is left.
 */
import { createHash } from 'node:crypto';
import { createReadStream, createWriteStream, mkdirSync, rmSync } from 'node:fs';
import { once } from 'node:events';
import { join } from 'node:path';
import { PassThrough, Transform, type Readable } from 'node:stream';
import { pipeline } from 'node:stream/promises';
import { isItemFileName } from '../catalog/names.js';
import { parseManifest, type Manifest } from '../catalog/manifest.js';
import { parseReadyInfo } from '../catalog/ready-info.js';
import { XbError, errorMessage } from '../errors.js';
import {
  StoreError,
  type BackupRef,
  type CatalogStore,
  type ItemRef,
  type ReadyInfo,
  type ReadyRef,
  type SealedRead,
  type StoreListing,
  type StoredReadyInfo,
} from '../storage/catalog-store.js';
import { diskSpace, formatBytes } from '../util/size.js';
import { fetchSpaceNeeded, readFailure, type Fetch } from './fetch-plan.js';
import { sealOf } from './seal.js';

/** A downloaded file whose plaintext is not what its manifest recorded. */
export class FetchMismatch extends XbError {}

const isBackup = (ref: BackupRef | ReadyRef): ref is BackupRef =>
  'kind' in ref && (ref.kind === 'full' || ref.kind === 'incremental');

/** Where a fetched file lives in the staging directory (the local layout: kind/id/file, ready/file). */
export function stagedPath(dir: string, ref: BackupRef | ReadyRef, file: string): string {
  if (!isItemFileName(file)) throw new StoreError(`invalid catalog file name ${JSON.stringify(file)}`);
  return isBackup(ref) ? join(dir, ref.kind, ref.id, file) : join(dir, 'ready', file);
}

const itemName = (ref: BackupRef | ReadyRef, file: string) =>
  isBackup(ref) ? `${ref.kind}/${ref.id}` : `ready/${file}`;

/** Refuse before the first byte when the staging filesystem cannot hold the download. */
export function checkFetchSpace(dir: string, fetch: readonly Fetch[]): void {
  const need = fetchSpaceNeeded(fetch);
  const { free } = diskSpace(dir);
  if (free < need) {
    throw new XbError(
      `not enough free space in ${dir} for the download: ${formatBytes(need)} needed, ${formatBytes(free)} free`,
    );
  }
}

/** Bound on a manifest or ready description read from the store (they are a few KiB). */
const MAX_MARKER_BYTES = 1 << 20;

async function readBounded(s: Readable, what: string): Promise<string> {
  const chunks: Buffer[] = [];
  let n = 0;
  for await (const c of s) {
    n += (c as Buffer).length;
    if (n > MAX_MARKER_BYTES) {
      s.destroy();
      throw new StoreError(`${what} is larger than ${MAX_MARKER_BYTES} bytes`);
    }
    chunks.push(c as Buffer);
  }
  return Buffer.concat(chunks).toString('utf8');
}

type Marker = { kind: 'backup'; m: Manifest } | { kind: 'ready'; info: StoredReadyInfo };

/**
 * The item's own manifest (or ready description) as stored with it, read through the driver
 * (decrypted: the store cannot forge it), validated, and compared with what the store's listing
 * says: a plaintext index rewritten by the store (another object's sha256) is caught here. The
 * sha256 a download must have comes from it.
 */
async function readMarker(remote: CatalogStore, ref: BackupRef | ReadyRef): Promise<Marker> {
  const name = isBackup(ref) ? `${ref.kind}/${ref.id}/manifest.json` : `ready/${ref.id}.json`;
  const text = await readBounded(
    await remote.openRead(ref, isBackup(ref) ? 'manifest.json' : `${ref.id}.json`),
    name,
  );
  if (isBackup(ref)) {
    const m = parseManifest(text);
    if (typeof m === 'string') throw new StoreError(`${name}: ${m}`);
    const listed = await remote.readManifest(ref);
    if (m.id !== ref.id || m.type !== ref.kind || m.sha256 !== listed.sha256 || m.file !== listed.file)
      throw new FetchMismatch(
        `${name} in ${remote.where} does not match the store's index (altered in the store?)`,
      );
    return { kind: 'backup', m };
  }
  const info = parseReadyInfo(text, ref.id);
  if (typeof info === 'string') throw new StoreError(`${name}: ${info}`);
  const listed = await remote.readReady(ref.id);
  if (info.sha256 !== listed.sha256 || info.file !== ref.file)
    throw new FetchMismatch(
      `${name} in ${remote.where} does not match the store's index (altered in the store?)`,
    );
  return { kind: 'ready', info };
}

/** The item's checked marker; a failure to read it is one line naming the item. */
async function checkedMarker(remote: CatalogStore, f: Fetch): Promise<Marker> {
  try {
    return await readMarker(remote, f.ref);
  } catch (e) {
    if (e instanceof FetchMismatch) throw e;
    throw new XbError(`${itemName(f.ref, f.file)} from ${remote.where}: ${readFailure(errorMessage(e))}`);
  }
}

/** Download one file (decrypted by the driver) to `path`, sha256 in the same pass. */
async function fetchOne(
  remote: CatalogStore,
  f: Fetch,
  path: string,
  onBytes?: (n: number) => void,
): Promise<Marker> {
  const marker = await checkedMarker(remote, f);
  const want = marker.kind === 'backup' ? marker.m.sha256 : marker.info.sha256;
  mkdirSync(join(path, '..'), { recursive: true, mode: 0o700 });
  const hash = createHash('sha256');
  const tap = new Transform({
    transform(chunk: Buffer, _e, cb) {
      hash.update(chunk);
      onBytes?.(chunk.length);
      cb(null, chunk);
    },
  });
  try {
    const input: Readable = await remote.openRead(f.ref, f.file);
    await pipeline(input, tap, createWriteStream(path, { mode: 0o600, flags: 'wx' }));
  } catch (e) {
    throw new XbError(`${itemName(f.ref, f.file)} from ${remote.where}: ${readFailure(errorMessage(e))}`);
  }
  const got = hash.digest('hex');
  if (got !== want) {
    throw new FetchMismatch(
      `${itemName(f.ref, f.file)} from ${remote.where} does not match its recorded sha256 (altered in the store?)`,
    );
  }
  return marker;
}

/**
 * The items of `fetch` read straight from the store, nothing staged: their manifests or
 * descriptions are checked as a download's are, the data is streamed (decrypted) from the remote
 * when read. For a reader that checks the sha256 as the bytes pass and discards its work on a
 * mismatch (a ready file unpacked into a target directory): one pass instead of download + read.
 */
export async function streamFromRemote(remote: CatalogStore, fetch: readonly Fetch[]): Promise<RemoteView> {
  const markers: Marker[] = [];
  for (const f of fetch) markers.push(await checkedMarker(remote, f));
  return new RemoteView(remote, markers);
}

/**
 * Download every file of `fetch` into `dir` (created; removed again on any failure) and return the
 * staged view. The caller removes `dir` when the restore is over.
 */
export async function fetchToStaging(
  remote: CatalogStore,
  fetch: readonly Fetch[],
  dir: string,
  onBytes?: (n: number) => void,
): Promise<StagedStore> {
  rmSync(dir, { recursive: true, force: true });
  mkdirSync(dir, { recursive: true, mode: 0o700 });
  const markers: Marker[] = [];
  try {
    checkFetchSpace(dir, fetch);
    for (const f of fetch) markers.push(await fetchOne(remote, f, stagedPath(dir, f.ref, f.file), onBytes));
  } catch (e) {
    rmSync(dir, { recursive: true, force: true });
    if (e instanceof XbError) throw e;
    throw new XbError(`download from ${remote.where} failed: ${errorMessage(e)}`);
  }
  return new StagedStore(remote, dir, markers);
}

/**
 * Reads only: the listing from the remote catalog; the manifests and descriptions of the fetched
 * items as they were stored with them (checked above), data from the store as it downloads (an
 * error while reading is one line naming the item). Anything that would write is refused (a restore
 * never changes the store).
 */
export class RemoteView implements CatalogStore {
  readonly where: string;
  private readonly manifests = new Map<string, Manifest>();
  private readonly readies = new Map<string, StoredReadyInfo>();
  constructor(
    protected readonly remote: CatalogStore,
    markers: readonly Marker[] = [],
  ) {
    this.where = remote.where;
    for (const k of markers) {
      if (k.kind === 'backup') this.manifests.set(`${k.m.type}/${k.m.id}`, k.m);
      else this.readies.set(k.info.id, k.info);
    }
  }
  list(): Promise<StoreListing> {
    return this.remote.list();
  }
  readManifest(ref: BackupRef): Promise<Manifest> {
    const m = this.manifests.get(`${ref.kind}/${ref.id}`);
    return m ? Promise.resolve(m) : this.remote.readManifest(ref);
  }
  readReady(id: string): Promise<StoredReadyInfo> {
    const i = this.readies.get(id);
    return i ? Promise.resolve(i) : this.remote.readReady(id);
  }
  localPath(_ref: BackupRef | ReadyRef, _file: string): string | undefined {
    return undefined;
  }
  async openRead(ref: BackupRef | ReadyRef, file: string): Promise<Readable> {
    const fail = (e: unknown) =>
      new XbError(`${itemName(ref, file)} from ${this.where}: ${readFailure(errorMessage(e))}`);
    let s: Readable;
    try {
      s = await this.remote.openRead(ref, file);
    } catch (e) {
      throw fail(e);
    }
    // The driver's error (age's text) becomes the line the user reads; the chunks pass unchanged.
    const out = new PassThrough({ highWaterMark: 1 << 20 });
    s.on('error', (e) => out.destroy(fail(e)));
    out.on('close', () => s.destroy());
    s.pipe(out);
    return out;
  }
  /**
   * The ready file's ciphertext with the seal its checked description carries (offsite/seal.ts),
   * for a reader that decrypts in its own pipeline; undefined without a seal (an older upload) or
   * when the item is not encrypted.
   */
  async openSealed(ref: ReadyRef, file: string): Promise<SealedRead | undefined> {
    const info = this.readies.get(ref.id);
    const seal = info && info.file === file ? sealOf(info) : undefined;
    if (!seal || !this.remote.openCipher) return undefined;
    const open = async () => {
      try {
        return await this.remote.openCipher!(ref, file);
      } catch (e) {
        throw new XbError(`${itemName(ref, file)} from ${this.where}: ${readFailure(errorMessage(e))}`);
      }
    };
    const c = await open();
    if (!c) return undefined;
    return {
      ...c,
      ...seal,
      reopen: async () => (await open())!.body,
    };
  }
  private readOnly(): Promise<never> {
    return Promise.reject(new StoreError(`a restore does not write to ${this.where}`));
  }
  commitBackup(_d: string, _m: Manifest): Promise<void> {
    return this.readOnly();
  }
  commitReady(_f: string, _i: ReadyInfo): Promise<void> {
    return this.readOnly();
  }
  updateManifest(_m: Manifest): Promise<void> {
    return this.readOnly();
  }
  remove(_i: readonly ItemRef[]): Promise<void> {
    return this.readOnly();
  }
}

/** The same reads, data from the staged files (localPath defined, so --to-host can copy the file). */
export class StagedStore extends RemoteView {
  constructor(
    remote: CatalogStore,
    readonly dir: string,
    markers: readonly Marker[] = [],
  ) {
    super(remote, markers);
  }
  override localPath(ref: BackupRef | ReadyRef, file: string): string {
    return stagedPath(this.dir, ref, file);
  }
  /** The staged file is plaintext: read it with openRead. */
  override openSealed(): Promise<undefined> {
    return Promise.resolve(undefined);
  }
  override async openRead(ref: BackupRef | ReadyRef, file: string): Promise<Readable> {
    const s = createReadStream(this.localPath(ref, file), { highWaterMark: 1 << 20 });
    try {
      await once(s, 'open');
    } catch (e) {
      throw new StoreError(
        `${itemName(ref, file)} was not downloaded (${(e as NodeJS.ErrnoException).code})`,
      );
    }
    return s;
  }
}
