/**
 * One host's binlog spool: what the stream wrote into staging/, made durable and swapped into the
 * catalog. An event counts as stored only once fsync'd and read back as a complete event. A file
 * is swapped in (renamed into binlog/) when the stream has moved past it, after its Gtid_list was
 * checked against the state at the end of the file before it. A restarted stream writes into a new
 * session directory (it rewrites its first file from the start); the older session's copy of that
 * file stays the stored one until the new copy has caught up with it, so a restart never loses or
 * duplicates an event.
 */
import {
  closeSync,
  constants,
  fstatSync,
  fsyncSync,
  ftruncateSync,
  mkdirSync,
  openSync,
  readdirSync,
  readSync,
  renameSync,
  rmdirSync,
  rmSync,
} from 'node:fs';
import { join } from 'node:path';
import {
  continues,
  formatGtid,
  formatGtidState,
  newScanState,
  scanEvents,
  type GtidState,
  type ScanState,
} from './events.js';
import { compareNames, nextName, validBinlogName } from './names.js';
import {
  addGap,
  binlogDir,
  ensureBinlogLayout,
  fsyncDir,
  listSessions,
  readGaps,
  readIndex,
  stagingDir,
  writeIndex,
  type Gap,
  type StoredFile,
} from './store.js';
import { XbError } from '../errors.js';

export class SpoolError extends XbError {}

export interface SpoolOptions {
  maxBinlogBytes: number;
  onGap?: (g: Gap) => void;
  onSwap?: (f: StoredFile) => void;
}

/** The newest stored event: the recovery point. */
export interface StoredPoint {
  file: string;
  offset: number;
  /** The first event time of `file` when it is still staged (the window may start in it). */
  first_time?: number;
  time?: number;
  gtid?: string;
  state: string;
}

interface Tracked {
  session: string;
  name: string;
  fd: number;
  size: number;
  scan: ScanState;
}

export class Spool {
  index: StoredFile[];
  private readonly tracked = new Map<string, Tracked>();
  private readonly checked = new Set<string>();
  private pendingReason: string | undefined;
  private sessionCount = 0;

  constructor(
    readonly root: string,
    private readonly o: SpoolOptions,
  ) {
    ensureBinlogLayout(root);
    this.index = readIndex(root);
  }

  private path(session: string, name?: string): string {
    return name === undefined
      ? join(stagingDir(this.root), session)
      : join(stagingDir(this.root), session, name);
  }

  private track(session: string, name: string): Tracked {
    const key = `${session}/${name}`;
    let t = this.tracked.get(key);
    if (!t) {
      let fd: number;
      try {
        fd = openSync(this.path(session, name), constants.O_RDONLY | constants.O_NOFOLLOW);
      } catch (e) {
        throw new SpoolError(`binlog ${name}: cannot open the staged file: ${(e as Error).message}`);
      }
      if (!fstatSync(fd).isFile()) {
        closeSync(fd);
        throw new SpoolError(`binlog ${name}: the staged file is not a regular file`);
      }
      t = { session, name, fd, size: 0, scan: newScanState() };
      this.tracked.set(key, t);
    }
    return t;
  }

  private untrack(t: Tracked): void {
    closeSync(t.fd);
    this.tracked.delete(`${t.session}/${t.name}`);
  }

  /** fsync, then read the complete events written so far. */
  private advance(t: Tracked, sync: boolean): void {
    const size = fstatSync(t.fd).size;
    if (size > this.o.maxBinlogBytes)
      throw new SpoolError(
        `binlog ${t.name} is over max_binlog_bytes (${size} > ${this.o.maxBinlogBytes} bytes): the stream is stopped`,
      );
    if (sync && size !== t.size) fsyncSync(t.fd);
    t.size = size;
    const read = (pos: number, len: number) => {
      const b = Buffer.alloc(len);
      const n = readSync(t.fd, b, 0, len, pos);
      return b.subarray(0, n);
    };
    scanEvents(read, size, t.scan, { maxEventBytes: this.o.maxBinlogBytes });
  }

  /** Names in a session directory, in order; anything else there is refused. */
  private sessionFiles(session: string): string[] {
    const names = readdirSync(this.path(session));
    const bad = names.find((n) => !validBinlogName(n));
    if (bad !== undefined)
      throw new SpoolError(
        `the stream wrote a file with an invalid name ${JSON.stringify(bad.slice(0, 80))}`,
      );
    return names.sort(compareNames);
  }

  private lastState(): GtidState | undefined {
    const last = this.index.at(-1);
    if (!last) return undefined;
    const m: GtidState = new Map();
    for (const part of last.state_end.split(',').filter((p) => p !== '')) {
      const [d, s, q] = part.split('-');
      m.set(`${d}-${s}`, { domain: Number(d), server: Number(s), seq: BigInt(q!) });
    }
    return m;
  }

  /** A file's Gtid_list against the end of the stored stream: a gap is recorded (once). */
  private checkContinuity(t: Tracked): void {
    if (this.checked.has(t.name) || t.scan.gtidListAtStart === undefined) return;
    const last = this.index.at(-1);
    if (last?.name === t.name) return;
    this.checked.add(t.name);
    const prev = this.lastState();
    if (!last || !prev) return;
    if (continues(prev, t.scan.gtidListAtStart)) return;
    const gap: Gap = {
      detected_at: new Date().toISOString(),
      after_file: last.name,
      after_state: last.state_end,
      before_file: t.name,
      before_gtid_list: formatGtidState(t.scan.gtidListAtStart),
      reason:
        this.pendingReason ??
        `the Gtid_list of ${t.name} does not continue the end of ${last.name}: events are missing`,
    };
    this.pendingReason = undefined;
    const known = readGaps(this.root).some(
      (g) => g.before_file === gap.before_file && g.after_file === gap.after_file,
    );
    if (!known) {
      addGap(this.root, gap);
      this.o.onGap?.(gap);
    }
  }

  /** Swap a file the stream has moved past into binlog/. */
  private swapIn(t: Tracked, incomplete = false): void {
    this.advance(t, true);
    if (t.scan.error && !incomplete) throw new SpoolError(`binlog ${t.name}: ${t.scan.error}`);
    if (!incomplete && t.scan.offset !== t.size)
      throw new SpoolError(`binlog ${t.name} ends with a cut event although the stream moved past it`);
    const stagedPath = this.path(t.session, t.name);
    const same = this.index.find((f) => f.name === t.name);
    if (same) {
      // A file of another history under a stored name (RESET MASTER on the server): never mixed in.
      if (same.gtid_list !== formatGtidState(t.scan.gtidListAtStart ?? []))
        throw new SpoolError(
          `binlog ${t.name} on the server is not the stored ${t.name} (RESET MASTER?): move ${binlogDir(this.root)} aside to stream the new history`,
        );
      // Stored already (a stream restarted from a file it had finished): the stored copy stays.
      this.untrack(t);
      rmSync(stagedPath, { force: true });
      return;
    }
    this.checkContinuity(t);
    if (incomplete && t.scan.offset < t.size) {
      const w = openSync(stagedPath, constants.O_WRONLY | constants.O_NOFOLLOW);
      try {
        ftruncateSync(w, t.scan.offset);
        fsyncSync(w);
      } finally {
        closeSync(w);
      }
    }
    renameSync(stagedPath, join(binlogDir(this.root), t.name));
    fsyncDir(this.path(t.session));
    fsyncDir(binlogDir(this.root));
    const f: StoredFile = {
      name: t.name,
      bytes: t.scan.offset,
      events: t.scan.events,
      ...(t.scan.firstEventTime !== undefined ? { first_time: t.scan.firstEventTime } : {}),
      ...(t.scan.lastEventTime !== undefined ? { last_time: t.scan.lastEventTime } : {}),
      gtid_list: formatGtidState(t.scan.gtidListAtStart ?? []),
      state_end: formatGtidState(t.scan.state),
      ...(t.scan.lastGtid ? { last_gtid: formatGtid(t.scan.lastGtid) } : {}),
      ...(t.scan.rotateTo ? { next: t.scan.rotateTo } : {}),
      ...(incomplete ? { incomplete: true } : {}),
    };
    this.index = [...readIndex(this.root).filter((x) => x.name !== f.name), f].sort((a, b) =>
      compareNames(a.name, b.name),
    );
    writeIndex(this.root, this.index);
    this.untrack(t);
    this.o.onSwap?.(f);
  }

  /**
   * After a restart (of the stream or of the supervisor): every file an older session had moved
   * past is swapped in; each session's newest file stays staged as a partial.
   */
  recover(): void {
    for (const s of listSessions(this.root)) {
      const names = this.sessionFiles(s);
      names.forEach((n, i) => {
        const t = this.track(s, n);
        if (i < names.length - 1) this.swapIn(t);
        else this.advance(t, true); // a cut event at its end is what a kill leaves: ignored
      });
      if (names.length === 0) rmdirSync(this.path(s));
    }
  }

  /** The newest staged partial of an older session, if it is not stored yet. */
  private partial(): Tracked | undefined {
    const stored = new Set(this.index.map((f) => f.name));
    return [...this.tracked.values()]
      .filter((t) => !stored.has(t.name))
      .sort((a, b) => compareNames(a.name, b.name) || a.scan.offset - b.scan.offset)
      .at(-1);
  }

  /**
   * The file a new stream starts from, given the server's binlogs (oldest first): the staged
   * partial, else the one after the newest stored file, else the server's oldest. When the server
   * no longer has it (purged), the next one it has; the partial is then stored as it is and the
   * gap is recorded when the next file's Gtid_list is read.
   */
  startFile(serverFiles: readonly string[]): { start: string; purged?: string } {
    const files = serverFiles.filter(validBinlogName);
    if (files.length === 0) throw new SpoolError('the server lists no binary logs (is log_bin on?)');
    const p = this.partial();
    const last = this.index.at(-1);
    const want = p ? p.name : last ? (last.next ?? nextName(last.name)) : undefined;
    if (want === undefined || files.includes(want)) return { start: want ?? files[0]! };
    const start = files.find((n) => compareNames(n, want) > 0) ?? files[0]!;
    if (p) {
      for (const t of [...this.tracked.values()].filter((x) => x.name === p.name && x !== p)) this.untrack(t);
      this.swapIn(p, true);
    }
    this.pendingReason = `binlog ${want} was purged on the server before the manager had it all`;
    return { start, purged: want };
  }

  /** A new, empty session directory for a stream's --result-file. */
  newSession(): string {
    const name = `s${String(Date.now()).padStart(13, '0')}-${this.sessionCount++}`;
    mkdirSync(this.path(name), { mode: 0o700 });
    return name;
  }

  sessionPath(session: string): string {
    return this.path(session);
  }

  /**
   * Make what the stream of `session` wrote durable: fsync and read its newest file, swap in the
   * ones it moved past, drop older sessions' copies the new one has caught up with.
   */
  tick(session: string): void {
    const names = this.sessionFiles(session);
    names.forEach((n, i) => {
      const t = this.track(session, n);
      if (i < names.length - 1) {
        this.swapIn(t);
        return;
      }
      this.advance(t, true);
      if (t.scan.error) throw new SpoolError(`binlog ${n}: ${t.scan.error}`);
      this.checkContinuity(t);
    });
    for (const t of [...this.tracked.values()]) {
      if (t.session === session) continue;
      const mine = this.tracked.get(`${session}/${t.name}`);
      const stored = this.index.some((f) => f.name === t.name);
      if (stored || (mine && mine.scan.offset >= t.scan.offset)) {
        this.untrack(t);
        rmSync(this.path(t.session, t.name), { force: true });
        try {
          rmdirSync(this.path(t.session));
        } catch {
          // Not empty yet.
        }
      }
    }
  }

  /** The recovery point: the newest stored event, staged or swapped in. */
  point(): StoredPoint | undefined {
    const staged = [...this.tracked.values()]
      .filter((t) => t.scan.events > 0)
      .sort((a, b) => compareNames(a.name, b.name) || a.scan.offset - b.scan.offset)
      .at(-1);
    const last = this.index.at(-1);
    if (staged && (!last || compareNames(staged.name, last.name) > 0)) {
      return {
        file: staged.name,
        offset: staged.scan.offset,
        ...(staged.scan.lastEventTime !== undefined ? { time: staged.scan.lastEventTime } : {}),
        ...(staged.scan.lastGtid
          ? { gtid: formatGtid(staged.scan.lastGtid) }
          : last?.last_gtid
            ? { gtid: last.last_gtid }
            : {}),
        state: formatGtidState(staged.scan.state),
      };
    }
    if (!last) return undefined;
    return {
      file: last.name,
      offset: last.bytes,
      ...(last.last_time !== undefined ? { time: last.last_time } : {}),
      ...(last.last_gtid ? { gtid: last.last_gtid } : {}),
      state: last.state_end,
    };
  }

  close(): void {
    for (const t of [...this.tracked.values()]) this.untrack(t);
  }
}
