/**
 * Applying a retention plan: each item is moved into <host>/trash/ first (in the plan's order:
 * incrementals before the full they depend on, newest first), then the trash is emptied, so a
 * kill -9 midway never leaves an incremental whose parent is gone. Pins live in pins.json.
 * Retention plans and moves under the catalog's exclusive access (access.ts), so that no `keep`
 * adds a pin meanwhile and no restore or verify is reading what goes.
 */
import { existsSync, mkdirSync, readdirSync, readFileSync, renameSync, rmSync } from 'node:fs';
import { join } from 'node:path';
import { planRetention, type Deletion, type RetentionPlan } from '../retention.js';
import type { HostConfig } from '../config/load.js';
import { writeFileAtomic } from './store.js';
import { acquireAccess, withAccess, type AccessOptions } from './access.js';
import type { CatalogStore, ItemRef } from '../storage/catalog-store.js';
import { LocalStore } from '../storage/local.js';
import { isItemFileName, isItemId } from './names.js';
import { retainBinlogs } from '../binlog/retain.js';

// The local driver's listing of ready/, where older callers import it.
export { listReadies } from '../storage/local.js';

export function readPins(root: string): Set<string> {
  try {
    const p = JSON.parse(readFileSync(join(root, 'pins.json'), 'utf8')) as { pinned?: unknown };
    return new Set(Array.isArray(p.pinned) ? p.pinned.filter((x): x is string => typeof x === 'string') : []);
  } catch {
    return new Set();
  }
}

export function writePins(root: string, pins: Set<string>): void {
  mkdirSync(root, { recursive: true, mode: 0o700 });
  writeFileAtomic(join(root, 'pins.json'), JSON.stringify({ pinned: [...pins].sort() }, null, 2) + '\n');
}

export function emptyTrash(root: string): void {
  const trash = join(root, 'trash');
  if (!existsSync(trash)) return;
  for (const n of readdirSync(trash)) rmSync(join(trash, n), { recursive: true, force: true });
}

/** Move each item of the plan into trash/ (the step a kill -9 may interrupt safely). */
export function moveToTrash(root: string, deletions: readonly Deletion[]): void {
  const trash = join(root, 'trash');
  mkdirSync(trash, { recursive: true, mode: 0o700 });
  for (const d of deletions) {
    if (!isItemId(d.id)) continue;
    if (d.kind === 'backup') {
      if (d.what !== 'full' && d.what !== 'incremental') continue;
      const src = join(root, d.what, d.id);
      if (existsSync(src)) renameSync(src, join(trash, `${d.what}-${d.id}`));
    } else {
      // The description first: a kill after it leaves an unlisted data file, never a listed item
      // without its data.
      for (const f of [`${d.id}.json`, d.what]) {
        if (!isItemFileName(f)) continue;
        const src = join(root, 'ready', f);
        if (existsSync(src)) renameSync(src, join(trash, `ready-${f}`));
      }
    }
  }
}

/** A retention deletion as the store names items. */
export function itemOf(d: Deletion): ItemRef {
  if (d.kind === 'ready') return { kind: 'ready', id: d.id, file: d.what };
  return { kind: d.what === 'full' ? 'full' : 'incremental', id: d.id };
}

export function applyRetention(root: string, deletions: readonly Deletion[]): void {
  moveToTrash(root, deletions);
  emptyTrash(root);
}

/** The retention plan of a host's catalog as the store lists it now (pins are working state). */
export async function hostRetentionPlan(
  h: HostConfig,
  root: string,
  now: Date,
  store: CatalogStore = new LocalStore(root),
  hold?: RetainHooks['hold'],
): Promise<RetentionPlan> {
  const { backups, readies } = await store.list();
  const plan = planRetention({
    backups,
    readies,
    now,
    retainDays: h.retainDays,
    retainReady: h.retainNumReadyBackups,
    pins: new Set([...readPins(root), ...(hold?.backups ?? [])]),
  });
  if (!hold) return plan;
  return { ...plan, delete: plan.delete.filter((d) => d.kind !== 'ready' || !hold.readies.has(d.id)) };
}

export interface RetainHooks extends AccessOptions {
  /** Told the plan before anything moves (for the log). */
  onPlan?: (plan: RetentionPlan) => void;
  /** Runs between the moves into trash/ and emptying it (the fault suite pauses there). */
  beforeEmpty?: () => Promise<void>;
  /** Items not off-site yet (src/offsite/plan.ts localHold): backups kept like pins, ready files kept. */
  hold?: { backups: ReadonlySet<string>; readies: ReadonlySet<string>; binlogs?: ReadonlySet<string> };
}

/**
 * Retention of one host: plan, move into trash/, empty it, all under the catalog's exclusive
 * access (waits for readers, then fails naming the holder: nothing is moved then).
 */
export async function retainHost(
  h: HostConfig,
  root: string,
  now: Date,
  hooks: RetainHooks = {},
  store: CatalogStore = new LocalStore(root),
): Promise<Deletion[]> {
  return withAccess(
    root,
    'write',
    'retention',
    async () => {
      const plan = await hostRetentionPlan(h, root, now, store, hooks.hold);
      hooks.onPlan?.(plan);
      await store.remove(plan.delete.map(itemOf), hooks.beforeEmpty);
      // Binlogs that no backup retention kept needs any more (src/binlog/retain.ts).
      retainBinlogs(root, (await store.list()).backups, hooks.hold?.binlogs);
      return plan.delete;
    },
    hooks,
  );
}

/**
 * Empty what a killed retention left in trash/, if the catalog is free right now; else leave it
 * for this run's retention (nothing reads trash/, so waiting would only delay the backup).
 * Returns a warning when it could not.
 */
export async function emptyLeftoverTrash(root: string): Promise<string | undefined> {
  const trash = join(root, 'trash');
  if (!existsSync(trash) || readdirSync(trash).length === 0) return undefined;
  let access;
  try {
    access = await acquireAccess(root, 'write', 'run (emptying trash/)', { waitMs: 0 });
  } catch (e) {
    return `left trash/ as it is for now: ${(e as Error).message}`;
  }
  try {
    emptyTrash(root);
  } finally {
    access.release();
  }
  return undefined;
}
