/**
 * Pure: catalog + settings + now -> what retention deletes, and why. After a run it must be
 * possible to restore the state of any backup point of the last `retain_days` days, including the
 * state at the window's start: keep every backup newer than now - N days, the newest usable backup
 * at or before that, every pinned backup, and all their ancestors back to their full backup. The
 * newest complete chain and the newest ready file are never deleted, whatever the settings.
 */
import { byIdMap, chainOf, newest } from './catalog/chain.js';
import { isUsable, type Manifest } from './catalog/manifest.js';
import { idToDate } from './time.js';

export interface ReadyEntry {
  id: string;
  file: string;
}

export interface RetentionInput {
  backups: readonly Manifest[];
  readies: readonly ReadyEntry[];
  now: Date;
  retainDays: number;
  retainReady: number;
  pins: ReadonlySet<string>;
}

export interface Deletion {
  kind: 'backup' | 'ready';
  id: string;
  /** full | incremental for backups; the file name for ready files. */
  what: string;
  reason: string;
}

export interface RetentionPlan {
  /** In the order to delete: incrementals before the full they depend on, newest first. */
  delete: Deletion[];
  keep: { id: string; reason: string }[];
}

const DAY = 86_400_000;

function when(id: string): number {
  return idToDate(id)?.getTime() ?? Number.POSITIVE_INFINITY;
}

export function planRetention(input: RetentionInput): RetentionPlan {
  const byId = byIdMap(input.backups);
  const windowStart = input.now.getTime() - input.retainDays * DAY;
  const keep = new Map<string, string>();
  const keepWithAncestors = (m: Manifest, reason: string) => {
    // Every ancestor that exists, even past an unusable parent or an LSN gap: retention never
    // leaves a kept backup without its parent.
    let cur: Manifest | undefined = m;
    while (cur && !keep.has(cur.id)) {
      keep.set(cur.id, cur.id === m.id ? reason : `ancestor of ${m.id}`);
      cur = cur.parent ? byId.get(cur.parent) : undefined;
    }
  };
  for (const m of input.backups) {
    if (when(m.id) > windowStart) keepWithAncestors(m, `newer than ${input.retainDays} day(s)`);
  }
  const usable = input.backups.filter(isUsable);
  const atStart = newest(usable.filter((m) => when(m.id) <= windowStart && !chainOf(m, byId).broken));
  if (atStart)
    keepWithAncestors(atStart, `the state at the window's start (${new Date(windowStart).toISOString()})`);
  const newestComplete = newest(usable.filter((m) => !chainOf(m, byId).broken));
  if (newestComplete) keepWithAncestors(newestComplete, 'the newest complete chain');
  for (const id of input.pins) {
    const m = byId.get(id);
    if (m) keepWithAncestors(m, 'pinned (xb-mgr keep)');
  }
  const deletions: Deletion[] = input.backups
    .filter((m) => !keep.has(m.id))
    .sort((a, b) => (a.id < b.id ? 1 : -1))
    .map((m) => ({
      kind: 'backup' as const,
      id: m.id,
      what: m.type,
      reason: isUsable(m)
        ? `older than ${input.retainDays} day(s) and not needed to restore a point in the window`
        : `unusable (${m.unusable?.reason ?? '?'}) and older than ${input.retainDays} day(s)`,
    }));
  const readies = [...input.readies].sort((a, b) => (a.id < b.id ? 1 : -1));
  const n = Math.max(1, input.retainReady);
  for (const r of readies.slice(n)) {
    deletions.push({
      kind: 'ready',
      id: r.id,
      what: r.file,
      reason: `beyond the newest ${n} ready backup(s)`,
    });
  }
  return { delete: deletions, keep: [...keep].map(([id, reason]) => ({ id, reason })) };
}
