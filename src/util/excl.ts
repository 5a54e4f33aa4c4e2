/**
 * Files created exclusively under a random name: `O_CREAT|O_EXCL` fails on anything that exists
 * there, a symbolic link included, so a name guessed (or planted) by another local user is never
 * opened, followed or truncated (docs/ARCHITECTURE.md "Trust": other local users are untrusted).
 */
import { randomBytes } from 'node:crypto';
import { closeSync, fchmodSync, fsyncSync, openSync, rmSync, writeFileSync } from 'node:fs';

/** `<path>.<tag>-<pid>-<random>`: beside `path` (same filesystem, for the rename or link). */
export function tempName(path: string, tag: string): string {
  return `${path}.${tag}-${process.pid}-${randomBytes(6).toString('hex')}`;
}

/**
 * Create `path` (which must not exist) holding `content` with exactly `mode` (the umask does not
 * narrow or widen it); fsync'd when asked. On any failure nothing of it is left.
 */
export function writeExclusive(path: string, content: string, mode: number, sync = false): void {
  const fd = openSync(path, 'wx', mode);
  try {
    fchmodSync(fd, mode);
    writeFileSync(fd, content);
    if (sync) fsyncSync(fd);
  } catch (e) {
    closeSync(fd);
    rmSync(path, { force: true });
    throw e;
  }
  closeSync(fd);
}
