/**
 * A private scratch directory per process for extra-vars files, credentials on their way to a DB
 * host and ssh control sockets. It lives under a run root that only this user can write (root:
 * /run/xb-mgr, 0700), never at a predictable path in /tmp that another local user could create
 * first. Removed at exit; one left by a killed run is removed by a later run once its PID is gone,
 * only when it is a real directory of ours with mode 0700, without following any link.
 */
import { randomBytes } from 'node:crypto';
import {
  chmodSync,
  closeSync,
  constants,
  fchmodSync,
  fstatSync,
  lstatSync,
  mkdirSync,
  openSync,
  readdirSync,
  rmdirSync,
  statSync,
  unlinkSync,
} from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { XbError, clip } from '../errors.js';

/** The name of a run directory in the run root: `<pid>-<random>`. */
const RUN_NAME = /^(\d+)-[0-9a-f]+$/;
/** The name the per-run directories had in /tmp before (cleaned there too, with the same rules). */
const LEGACY_NAME = /^xb-mgr-run-(\d+)-[0-9a-f]+$/;
/**
 * ssh control sockets live at <run dir>/pb-XXXXXX/cp/<40 hex> and ssh adds a 17-character suffix
 * while creating one: with a run dir name of at most 14 characters, a run root of at most 24
 * keeps the path within the 107 bytes a Unix socket name may have.
 */
const MAX_ROOT = 24;

/** The run root is unusable (another owner, mode, a link, not a directory): one line, the path. */
export class RunDirError extends XbError {}

const uid = (): number => process.geteuid?.() ?? process.getuid?.() ?? 0;

/**
 * Pure: the run root for a user. root: /run/xb-mgr (a root-only tmpfs), else a directory of
 * its own in the temp dir; another user: $XDG_RUNTIME_DIR/xb-mgr (a private directory of its
 * own), else the temp dir's xb-mgr-<uid>. A too long path for the sockets falls back to the temp dir.
 */
export function runRootFor(
  u: number,
  env: Record<string, string | undefined>,
  tmp: string,
  isDir: (p: string) => boolean,
): string {
  const fallback = join(tmp, `xb-mgr-${u}`);
  const xdg = env.XDG_RUNTIME_DIR;
  const first = u === 0 ? '/run' : xdg?.startsWith('/') ? xdg : undefined;
  if (first && isDir(first)) {
    const p = join(first, 'xb-mgr');
    if (p.length <= MAX_ROOT) return p;
  }
  return fallback;
}

const O_DIR_NOFOLLOW = constants.O_RDONLY | constants.O_DIRECTORY | constants.O_NOFOLLOW;

/** Why open(O_DIRECTORY|O_NOFOLLOW) failed; on a link Linux says ENOTDIR (or ELOOP): lstat tells. */
function describe(path: string, e: NodeJS.ErrnoException): string {
  let link = e.code === 'ELOOP';
  try {
    link ||= lstatSync(path).isSymbolicLink();
  } catch {
    // gone: the error says so
  }
  if (link) return `${path} is a symbolic link`;
  if (e.code === 'ENOTDIR') return `${path} is not a directory`;
  return `${path}: ${e.message}`;
}

/**
 * Make sure `path` is a directory of this user, mode exactly 0700, not a link: created so when
 * missing; anything else there is refused (never used, never changed, never removed).
 */
export function ensurePrivateDir(path: string, owner = uid()): string {
  let created = false;
  try {
    mkdirSync(path, { mode: 0o700 });
    created = true;
  } catch (e) {
    if ((e as NodeJS.ErrnoException).code !== 'EEXIST')
      throw new RunDirError(`cannot create the run directory ${describe(path, e as NodeJS.ErrnoException)}`);
  }
  let fd: number;
  try {
    fd = openSync(path, O_DIR_NOFOLLOW);
  } catch (e) {
    throw new RunDirError(
      `refusing the run directory: ${describe(path, e as NodeJS.ErrnoException)} (xb-mgr creates it, owned by uid ${owner}, mode 0700)`,
    );
  }
  try {
    // The umask may have narrowed what mkdir created; what was there already is checked as it is.
    if (created) fchmodSync(fd, 0o700);
    const st = fstatSync(fd);
    const mode = st.mode & 0o7777;
    if (st.uid !== owner || mode !== 0o700)
      throw new RunDirError(
        `refusing the run directory ${path}: owned by uid ${st.uid} with mode ${mode.toString(8).padStart(4, '0')}, not uid ${owner} with 0700 (remove it; xb-mgr creates it)`,
      );
  } finally {
    closeSync(fd);
  }
  return path;
}

/** The run root of this process, created or checked (see runRootFor, ensurePrivateDir). */
export function runRoot(): string {
  const isDir = (p: string): boolean => {
    try {
      return statSync(p).isDirectory();
    } catch {
      return false;
    }
  };
  return ensurePrivateDir(runRootFor(uid(), process.env, tmpdir(), isDir));
}

function pidAlive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch (e) {
    return (e as NodeJS.ErrnoException).code === 'EPERM';
  }
}

/**
 * Remove the directory open as `fd` and everything in it, through /proc/self/fd/<fd>: each step
 * works on the directory that was opened (as unlinkat would), so a directory renamed or replaced
 * by a link meanwhile is never followed. A subdirectory that is not ours is left alone.
 */
function emptyDir(fd: number, owner: number): boolean {
  const at = `/proc/self/fd/${fd}`;
  let complete = true;
  for (const name of readdirSync(at)) {
    const p = `${at}/${name}`;
    let sub: number | undefined;
    try {
      sub = openSync(p, O_DIR_NOFOLLOW);
    } catch (e) {
      const code = (e as NodeJS.ErrnoException).code;
      // Not a directory (a file, a socket, a link: ELOOP/ENOTDIR): unlink never follows a link.
      if (code === 'ELOOP' || code === 'ENOTDIR') {
        unlinkSync(p);
        continue;
      }
      if (code === 'ENOENT') continue;
      throw e;
    }
    try {
      if (fstatSync(sub).uid !== owner || !emptyDir(sub, owner)) {
        complete = false;
        continue;
      }
    } finally {
      closeSync(sub);
    }
    try {
      rmdirSync(p);
    } catch {
      complete = false; // replaced meanwhile: left alone
    }
  }
  return complete;
}

/**
 * Remove `path` if it is a real directory (not a link) of `owner` with mode 0700, without following
 * any link in it. True when it was removed.
 */
export function removeOwnDir(path: string, owner = uid(), afterCheck?: (path: string) => void): boolean {
  let fd: number;
  try {
    fd = openSync(path, O_DIR_NOFOLLOW);
  } catch {
    return false; // gone, a link or not a directory: not ours to remove
  }
  try {
    const st = fstatSync(fd);
    if (st.uid !== owner || (st.mode & 0o7777) !== 0o700) return false;
    afterCheck?.(path);
    if (!emptyDir(fd, owner)) return false;
  } finally {
    closeSync(fd);
  }
  try {
    rmdirSync(path); // a link put in its place meanwhile: ENOTDIR, nothing followed
    return true;
  } catch {
    return false;
  }
}

/**
 * Remove run directories of dead processes from `base` (the run root; the temp dir for the names
 * used before). Only directories of this user with mode 0700 go; nothing is followed.
 */
export function cleanStaleRunTmp(
  base: string,
  opts: { legacy?: boolean; owner?: number; afterCheck?: (path: string) => void } = {},
): string[] {
  const re = opts.legacy ? LEGACY_NAME : RUN_NAME;
  let names: string[];
  try {
    names = readdirSync(base);
  } catch {
    return [];
  }
  const removed: string[] = [];
  for (const n of names) {
    const m = re.exec(n);
    if (!m || Number(m[1]) === process.pid || pidAlive(Number(m[1]))) continue;
    try {
      if (removeOwnDir(join(base, n), opts.owner ?? uid(), opts.afterCheck)) removed.push(n);
    } catch {
      // Left for a later run: cleaning up never fails this one.
    }
  }
  return removed;
}

let current: string | undefined;

export function runTmp(): string {
  if (current) return current;
  const root = runRoot();
  cleanStaleRunTmp(root);
  cleanStaleRunTmp(tmpdir(), { legacy: true });
  // Short names: ssh control sockets must fit in 108 bytes (see MAX_ROOT).
  for (let i = 0; ; i++) {
    const dir = join(root, `${process.pid}-${randomBytes(3).toString('hex')}`);
    try {
      mkdirSync(dir, { mode: 0o700 });
      chmodSync(dir, 0o700); // whatever the umask: the exit and stale cleanups expect 0700
    } catch (e) {
      if ((e as NodeJS.ErrnoException).code === 'EEXIST' && i < 10) continue;
      throw new RunDirError(`cannot create a run directory in ${root}: ${clip((e as Error).message)}`);
    }
    current = dir;
    break;
  }
  const dir = current;
  process.once('exit', () => {
    try {
      removeOwnDir(dir);
    } catch {
      // a later run removes it
    }
  });
  return dir;
}
