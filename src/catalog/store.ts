/**
 * The on-disk catalog of one host (docs/ARCHITECTURE.md): full/, incremental/, ready/, prepare/, tmp/, trash/.
 * A directory in full/ or incremental/ is always a complete backup: it is written in tmp/ with its
 * manifest and renamed into place as the last step. The low-level reads and writes of the local
 * layout: the local driver (storage/local.ts) builds on them; other code goes through CatalogStore.
 */
import {
  closeSync,
  fsyncSync,
  mkdirSync,
  openSync,
  readdirSync,
  readFileSync,
  renameSync,
  rmSync,
} from 'node:fs';
import { dirname, join } from 'node:path';
import { parseManifest, type Manifest } from './manifest.js';
import { tempName, writeExclusive } from '../util/excl.js';

export interface HostCatalog {
  root: string;
  backups: Manifest[];
  /** Directories in full/ or incremental/ that are not readable backups. */
  problems: string[];
}

export function hostDir(backupDir: string, host: string): string {
  return join(backupDir, host);
}

export function ensureLayout(root: string): void {
  for (const d of ['', 'full', 'incremental', 'ready', 'prepare', 'tmp', 'trash']) {
    mkdirSync(join(root, d), { recursive: true, mode: 0o700 });
  }
}

export function readCatalog(root: string): HostCatalog {
  const backups: Manifest[] = [];
  const problems: string[] = [];
  for (const kind of ['full', 'incremental'] as const) {
    let ids: string[] = [];
    try {
      ids = readdirSync(join(root, kind));
    } catch {
      continue;
    }
    for (const id of ids.sort()) {
      const dir = join(root, kind, id);
      let text: string;
      try {
        text = readFileSync(join(dir, 'manifest.json'), 'utf8');
      } catch {
        problems.push(`${kind}/${id}: no manifest.json`);
        continue;
      }
      const m = parseManifest(text);
      if (typeof m === 'string') problems.push(`${kind}/${id}: ${m}`);
      else if (m.id !== id || m.type !== kind)
        problems.push(`${kind}/${id}: manifest says ${m.type}/${m.id}`);
      else backups.push(m);
    }
  }
  return { root, backups, problems };
}

export function backupPath(root: string, m: Pick<Manifest, 'type' | 'id'>): string {
  return join(root, m.type, m.id);
}

function fsyncDir(dir: string): void {
  const fd = openSync(dir, 'r');
  try {
    fsyncSync(fd);
  } finally {
    closeSync(fd);
  }
}

/**
 * Replace `path` atomically: a new file under a random name beside it, created exclusively (never
 * a name another user could have planted), fsync'd, renamed into place. `mode` is exact: 0600
 * unless the file is meant to be read by others (the metrics file).
 */
export function writeFileAtomic(path: string, content: string, mode = 0o600): void {
  const tmp = tempName(path, 'tmp');
  writeExclusive(tmp, content, mode, true);
  try {
    renameSync(tmp, path);
  } catch (e) {
    rmSync(tmp, { force: true });
    throw e;
  }
  fsyncDir(dirname(path));
}

/** Commit a transfer: manifest into its tmp directory, then the rename into full/ or incremental/. */
export function commitBackup(root: string, tmpDir: string, m: Manifest): string {
  writeFileAtomic(join(tmpDir, 'manifest.json'), JSON.stringify(m, null, 2) + '\n');
  for (const leftover of ['result.json']) rmSync(join(tmpDir, leftover), { force: true });
  const dest = backupPath(root, m);
  renameSync(tmpDir, dest);
  fsyncDir(dirname(dest));
  return dest;
}

/** Rewrite a committed backup's manifest (e.g. to mark it unusable). */
export function updateManifest(root: string, m: Manifest): void {
  writeFileAtomic(join(backupPath(root, m), 'manifest.json'), JSON.stringify(m, null, 2) + '\n');
}

/** Remove what an interrupted run left in tmp/ (never a committed backup: those are elsewhere). */
export function cleanTmp(root: string): string[] {
  const removed: string[] = [];
  let names: string[] = [];
  try {
    names = readdirSync(join(root, 'tmp'));
  } catch {
    return removed;
  }
  for (const n of names) {
    // The off-site spool resumes across runs (src/storage/s3.ts); `offsite sync` empties it.
    if (n === 'offsite') continue;
    rmSync(join(root, 'tmp', n), { recursive: true, force: true });
    removed.push(n);
  }
  return removed;
}
