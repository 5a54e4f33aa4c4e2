/**
 * `restore --from-offsite`: the items a restore needs, downloaded from the host's off-site catalog
 * into its working state (`<host>/prepare/offsite-restore-<pid>`), decrypted and checked in the same
 * pass, and given to the restore code as a catalog of local files. With `stream`, nothing is staged:
 * the restore reads the store once, decrypting as it downloads (its reader checks the sha256).
 */
import { mkdirSync, rmSync } from 'node:fs';
import { join } from 'node:path';
import type { HostConfig } from '../config/load.js';
import { UsageError, XbError } from '../errors.js';
import { prepareDir } from '../storage/host-state.js';
import { fetchPlan, type FetchRequest } from './fetch-plan.js';
import { fetchToStaging, streamFromRemote, type RemoteView } from './fetch.js';
import { openOffsiteCatalog, type OffsiteReadOptions } from './open-catalog.js';

export interface OffsiteSource {
  store: RemoteView;
  /** Removes the downloaded files (the restore is over, or failed). */
  cleanup: () => void;
}

export async function offsiteSource(
  h: HostConfig,
  root: string,
  want: FetchRequest,
  o: OffsiteReadOptions,
  stream = false,
): Promise<OffsiteSource> {
  if (h.offsite.encryption !== 'none' && o.identity === undefined)
    throw new UsageError(
      `the off-site copy of ${h.name} is encrypted: give --identity FILE (the age private key)`,
    );
  const remote = await openOffsiteCatalog(h, o);
  const plan = fetchPlan(await remote.list(), want, remote.where);
  if (!plan.ok) throw new XbError(plan.error);
  // The index may not carry a ready file's size: its description does (decrypted with the identity).
  const fetch =
    plan.kind === 'ready'
      ? await Promise.all(
          plan.fetch.map(async (f) => ({
            ...f,
            bytes: f.bytes || ((await remote.readReady(plan.id)).bytes ?? 0),
          })),
        )
      : plan.fetch;
  if (stream) return { store: await streamFromRemote(remote, fetch), cleanup: () => {} };
  // In prepare/ beside the restore's other work, not in tmp/: a run of the host empties tmp/.
  const prep = prepareDir(root);
  mkdirSync(prep, { recursive: true, mode: 0o700 });
  const dir = join(prep, `offsite-restore-${process.pid}`);
  const store = await fetchToStaging(remote, fetch, dir);
  return { store, cleanup: () => rmSync(dir, { recursive: true, force: true }) };
}
