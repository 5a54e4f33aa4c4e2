/** Pure chain logic: which backups an incremental needs, and whether that chain holds together. */
import { isUsable, type Manifest } from './manifest.js';

export interface Chain {
  /** Full first, then each incremental in order. */
  backups: Manifest[];
  /** Why the chain cannot be restored, if it cannot. */
  broken?: string;
}

export function chainOf(leaf: Manifest, byId: ReadonlyMap<string, Manifest>): Chain {
  const backups: Manifest[] = [leaf];
  let cur = leaf;
  const seen = new Set([leaf.id]);
  while (cur.type === 'incremental') {
    const pid = cur.parent ?? '';
    const parent = byId.get(pid);
    if (!parent) return { backups, broken: `parent ${pid} of ${cur.id} is missing` };
    if (seen.has(parent.id)) return { backups, broken: `parent loop at ${parent.id}` };
    if (!isUsable(parent))
      return { backups, broken: `parent ${parent.id} of ${cur.id} is unusable: ${parent.unusable?.reason}` };
    if (cur.from_lsn !== parent.to_lsn) {
      return {
        backups,
        broken: `LSN gap: ${cur.id} starts at ${cur.from_lsn} but its parent ${parent.id} ends at ${parent.to_lsn}`,
      };
    }
    seen.add(parent.id);
    backups.unshift(parent);
    cur = parent;
  }
  for (const b of backups) {
    if (b.from_lsn > b.to_lsn)
      return { backups, broken: `${b.id} has from_lsn ${b.from_lsn} > to_lsn ${b.to_lsn}` };
  }
  return { backups };
}

/**
 * The chain `restore --backup ID` applies, or why it cannot: the id must exist, be usable itself
 * (a failed prepare or verify marked its data bad) and have an intact chain. One rule for the
 * local catalog and the store.
 */
export function restoreChain(
  id: string,
  backups: readonly Manifest[],
  where: string,
  listCmd: string,
): { ok: true; leaf: Manifest; chain: Manifest[] } | { ok: false; error: string } {
  const leaf = backups.find((b) => b.id === id);
  if (!leaf) return { ok: false, error: `no backup ${id} in ${where} (see ${listCmd})` };
  if (!isUsable(leaf))
    return { ok: false, error: `cannot restore ${id}: it is unusable: ${leaf.unusable?.reason ?? '?'}` };
  const c = chainOf(leaf, byIdMap(backups));
  if (c.broken) return { ok: false, error: `cannot restore ${id}: ${c.broken}` };
  return { ok: true, leaf, chain: c.backups };
}

export function byIdMap(backups: readonly Manifest[]): Map<string, Manifest> {
  return new Map(backups.map((b) => [b.id, b]));
}

/** Ids sort by time, so the newest is the greatest. */
export function newest<T extends { id: string }>(items: readonly T[]): T | undefined {
  let best: T | undefined;
  for (const i of items) if (!best || i.id > best.id) best = i;
  return best;
}
