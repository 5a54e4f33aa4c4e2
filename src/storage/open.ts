/** The store of a host's catalog. One place picks the driver: local, or the off-site S3 copy. */
import type { HostConfig } from '../config/load.js';
import { hostDir } from '../catalog/store.js';
import type { CatalogStore } from './catalog-store.js';
import { LocalStore } from './local.js';

export function openStore(h: Pick<HostConfig, 'backupDir' | 'name'>): CatalogStore {
  return new LocalStore(hostDir(h.backupDir, h.name));
}

/** The off-site copy of a host's catalog (offsite_url set): the S3 driver, see s3.ts. */
export { openS3Store as openOffsiteStore, S3Store, type S3StoreOptions } from './s3.js';
