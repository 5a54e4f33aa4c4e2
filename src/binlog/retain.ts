/**
 * Binlog retention: a stored binlog file goes once no retained backup needs it, i.e. it ends before
 * the oldest retained backup's binlog position (or, without one, before that backup started). The
 * newest stored file and everything staged (the file being written) are never deleted. Runs after
 * a host's backup retention, on the backups that retention kept.
 */
import { rmSync } from 'node:fs';
import { join } from 'node:path';
import type { Manifest } from '../catalog/manifest.js';
import { compareNames, validBinlogName } from './names.js';
import { binlogDir, readIndex, type StoredFile } from './store.js';

/** Pure: the stored files to delete, oldest first. */
export function planBinlogRetention(files: readonly StoredFile[], kept: readonly Manifest[]): string[] {
  if (kept.length === 0 || files.length < 2) return [];
  const oldest = [...kept].sort((a, b) => (a.id < b.id ? -1 : 1))[0]!;
  const candidates = [...files].sort((a, b) => compareNames(a.name, b.name)).slice(0, -1);
  const pos = oldest.binlog?.file;
  if (pos && validBinlogName(pos))
    return candidates.filter((f) => compareNames(f.name, pos) < 0).map((f) => f.name);
  const started = Date.parse(oldest.started_at) / 1000;
  if (!Number.isFinite(started)) return [];
  // Without a position: only files whose last event is a minute older than the backup's start.
  return candidates.filter((f) => f.last_time !== undefined && f.last_time < started - 60).map((f) => f.name);
}

/** Delete what the plan says, except the held files (not off-site yet); returns the names deleted. */
export function retainBinlogs(
  hostRoot: string,
  kept: readonly Manifest[],
  hold: ReadonlySet<string> = new Set(),
): string[] {
  const names = planBinlogRetention(readIndex(hostRoot), kept).filter((n) => !hold.has(n));
  for (const n of names) rmSync(join(binlogDir(hostRoot), n), { force: true });
  return names;
}
