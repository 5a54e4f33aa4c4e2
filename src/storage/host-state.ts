/**
 * The host's working state on the manager, kept apart from what is stored (catalog-store.ts): it
 * never goes off-site and a second store driver does not change it. Today it lives in the same
 * directory as the local store: `<backup_dir>/<host>/`.
 */
import { join } from 'node:path';
import { ensureLayout, hostDir } from '../catalog/store.js';

export interface HostState {
  root: string;
  /** The prepared base (+ base.json), verify copies, failed-<id>/, restore work. */
  prepare: string;
  /** Transfers and ready files being written (staging for the store's commits). */
  tmp: string;
  /** The host's run lock. */
  lock: string;
}

export function hostState(backupDir: string, host: string): HostState {
  const root = hostDir(backupDir, host);
  return { root, prepare: join(root, 'prepare'), tmp: join(root, 'tmp'), lock: join(root, '.lock') };
}

/** Create the host's directories (working state and the local store's), 0700. */
export function ensureHostLayout(s: HostState): void {
  ensureLayout(s.root);
}
