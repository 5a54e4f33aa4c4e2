/**
 * Bounded reads of files whose size (and for some, whose very name) someone less trusted controls:
 * what a transfer left, a backup's option file, a log in the worker's directory. Regular files
 * only, never more than asked; `follow: false` (the default) refuses a symlink, so a link to a
 * secret planted by the worker never reaches a report.
 */
import { closeSync, constants, fstatSync, openSync, readSync } from 'node:fs';

/** An open regular file and its size, or undefined (missing, unreadable, not a file, a link). */
export function openRegular(path: string, follow = false): { fd: number; size: number } | undefined {
  let fd: number;
  try {
    fd = openSync(path, constants.O_RDONLY | constants.O_NONBLOCK | (follow ? 0 : constants.O_NOFOLLOW));
  } catch {
    return undefined;
  }
  const st = fstatSync(fd);
  if (!st.isFile()) {
    closeSync(fd);
    return undefined;
  }
  return { fd, size: st.size };
}

/** Up to `len` bytes at `pos` (fewer at the end of the file). */
export function readAt(fd: number, pos: number, len: number): Buffer {
  const buf = Buffer.alloc(Math.max(0, len));
  let got = 0;
  while (got < buf.length) {
    const n = readSync(fd, buf, got, buf.length - got, pos + got);
    if (n === 0) break;
    got += n;
  }
  return buf.subarray(0, got);
}

/** The first `maxBytes` of a regular file; undefined when there is none. */
export function readHead(path: string, maxBytes: number, follow = false): Buffer | undefined {
  const f = openRegular(path, follow);
  if (!f) return undefined;
  try {
    return readAt(f.fd, 0, maxBytes);
  } finally {
    closeSync(f.fd);
  }
}

/** The last `maxBytes` of a regular file as text; undefined when it is missing, a link or not a file. */
export function readTail(path: string, maxBytes: number): string | undefined {
  const f = openRegular(path);
  if (!f) return undefined;
  try {
    const start = Math.max(0, f.size - maxBytes);
    return readAt(f.fd, start, f.size - start).toString('utf8');
  } finally {
    closeSync(f.fd);
  }
}
