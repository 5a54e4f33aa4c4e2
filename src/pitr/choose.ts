/**
 * Pure: which backup a point-in-time restore starts from, and whether the target lies in the
 * recoverable window. The base is the newest usable backup that ends before the target and whose
 * binlog file is stored; a target outside the window is a usage error (exit 2, the window
 * printed), a gap between the base and the target a failure (exit 1, the gap named).
 */
import { isUsable, type Manifest } from '../catalog/manifest.js';
import { compareNames } from '../binlog/names.js';
import { parseGtidState } from '../binlog/events.js';
import type { Gap } from '../binlog/store.js';
import type { BinlogWindow } from '../binlog/window.js';
import { formatTarget, type PitrTarget } from './target.js';

export interface ChooseInput {
  backups: readonly Manifest[];
  /** Ready files by the id of the backup they end with. */
  readyIds: ReadonlySet<string>;
  /** Stored binlog files (complete and staged), in order, with the time of their first event. */
  stored: readonly { name: string; first_time?: number }[];
  gaps: readonly Gap[];
  window: BinlogWindow;
  target: PitrTarget;
  now: Date;
}

export type Choice =
  | { kind: 'ok'; base: Manifest; ready: boolean }
  | { kind: 'outside'; message: string }
  | { kind: 'gap'; message: string };

/**
 * The window as one line for a refusal: from the oldest usable backup whose binlog file is stored
 * (complete or still staged, unlike list's, which counts complete files only) to the newest
 * stored event, or to now while the stream runs.
 */
export function windowLine(oldest: Manifest | undefined, w: BinlogWindow): string {
  if (!oldest) return 'recoverable window: none (no retained backup whose binlog file is stored)';
  const to = w.supervisor_running
    ? 'now (the binlog stream is running)'
    : `${w.to?.time ?? '?'}${w.to?.gtid ? ` (GTID ${w.to.gtid})` : ''}`;
  return `recoverable window: from backup ${oldest.id} (finished ${oldest.finished_at}${oldest.binlog?.gtid ? `, GTID ${oldest.binlog.gtid}` : ''}) to ${to}`;
}

function domainSeq(state: string, domain: number): bigint {
  let seq = 0n;
  for (const g of parseGtidState(state).values()) if (g.domain === domain && g.seq > seq) seq = g.seq;
  return seq;
}

/** Does backup `m` end before the target? */
export function endsBefore(m: Manifest, t: PitrTarget): boolean {
  if (t.kind === 'time') return Date.parse(m.finished_at) / 1000 <= t.at;
  return domainSeq(m.binlog?.gtid ?? '', t.gtid.domain) <= t.gtid.seq;
}

export function chooseBase(i: ChooseInput): Choice {
  const t = i.target;
  const names = new Set(i.stored.map((f) => f.name));
  const candidates = [...i.backups]
    .filter((m) => isUsable(m) && m.binlog?.gtid !== undefined && names.has(m.binlog.file))
    .sort((a, b) => (a.id < b.id ? 1 : -1));
  const outside = (why: string): Choice => ({
    kind: 'outside',
    message: `${formatTarget(t)} is outside the recoverable window (${why}); ${windowLine(candidates.at(-1), i.window)}`,
  });
  if (t.kind === 'time') {
    if (t.at > Math.floor(i.now.getTime() / 1000)) return outside('it is in the future');
    const last = i.window.to?.time ? Date.parse(i.window.to.time) / 1000 : undefined;
    if (!i.window.supervisor_running && (last === undefined || t.at > last + 1))
      return outside('it is after the newest stored event and the binlog stream is not running');
  }
  const base = candidates.find((m) => endsBefore(m, t));
  if (!base) return outside('no retained backup whose binlogs are stored ends before it');
  const firstTime = new Map(i.stored.map((f) => [f.name, f.first_time]));
  const gap = i.gaps.find((g) => {
    if (compareNames(g.before_file, base.binlog!.file) <= 0) return false;
    if (t.kind === 'gtid') return domainSeq(g.before_gtid_list, t.gtid.domain) < t.gtid.seq;
    const ft = firstTime.get(g.before_file);
    return ft === undefined || ft < t.at;
  });
  if (gap)
    return {
      kind: 'gap',
      message: `the stored binlogs have a gap between backup ${base.id} and ${formatTarget(t)}: after ${gap.after_file ?? '-'} (${gap.after_state}) before ${gap.before_file} (${gap.before_gtid_list}): ${gap.reason}`,
    };
  return { kind: 'ok', base, ready: i.readyIds.has(base.id) };
}
