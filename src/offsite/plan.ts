/**
 * Pure decisions of `offsite sync`: what to upload (and in which order), what off-site retention
 * deletes, what local retention must hold back while items are not off-site yet, and the record
 * of what is off-site kept in the host's working state (`<host>/offsite.json`).
 */
import { isUsable, type Manifest } from '../catalog/manifest.js';
import { isItemId } from '../catalog/names.js';
import { compareNames, validBinlogName } from '../binlog/names.js';
import { planRetention, type ReadyEntry, type RetentionPlan } from '../retention.js';

export type Upload =
  | { kind: 'backup'; manifest: Manifest; bytes: number }
  | { kind: 'ready'; id: string; file: string; bytes: number };

export interface SideListing {
  backups: readonly Manifest[];
  readies: readonly ReadyEntry[];
}

/** `full/<id>`, `incremental/<id>`, `ready/<id>`: how the record names an item. */
export function itemKey(u: { kind: 'full' | 'incremental' | 'ready'; id: string }): string {
  return `${u.kind}/${u.id}`;
}

export function uploadKey(u: Upload): string {
  return u.kind === 'backup'
    ? itemKey({ kind: u.manifest.type, id: u.manifest.id })
    : itemKey({ kind: 'ready', id: u.id });
}

/**
 * What the local catalog has and the store lacks: usable backups and ready files, oldest first (a
 * parent always before its incrementals; a ready file after the backup it was made from). `first`
 * names items sent before the backlog (run: the new ready file, which restores on its own).
 */
export function planUploads(
  local: SideListing,
  remote: SideListing,
  sizes: ReadonlyMap<string, number> = new Map(),
  first: ReadonlySet<string> = new Set(),
): Upload[] {
  const there = new Set([
    ...remote.backups.map((m) => itemKey({ kind: m.type, id: m.id })),
    ...remote.readies.map((r) => itemKey({ kind: 'ready', id: r.id })),
  ]);
  const out: Upload[] = [];
  for (const m of local.backups) {
    if (!isUsable(m) || there.has(itemKey({ kind: m.type, id: m.id }))) continue;
    out.push({ kind: 'backup', manifest: m, bytes: m.bytes });
  }
  for (const r of local.readies) {
    const k = itemKey({ kind: 'ready', id: r.id });
    if (!there.has(k)) out.push({ kind: 'ready', id: r.id, file: r.file, bytes: sizes.get(k) ?? 0 });
  }
  const id = (u: Upload) => (u.kind === 'backup' ? u.manifest.id : u.id);
  const rank = (u: Upload) => (first.has(uploadKey(u)) ? 0 : 1);
  return out.sort(
    (a, b) =>
      rank(a) - rank(b) ||
      (id(a) < id(b) ? -1 : id(a) > id(b) ? 1 : 0) ||
      (a.kind === b.kind ? 0 : a.kind === 'backup' ? -1 : 1),
  );
}

/**
 * Backups marked unusable locally (a failed prepare or verify found their data bad) whose copy in
 * the store is not marked yet: the sync rewrites their manifest there, so that `list --offsite`
 * shows it and a restore from the store refuses them as a local one does. A marking is never undone.
 */
export function planUnusable(local: SideListing, remote: SideListing): Manifest[] {
  const there = new Map(remote.backups.map((m) => [itemKey({ kind: m.type, id: m.id }), m]));
  return local.backups.filter((m) => {
    const r = there.get(itemKey({ kind: m.type, id: m.id }));
    return !isUsable(m) && r !== undefined && isUsable(r);
  });
}

export interface OffsiteRetention {
  retainDays: number;
  retainReady: number;
}

/** Off-site retention: the local rules (retention.ts) over the store's listing, with the off-site keys. */
export function planOffsiteRetention(
  remote: SideListing,
  o: OffsiteRetention,
  now: Date,
  pins: ReadonlySet<string>,
): RetentionPlan {
  return planRetention({
    backups: remote.backups,
    readies: remote.readies,
    now,
    retainDays: o.retainDays,
    retainReady: o.retainReady,
    pins,
  });
}

/** `<host>/offsite.json`: what is off-site (as of the last sync that reached the store). */
export interface OffsiteRecord {
  format: 1;
  /** When this record was written. */
  at: string;
  ok: boolean;
  last_success?: string;
  /** Items the store holds, as itemKey names. */
  offsite: string[];
  /** Closed binlog files the store holds, and the oldest one off-site retention keeps: local
   * retention holds back a file from `binlog_from` on that is not in `binlogs` yet. */
  binlogs?: string[];
  binlog_from?: string;
  backlog_items: number;
  backlog_bytes: number;
  error?: string;
}

/** The record's text (working state, written by this manager, still checked) -> the record or undefined. */
export function parseRecord(text: string): OffsiteRecord | undefined {
  let j: unknown;
  try {
    j = JSON.parse(text);
  } catch {
    return undefined;
  }
  const r = j as Partial<OffsiteRecord>;
  if (typeof r !== 'object' || r === null || r.format !== 1 || !Array.isArray(r.offsite)) return undefined;
  const okKey = (k: unknown) =>
    typeof k === 'string' && /^(full|incremental|ready)\/(.*)$/.test(k) && isItemId(k.split('/')[1]);
  if (!r.offsite.every(okKey)) return undefined;
  const n = (v: unknown) => (typeof v === 'number' && Number.isSafeInteger(v) && v >= 0 ? v : 0);
  return {
    format: 1,
    at: typeof r.at === 'string' ? r.at : '',
    ok: r.ok === true,
    ...(typeof r.last_success === 'string' ? { last_success: r.last_success } : {}),
    offsite: r.offsite,
    ...(Array.isArray(r.binlogs) && r.binlogs.every((b) => typeof b === 'string' && validBinlogName(b))
      ? { binlogs: r.binlogs }
      : {}),
    ...(typeof r.binlog_from === 'string' && validBinlogName(r.binlog_from)
      ? { binlog_from: r.binlog_from }
      : {}),
    backlog_items: n(r.backlog_items),
    backlog_bytes: n(r.backlog_bytes),
    ...(typeof r.error === 'string' ? { error: r.error } : {}),
  };
}

/**
 * Pure: the closed binlog files local retention must keep because the off-site tier wants them and
 * does not hold them yet (the record of the last sync): every file from `binlog_from` on (all of
 * them before any binlog went off-site) that is not off-site.
 */
export function binlogHold(local: readonly string[], rec: OffsiteRecord | undefined): Set<string> {
  const there = new Set(rec?.binlogs ?? []);
  const from = rec?.binlog_from;
  return new Set(local.filter((n) => !there.has(n) && (from === undefined || compareNames(n, from) >= 0)));
}

/**
 * What local retention must not delete while off-site copies are configured: items not yet
 * off-site (backups become pins, which keep their ancestors too). Under the free-space reserve
 * nothing is held: the disk must not fill, the report says so loudly.
 */
export function localHold(
  local: SideListing,
  offsite: ReadonlySet<string>,
  freeBytes: number,
  reserveBytes: number,
): { backups: Set<string>; readies: Set<string>; overridden: boolean } {
  const backups = new Set(
    local.backups
      .filter((m) => isUsable(m) && !offsite.has(itemKey({ kind: m.type, id: m.id })))
      .map((m) => m.id),
  );
  const readies = new Set(
    local.readies.filter((r) => !offsite.has(itemKey({ kind: 'ready', id: r.id }))).map((r) => r.id),
  );
  if (freeBytes < reserveBytes && (backups.size > 0 || readies.size > 0))
    return { backups: new Set(), readies: new Set(), overridden: true };
  return { backups, readies, overridden: false };
}

/**
 * Uploads minus what off-site retention would delete right after (planned over the store's items
 * plus the uploads): an item deleted off-site but still kept locally is not sent again each sync.
 */
export function dropDoomed(
  uploads: readonly Upload[],
  remote: SideListing,
  o: OffsiteRetention,
  now: Date,
  pins: ReadonlySet<string>,
): Upload[] {
  const plan = planOffsiteRetention(
    {
      backups: [...remote.backups, ...uploads.flatMap((u) => (u.kind === 'backup' ? [u.manifest] : []))],
      readies: [
        ...remote.readies,
        ...uploads.flatMap((u) => (u.kind === 'ready' ? [{ id: u.id, file: u.file }] : [])),
      ],
    },
    o,
    now,
    pins,
  );
  const doomed = new Set(
    plan.delete.map((d) => (d.kind === 'ready' ? itemKey({ kind: 'ready', id: d.id }) : `${d.what}/${d.id}`)),
  );
  return uploads.filter((u) => !doomed.has(uploadKey(u)));
}
