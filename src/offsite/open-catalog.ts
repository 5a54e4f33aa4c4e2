/**
 * The off-site catalog of a host (the object store's CatalogStore driver, src/storage/s3*), opened
 * for the reader commands: list and non-deep verify need no identity (the plaintext index), a
 * restore and a deep verify decrypt with `identity`.
 */
import type { HostConfig } from '../config/load.js';
import { UsageError, XbError } from '../errors.js';
import type { CatalogStore } from '../storage/catalog-store.js';
import type { IndexedObject } from './fetch-plan.js';

/** The off-site catalog, plus what a non-deep verify compares: the index against the listing. */
export interface OffsiteCatalog extends CatalogStore {
  /** Every object the host's index records (with its ciphertext size), and what the store lists. */
  objects(): Promise<{ indexed: IndexedObject[]; present: Map<string, number> }>;
}

export interface OffsiteReadOptions {
  /** The age identity file (private key); needed to decrypt manifests and data. */
  identity?: string;
}

export function openOffsiteCatalog(h: HostConfig, _o: OffsiteReadOptions = {}): Promise<OffsiteCatalog> {
  if (h.offsite.url === undefined)
    throw new UsageError(`[${h.name}] has no offsite_url: there is no off-site copy to read`);
  throw new XbError('the object store driver is not in this build');
}
