/**
 * Pure: where a replay stops. The stored binlog files from the chosen backup's file on are read
 * transaction by transaction (the streamer's own reader, src/binlog/events.ts): a transaction is
 * included iff its commit event's time is before the target time, or up to and including the
 * target GTID. The replay gets copies of the files with the last one cut at the end of the last
 * included transaction, so the cut is exact and does not depend on mariadb-binlog's
 * --stop-datetime (which looks at every event, and is ignored for raw files). The continuity of
 * each file's Gtid_list with the state before it is checked on the way: a break is a gap.
 */
import {
  continues,
  formatGtid,
  formatGtidState,
  HEADER,
  newScanState,
  parseGtidState,
  scanEvents,
  type Gtid,
  type ReadAt,
} from '../binlog/events.js';
import type { PitrTarget } from './target.js';

export interface CutFile {
  name: string;
  size: number;
  read: ReadAt;
}

export type CutResult =
  | {
      kind: 'ok';
      /** The files to replay, in order, with the bytes of each to copy. */
      files: { name: string; bytes: number }[];
      /** The binlog state at the cut (gtid_slave_pos of the restored server). */
      state: string;
      /** The last transaction replayed, if any. */
      lastGtid?: string;
      lastTime?: number;
      transactions: number;
      /** The target was met inside the stored events (else they all come before it). */
      reached: boolean;
    }
  | { kind: 'gap'; message: string }
  | { kind: 'unreadable'; message: string };

/** Per domain, the newest GTID of a state (what gtid_slave_pos holds: one GTID a domain). */
function byDomain(text: string): Map<number, Gtid> {
  const m = new Map<number, Gtid>();
  for (const g of parseGtidState(text).values()) {
    const had = m.get(g.domain);
    if (!had || had.seq < g.seq) m.set(g.domain, g);
  }
  return m;
}

/** Is `g` already in the backup (its domain's sequence reached)? */
function inState(state: Map<number, Gtid>, g: Gtid): boolean {
  const s = state.get(g.domain);
  return s !== undefined && s.seq >= g.seq;
}

export function findCut(
  files: readonly CutFile[],
  startState: string,
  target: PitrTarget,
  maxEventBytes = 1 << 30,
): CutResult {
  const start = byDomain(startState);
  const out: { name: string; bytes: number }[] = [];
  let prevEnd: Map<string, Gtid> | undefined;
  let lastGtid: Gtid | undefined;
  let lastTime: number | undefined;
  let transactions = 0;
  const state = new Map(start);
  // The result as things stand: the cut met the target, or every stored event comes before it.
  const done = (reached: boolean): CutResult => ({
    kind: 'ok',
    files: out,
    state: formatGtidState([...state.values()]),
    ...(lastGtid ? { lastGtid: formatGtid(lastGtid) } : {}),
    ...(lastTime !== undefined ? { lastTime } : {}),
    transactions,
    reached,
  });
  if (
    target.kind === 'gtid' &&
    inState(start, target.gtid) &&
    start.get(target.gtid.domain)?.seq === target.gtid.seq
  )
    // The backup ends at the target: nothing to replay.
    return {
      kind: 'ok',
      files: [],
      state: formatGtidState([...start.values()]),
      transactions: 0,
      reached: true,
    };
  for (const f of files) {
    const st = newScanState();
    let txStart = 0;
    let checkedList = false;
    let stop: number | undefined;
    if (f.size >= 4) scanEvents(f.read, 4, st, { maxEventBytes });
    while (!st.error && stop === undefined && st.offset >= 4 && st.offset + HEADER <= f.size) {
      const at = st.offset;
      const h = f.read(at, HEADER);
      const time = h.readUInt32LE(0);
      const len = h.readUInt32LE(9);
      if (len < HEADER || at + len > f.size) break;
      const before = st.lastGtid;
      const pendingBefore = st.pending;
      scanEvents(f.read, at + len, st, { maxEventBytes });
      if (st.offset === at) break;
      if (!pendingBefore && st.pending) txStart = at;
      if (!checkedList && st.gtidListAtStart) {
        checkedList = true;
        if (prevEnd && !continues(prevEnd, st.gtidListAtStart))
          return {
            kind: 'gap',
            message: `the stored binlogs have a gap before ${f.name}: the state after ${out.at(-1)?.name} is ${formatGtidState(prevEnd)}, ${f.name} starts at ${formatGtidState(st.gtidListAtStart)}`,
          };
      }
      if (st.lastGtid && st.lastGtid !== before) {
        const g = st.lastGtid;
        // Transactions the backup already holds are skipped by the replay (GTID start position).
        if (inState(start, g)) continue;
        if (target.kind === 'time' && time >= target.at) stop = txStart;
        else {
          state.set(g.domain, g);
          lastGtid = g;
          lastTime = time;
          transactions++;
          if (target.kind === 'gtid' && g.domain === target.gtid.domain && g.seq >= target.gtid.seq) {
            // A GTID skipped over (never logged) is not the target: stop before what follows it.
            if (g.seq > target.gtid.seq || g.server !== target.gtid.server) {
              return {
                kind: 'unreadable',
                message: `GTID ${formatGtid(target.gtid)} is not in the stored binlogs (${formatGtid(g)} follows in ${f.name})`,
              };
            }
            stop = st.offset;
          }
        }
      }
    }
    if (st.error)
      return { kind: 'unreadable', message: `stored binlog ${f.name} cannot be read: ${st.error}` };
    const bytes = stop ?? (st.pending ? txStart : st.offset);
    out.push({ name: f.name, bytes });
    if (stop !== undefined) return done(true);
    prevEnd = new Map(st.state);
  }
  return done(false);
}
