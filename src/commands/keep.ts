/** `xb-mgr keep --host H ID [--release]`: pin a backup (and with it its ancestors) against retention. */
import type { Context } from '../context.js';
import { hostDir } from '../catalog/store.js';
import { openStore } from '../storage/open.js';
import { readPins, writePins } from '../catalog/retain.js';
import { withAccess, type AccessOptions } from '../catalog/access.js';
import { UsageError } from '../errors.js';

export async function keepCommand(
  ctx: Context,
  id: string,
  release: boolean,
  o: AccessOptions = {},
): Promise<string> {
  if (ctx.hosts.length !== 1) throw new UsageError('keep needs exactly one --host');
  const h = ctx.hosts[0]!;
  const root = hostDir(h.backupDir, h.name);
  // pins.json is read, changed and written back: alone, or a concurrent keep's pin would be lost,
  // and never while retention plans with the old pins.
  return withAccess(
    root,
    'write',
    `keep ${id}${release ? ' --release' : ''}`,
    async () => {
      const pins = readPins(root);
      if (release) {
        if (!pins.delete(id)) throw new UsageError(`${h.name}: ${id} is not pinned`);
        writePins(root, pins);
        return `${h.name}: released ${id}; retention may delete it again`;
      }
      const m = (await openStore(h).list()).backups.find((b) => b.id === id);
      if (!m) throw new UsageError(`${h.name}: no backup ${id} in ${root} (see xb-mgr list)`);
      pins.add(id);
      writePins(root, pins);
      return `${h.name}: pinned ${m.type} backup ${id} and its ancestors; retention will not delete them`;
    },
    o,
  );
}
