/**
 * Reading a file that someone less trusted could have replaced (a log in the worker's directory):
 * no symlink followed, regular files only, and only the last bytes, so neither a link to a secret
 * nor a huge file reaches a report.
 */
import { closeSync, constants, fstatSync, openSync, readSync } from 'node:fs';

/** The last `maxBytes` of a regular file as text; undefined when it is missing, a link or not a file. */
export function readTail(path: string, maxBytes: number): string | undefined {
  let fd: number;
  try {
    fd = openSync(path, constants.O_RDONLY | constants.O_NOFOLLOW | constants.O_NONBLOCK);
  } catch {
    return undefined;
  }
  try {
    const st = fstatSync(fd);
    if (!st.isFile()) return undefined;
    const start = Math.max(0, st.size - maxBytes);
    const buf = Buffer.alloc(Math.min(st.size, maxBytes));
    let n = 0;
    while (n < buf.length) {
      const r = readSync(fd, buf, n, buf.length - n, start + n);
      if (r === 0) break;
      n += r;
    }
    return buf.subarray(0, n).toString('utf8');
  } finally {
    closeSync(fd);
  }
}
