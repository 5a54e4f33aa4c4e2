/**
 * One host's off-site sync: upload what the local catalog has and the store lacks (plan.ts), then
 * off-site retention, then clean up what killed syncs left (half-committed entries, open multipart
 * uploads, the spool). The record of what is off-site (`<host>/offsite.json`) is written at the end,
 * success or not, for local retention, the metrics and the report.
 */
import { readFileSync, statSync } from 'node:fs';
import { join } from 'node:path';
import type { HostConfig } from '../config/load.js';
import { readPins } from '../catalog/retain.js';
import { writeFileAtomic } from '../catalog/store.js';
import { errorMessage } from '../errors.js';
import type { Log } from '../report/log.js';
import type { Deletion } from '../retention.js';
import type { ItemRef } from '../storage/catalog-store.js';
import { LocalStore } from '../storage/local.js';
import { openS3Store, type S3Store } from '../storage/s3.js';
import {
  dropDoomed,
  itemKey,
  parseRecord,
  planOffsiteRetention,
  planUnusable,
  planUploads,
  uploadKey,
  type OffsiteRecord,
  type Upload,
} from './plan.js';
import { progressReporter } from './progress.js';
import { syncBinlogs } from './binlog-sync.js';

export interface HostSyncResult {
  host: string;
  ok: boolean;
  /** Where the copies go (s3://bucket/prefix/host), for messages. */
  store?: string;
  uploaded: string[];
  uploaded_bytes: number;
  /** Backups whose unusable marking this sync copied to the store (`full/<id>`, ...). */
  marked_unusable: string[];
  deleted: Deletion[];
  /** Closed binlog files uploaded, and deleted by off-site binlog retention (names). */
  uploaded_binlogs?: string[];
  deleted_binlogs?: string[];
  aborted_uploads: number;
  backlog_items: number;
  backlog_bytes: number;
  seconds: number;
  error?: string;
}

export interface SyncOptions {
  now: Date;
  log: Log;
  takeOver?: boolean;
  /** Items sent before the backlog (run: its new ready file). */
  first?: ReadonlySet<string>;
}

export function recordPath(root: string): string {
  return join(root, 'offsite.json');
}

export function readRecord(root: string): OffsiteRecord | undefined {
  try {
    return parseRecord(readFileSync(recordPath(root), 'utf8').slice(0, 4 << 20));
  } catch {
    return undefined;
  }
}

function fileSize(path: string | undefined): number {
  try {
    return path ? statSync(path).size : 0;
  } catch {
    return 0;
  }
}

export async function syncHost(h: HostConfig, root: string, o: SyncOptions): Promise<HostSyncResult> {
  const t0 = Date.now();
  const res: HostSyncResult = {
    host: h.name,
    ok: false,
    uploaded: [],
    uploaded_bytes: 0,
    marked_unusable: [],
    deleted: [],
    aborted_uploads: 0,
    backlog_items: 0,
    backlog_bytes: 0,
    seconds: 0,
  };
  const prev = readRecord(root);
  const local = new LocalStore(root);
  const progress = progressReporter(o.log);
  let pending: Upload[] = [];
  let planned = false;
  let localList: Awaited<ReturnType<LocalStore['list']>> | undefined;
  let sizes = new Map<string, number>();
  let there: string[] | undefined;
  let store: S3Store | undefined;
  let binlogs: string[] | undefined;
  try {
    store = openS3Store(h, root, {
      takeOver: o.takeOver,
      onProgress: progress,
      onNote: (l) => o.log.warn({ step: 'offsite' }, l),
    });
    res.store = store.where;
    const l = (localList = await local.list());
    sizes = new Map(
      l.readies.map((r) => [itemKey({ kind: 'ready', id: r.id }), fileSize(local.localPath(r, r.file))]),
    );
    let remote = await store.list();
    for (const p of remote.problems) o.log.warn({ step: 'offsite' }, `${store.where}: ignored ${p}`);
    for (const m of planUnusable(l, remote)) {
      await store.updateManifest(m);
      res.marked_unusable.push(itemKey({ kind: m.type, id: m.id }));
      o.log.warn(
        { step: 'offsite', unusable: m.id },
        `marked ${m.type}/${m.id} unusable in ${store.where} too: ${m.unusable?.reason ?? '?'}`,
      );
    }
    if (res.marked_unusable.length > 0) remote = await store.list();
    const retention = { retainDays: h.offsite.retainDays, retainReady: h.offsite.retainNumReadyBackups };
    pending = dropDoomed(planUploads(l, remote, sizes, o.first), remote, retention, o.now, readPins(root));
    planned = true;
    if (pending.length > 0)
      o.log.info(
        { step: 'offsite', items: pending.length, bytes: pending.reduce((n, u) => n + u.bytes, 0) },
        `${pending.length} item(s) to upload to ${store.where}`,
      );
    while (pending.length > 0) {
      const u = pending[0]!;
      const t1 = Date.now();
      if (u.kind === 'backup') {
        const ref = { kind: u.manifest.type, id: u.manifest.id };
        const path = local.localPath(ref, u.manifest.file);
        await store.commitBackup(join(path, '..'), u.manifest);
      } else {
        const info = await local.readReady(u.id);
        await store.commitReady(local.localPath({ id: u.id, file: u.file }, u.file), info);
      }
      pending.shift();
      res.uploaded.push(uploadKey(u));
      res.uploaded_bytes += u.bytes;
      const s = (Date.now() - t1) / 1000;
      o.log.info(
        { step: 'offsite', item: uploadKey(u), bytes: u.bytes, seconds: Math.round(s * 10) / 10 },
        `uploaded ${uploadKey(u)} (${u.bytes} bytes, ${s.toFixed(1)} s, ${(u.bytes / 1048576 / Math.max(s, 0.001)).toFixed(1)} MiB/s)`,
      );
    }
    remote = await store.list();
    const plan = planOffsiteRetention(remote, retention, o.now, readPins(root));
    for (const d of plan.delete)
      o.log.info(
        { step: 'offsite-retain', id: d.id, kind: d.kind },
        `deleting off-site ${d.kind} ${d.what} ${d.id}: ${d.reason}`,
      );
    const items: ItemRef[] = plan.delete.map((d) =>
      d.kind === 'ready'
        ? { kind: 'ready', id: d.id, file: d.what }
        : { kind: d.what === 'full' ? 'full' : 'incremental', id: d.id },
    );
    if (items.length > 0) await store.remove(items);
    res.deleted = plan.delete;
    // Binlogs after the backups: their retention follows the backups kept off-site.
    const b = await syncBinlogs(store, root, (await store.list()).backups, o.log);
    res.uploaded_binlogs = b.uploaded;
    res.uploaded_bytes += b.uploaded_bytes;
    res.deleted_binlogs = b.deleted;
    binlogs = b.offsite;
    const c = await store.cleanup();
    res.aborted_uploads = c.uploads;
    if (c.entries > 0 || c.uploads > 0)
      o.log.warn(
        { step: 'offsite' },
        `removed what an interrupted sync left: ${c.entries} half-written item(s), ${c.uploads} open upload(s)`,
      );
    const final = await store.list();
    there = [
      ...final.backups.map((m) => itemKey({ kind: m.type, id: m.id })),
      ...final.readies.map((r) => itemKey({ kind: 'ready', id: r.id })),
    ];
    res.ok = true;
  } catch (e) {
    res.error = errorMessage(e);
    o.log.error({ step: 'offsite' }, `off-site copy failed: ${res.error}`);
    if (!planned && localList) {
      // The store was not reached: the backlog is what the record does not show off-site.
      const known = new Set(prev?.offsite ?? []);
      const l = localList;
      pending = planUploads(
        l,
        {
          backups: l.backups.filter((m) => known.has(itemKey({ kind: m.type, id: m.id }))),
          readies: l.readies.filter((r) => known.has(itemKey({ kind: 'ready', id: r.id }))),
        },
        sizes,
      );
    }
  } finally {
    progress.end();
    store?.s3.client.destroy();
  }
  res.backlog_items = pending.length;
  res.backlog_bytes = pending.reduce((n, u) => n + u.bytes, 0);
  res.seconds = Math.round((Date.now() - t0) / 100) / 10;
  const at = new Date().toISOString();
  const rec: OffsiteRecord = {
    format: 1,
    at,
    ok: res.ok,
    ...(res.ok ? { last_success: at } : prev?.last_success ? { last_success: prev.last_success } : {}),
    // On failure: what was there before plus what this sync uploaded.
    offsite: there ?? [...new Set([...(prev?.offsite ?? []), ...res.uploaded])].sort(),
    // The oldest file off-site is where off-site retention starts keeping (older local files are
    // never sent). A failed sync keeps the last known state.
    ...(binlogs
      ? { binlogs, ...(binlogs[0] ? { binlog_from: binlogs[0] } : {}) }
      : {
          ...(prev?.binlogs ? { binlogs: prev.binlogs } : {}),
          ...(prev?.binlog_from ? { binlog_from: prev.binlog_from } : {}),
        }),
    backlog_items: res.backlog_items,
    backlog_bytes: res.backlog_bytes,
    ...(res.error ? { error: res.error } : {}),
  };
  try {
    writeFileAtomic(recordPath(root), JSON.stringify(rec, null, 1) + '\n');
  } catch (e) {
    o.log.error({ step: 'offsite' }, `cannot write ${recordPath(root)}: ${errorMessage(e)}`);
  }
  return res;
}
