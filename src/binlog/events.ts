/**
 * Pure: a reader of MariaDB binary log files as written by `mariadb-binlog --raw` (the server's
 * own bytes, positions equal to the server's). Only what the streamer needs is decoded: the
 * checksum setting (format description), GTIDs, the Gtid_list at a file's start, a rotation's
 * target, a stop, and event times. Everything in the file came from the DB host: sizes are
 * bounded, names validated, and a malformed event stops the scan with a reason instead of a throw.
 */
import { validBinlogName } from './names.js';

export const MAGIC = Buffer.from([0xfe, 0x62, 0x69, 0x6e]);
export const HEADER = 19;

export const EV = {
  query: 2,
  stop: 3,
  rotate: 4,
  formatDescription: 15,
  xid: 16,
  gtid: 162,
  gtidList: 163,
} as const;

/** GTID event flag: a transaction of one statement with no XID or COMMIT after it (DDL). */
const FL_STANDALONE = 1;

export interface Gtid {
  domain: number;
  server: number;
  seq: bigint;
}

/**
 * The binlog state: the last GTID per (domain, server id) pair, as a Gtid_list event records it
 * (MariaDB keeps one entry per pair, not per domain). Keyed `domain-server`.
 */
export type GtidState = Map<string, Gtid>;

export const stateKey = (g: Gtid): string => `${g.domain}-${g.server}`;

export interface ScanState {
  /** Bytes of the file read as complete events (the next event starts here). */
  offset: number;
  checksum: boolean;
  /** The file's Gtid_list event: the binlog state before its first event. */
  gtidListAtStart?: Gtid[];
  /** State after the last complete transaction: Gtid_list updated with every GTID since. */
  state: GtidState;
  /** The newest transaction whose every event is in the file (its XID or COMMIT included). */
  lastGtid?: Gtid;
  /** A transaction begun (its GTID event read) and not yet ended. */
  pending?: { gtid: Gtid; standalone: boolean };
  /** Time of the newest complete event (seconds since the epoch; 1 s resolution). */
  lastEventTime?: number;
  firstEventTime?: number;
  events: number;
  rotateTo?: string;
  stopped: boolean;
  /** Why the file cannot be read further; set once, then the scan does nothing. */
  error?: string;
}

export function newScanState(): ScanState {
  return { offset: 0, checksum: false, state: new Map(), events: 0, stopped: false };
}

export function formatGtid(g: Gtid): string {
  return `${g.domain}-${g.server}-${g.seq}`;
}

export function formatGtidState(s: GtidState | readonly Gtid[]): string {
  const list = Array.isArray(s) ? (s as readonly Gtid[]) : [...(s as GtidState).values()];
  return [...list]
    .sort((a, b) => a.domain - b.domain || a.server - b.server)
    .map(formatGtid)
    .join(',');
}

export function parseGtidState(text: string): GtidState {
  const out: GtidState = new Map();
  for (const part of text.split(',').filter((p) => p !== '')) {
    const m = /^(\d{1,10})-(\d{1,10})-(\d{1,20})$/.exec(part.trim());
    if (!m) continue;
    const g = { domain: Number(m[1]), server: Number(m[2]), seq: BigInt(m[3]!) };
    out.set(stateKey(g), g);
  }
  return out;
}

/** Reads `len` bytes at `pos` (fewer only at the end of the data). */
export type ReadAt = (pos: number, len: number) => Buffer;

export interface ScanLimits {
  /** Largest event accepted; a larger size field means a corrupt or hostile file. */
  maxEventBytes: number;
}

/**
 * Advance `st` over the complete events in [st.offset, size). An event cut off at `size` is left
 * for a later call (the writer is still writing it). Mutates and returns `st`.
 */
export function scanEvents(read: ReadAt, size: number, st: ScanState, limits: ScanLimits): ScanState {
  if (st.error) return st;
  if (st.offset === 0) {
    if (size < 4) return st;
    if (!read(0, 4).equals(MAGIC)) {
      st.error = 'not a binary log (bad magic bytes)';
      return st;
    }
    st.offset = 4;
  }
  while (st.offset + HEADER <= size && !st.error) {
    const h = read(st.offset, HEADER);
    const time = h.readUInt32LE(0);
    const type = h.readUInt8(4);
    const server = h.readUInt32LE(5);
    const len = h.readUInt32LE(9);
    if (len < HEADER || len > limits.maxEventBytes) {
      st.error = `event at ${st.offset} has an impossible size ${len}`;
      break;
    }
    if (st.offset + len > size) break;
    if (st.stopped || st.rotateTo !== undefined) {
      st.error = `event at ${st.offset} after the end of the file (a rotate or stop event)`;
      break;
    }
    // A query that may be the COMMIT of an open transaction is read too (a non-transactional
    // table's transaction ends with one); a COMMIT query event is small, a long one is a statement.
    const maybeCommit = type === EV.query && st.pending !== undefined && len <= 4096;
    const wanted =
      type === EV.formatDescription ||
      type === EV.gtid ||
      type === EV.gtidList ||
      type === EV.rotate ||
      maybeCommit;
    const ev = wanted ? read(st.offset, len) : h;
    const end = len - (st.checksum && type !== EV.formatDescription ? 4 : 0);
    const problem = wanted ? decode(ev, type, server, end, st) : undefined;
    if (problem) {
      st.error = `event at ${st.offset}: ${problem}`;
      break;
    }
    if (type === EV.stop) st.stopped = true;
    if (st.pending && endsTransaction(type, ev, len, st)) {
      st.state.set(stateKey(st.pending.gtid), st.pending.gtid);
      st.lastGtid = st.pending.gtid;
      st.pending = undefined;
    }
    // Rotate events of time 0 are the artificial ones of a dump's start; they mark no content.
    if (time !== 0) {
      st.lastEventTime = time;
      st.firstEventTime ??= time;
    }
    st.events++;
    st.offset += len;
  }
  return st;
}

function decode(ev: Buffer, type: number, server: number, end: number, st: ScanState): string | undefined {
  const body = HEADER;
  switch (type) {
    case EV.formatDescription: {
      // binlog version (2), server version (50), create time (4), header length (1), post-header
      // lengths, then the checksum algorithm (1) and a checksum (4) at the very end.
      if (ev.length < body + 57 + 5) return 'format description event too short';
      const alg = ev.readUInt8(ev.length - 5);
      st.checksum = alg === 1;
      return undefined;
    }
    case EV.gtid: {
      if (end < body + 13) return 'GTID event too short';
      const g = { domain: ev.readUInt32LE(body + 8), server, seq: ev.readBigUInt64LE(body) };
      // Counted once the transaction's last event is read (endsTransaction).
      st.pending = { gtid: g, standalone: (ev.readUInt8(body + 12) & FL_STANDALONE) !== 0 };
      return undefined;
    }
    case EV.gtidList: {
      if (end < body + 4) return 'Gtid_list event too short';
      const n = ev.readUInt32LE(body) & 0x0fffffff;
      if (body + 4 + n * 16 > end) return `Gtid_list event claims ${n} entries it does not hold`;
      const list: Gtid[] = [];
      for (let i = 0; i < n; i++) {
        const p = body + 4 + i * 16;
        list.push({
          domain: ev.readUInt32LE(p),
          server: ev.readUInt32LE(p + 4),
          seq: ev.readBigUInt64LE(p + 8),
        });
      }
      // Only the first one describes the file's start; a file holds one.
      if (st.gtidListAtStart === undefined) {
        st.gtidListAtStart = list;
        for (const g of list) if (!st.state.has(stateKey(g))) st.state.set(stateKey(g), g);
      }
      return undefined;
    }
    case EV.rotate: {
      if (end < body + 8) return 'rotate event too short';
      const name = ev.subarray(body + 8, end).toString('latin1');
      // A rotate of time 0 at a dump's start names this very file; the real one ends the file.
      if (ev.readUInt32LE(0) === 0) return undefined;
      if (!validBinlogName(name))
        return `rotate event names an invalid binlog ${JSON.stringify(name.slice(0, 80))}`;
      st.rotateTo = name;
      return undefined;
    }
  }
  return undefined;
}

/** Does this event end the pending transaction: an XID, a COMMIT query, a standalone's statement? */
function endsTransaction(type: number, ev: Buffer, len: number, st: ScanState): boolean {
  if (type === EV.xid) return true;
  if (type !== EV.query) return false;
  if (st.pending?.standalone) return true;
  // Query: thread id (4), exec time (4), db length (1), error code (2), status vars length (2),
  // status vars, db name and a NUL, then the statement.
  if (ev.length < HEADER + 13) return false;
  const text = HEADER + 13 + ev.readUInt16LE(HEADER + 11) + ev.readUInt8(HEADER + 8) + 1;
  const end = len - (st.checksum ? 4 : 0);
  if (end - text > 16 || end > ev.length) return false;
  const q = ev.subarray(text, end).toString('latin1').trim().toUpperCase();
  return q === 'COMMIT' || q === 'ROLLBACK';
}

/** Pure: does `next` (a file's Gtid_list) continue `prev` (the state after the previous file)? */
export function continues(prev: GtidState, next: readonly Gtid[]): boolean {
  // Every (domain, server) the stored stream holds is carried forward unchanged and nothing is
  // new: any difference is events the stream never got (sequence numbers may skip, so only the
  // boundary is compared, never seq + 1).
  const n = new Map(next.map((g) => [stateKey(g), g]));
  if (n.size !== prev.size) return false;
  for (const [k, g] of prev) if (n.get(k)?.seq !== g.seq) return false;
  return true;
}
