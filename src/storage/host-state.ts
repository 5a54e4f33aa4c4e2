/**
 * The host's working state on the manager, kept apart from what is stored (catalog-store.ts): it
 * never goes to a store, and a second store driver does not change it. It lives in the host's
 * directory `<backup_dir>/<host>/` (`root` below), beside the local store's items.
 */
import { join } from 'node:path';

/** The prepared base (+ base.json), verify copies, failed-<id>/, restore work. */
export function prepareDir(root: string): string {
  return join(root, 'prepare');
}

/** Transfers and ready files being written: the staging area of the store's commits. */
export function stagingDir(root: string): string {
  return join(root, 'tmp');
}

/** The host's run lock. */
export function hostLockPath(root: string): string {
  return join(root, '.lock');
}
