/**
 * The off-site catalog of a host (the object store's CatalogStore driver, src/storage/s3.ts),
 * opened for the reader commands: list and non-deep verify need no identity (the plaintext index),
 * a restore and a deep verify decrypt with `identity`. Reading never writes to the store.
 */
import { accessSync, constants } from 'node:fs';
import type { HostConfig } from '../config/load.js';
import { hostDir } from '../catalog/store.js';
import { UsageError } from '../errors.js';
import { StoreError, type CatalogStore, type StoredReadyInfo } from '../storage/catalog-store.js';
import type { S3Listing } from '../storage/s3.js';
import { openOffsiteStore } from '../storage/open.js';
import { binlogObjectName, objectName, type IndexBinlog, type IndexGap } from '../storage/s3-index.js';
import type { Readable } from 'node:stream';
import { listObjects } from './objects.js';
import type { IndexedObject } from './fetch-plan.js';

export interface OffsiteReadOptions {
  /** The age identity file (private key); needed to decrypt data. */
  identity?: string;
}

/** The off-site catalog, plus what a non-deep verify compares: the index against the listing. */
export interface OffsiteCatalog extends CatalogStore {
  /** Every object the host's index records (with its stored size), and what the store lists. */
  objects(): Promise<{ indexed: IndexedObject[]; present: Map<string, number> }>;
  /** The binlog files off-site (present with their recorded size) and the gaps recorded. */
  binlogs(): Promise<{ binlogs: IndexBinlog[]; gaps: IndexGap[]; problems: string[] }>;
  /** A binlog file's plaintext (decrypted with the identity); the caller checks its sha256. */
  openBinlog(b: IndexBinlog): Promise<Readable>;
}

export async function openOffsiteCatalog(h: HostConfig, o: OffsiteReadOptions = {}): Promise<OffsiteCatalog> {
  if (h.offsite.url === undefined)
    throw new UsageError(`[${h.name}] has no offsite_url: there is no off-site copy to read`);
  if (o.identity !== undefined) {
    try {
      accessSync(o.identity, constants.R_OK);
    } catch (e) {
      throw new UsageError(`--identity ${o.identity}: cannot read it (${(e as NodeJS.ErrnoException).code})`);
    }
  }
  const store = openOffsiteStore(
    h,
    hostDir(h.backupDir, h.name),
    o.identity !== undefined ? { identity: o.identity } : {},
  );
  // One listing per command (the driver lists the store again for each item otherwise): the
  // manifests and descriptions of the index come from it, data is read through the driver.
  let snapshot: Promise<S3Listing> | undefined;
  const listing = () => (snapshot ??= store.list());
  const missing = (what: string) =>
    new StoreError(`no ${what} in ${store.where} (see xb-mgr list --offsite)`);
  const readOnly = () => Promise.reject(new StoreError(`reading ${store.where} does not write to it`));
  return {
    where: store.where,
    list: listing,
    async readManifest(ref) {
      const m = (await listing()).backups.find((b) => b.type === ref.kind && b.id === ref.id);
      if (!m) throw missing(`${ref.kind}/${ref.id}`);
      return m;
    },
    async readReady(id) {
      const i = (await listing()).items.find((x) => x.kind === 'ready' && x.info.id === id);
      if (!i || i.kind !== 'ready') throw missing(`ready ${id}`);
      return i.info as StoredReadyInfo;
    },
    openRead: (ref, file) => store.openRead(ref, file),
    openCipher: (ref, file) => store.openCipher(ref, file),
    localPath: () => undefined,
    commitBackup: readOnly,
    commitReady: readOnly,
    updateManifest: readOnly,
    remove: readOnly,
    async objects() {
      const { index } = await store.readIndex();
      const indexed = index.items.flatMap((i) => {
        const ref =
          i.kind === 'ready' ? { kind: 'ready' as const } : { kind: i.manifest.type, id: i.manifest.id };
        return i.objects.map((x) => ({ name: objectName(ref, x.file, i.encrypted), size: x.bytes }));
      });
      for (const b of index.binlogs ?? [])
        indexed.push({ name: binlogObjectName(b.name, b.encrypted), size: b.object.bytes });
      const listed = await listObjects(store.s3, `${store.root}/`);
      const present = new Map(listed.map((l) => [l.key.slice(store.root.length + 1), l.size]));
      return { indexed, present };
    },
    async binlogs() {
      const { binlogs, gaps, problems } = await store.listBinlogs();
      return { binlogs, gaps, problems };
    },
    openBinlog: (b) => store.openBinlog(b),
  };
}
