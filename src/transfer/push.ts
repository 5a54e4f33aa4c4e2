/**
 * The manager's side of push mode, confined (issue 13). A DB host that pushes holds a key to the
 * manager, so that key must reach nothing but this run's stream:
 *
 *   <backup_dir>/.push/                 root, 0711 (the push account passes, never lists)
 *   <backup_dir>/.push/<host>/          root, 0711
 *   <backup_dir>/.push/<host>/<id>/     the push account, 0700, for this run only:
 *       max_bytes     root's, the cap the receiver stops at
 *       stream        written by the receiver (xb_pull --receive, sshd's forced command)
 *       result.json   written by the receiver
 *
 * The push account's authorized_keys line is `restrict,command="xb_pull --receive --host <host>"`;
 * the receiver refuses an id without such a directory and writes only those fixed names. After
 * the playbook, root takes the stream (a regular file of the push account, one link, no symlink),
 * moves it into the catalog's tmp/<id>/, makes it root's, hashes it itself and removes the run's
 * directory. result.json is checked like any input from a DB host (transfer/outcome.ts).
 */
import { createHash } from 'node:crypto';
import {
  chmodSync,
  chownSync,
  constants,
  lstatSync,
  mkdirSync,
  renameSync,
  rmSync,
  writeFileSync,
  type Stats,
} from 'node:fs';
import { open, type FileHandle } from 'node:fs/promises';
import { dirname, join } from 'node:path';
import { lookupWorker, type Worker } from '../util/confine.js';
import { XbError } from '../errors.js';
import { MAX_RESULT_BYTES } from './result.js';

export const PUSH_ACCOUNT = 'xb-mgr-push';
export const PUSH_DIR = '.push';
/** The names in a run's directory (xb_pull --receive uses the same). */
export const PUSH_STREAM = 'stream';
export const PUSH_RESULT = 'result.json';
export const PUSH_CAP_FILE = 'max_bytes';

const CHUNK = 1024 * 1024;

/** The push account; null when xb-mgr is not root (it then is the receiver's user itself). */
export function pushAccount(): Worker | null {
  if (process.getuid?.() !== 0) return null;
  try {
    return lookupWorker(PUSH_ACCOUNT);
  } catch (e) {
    if (e instanceof XbError && /is missing/.test(e.message))
      throw new XbError(
        `transfer = push needs the system user ${PUSH_ACCOUNT}: create it as root with scripts/install --push-account (see the README, push mode)`,
      );
    throw e;
  }
}

/** Pure: the directory of one run's push. */
export function pushRunDir(backupDir: string, host: string, id: string): string {
  return join(backupDir, PUSH_DIR, host, id);
}

function ownDir(path: string, account: Worker | null): void {
  mkdirSync(path, { recursive: true, mode: 0o711 });
  const st = lstatSync(path);
  const me = process.getuid?.() ?? 0;
  if (!st.isDirectory() || st.uid !== me)
    throw new XbError(`${path} must be a directory of the manager's own (not a link)`);
  // Passable by the push account, listable by nobody but root.
  if (account && (st.mode & 0o777) !== 0o711) chmodSync(path, 0o711);
}

/** Every directory from `dir` up must let others pass (o+x), or the push account cannot reach it. */
function checkTraversable(dir: string, account: Worker): void {
  for (let d = dir; ; d = dirname(d)) {
    const st = lstatSync(d);
    if (st.isDirectory() && st.uid === 0 && (st.mode & 0o777) === 0o700 && d === dir) {
      chmodSync(d, 0o711); // backup_dir itself, made 0700 by the catalog: pass, never list
    } else if ((st.mode & 0o001) === 0) {
      throw new XbError(
        `${d} is not traversable by others, so the push account ${account.name} cannot reach backup_dir below it: chmod o+x ${d} or choose another backup_dir`,
      );
    }
    if (d === dirname(d)) break;
  }
}

/**
 * A fresh directory for this run's push, owned by the push account, with root's cap in it.
 * Returns its path.
 */
export function preparePushDir(
  backupDir: string,
  host: string,
  id: string,
  maxBytes: number,
  account: Worker | null,
): string {
  if (account) checkTraversable(backupDir, account);
  ownDir(join(backupDir, PUSH_DIR), account);
  ownDir(join(backupDir, PUSH_DIR, host), account);
  const run = pushRunDir(backupDir, host, id);
  rmSync(run, { recursive: true, force: true });
  mkdirSync(run, { mode: 0o700 });
  writeFileSync(join(run, PUSH_CAP_FILE), `${Math.max(0, Math.floor(maxBytes))}\n`, { mode: 0o644 });
  chmodSync(join(run, PUSH_CAP_FILE), 0o644); // readable by the receiver whatever the umask
  if (account) chownSync(run, account.uid, account.gid);
  return run;
}

/** Removes what a run's push left (the run's directory, or all of a host's after a killed run). */
export function removePushDirs(backupDir: string, host: string, id?: string): void {
  const dir = id ? pushRunDir(backupDir, host, id) : join(backupDir, PUSH_DIR, host);
  rmSync(dir, { recursive: true, force: true });
}

export interface Received {
  /** result.json's text, bounded; undefined when there is none. */
  result?: string;
  /** Bytes of the stream now at `dest`; undefined when no acceptable stream arrived. */
  streamBytes?: number;
  /** Root's own sha256 of those bytes. */
  sha256?: string;
}

const NO_FOLLOW = constants.O_RDONLY | constants.O_NOFOLLOW | constants.O_NONBLOCK;

async function openNoFollow(path: string): Promise<FileHandle | undefined> {
  try {
    return await open(path, NO_FOLLOW);
  } catch {
    return undefined;
  }
}

async function readBounded(fh: FileHandle, max: number): Promise<string> {
  const buf = Buffer.alloc(max + 1);
  let got = 0;
  while (got < buf.length) {
    const { bytesRead } = await fh.read(buf, got, buf.length - got, got);
    if (bytesRead === 0) break;
    got += bytesRead;
  }
  return buf.subarray(0, got).toString('utf8');
}

/** Pure: is this the stream file the receiver wrote (a regular file of the push account, one link)? */
export function acceptableStream(st: Pick<Stats, 'uid' | 'nlink' | 'isFile'>, ownerUid: number): boolean {
  return st.isFile() && st.nlink === 1 && st.uid === ownerUid;
}

/**
 * Takes the received stream into the catalog: `dest` (in tmp/<id>/) becomes root's 0600 file
 * with those bytes, hashed by root in one read (asynchronously: other hosts run meanwhile). What
 * is not acceptable is left where it is and goes with the run's directory.
 */
export async function takeReceived(runDir: string, dest: string, account: Worker | null): Promise<Received> {
  const out: Received = {};
  const rf = await openNoFollow(join(runDir, PUSH_RESULT));
  if (rf) {
    try {
      if ((await rf.stat()).isFile()) out.result = await readBounded(rf, MAX_RESULT_BYTES);
    } finally {
      await rf.close();
    }
  }
  const src = join(runDir, PUSH_STREAM);
  const fh = await openNoFollow(src);
  if (!fh) return out;
  try {
    const st = await fh.stat();
    if (!acceptableStream(st, account ? account.uid : (process.getuid?.() ?? 0))) return out;
    let moved = false;
    try {
      renameSync(src, dest);
      const now = lstatSync(dest);
      moved = now.ino === st.ino && now.dev === st.dev;
    } catch (e) {
      if ((e as NodeJS.ErrnoException).code !== 'EXDEV') throw e;
    }
    if (!moved) {
      // Another filesystem (or a file that changed under us): root copies the bytes it reads.
      rmSync(dest, { force: true });
      return { ...out, ...(await copyHashed(fh, dest)) };
    }
    if (account) await fh.chown(0, 0);
    await fh.chmod(0o600);
    return { ...out, ...(await copyHashed(fh)) };
  } finally {
    await fh.close();
  }
}

/** Reads the whole file once, hashing it, and writes the bytes to `dest` when given. */
async function copyHashed(fh: FileHandle, dest?: string): Promise<{ streamBytes: number; sha256: string }> {
  const h = createHash('sha256');
  const buf = Buffer.alloc(CHUNK);
  const out = dest
    ? await open(
        dest,
        constants.O_WRONLY | constants.O_CREAT | constants.O_EXCL | constants.O_NOFOLLOW,
        0o600,
      )
    : undefined;
  let pos = 0;
  try {
    for (;;) {
      const { bytesRead } = await fh.read(buf, 0, CHUNK, pos);
      if (bytesRead === 0) break;
      h.update(buf.subarray(0, bytesRead));
      if (out) {
        for (let w = 0; w < bytesRead;) w += (await out.write(buf, w, bytesRead - w)).bytesWritten;
      }
      pos += bytesRead;
    }
  } finally {
    await out?.close();
  }
  return { streamBytes: pos, sha256: h.digest('hex') };
}
