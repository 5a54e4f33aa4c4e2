/**
 * Work on backup data runs as the unprivileged worker (OpenSSH-style privilege separation): what
 * parses a stream from a DB host (the decompressor, mbstream, mariabackup --prepare, the verify
 * mysqld and its clients) runs as `xb-mgr-worker`, without network, with CPU and file-size limits,
 * in a working directory that is the worker's own. Root keeps the catalog (0700) and moves results
 * into place.
 *
 * Every directory above a working directory must be traversable by the worker (0711: it can reach
 * a path it knows, never list); catalog directories stay 0700. When xb-mgr does not run as root
 * (a developer's checkout) it is already unprivileged and runs the tools as itself.
 */
import { chmodSync, chownSync, lstatSync, mkdirSync, rmSync } from 'node:fs';
import { dirname } from 'node:path';
import { confine, findConfineBins, lookupWorker, type ConfineBins, type Worker } from '../util/confine.js';
import type { Stage } from '../util/proc.js';
import { XbError } from '../errors.js';

export interface WorkerSetup {
  worker: Worker;
  bins: ConfineBins;
}

let cached: WorkerSetup | null | undefined;

/** The worker and the confinement tools, or null when not root; throws when root lacks them. */
export function workerSetup(): WorkerSetup | null {
  if (cached !== undefined) return cached;
  if (process.getuid?.() !== 0) return (cached = null);
  cached = { worker: lookupWorker(), bins: findConfineBins() };
  return cached;
}

export interface StepLimits {
  /** Wall-clock timeout of the step: the CPU limit is this on every thread it may use. */
  timeoutMs: number;
  threads: number;
  /** The largest file the step may write (the extract cap). */
  maxFileBytes: number;
  /** Environment for the tool (the confined environment is otherwise empty). */
  env?: Record<string, string>;
}

/** Pure given a setup: the command confined as the worker, or as is without one. */
export function workerCommand(
  setup: WorkerSetup | null,
  cmd: string,
  args: readonly string[],
  l: StepLimits,
): Stage {
  if (!setup) return { cmd, args: [...args], ...(l.env ? { env: l.env } : {}) };
  const c = confine(cmd, args, {
    worker: setup.worker,
    bins: setup.bins,
    limits: {
      cpuSeconds: Math.max(1, Math.ceil((l.timeoutMs / 1000) * Math.max(1, l.threads))),
      fsizeBytes: Math.max(1, Math.floor(l.maxFileBytes)),
    },
    ...(l.env ? { env: l.env } : {}),
  });
  return { cmd: c.cmd, args: c.args };
}

/** Is `dir` a working directory the worker owns (a real directory, not a link)? */
export function ownedByWorker(setup: WorkerSetup | null, dir: string): boolean {
  try {
    const st = lstatSync(dir);
    return st.isDirectory() && (!setup || st.uid === setup.worker.uid);
  } catch {
    return false;
  }
}

/**
 * A fresh working directory for one step: removed if it exists, created 0700 and given to the
 * worker. Its parent (root's) is made traversable (0711).
 */
export function freshWorkDir(setup: WorkerSetup | null, dir: string): void {
  rmSync(dir, { recursive: true, force: true });
  mkdirSync(dirname(dir), { recursive: true, mode: 0o711 });
  mkdirSync(dir, { mode: 0o700 });
  if (setup) chownSync(dir, setup.worker.uid, setup.worker.gid);
}

/**
 * Let the worker reach `dirs` (root's directories above its working directories): 0711, no read.
 * Only directories root owns are changed; a shared parent such as /srv is left alone.
 */
export function traversable(setup: WorkerSetup | null, dirs: readonly string[]): void {
  if (!setup) return;
  for (const d of dirs) {
    const st = lstatSync(d);
    if (st.isDirectory() && st.uid === 0 && (st.mode & 0o777) === 0o700) chmodSync(d, 0o711);
  }
  // Above them: directories that are not ours to change, but the worker must pass through.
  for (let d = dirname(dirs[0] ?? '/'); d !== dirname(d); d = dirname(d)) {
    if ((lstatSync(d).mode & 0o001) === 0)
      throw new XbError(
        `${d} is not traversable by others, so the unprivileged ${setup.worker.name} cannot reach backup_dir below it: chmod o+x ${d} or choose another backup_dir`,
      );
  }
}
