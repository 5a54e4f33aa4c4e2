/**
 * The recoverable window of a host for `list`: from the oldest retained backup that the stored
 * binlogs continue (no gap after it) to the newest stored event, with that event's age and the
 * gaps. `windowOf` is pure; `hostBinlogListing` reads the spool without changing it.
 */
import { closeSync, constants, fstatSync, openSync, readdirSync, readFileSync, readSync } from 'node:fs';
import { join } from 'node:path';
import { isUsable, type Manifest } from '../catalog/manifest.js';
import { idToDate } from '../time.js';
import { formatGtid, formatGtidState, newScanState, scanEvents } from './events.js';
import { compareNames, validBinlogName } from './names.js';
import { isAlive } from '../catalog/lock.js';
import {
  listSessions,
  lockPath,
  readGaps,
  readIndex,
  stagingDir,
  type Gap,
  type StoredFile,
} from './store.js';
import type { StoredPoint } from './spool.js';

export interface BinlogWindow {
  /** Files stored (complete) and their bytes; the staged file being written is not counted. */
  files: number;
  bytes: number;
  /** Where point-in-time recovery can start: a retained backup the stored binlogs continue. */
  from?: { backup: string; time: string; binlog_file?: string };
  /** The newest stored event. */
  to?: { time?: string; gtid?: string; file: string; offset: number };
  age_seconds?: number;
  gaps: Gap[];
  /** A supervisor holds this backup_dir's binlog lock now. */
  supervisor_running: boolean;
}

/** Pure: does the stored binlog (from `first`, after the last gap) continue backup `m`? */
function covered(m: Manifest, first: StoredFile, afterGap: string | undefined): boolean {
  const from = afterGap && compareNames(afterGap, first.name) > 0 ? afterGap : first.name;
  if (m.binlog?.file && validBinlogName(m.binlog.file)) return compareNames(m.binlog.file, from) >= 0;
  if (afterGap) return false;
  const t = idToDate(m.id)?.getTime();
  return t !== undefined && first.first_time !== undefined && t / 1000 >= first.first_time;
}

export function windowOf(i: {
  backups: readonly Manifest[];
  files: readonly StoredFile[];
  point?: StoredPoint;
  gaps: readonly Gap[];
  now: Date;
  supervisorRunning: boolean;
}): BinlogWindow {
  // Before the first rotation only a staged file exists; the replay reads it (src/pitr/stored.ts),
  // so the window starts there too.
  const staged = i.point && i.files.length === 0 ? i.point : undefined;
  const first: StoredFile | undefined =
    i.files[0] ??
    (staged
      ? {
          name: staged.file,
          bytes: staged.offset,
          events: 0,
          ...(staged.first_time !== undefined ? { first_time: staged.first_time } : {}),
          gtid_list: '',
          state_end: staged.state,
        }
      : undefined);
  const lastGap = [...i.gaps].sort((a, b) => compareNames(a.before_file, b.before_file)).at(-1);
  const from = first
    ? [...i.backups]
        .filter(isUsable)
        .sort((a, b) => (a.id < b.id ? -1 : 1))
        .find((m) => covered(m, first, lastGap?.before_file))
    : undefined;
  const p = i.point;
  return {
    files: i.files.length,
    bytes: i.files.reduce((n, f) => n + f.bytes, 0),
    ...(from
      ? {
          from: {
            backup: from.id,
            time: idToDate(from.id)?.toISOString() ?? from.started_at,
            ...(from.binlog?.file ? { binlog_file: from.binlog.file } : {}),
          },
        }
      : {}),
    ...(p
      ? {
          to: {
            ...(p.time !== undefined ? { time: new Date(p.time * 1000).toISOString() } : {}),
            ...(p.gtid ? { gtid: p.gtid } : {}),
            file: p.file,
            offset: p.offset,
          },
          ...(p.time !== undefined
            ? { age_seconds: Math.max(0, Math.round(i.now.getTime() / 1000 - p.time)) }
            : {}),
        }
      : {}),
    gaps: [...i.gaps],
    supervisor_running: i.supervisorRunning,
  };
}

/** The newest stored event, read from index.json and the staged files (read only). */
export function readStoredPoint(hostRoot: string, maxEventBytes = 1 << 30): StoredPoint | undefined {
  const files = readIndex(hostRoot);
  const last = files.at(-1);
  const staged = listSessions(hostRoot).flatMap((s) => {
    try {
      return readdirSync(join(stagingDir(hostRoot), s))
        .filter(validBinlogName)
        .map((n) => ({ path: join(stagingDir(hostRoot), s, n), name: n }));
    } catch {
      return [];
    }
  });
  let best: StoredPoint | undefined;
  for (const f of staged) {
    if (last && compareNames(f.name, last.name) <= 0) continue;
    let fd: number;
    try {
      fd = openSync(f.path, constants.O_RDONLY | constants.O_NOFOLLOW);
    } catch {
      continue;
    }
    try {
      const st = newScanState();
      const read = (pos: number, len: number) => {
        const b = Buffer.alloc(len);
        return b.subarray(0, readSync(fd, b, 0, len, pos));
      };
      scanEvents(read, fstatSync(fd).size, st, { maxEventBytes });
      if (st.events === 0) continue;
      const better =
        !best || compareNames(f.name, best.file) > 0 || (f.name === best.file && st.offset > best.offset);
      if (better)
        best = {
          file: f.name,
          offset: st.offset,
          ...(st.firstEventTime !== undefined ? { first_time: st.firstEventTime } : {}),
          ...(st.lastEventTime !== undefined ? { time: st.lastEventTime } : {}),
          ...(st.lastGtid
            ? { gtid: formatGtid(st.lastGtid) }
            : last?.last_gtid
              ? { gtid: last.last_gtid }
              : {}),
          state: formatGtidState(st.state),
        };
    } finally {
      closeSync(fd);
    }
  }
  if (best) return best;
  return last
    ? {
        file: last.name,
        offset: last.bytes,
        ...(last.last_time !== undefined ? { time: last.last_time } : {}),
        ...(last.last_gtid ? { gtid: last.last_gtid } : {}),
        state: last.state_end,
      }
    : undefined;
}

function supervisorRunning(backupDir: string): boolean {
  try {
    const l = JSON.parse(readFileSync(lockPath(backupDir), 'utf8')) as { pid?: number; start?: string };
    return typeof l.pid === 'number' && isAlive(l.pid, l.start);
  } catch {
    return false;
  }
}

/** `list`'s binlog part of a host, or undefined when it has no binlog directory. */
export function hostBinlogListing(
  backupDir: string,
  hostRoot: string,
  backups: readonly Manifest[],
  now = new Date(),
): BinlogWindow | undefined {
  try {
    readdirSync(join(hostRoot, 'binlog'));
  } catch {
    return undefined;
  }
  return windowOf({
    backups,
    files: readIndex(hostRoot),
    point: readStoredPoint(hostRoot),
    gaps: readGaps(hostRoot),
    now,
    supervisorRunning: supervisorRunning(backupDir),
  });
}

/** Pure: the lines of `list` for a window. */
/** `offsite`: the store's window (closed files only; no supervisor writes there). */
export function formatWindow(w: BinlogWindow, offsite = false): string[] {
  const state = offsite ? ' off-site' : w.supervisor_running ? ', streaming' : ', supervisor not running';
  const out = [
    `  binlog ${w.files} file(s)${state}` +
      (w.to
        ? `; last event ${w.to.time ?? '?'} ${w.to.gtid ?? ''} (${w.to.file}:${w.to.offset}), ${w.age_seconds ?? '?'} s ago`
        : ''),
    w.from
      ? `  recoverable from backup ${w.from.backup} (${w.from.time}) to ${w.to?.time ?? '?'}`
      : '  recoverable window: none (no retained backup that the stored binlogs continue)',
  ];
  for (const g of w.gaps)
    out.push(
      `  binlog GAP after ${g.after_file ?? '-'} (${g.after_state}) before ${g.before_file} (${g.before_gtid_list}): ${g.reason}`,
    );
  return out;
}
