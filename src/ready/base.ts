/**
 * The prepared base of a host: prepare/base (full + incrementals applied so far, never started by a
 * mysqld) and prepare/base.json naming the last backup applied. base.json is removed before each
 * apply and rewritten after, so an interrupted apply is seen as "no base" and rebuilt.
 */
import { readFileSync, rmSync } from 'node:fs';
import { join } from 'node:path';
import { writeFileAtomic } from '../catalog/store.js';
import type { Manifest } from '../catalog/manifest.js';

export interface BaseRecord {
  last_applied: string;
  chain: string[];
  to_lsn: number;
  /** When every table of this base was last checked (verify_full_days counts from it). */
  full_check_at?: string;
}

export function baseDir(root: string): string {
  return join(root, 'prepare', 'base');
}

function recordPath(root: string): string {
  return join(root, 'prepare', 'base.json');
}

export function readBaseRecord(root: string): BaseRecord | undefined {
  try {
    const r = JSON.parse(readFileSync(recordPath(root), 'utf8')) as BaseRecord;
    return typeof r.last_applied === 'string' ? r : undefined;
  } catch {
    return undefined;
  }
}

export function dropBaseRecord(root: string): void {
  rmSync(recordPath(root), { force: true });
}

export function writeBaseRecord(root: string, r: BaseRecord): void {
  writeFileAtomic(recordPath(root), JSON.stringify(r, null, 2) + '\n');
}

export type ApplyPlan =
  { rebuild: false; apply: Manifest[] } | { rebuild: true; why: string; apply: Manifest[] };

/**
 * Pure: what to apply to bring the base to `chain`'s last backup. A full starts a new base; an
 * incremental whose parent is the base's last applied backup is applied alone; anything else
 * rebuilds the base from the chain's stored streams.
 */
export function planApply(chain: Manifest[], record: BaseRecord | undefined): ApplyPlan {
  const leaf = chain[chain.length - 1]!;
  if (leaf.type === 'full') return { rebuild: true, why: 'a full backup starts a new base', apply: [leaf] };
  if (!record) return { rebuild: true, why: 'no prepared base (prepare/base.json is missing)', apply: chain };
  if (record.last_applied !== leaf.parent) {
    return {
      rebuild: true,
      why: `the prepared base holds ${record.last_applied}, not ${leaf.parent} (the parent of ${leaf.id})`,
      apply: chain,
    };
  }
  return { rebuild: false, apply: [leaf] };
}
