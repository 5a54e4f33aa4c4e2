/**
 * The binlog part of a host's off-site sync: upload the closed files of `<host>/binlog/` the store
 * lacks (encrypted and resumable like the other items: S3Store.commitBinlog), then off-site binlog
 * retention over the backups kept off-site, then the gaps the local store knows. Decisions are in
 * binlog-plan.ts.
 */
import { compareNames } from '../binlog/names.js';
import { statSync } from 'node:fs';
import { join } from 'node:path';
import type { Manifest } from '../catalog/manifest.js';
import { binlogDir, listStoredNames, readGaps, readIndex } from '../binlog/store.js';
import type { Log } from '../report/log.js';
import type { S3Store } from '../storage/s3.js';
import {
  binlogMeta,
  gapsForIndex,
  planBinlogUploads,
  planOffsiteBinlogRetention,
  type LocalBinlog,
} from './binlog-plan.js';

export interface BinlogSyncResult {
  uploaded: string[];
  uploaded_bytes: number;
  deleted: string[];
  /** The files the store holds after this sync, oldest first. */
  offsite: string[];
}

/** The closed files on disk now, with their sizes (a file retention just took is skipped). */
export function localBinlogs(root: string): LocalBinlog[] {
  return listStoredNames(root).flatMap((name) => {
    try {
      return [{ name, bytes: statSync(join(binlogDir(root), name)).size }];
    } catch {
      return [];
    }
  });
}

export async function syncBinlogs(
  store: S3Store,
  root: string,
  kept: readonly Manifest[],
  log: Log,
): Promise<BinlogSyncResult> {
  const res: BinlogSyncResult = { uploaded: [], uploaded_bytes: 0, deleted: [], offsite: [] };
  const remote = await store.listBinlogs();
  for (const p of remote.problems) log.warn({ step: 'offsite' }, `${store.where}: ${p}`);
  const local = localBinlogs(root);
  const meta = new Map(readIndex(root).map((f) => [f.name, f]));
  const sizes = new Map(local.map((f) => [f.name, f.bytes]));
  for (const name of planBinlogUploads(local, remote.binlogs, meta, kept)) {
    const t1 = Date.now();
    const e = await store.commitBinlog(join(binlogDir(root), name), binlogMeta(name, meta.get(name)));
    res.uploaded.push(name);
    res.uploaded_bytes += e.bytes;
    log.info(
      { step: 'offsite', binlog: name, bytes: sizes.get(name) },
      `uploaded binlog/${name} (${e.bytes} bytes, ${((Date.now() - t1) / 1000).toFixed(1)} s)`,
    );
  }
  const after = await store.listBinlogs();
  res.deleted = planOffsiteBinlogRetention(after.binlogs, kept);
  for (const n of res.deleted)
    log.info(
      { step: 'offsite-retain', binlog: n },
      `deleting off-site binlog/${n}: no backup kept off-site needs it`,
    );
  await store.removeBinlogs(res.deleted);
  const gone = new Set(res.deleted);
  res.offsite = after.binlogs
    .map((b) => b.name)
    .filter((n) => !gone.has(n))
    .sort(compareNames);
  if (await store.setBinlogGaps(gapsForIndex(readGaps(root))))
    log.info({ step: 'offsite' }, `recorded the binlog gaps in ${store.where}`);
  return res;
}
