/**
 * Access to one host's catalog, apart from the backup run itself. Readers (verify, restore) share
 * it; writers (retention moving items to the trash and emptying it, keep) hold it alone. It is not
 * the host's run lock (`<host>/.lock`): a restore never waits for a running backup, only for a
 * writer, which holds it for seconds. A waiter gives up after XB_MGR_ACCESS_WAIT_MS (default 60 s)
 * with an error naming the holder (exit 1). `list` takes nothing and never waits.
 *
 * On disk, in `<host>/.access/` (plain files: Linux, Node 20, no native addons):
 * - each reader is `read-<pid>-<start>-<n>`, created O_EXCL;
 * - the writer is `write`, hard-linked into place from a complete private file (never empty).
 * Both hold JSON {pid, start, since, command}. An entry whose process is gone (PID and start time,
 * so a reused PID does not count) is stale: ignored and removed.
 *
 * Why readers and a writer never both go on: a reader creates its file, then looks for a writer; a
 * writer creates its file, then looks for readers. Whichever looks second sees the other: the
 * reader steps back, the writer waits for it. New readers wait while a writer waits, so a stream of
 * readers cannot starve it. Not re-entrant: a process takes one access to a host at a time.
 */
import {
  closeSync,
  existsSync,
  linkSync,
  mkdirSync,
  openSync,
  readdirSync,
  readFileSync,
  renameSync,
  rmSync,
  writeSync,
} from 'node:fs';
import { basename, join } from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import { UsageError, XbError } from '../errors.js';
import { procStart } from './lock.js';
import { tempName, writeExclusive } from '../util/excl.js';

export type AccessMode = 'read' | 'write';

export interface Holder {
  pid: number;
  start: string;
  since: string;
  command: string;
}

export const DEFAULT_WAIT_MS = 60_000;
const WAIT_ENV = 'XB_MGR_ACCESS_WAIT_MS';

/** How long to wait for the catalog: XB_MGR_ACCESS_WAIT_MS (milliseconds), else 60 s. */
export function accessWaitMs(env: NodeJS.ProcessEnv = process.env): number {
  const v = env[WAIT_ENV];
  if (v === undefined || v === '') return DEFAULT_WAIT_MS;
  if (!/^\d+$/.test(v.trim()) || !Number.isSafeInteger(Number(v)))
    throw new UsageError(`${WAIT_ENV}=${v}: not a number of milliseconds`);
  return Number(v);
}

/** Pause between two looks: short first (keep holds the catalog for milliseconds), then up to 0.5 s. */
export function nextPause(previousMs: number): number {
  return Math.min(500, Math.max(10, previousMs * 2));
}

/** The holder a reader file's name gives (its content may be half written or garbage). */
export function parseReaderName(name: string): { pid: number; start: string } | undefined {
  const m = /^read-(\d+)-(\d+)-\d+$/.exec(name);
  if (!m) return undefined;
  const pid = Number(m[1]);
  return Number.isSafeInteger(pid) && pid > 0 ? { pid, start: m[2]! } : undefined;
}

/** A holder record read from a file; undefined when it is not one. */
export function parseHolder(text: string): Holder | undefined {
  try {
    const h = JSON.parse(text) as Partial<Holder> | null;
    if (typeof h !== 'object' || h === null) return undefined;
    if (typeof h.pid !== 'number' || !Number.isSafeInteger(h.pid) || h.pid <= 0) return undefined;
    if (typeof h.start !== 'string' || !/^\d+$/.test(h.start)) return undefined;
    return {
      pid: h.pid,
      start: h.start,
      since: typeof h.since === 'string' ? h.since : '?',
      command: typeof h.command === 'string' ? h.command : '?',
    };
  } catch {
    return undefined;
  }
}

/** Is the recorded process still the one running under that PID? */
export function isLive(
  h: { pid: number; start: string } | undefined,
  startOf: (pid: number) => string | undefined = procStart,
): boolean {
  return h !== undefined && startOf(h.pid) === h.start;
}

/** The one line a waiter that gave up prints. */
export function busyMessage(o: {
  root: string;
  mode: AccessMode;
  command: string;
  waitedMs: number;
  holderMode: AccessMode;
  holder: Holder;
}): string {
  const h = o.holder;
  const verb = o.holderMode === 'read' ? 'reads' : 'changes';
  return (
    `${basename(o.root)}: ${o.command} waited ${Math.round(o.waitedMs / 100) / 10} s for the catalog ${o.root}: ` +
    `PID ${h.pid} (${h.command}) ${verb} it since ${h.since}; try again when it is done`
  );
}

export class AccessBusyError extends XbError {}

// Entries this process holds, removed on exit (also process.exit from a signal handler).
const held = new Set<string>();
let exitHook = false;
function hold(path: string): void {
  held.add(path);
  if (!exitHook) {
    exitHook = true;
    process.on('exit', () => {
      for (const p of held) rmSync(p, { force: true });
    });
  }
}
function unhold(path: string): void {
  held.delete(path);
  rmSync(path, { force: true });
}

let serial = 0;

function me(command: string): Holder {
  const start = procStart(process.pid);
  if (start === undefined) throw new XbError('cannot read /proc/self/stat: the catalog access needs /proc');
  return { pid: process.pid, start, since: new Date().toISOString(), command };
}

function readText(path: string): string | undefined {
  try {
    return readFileSync(path, 'utf8');
  } catch {
    return undefined;
  }
}

/** The live writer, if any; a stale `write` is removed. */
function liveWriter(dir: string): Holder | undefined {
  const path = join(dir, 'write');
  for (let i = 0; i < 5; i++) {
    const text = readText(path);
    if (text === undefined) return undefined;
    const h = parseHolder(text);
    if (isLive(h)) return h;
    removeStaleWriter(path, text);
  }
  throw new XbError(`cannot remove the stale catalog lock ${path}`);
}

/**
 * Remove `write` only if it still holds `text`: moved aside first (atomic), and put back at once
 * when another process replaced it between our read and the move.
 */
function removeStaleWriter(path: string, text: string): void {
  const aside = `${path}.stale-${process.pid}`;
  try {
    renameSync(path, aside);
  } catch {
    return; // gone already
  }
  if (readText(aside) !== text) {
    try {
      linkSync(aside, path);
    } catch {
      // Someone took it meanwhile: theirs stands.
    }
  }
  rmSync(aside, { force: true });
}

/** Live readers, oldest first; stale reader files (and private files of dead writers) are removed. */
function liveReaders(dir: string): Holder[] {
  const out: Holder[] = [];
  let names: string[] = [];
  try {
    names = readdirSync(dir);
  } catch {
    return [];
  }
  for (const n of names) {
    const leftover = /^write\.(?:new|stale)-(\d+)$/.exec(n);
    if (leftover && procStart(Number(leftover[1])) === undefined) rmSync(join(dir, n), { force: true });
    const id = parseReaderName(n);
    if (!id) continue;
    if (!isLive(id)) {
      rmSync(join(dir, n), { force: true });
      continue;
    }
    const h = parseHolder(readText(join(dir, n)) ?? '');
    out.push(h ?? { ...id, since: '?', command: '?' });
  }
  return out.sort((a, b) => (a.since < b.since ? -1 : 1));
}

function createReader(dir: string, self: Holder): string {
  const path = join(dir, `read-${self.pid}-${self.start}-${++serial}`);
  let fd: number;
  try {
    fd = openSync(path, 'wx', 0o600);
  } catch (e) {
    throw new XbError(`cannot create ${path}: ${(e as Error).message}`);
  }
  try {
    writeSync(fd, JSON.stringify(self) + '\n');
  } finally {
    closeSync(fd);
  }
  hold(path);
  return path;
}

/** Link a complete file of ours (`text`) into place as `write`; false when a writer file exists. */
function tryWriter(dir: string, text: string): boolean {
  const path = join(dir, 'write');
  const mine = tempName(path, 'new'); // exclusive, random: never a planted file or link
  try {
    writeExclusive(mine, text, 0o600);
    linkSync(mine, path);
    hold(path);
    return true;
  } catch (e) {
    if ((e as NodeJS.ErrnoException).code === 'EEXIST') return false;
    throw new XbError(`cannot create the catalog lock ${path}: ${(e as Error).message}`);
  } finally {
    rmSync(mine, { force: true });
  }
}

export interface Access {
  release(): void;
}

export interface AccessOptions {
  /** Give up after this long (default: accessWaitMs()). */
  waitMs?: number;
  /** Told once, when the access has to wait, who it waits for. */
  onWait?: (message: string) => void;
}

/**
 * Take the catalog access of the host directory `root` for `command` (named to whoever waits for
 * it), waiting while it is held the other way; throws AccessBusyError (exit 1) naming the holder
 * after the wait. A reader of a host without a directory has nothing to protect and takes nothing.
 */
export async function acquireAccess(
  root: string,
  mode: AccessMode,
  command: string,
  o: AccessOptions = {},
): Promise<Access> {
  const waitMs = o.waitMs ?? accessWaitMs();
  if (mode === 'read' && !existsSync(root)) return { release: () => undefined };
  const dir = join(root, '.access');
  mkdirSync(dir, { recursive: true, mode: 0o700 });
  const self = me(command);
  const t0 = Date.now();
  let pause = 0;
  let told = false;
  const waitFor = async (holder: Holder, holderMode: AccessMode, giveUp?: () => void) => {
    const waited = Date.now() - t0;
    if (waited >= waitMs) {
      giveUp?.();
      throw new AccessBusyError(busyMessage({ root, mode, command, waitedMs: waited, holderMode, holder }));
    }
    if (!told) {
      told = true;
      o.onWait?.(
        `${basename(root)}: waiting for PID ${holder.pid} (${holder.command}, since ${holder.since}) to finish with the catalog`,
      );
    }
    pause = nextPause(pause);
    await sleep(Math.min(pause, Math.max(1, waitMs - waited)));
  };

  if (mode === 'read') {
    for (;;) {
      const writer = liveWriter(dir);
      if (writer) {
        await waitFor(writer, 'write');
        continue;
      }
      const path = createReader(dir, self);
      const late = liveWriter(dir);
      if (!late) return { release: () => unhold(path) };
      unhold(path); // a writer came first: it goes before us
      await waitFor(late, 'write');
    }
  }

  const writePath = join(dir, 'write');
  const mine = JSON.stringify(self) + '\n';
  for (;;) {
    if (tryWriter(dir, mine)) break;
    const writer = liveWriter(dir);
    if (writer) await waitFor(writer, 'write');
  }
  // We are the writer; new readers now wait. Wait for the ones already reading.
  const release = () => {
    // Remove it only while it is still ours (a stale-lock taker may have replaced it after a pause).
    if (readText(writePath) === mine) unhold(writePath);
    else held.delete(writePath);
  };
  for (;;) {
    const readers = liveReaders(dir);
    if (readers.length === 0) return { release };
    await waitFor(readers[0]!, 'read', release);
  }
}

/** Run `fn` holding the catalog access of `root`; released however `fn` ends. */
export async function withAccess<T>(
  root: string,
  mode: AccessMode,
  command: string,
  fn: () => T | Promise<T>,
  o: AccessOptions = {},
): Promise<T> {
  const a = await acquireAccess(root, mode, command, o);
  try {
    return await fn();
  } finally {
    a.release();
  }
}
