/**
 * The binlog part of a host's catalog, `<backup_dir>/<host>/binlog/`:
 *
 *   <name>               complete binlog files, swapped in from staging when the stream moved past them
 *   staging/<session>/   one stream's --result-file directory; its newest file is being written
 *   index.json           what is known of each complete file (times, GTID state at its start and end)
 *   gaps.json            every gap found (events the manager never got), oldest first
 *
 * Only the supervisor writes here (under its lock); retention deletes complete files and `list`
 * reads. A file named in index.json but gone from disk (retention took it) is simply not there.
 */
import { closeSync, fsyncSync, mkdirSync, openSync, readdirSync, readFileSync, constants } from 'node:fs';
import { join } from 'node:path';
import { writeFileAtomic } from '../catalog/store.js';
import { compareNames, validBinlogName } from './names.js';

export interface StoredFile {
  name: string;
  bytes: number;
  events: number;
  first_time?: number;
  last_time?: number;
  /** The file's Gtid_list: the binlog state before its first event. */
  gtid_list: string;
  /** The state after its last event. */
  state_end: string;
  last_gtid?: string;
  /** The file the server rotated to (a rotate event ends the file), if it said. */
  next?: string;
  /** Cut short: the server purged it before the stream had it all; a gap follows. */
  incomplete?: boolean;
}

export interface Gap {
  detected_at: string;
  /** The last file stored before the gap and the binlog state at its end. */
  after_file?: string;
  after_state: string;
  /** The first file after the gap and its Gtid_list. */
  before_file: string;
  before_gtid_list: string;
  reason: string;
}

/** The supervisor's lock: one supervisor per backup_dir. */
export const lockPath = (backupDir: string): string => join(backupDir, '.binlog.lock');

export const binlogDir = (hostRoot: string): string => join(hostRoot, 'binlog');
export const stagingDir = (hostRoot: string): string => join(binlogDir(hostRoot), 'staging');

export function ensureBinlogLayout(hostRoot: string): void {
  mkdirSync(stagingDir(hostRoot), { recursive: true, mode: 0o700 });
}

function readJson<T>(path: string, fallback: T): T {
  try {
    return JSON.parse(readFileSync(path, 'utf8')) as T;
  } catch {
    return fallback;
  }
}

/** The index, in file order, of files still present. */
export function readIndex(hostRoot: string): StoredFile[] {
  const dir = binlogDir(hostRoot);
  const raw = readJson<{ files?: unknown }>(join(dir, 'index.json'), {}).files;
  const present = new Set(listStoredNames(hostRoot));
  const files = (Array.isArray(raw) ? raw : []).filter(
    (f): f is StoredFile =>
      typeof f === 'object' &&
      f !== null &&
      typeof (f as StoredFile).name === 'string' &&
      present.has((f as StoredFile).name),
  );
  return files.sort((a, b) => compareNames(a.name, b.name));
}

export function writeIndex(hostRoot: string, files: readonly StoredFile[]): void {
  writeFileAtomic(join(binlogDir(hostRoot), 'index.json'), JSON.stringify({ files }, null, 1) + '\n');
}

export function readGaps(hostRoot: string): Gap[] {
  const g = readJson<{ gaps?: unknown }>(join(binlogDir(hostRoot), 'gaps.json'), {}).gaps;
  return Array.isArray(g) ? (g as Gap[]) : [];
}

export function addGap(hostRoot: string, gap: Gap): void {
  const gaps = readGaps(hostRoot);
  gaps.push(gap);
  writeFileAtomic(join(binlogDir(hostRoot), 'gaps.json'), JSON.stringify({ gaps }, null, 1) + '\n');
}

/** Complete files on disk (valid names only), in order. */
export function listStoredNames(hostRoot: string): string[] {
  let names: string[] = [];
  try {
    names = readdirSync(binlogDir(hostRoot));
  } catch {
    return [];
  }
  return names.filter(validBinlogName).sort(compareNames);
}

/** Staging sessions, oldest first: `s<13-digit epoch ms>-<n>`. */
export function listSessions(hostRoot: string): string[] {
  try {
    return readdirSync(stagingDir(hostRoot))
      .filter((n) => /^s\d{13}-\d{1,6}$/.test(n))
      .sort();
  } catch {
    return [];
  }
}

export function fsyncDir(dir: string): void {
  const fd = openSync(dir, constants.O_RDONLY | constants.O_DIRECTORY);
  try {
    fsyncSync(fd);
  } finally {
    closeSync(fd);
  }
}
