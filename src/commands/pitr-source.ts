/**
 * Where a point-in-time restore reads its backups and binlogs: the local catalog, or the object
 * store alone (`--from-offsite`). Both give the restore the same things (backups, stored binlog
 * files, gaps, window), so the choice of the base, the cut and the replay are the same code.
 * From the store, binlog files are downloaded one at a time into the host's working state,
 * decrypted and checked against the index's sha256, only as far as the cut reads.
 */
import { createWriteStream, mkdirSync, rmSync } from 'node:fs';
import { join } from 'node:path';
import { pipeline } from 'node:stream/promises';
import type { Context } from '../context.js';
import type { HostConfig } from '../config/load.js';
import type { Manifest } from '../catalog/manifest.js';
import { hostDir } from '../catalog/store.js';
import { openStore } from '../storage/open.js';
import { prepareDir } from '../storage/host-state.js';
import { UsageError, XbError, errorMessage } from '../errors.js';
import { hostBinlogListing, type BinlogWindow } from '../binlog/window.js';
import { readGaps, type Gap } from '../binlog/store.js';
import { openAt, openStoredBinlogs, type OpenBinlog } from '../pitr/stored.js';
import { offsiteWindow } from '../pitr/offsite-window.js';
import type { CutResult } from '../pitr/cut.js';
import { HashCount } from '../offsite/objects.js';
import { readFailure } from '../offsite/fetch-plan.js';
import type { OffsiteReadOptions } from '../offsite/open-catalog.js';
import { restoreToDir, type RestoreResult } from './restore.js';

export interface PitrSource {
  /** For messages: the local catalog, or the store. */
  where: string;
  backups: readonly Manifest[];
  readyIds: ReadonlySet<string>;
  /** Stored binlog files in order, with the time of their first event. */
  stored: readonly { name: string; first_time?: number }[];
  gaps: readonly Gap[];
  window: BinlogWindow;
  /**
   * The files from `from` on, opened, as far as `decide` (the cut) reads them: the cut over them
   * and the files (the caller does not close them: close() does).
   */
  cutFrom(
    from: string,
    decide: (files: readonly OpenBinlog[]) => CutResult,
  ): Promise<{ cut: CutResult; files: OpenBinlog[] }>;
  /** Restore the chosen base (its ready file, or its chain) into `datadir`. */
  restoreBase(base: Manifest, ready: boolean, datadir: string): Promise<RestoreResult>;
  /** Close the files, remove what was downloaded. */
  close(): void;
}

const noBinlogs = (h: HostConfig, where: string) =>
  new UsageError(
    `${h.name} has no stored binlogs in ${where} (binlog_stream = true and xb-mgr binlog store them)`,
  );

export async function localSource(ctx: Context, h: HostConfig): Promise<PitrSource> {
  const root = hostDir(h.backupDir, h.name);
  const store = openStore(h);
  const { backups, readies } = await store.list();
  const window = hostBinlogListing(h.backupDir, root, backups);
  if (!window) throw noBinlogs(h, store.where);
  const stored = openStoredBinlogs(root);
  return {
    where: store.where,
    backups,
    readyIds: new Set(readies.map((r) => r.id)),
    stored,
    gaps: readGaps(root),
    window,
    cutFrom: async (from, decide) => {
      const files = stored.slice(stored.findIndex((f) => f.name === from));
      return { cut: decide(files), files };
    },
    restoreBase: (base, ready, datadir) =>
      restoreToDir(ctx, {
        ...(ready ? { ready: base.id } : { backup: base.id }),
        targetDir: datadir,
        force: false,
      }),
    close: () => {
      for (const f of stored) f.close();
    },
  };
}

export async function offsiteSource(ctx: Context, h: HostConfig, o: OffsiteReadOptions): Promise<PitrSource> {
  if (h.offsite.encryption !== 'none' && o.identity === undefined)
    throw new UsageError(
      `the off-site copy of ${h.name} is encrypted: give --identity FILE (the age private key)`,
    );
  const { openOffsiteCatalog } = await import('../offsite/open-catalog.js');
  const remote = await openOffsiteCatalog(h, o);
  const { backups, readies } = await remote.list();
  const { binlogs, gaps } = await remote.binlogs();
  if (binlogs.length === 0) throw noBinlogs(h, remote.where);
  const root = hostDir(h.backupDir, h.name);
  const dir = join(prepareDir(root), `pitr-binlogs-${process.pid}`);
  const opened: OpenBinlog[] = [];
  const cleanup = () => {
    for (const f of opened.splice(0)) f.close();
    rmSync(dir, { recursive: true, force: true });
  };
  /** Download, decrypt and check one file; opened for the cut. */
  const fetch = async (i: number): Promise<OpenBinlog> => {
    const b = binlogs[i]!;
    const path = join(dir, b.name);
    const h = new HashCount(b.bytes);
    try {
      await pipeline(await remote.openBinlog(b), h, createWriteStream(path, { mode: 0o600, flags: 'wx' }));
    } catch (e) {
      throw new XbError(`binlog/${b.name} from ${remote.where}: ${readFailure(errorMessage(e))}`);
    }
    if (h.bytes !== b.bytes || h.hex() !== b.plain_sha256)
      throw new XbError(
        `binlog/${b.name} from ${remote.where} does not match its recorded size and sha256 (altered in the store?)`,
      );
    const f = openAt(path, b.name, b.first_time);
    opened.push(f);
    return f;
  };
  return {
    where: remote.where,
    backups,
    readyIds: new Set(readies.map((r) => r.id)),
    stored: binlogs,
    gaps,
    window: offsiteWindow(backups, binlogs, gaps, new Date()),
    cutFrom: async (from, decide) => {
      rmSync(dir, { recursive: true, force: true });
      mkdirSync(dir, { recursive: true, mode: 0o700 });
      const files: OpenBinlog[] = [];
      let cut: CutResult = decide(files);
      if (cut.kind !== 'ok' || cut.reached) return { cut, files };
      // One more file while the cut reads to the end of what it has without meeting the target.
      for (let i = binlogs.findIndex((b) => b.name === from); i >= 0 && i < binlogs.length; i++) {
        files.push(await fetch(i));
        cut = decide(files);
        if (cut.kind !== 'ok' || cut.reached) break;
      }
      return { cut, files };
    },
    restoreBase: (base, ready, datadir) =>
      restoreToDir(ctx, {
        ...(ready ? { ready: base.id } : { backup: base.id }),
        targetDir: datadir,
        force: false,
        fromOffsite: o,
      }),
    close: cleanup,
  };
}
