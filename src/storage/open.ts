/** The store of a host's catalog. One place picks the driver (the object store's comes next). */
import type { HostConfig } from '../config/load.js';
import { hostDir } from '../catalog/store.js';
import type { CatalogStore } from './catalog-store.js';
import { LocalStore } from './local.js';

export function openStore(h: Pick<HostConfig, 'backupDir' | 'name'>): CatalogStore {
  return new LocalStore(hostDir(h.backupDir, h.name));
}
