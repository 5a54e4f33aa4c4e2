/**
 * Pure: a point-in-time restore from the object store alone sees the binlogs through the host's
 * plaintext index (src/storage/s3-index.ts): the closed files with what the local store knew of
 * them, and the gaps it recorded. Here they become what the local restore reads (stored files,
 * the newest stored point, the window); the store holds no file being written, so no stream runs.
 */
import type { Manifest } from '../catalog/manifest.js';
import type { StoredFile } from '../binlog/store.js';
import { windowOf, type BinlogWindow } from '../binlog/window.js';
import type { IndexBinlog, IndexGap } from '../storage/s3-index.js';

/** An index entry (or as much of one as is known) seen as a stored file, for the local rules. */
export function indexedAsStored(
  b: Pick<IndexBinlog, 'name' | 'bytes'> &
    Partial<Pick<IndexBinlog, 'first_time' | 'last_time' | 'gtid_list' | 'state_end' | 'last_gtid'>>,
): StoredFile {
  return {
    name: b.name,
    bytes: b.bytes,
    events: 0,
    ...(b.first_time !== undefined ? { first_time: b.first_time } : {}),
    ...(b.last_time !== undefined ? { last_time: b.last_time } : {}),
    gtid_list: b.gtid_list ?? '',
    state_end: b.state_end ?? '',
    ...(b.last_gtid !== undefined ? { last_gtid: b.last_gtid } : {}),
  };
}

/** The recoverable window from the index: to the last event of the newest file off-site. */
export function offsiteWindow(
  backups: readonly Manifest[],
  binlogs: readonly IndexBinlog[],
  gaps: readonly IndexGap[],
  now: Date,
): BinlogWindow {
  const last = binlogs.at(-1);
  return windowOf({
    backups,
    files: binlogs.map(indexedAsStored),
    ...(last
      ? {
          point: {
            file: last.name,
            offset: last.bytes,
            ...(last.last_time !== undefined ? { time: last.last_time } : {}),
            ...(last.last_gtid !== undefined ? { gtid: last.last_gtid } : {}),
            state: last.state_end ?? '',
          },
        }
      : {}),
    gaps,
    now,
    supervisorRunning: false,
  });
}
