/**
 * `xb-mgr verify`: recompute the sha256 of every stored backup and ready file, compare it with the
 * manifest, and check the LSN continuity of every chain. Changes nothing; exit 1 on any problem.
 */
import { createHash } from 'node:crypto';
import type { Readable } from 'node:stream';
import type { Context } from '../context.js';
import { hostDir } from '../catalog/store.js';
import { byIdMap } from '../catalog/chain.js';
import { withAccess, type AccessOptions } from '../catalog/access.js';
import { errorMessage } from '../errors.js';
import { openStore } from '../storage/open.js';
import type { BackupRef, CatalogStore, ReadyRef } from '../storage/catalog-store.js';

export interface VerifyProblem {
  host: string;
  item: string;
  problem: string;
}

async function sha256(s: Readable): Promise<string> {
  const h = createHash('sha256');
  for await (const c of s) h.update(c as Buffer);
  return h.digest('hex');
}

/** The sha256 of an item's data file as the store gives it, or why it cannot be read. */
async function storedSha256(
  store: CatalogStore,
  ref: BackupRef | ReadyRef,
  file: string,
): Promise<{ sha256: string } | { error: string }> {
  try {
    return { sha256: await sha256(await store.openRead(ref, file)) };
  } catch (e) {
    return { error: errorMessage(e) };
  }
}

export async function verifyHost(
  backupDir: string,
  host: string,
): Promise<{ checked: number; problems: VerifyProblem[] }> {
  return verifyStore(openStore({ backupDir, name: host }), host, true);
}

/**
 * Verify a host's catalog in a store: chain continuity from the listing, and with `readData` the
 * sha256 of every data file read back (for the object store: downloaded and decrypted).
 */
export async function verifyStore(
  store: CatalogStore,
  host: string,
  readData: boolean,
): Promise<{ checked: number; problems: VerifyProblem[] }> {
  const { backups, readies, problems: catalogProblems } = await store.list();
  const problems: VerifyProblem[] = catalogProblems.map((p) => ({
    host,
    item: p.split(':')[0]!,
    problem: p,
  }));
  let checked = 0;
  const byId = byIdMap(backups);
  for (const m of backups) {
    const item = `${m.type}/${m.id}`;
    const got = readData ? await storedSha256(store, { kind: m.type, id: m.id }, m.file) : undefined;
    if (got && 'error' in got) {
      problems.push({ host, item, problem: got.error });
    } else if (got) {
      checked++;
      if (got.sha256 !== m.sha256)
        problems.push({ host, item, problem: `checksum mismatch: manifest ${m.sha256}, file ${got.sha256}` });
    }
    if (m.type === 'incremental') {
      const parent = byId.get(m.parent ?? '');
      if (!parent)
        problems.push({ host, item, problem: `orphan incremental: parent ${m.parent} is missing` });
      else if (parent.to_lsn !== m.from_lsn) {
        problems.push({
          host,
          item,
          problem: `LSN gap: from_lsn ${m.from_lsn} but parent ${parent.id} ends at ${parent.to_lsn}`,
        });
      }
    }
    if (m.from_lsn > m.to_lsn)
      problems.push({ host, item, problem: `from_lsn ${m.from_lsn} > to_lsn ${m.to_lsn}` });
  }
  for (const r of readData ? readies : []) {
    const item = `ready/${r.file}`;
    let want: string;
    try {
      want = (await store.readReady(r.id)).sha256;
    } catch (e) {
      problems.push({ host, item: `ready/${r.id}.json`, problem: errorMessage(e) });
      continue;
    }
    checked++;
    const got = await storedSha256(store, r, r.file);
    if ('error' in got) problems.push({ host, item, problem: got.error });
    else if (got.sha256 !== want)
      problems.push({
        host,
        item,
        problem: `checksum mismatch: ${r.id}.json says ${want}, file ${got.sha256}`,
      });
  }
  return { checked, problems };
}

export async function verifyCommand(
  ctx: Context,
  o: AccessOptions = {},
): Promise<{ ok: boolean; checked: number; problems: VerifyProblem[] }> {
  let checked = 0;
  const problems: VerifyProblem[] = [];
  for (const h of ctx.hosts) {
    // A reader: retention waits for it, it waits only for retention or keep (never for a backup).
    const r = await withAccess(
      hostDir(h.backupDir, h.name),
      'read',
      'verify',
      () => verifyHost(h.backupDir, h.name),
      o,
    );
    checked += r.checked;
    problems.push(...r.problems);
  }
  return { ok: problems.length === 0, checked, problems };
}

export interface OffsiteVerifyOptions {
  deep: boolean;
  identity?: string;
}

/**
 * `verify --offsite`: every object the host's index records is in the store with its recorded size
 * (no key needed), chains continuous; `--deep` also downloads, decrypts and checks every sha256.
 * A store that cannot be read is a problem of the host, in one line.
 */
export async function verifyOffsiteCommand(
  ctx: Context,
  o: OffsiteVerifyOptions,
): Promise<{ ok: boolean; checked: number; problems: VerifyProblem[] }> {
  const { openOffsiteCatalog } = await import('../offsite/open-catalog.js');
  const { presenceProblems, readFailure } = await import('../offsite/fetch-plan.js');
  let checked = 0;
  const problems: VerifyProblem[] = [];
  for (const h of ctx.hosts) {
    try {
      const store = await openOffsiteCatalog(h, o.identity !== undefined ? { identity: o.identity } : {});
      const { indexed, present } = await store.objects();
      checked += indexed.length;
      const absent = presenceProblems(indexed, present);
      problems.push(...absent.map((p) => ({ host: h.name, ...p })));
      const r = await verifyStore(store, h.name, o.deep);
      for (const p of r.problems) p.problem = readFailure(p.problem);
      checked += r.checked;
      // The driver's listing names the same objects again: each once.
      const named = new Set(absent.map((p) => p.item));
      problems.push(...r.problems.filter((p) => !named.has(p.item)));
      // Binlog files: presence and size are in `absent` already; --deep reads each one back.
      if (o.deep) {
        const { binlogs } = await store.binlogs();
        for (const b of binlogs) {
          const item = `binlog/${b.name}`;
          checked++;
          let got: string;
          try {
            got = await sha256(await store.openBinlog(b));
          } catch (e) {
            problems.push({ host: h.name, item, problem: readFailure(errorMessage(e)) });
            continue;
          }
          if (got !== b.plain_sha256)
            problems.push({
              host: h.name,
              item,
              problem: `checksum mismatch: index ${b.plain_sha256}, file ${got}`,
            });
        }
      }
    } catch (e) {
      problems.push({ host: h.name, item: 'store', problem: errorMessage(e) });
    }
  }
  return { ok: problems.length === 0, checked, problems };
}
