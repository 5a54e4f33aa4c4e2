/**
 * Pure: what a run takes for a host, and why. A full backup when --full is given, when there is no
 * usable backup, when the newest chain is broken, or when the newest usable full is older than
 * 00:00 of the most recent full_backup_day (one full per such day; a missed day is made up by the
 * next run). Otherwise an incremental from the newest usable backup.
 */
import { chainOf, byIdMap, newest } from './catalog/chain.js';
import { isUsable, type Manifest } from './catalog/manifest.js';
import { DAYS } from './config/keys.js';
import { idToDate, weekBoundary } from './time.js';

export type Decision =
  { type: 'full'; reason: string } | { type: 'incremental'; parent: Manifest; reason: string };

export interface ScheduleInput {
  backups: readonly Manifest[];
  now: Date;
  fullBackupDay: number;
  timezone: string;
  forceFull?: boolean;
  /** When `xb-mgr restore --to-host` last restored this host (ISO time): its chain ended there. */
  restoredAt?: string;
}

const dayName = (d: number) => {
  const n = DAYS[d] ?? '?';
  return n[0]!.toUpperCase() + n.slice(1);
};

export function decide(input: ScheduleInput): Decision {
  if (input.forceFull) return { type: 'full', reason: '--full was given' };
  // A failed prepare or verification of the newest backup casts doubt on its chain: start anew.
  const last = newest(input.backups);
  if (last && !isUsable(last)) {
    return {
      type: 'full',
      reason: `the newest backup ${last.id} is unusable (${last.unusable?.reason ?? 'no reason given'})`,
    };
  }
  const usable = input.backups.filter(isUsable);
  const latest = newest(usable);
  if (!latest) return { type: 'full', reason: 'no usable backup yet' };
  if (input.restoredAt && input.restoredAt > latest.finished_at) {
    return { type: 'full', reason: `the host was restored at ${input.restoredAt}: its chain ended there` };
  }
  const chain = chainOf(latest, byIdMap(input.backups));
  if (chain.broken) return { type: 'full', reason: `the newest chain is broken (${chain.broken})` };
  const boundary = weekBoundary(input.now, input.fullBackupDay, input.timezone);
  const full = chain.backups[0]!;
  const fullTime = idToDate(full.id) ?? new Date(full.started_at);
  if (fullTime < boundary) {
    return {
      type: 'full',
      reason: `weekly full: the newest full ${full.id} is older than ${dayName(input.fullBackupDay)} 00:00 ${input.timezone} (${boundary.toISOString()})`,
    };
  }
  return {
    type: 'incremental',
    parent: latest,
    reason: `incremental from ${latest.id} (${latest.type}, to_lsn ${latest.to_lsn})`,
  };
}
