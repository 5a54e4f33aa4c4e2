/**
 * The stored binlog files a replay may read, in order: the complete files of `binlog/` and, after
 * the last of them, the newest copy of each file still being written in `staging/<session>/`
 * (read up to its last complete event). Read as root without following links; the replay gets
 * copies, never the catalog's files.
 */
import { closeSync, constants, fstatSync, openSync, readdirSync, readSync, writeSync } from 'node:fs';
import { join } from 'node:path';
import { HEADER, newScanState, scanEvents, type ReadAt } from '../binlog/events.js';
import { compareNames, validBinlogName } from '../binlog/names.js';
import { binlogDir, listSessions, readIndex, stagingDir } from '../binlog/store.js';

export interface OpenBinlog {
  name: string;
  size: number;
  first_time?: number;
  read: ReadAt;
  close(): void;
}

/** Open one file for reading (no link followed). */
export function openAt(path: string, name: string, first?: number): OpenBinlog {
  const fd = openSync(path, constants.O_RDONLY | constants.O_NOFOLLOW);
  const read: ReadAt = (pos, len) => {
    const b = Buffer.alloc(len);
    return b.subarray(0, readSync(fd, b, 0, len, pos));
  };
  return {
    name,
    size: fstatSync(fd).size,
    ...(first !== undefined ? { first_time: first } : {}),
    read,
    close: () => closeSync(fd),
  };
}

/** Complete events of a staged file: its usable size and first event time. */
function scanned(f: OpenBinlog): { size: number; first?: number } {
  const st = newScanState();
  scanEvents(f.read, f.size, st, { maxEventBytes: 1 << 30 });
  return { size: st.offset, ...(st.firstEventTime !== undefined ? { first: st.firstEventTime } : {}) };
}

/** Open every stored file (the caller closes them). */
export function openStoredBinlogs(hostRoot: string): OpenBinlog[] {
  const index = new Map(readIndex(hostRoot).map((f) => [f.name, f]));
  let names: string[] = [];
  try {
    names = readdirSync(binlogDir(hostRoot)).filter(validBinlogName).sort(compareNames);
  } catch {
    return [];
  }
  const out = names.map((n) => openAt(join(binlogDir(hostRoot), n), n, index.get(n)?.first_time));
  const last = names.at(-1);
  const best = new Map<string, { f: OpenBinlog; size: number; first?: number }>();
  for (const s of listSessions(hostRoot)) {
    let staged: string[] = [];
    try {
      staged = readdirSync(join(stagingDir(hostRoot), s)).filter(validBinlogName);
    } catch {
      continue;
    }
    for (const n of staged) {
      if (last && compareNames(n, last) <= 0) continue;
      let f: OpenBinlog;
      try {
        f = openAt(join(stagingDir(hostRoot), s, n), n);
      } catch {
        continue;
      }
      const sc = scanned(f);
      const had = best.get(n);
      if (sc.size > HEADER && (!had || sc.size > had.size)) {
        had?.f.close();
        best.set(n, { f, size: sc.size, ...(sc.first !== undefined ? { first: sc.first } : {}) });
      } else f.close();
    }
  }
  for (const n of [...best.keys()].sort(compareNames)) {
    const b = best.get(n)!;
    out.push({ ...b.f, size: b.size, ...(b.first !== undefined ? { first_time: b.first } : {}) });
  }
  return out;
}

/** Copy the first `bytes` of an open file to `dest` (created 0600, never over an existing file). */
export function copyHead(f: OpenBinlog, bytes: number, dest: string): void {
  const out = openSync(
    dest,
    constants.O_WRONLY | constants.O_CREAT | constants.O_EXCL | constants.O_NOFOLLOW,
    0o600,
  );
  try {
    for (let pos = 0; pos < bytes;) {
      const chunk = f.read(pos, Math.min(8 << 20, bytes - pos));
      if (chunk.length === 0) throw new Error(`${f.name} ended at ${pos} of ${bytes} bytes`);
      writeSync(out, chunk);
      pos += chunk.length;
    }
  } finally {
    closeSync(out);
  }
}
