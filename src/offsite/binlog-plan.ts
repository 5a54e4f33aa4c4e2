/**
 * Pure decisions for the closed binlog files of a host off-site: which to upload, which off-site
 * retention deletes (the local rule of src/binlog/retain.ts over the index and the backups kept
 * off-site), what of the local store's knowledge goes into an index entry, and the gaps recorded.
 */
import type { Manifest } from '../catalog/manifest.js';
import { planBinlogRetention } from '../binlog/retain.js';
import { compareNames } from '../binlog/names.js';
import type { Gap, StoredFile } from '../binlog/store.js';
import { parseIndexGap, type IndexBinlog, type IndexGap } from '../storage/s3-index.js';
import { indexedAsStored as asStored } from '../pitr/offsite-window.js';

/** A closed file of `<host>/binlog/` (never a staged one) and its size. */
export interface LocalBinlog {
  name: string;
  bytes: number;
}

/** Off-site binlog retention: the files no backup kept off-site needs (never the newest one). */
export function planOffsiteBinlogRetention(
  remote: readonly IndexBinlog[],
  kept: readonly Manifest[],
): string[] {
  return planBinlogRetention(remote.map(asStored), kept);
}

/**
 * The local closed files the store lacks (or holds with another size: a file re-stored after a
 * kill), oldest first, minus those off-site retention would delete right after (planned over the
 * store's files plus the uploads), so a file deleted off-site is not sent again each sync.
 */
export function planBinlogUploads(
  local: readonly LocalBinlog[],
  remote: readonly Pick<IndexBinlog, 'name' | 'bytes'>[],
  meta: ReadonlyMap<string, StoredFile>,
  kept: readonly Manifest[],
): string[] {
  const there = new Map(remote.map((b) => [b.name, b.bytes]));
  const want = local.filter((f) => there.get(f.name) !== f.bytes).map((f) => f.name);
  const all = new Map<string, StoredFile>();
  for (const r of remote) all.set(r.name, asStored({ name: r.name, bytes: r.bytes }));
  for (const f of local) all.set(f.name, meta.get(f.name) ?? asStored(f));
  const doomed = new Set(planBinlogRetention([...all.values()], kept));
  return want.filter((n) => !doomed.has(n)).sort(compareNames);
}

/**
 * The binlog backlog: closed local files newer than the newest file off-site (those the next sync
 * uploads). Older files missing off-site are not counted: off-site retention never wants them.
 * With nothing off-site yet, every closed file counts.
 */
export function binlogBacklog(
  local: readonly LocalBinlog[],
  offsite: readonly string[],
): { files: number; bytes: number } {
  const there = new Set(offsite);
  const newest = [...offsite].sort(compareNames).pop();
  const behind = local.filter(
    (f) => !there.has(f.name) && (newest === undefined || compareNames(f.name, newest) > 0),
  );
  return { files: behind.length, bytes: behind.reduce((n, f) => n + f.bytes, 0) };
}

/** What an index entry records of a file from the local store's index.json (no data). */
export function binlogMeta(
  name: string,
  f: StoredFile | undefined,
): Pick<IndexBinlog, 'name' | 'first_time' | 'last_time' | 'gtid_list' | 'state_end' | 'last_gtid'> {
  return {
    name,
    ...(f?.first_time !== undefined ? { first_time: f.first_time } : {}),
    ...(f?.last_time !== undefined ? { last_time: f.last_time } : {}),
    ...(f?.gtid_list !== undefined ? { gtid_list: f.gtid_list } : {}),
    ...(f?.state_end !== undefined ? { state_end: f.state_end } : {}),
    ...(f?.last_gtid ? { last_gtid: f.last_gtid } : {}),
  };
}

/** The local gaps (gaps.json, written by this manager's supervisor) as index entries; invalid ones are left out. */
export function gapsForIndex(gaps: readonly Gap[]): IndexGap[] {
  return gaps.flatMap((g) => {
    const p = parseIndexGap(g);
    return p.ok ? [p.value] : [];
  });
}
