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
import { Transform, type Readable } from 'node:stream';
import { pipeline } from 'node:stream/promises';
import { isItemFileName } from '../catalog/names.js';
import type { Manifest } from '../catalog/manifest.js';
import { XbError, errorMessage } from '../errors.js';
import {
  StoreError,
  type BackupRef,
  type CatalogStore,
  type ItemRef,
  type ReadyInfo,
  type ReadyRef,
  type StoreListing,
  type StoredReadyInfo,
} from '../storage/catalog-store.js';
import { diskSpace, formatBytes } from '../util/size.js';
import { fetchSpaceNeeded, type Fetch } from './fetch-plan.js';

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

/** The sha256 a fetched file must have: the manifest's, or the ready description's. */
async function expectedSha256(remote: CatalogStore, ref: BackupRef | ReadyRef): Promise<string> {
  return isBackup(ref) ? (await remote.readManifest(ref)).sha256 : (await remote.readReady(ref.id)).sha256;
}

/** Download one file (decrypted by the driver) to `path`, sha256 in the same pass. */
async function fetchOne(remote: CatalogStore, f: Fetch, path: string, onBytes?: (n: number) => void) {
  const want = await expectedSha256(remote, f.ref);
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
    throw new XbError(`${itemName(f.ref, f.file)} from ${remote.where}: ${errorMessage(e)}`);
  }
  const got = hash.digest('hex');
  if (got !== want) {
    throw new FetchMismatch(
      `${itemName(f.ref, f.file)} from ${remote.where} does not match its recorded sha256 (altered in the store?)`,
    );
  }
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
  try {
    checkFetchSpace(dir, fetch);
    for (const f of fetch) await fetchOne(remote, f, stagedPath(dir, f.ref, f.file), onBytes);
  } catch (e) {
    rmSync(dir, { recursive: true, force: true });
    if (e instanceof XbError) throw e;
    throw new XbError(`download from ${remote.where} failed: ${errorMessage(e)}`);
  }
  return new StagedStore(remote, dir);
}

/**
 * Reads only: metadata from the remote catalog, data from the staged files. Anything that would
 * write is refused (a restore never changes the store).
 */
export class StagedStore implements CatalogStore {
  readonly where: string;
  constructor(
    private readonly remote: CatalogStore,
    readonly dir: string,
  ) {
    this.where = remote.where;
  }
  list(): Promise<StoreListing> {
    return this.remote.list();
  }
  readManifest(ref: BackupRef): Promise<Manifest> {
    return this.remote.readManifest(ref);
  }
  readReady(id: string): Promise<StoredReadyInfo> {
    return this.remote.readReady(id);
  }
  localPath(ref: BackupRef | ReadyRef, file: string): string {
    return stagedPath(this.dir, ref, file);
  }
  async openRead(ref: BackupRef | ReadyRef, file: string): Promise<Readable> {
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
