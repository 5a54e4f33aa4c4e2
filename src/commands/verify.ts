/**
 * `xb-mgr verify`: recompute the sha256 of every stored backup and ready file, compare it with the
 * manifest, and check the LSN continuity of every chain. Changes nothing; exit 1 on any problem.
 */
import { createHash } from 'node:crypto';
import { createReadStream, existsSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import type { Context } from '../context.js';
import { backupPath, hostDir, readCatalog } from '../catalog/store.js';
import { byIdMap } from '../catalog/chain.js';
import { listReadies } from '../catalog/retain.js';
import { withAccess, type AccessOptions } from '../catalog/access.js';

export interface VerifyProblem {
  host: string;
  item: string;
  problem: string;
}

async function sha256(file: string): Promise<string> {
  const h = createHash('sha256');
  for await (const c of createReadStream(file, { highWaterMark: 1 << 20 })) h.update(c as Buffer);
  return h.digest('hex');
}

export async function verifyHost(
  backupDir: string,
  host: string,
): Promise<{ checked: number; problems: VerifyProblem[] }> {
  const root = hostDir(backupDir, host);
  const { backups, problems: catalogProblems } = readCatalog(root);
  const problems: VerifyProblem[] = catalogProblems.map((p) => ({
    host,
    item: p.split(':')[0]!,
    problem: p,
  }));
  let checked = 0;
  const byId = byIdMap(backups);
  for (const m of backups) {
    const item = `${m.type}/${m.id}`;
    const file = join(backupPath(root, m), m.file);
    if (!existsSync(file)) {
      problems.push({ host, item, problem: `missing file ${m.file}` });
    } else {
      checked++;
      const got = await sha256(file);
      if (got !== m.sha256)
        problems.push({ host, item, problem: `checksum mismatch: manifest ${m.sha256}, file ${got}` });
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
  for (const r of listReadies(root)) {
    const item = `ready/${r.file}`;
    checked++;
    const info = JSON.parse(readFileSync(join(root, 'ready', `${r.id}.json`), 'utf8')) as { sha256: string };
    const got = await sha256(join(root, 'ready', r.file));
    if (got !== info.sha256)
      problems.push({
        host,
        item,
        problem: `checksum mismatch: ${r.id}.json says ${info.sha256}, file ${got}`,
      });
  }
  // A ready description whose file is gone.
  const readyDir = join(root, 'ready');
  if (existsSync(readyDir)) {
    const { readdirSync } = await import('node:fs');
    for (const n of readdirSync(readyDir)) {
      const m = /^(\d{8}T\d{6}Z)\.json$/.exec(n);
      if (m && !listReadies(root).some((r) => r.id === m[1]))
        problems.push({ host, item: `ready/${n}`, problem: 'its ready file is missing' });
    }
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
