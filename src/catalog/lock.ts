/**
 * Lock files: the run lock (`pid` option) and one per host. A lock holds the owner's PID and its
 * process start time (so a reused PID is not mistaken for the owner) and, for the run lock, the
 * process groups of the children it started. A lock whose owner is dead is stale: it is taken
 * over, after stopping what the dead run left running (only groups whose leader still has the
 * recorded start time, i.e. processes that run started: see safeToSignal).
 */
import { linkSync, mkdirSync, readFileSync, renameSync, rmSync } from 'node:fs';
import { dirname } from 'node:path';
import { LockHeldError, XbError } from '../errors.js';
import { killGroup } from '../util/proc.js';
import { writeFileAtomic } from './store.js';
import { tempName, writeExclusive } from '../util/excl.js';

export interface LockInfo {
  pid: number;
  start?: string;
  since: string;
  command?: string;
  children?: { pid: number; start?: string }[];
}

/** Start time of a process (field 22 of /proc/PID/stat), or undefined when it is gone. */
export function procStart(pid: number): string | undefined {
  try {
    const stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
    const fields = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
    return fields[19];
  } catch {
    return undefined;
  }
}

export function isAlive(pid: number, start?: string): boolean {
  const s = procStart(pid);
  if (s === undefined) return false;
  return start === undefined || s === start;
}

/**
 * May the process group of a child recorded in a stale lock be killed? Only when the record proves
 * the process is that child: a PID above 1 (`kill(-1)` signals every process, `kill(-0)` our own
 * group) and a recorded start time equal to the process's current one. A record without a start
 * time proves nothing (the child may have ended and its PID been reused), so it is left alone.
 */
export function safeToSignal(
  child: { pid?: unknown; start?: unknown },
  startOf: (pid: number) => string | undefined = procStart,
): boolean {
  const { pid, start } = child;
  if (typeof pid !== 'number' || !Number.isSafeInteger(pid) || pid <= 1) return false;
  if (typeof start !== 'string' || start === '') return false;
  return startOf(pid) === start;
}

export interface LockDeps {
  /** Signals a process group; injected by tests, which must never send a real signal. */
  kill?: (pid: number, signal: NodeJS.Signals) => void;
}

function parseLock(text: string): LockInfo | undefined {
  const t = text.trim();
  if (/^\d+$/.test(t)) return { pid: Number(t), since: '?' };
  try {
    const l = JSON.parse(t) as LockInfo;
    return typeof l.pid === 'number' ? l : undefined;
  } catch {
    return undefined;
  }
}

export class Lock {
  private released = false;
  constructor(
    readonly path: string,
    private info: LockInfo,
  ) {}

  setChildren(children: number[]): void {
    if (this.released) return;
    this.info = { ...this.info, children: children.map((pid) => ({ pid, start: procStart(pid) })) };
    writeFileAtomic(this.path, JSON.stringify(this.info) + '\n');
  }

  release(): void {
    if (this.released) return;
    this.released = true;
    rmSync(this.path, { force: true });
  }
}

export interface AcquireResult {
  lock: Lock;
  /** Set when a stale lock was taken over: what happened, for a warning. */
  tookOver?: string;
}

/**
 * Take a lock or throw: LockHeldError (exit 75) for the run lock, a host failure (exit 1) for a
 * host lock (`kind` tells which).
 */
export function acquireLock(
  path: string,
  kind: 'run' | 'host',
  what: string,
  alertHours = 24,
  deps: LockDeps = {},
): AcquireResult {
  const kill = deps.kill ?? killGroup;
  mkdirSync(dirname(path), { recursive: true, mode: 0o700 });
  const me: LockInfo = {
    pid: process.pid,
    start: procStart(process.pid),
    since: new Date().toISOString(),
    command: what,
    children: [],
  };
  let tookOver: string | undefined;
  for (let attempt = 0; attempt < 5; attempt++) {
    // Written under a private name and hard-linked into place: the lock never exists empty.
    // A random name created exclusively: never a file (or link) another user put there first.
    const mine = tempName(path, 'new');
    try {
      writeExclusive(mine, JSON.stringify(me) + '\n', 0o600);
      linkSync(mine, path);
      return { lock: new Lock(path, me), tookOver };
    } catch (e) {
      if ((e as NodeJS.ErrnoException).code !== 'EEXIST') {
        throw new XbError(`cannot create lock ${path}: ${(e as Error).message}`);
      }
    } finally {
      rmSync(mine, { force: true });
    }
    let holder: LockInfo | undefined;
    try {
      holder = parseLock(readFileSync(path, 'utf8'));
    } catch {
      continue; // removed meanwhile: try again
    }
    if (holder && isAlive(holder.pid, holder.start)) {
      const hours = (Date.now() - Date.parse(holder.since)) / 3_600_000;
      const old =
        Number.isFinite(hours) && hours >= alertHours
          ? ` (held for ${Math.floor(hours)} h: is that run stuck?)`
          : '';
      const msg = `${kind === 'run' ? 'another run' : `host ${what}: another process`} holds the lock ${path}: PID ${holder.pid} since ${holder.since}${old}`;
      if (kind === 'run') throw new LockHeldError(msg, old !== '');
      throw new XbError(msg);
    }
    // Stale: move it aside atomically (only one taker wins), stop its leftovers, retry.
    const aside = `${path}.stale-${process.pid}`;
    try {
      renameSync(path, aside);
    } catch {
      continue;
    }
    rmSync(aside, { force: true });
    const stopped: number[] = [];
    // The record is untrusted (a crash, an old version, a hand edit): each child must pass safeToSignal.
    const children: unknown[] = Array.isArray(holder?.children) ? holder.children : [];
    for (const c of children) {
      if (typeof c === 'object' && c !== null && safeToSignal(c)) {
        const pid = (c as { pid: number }).pid;
        kill(pid, 'SIGKILL');
        stopped.push(pid);
      }
    }
    tookOver = `took over the stale lock ${path} of PID ${holder?.pid ?? '?'} (not running)${
      stopped.length > 0 ? `; stopped the process groups it left: ${stopped.join(', ')}` : ''
    }`;
  }
  throw new XbError(`cannot take the lock ${path}`);
}
