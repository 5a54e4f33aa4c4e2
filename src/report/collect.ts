/** Per-host figures for metrics, from the catalog and the host's last run record. */
import { existsSync, readFileSync } from 'node:fs';
import { dirBytes } from '../util/size.js';
import { join } from 'node:path';
import type { HostConfig } from '../config/load.js';
import type { HostRunResult } from '../backup.js';
import { byIdMap, chainOf, newest } from '../catalog/chain.js';
import { isUsable } from '../catalog/manifest.js';
import { hostDir, readCatalog, writeFileAtomic } from '../catalog/store.js';
import { listReadies } from '../catalog/retain.js';
import { idToDate } from '../time.js';
import type { HostMetrics } from './metrics.js';

export function recordLastRun(h: HostConfig, r: HostRunResult): void {
  const root = hostDir(h.backupDir, h.name);
  if (!existsSync(root)) return;
  writeFileAtomic(join(root, 'last-run.json'), JSON.stringify({ ...r, at: new Date().toISOString() }) + '\n');
}

export function hostMetrics(h: HostConfig): HostMetrics {
  const root = hostDir(h.backupDir, h.name);
  const { backups } = readCatalog(root);
  const latest = newest(backups.filter(isUsable));
  const ready = newest(listReadies(root));
  let last: Partial<HostRunResult> = {};
  try {
    last = JSON.parse(readFileSync(join(root, 'last-run.json'), 'utf8')) as HostRunResult;
  } catch {
    // never ran
  }
  const secs = (id: string | undefined) => (id ? (idToDate(id)?.getTime() ?? 0) / 1000 : undefined);
  return {
    host: h.name,
    lastBackupTime: secs(latest?.id),
    lastReadyTime: secs(ready?.id),
    lastRunOk: last.ok === true,
    lastRunSeconds: last.seconds ?? 0,
    lastRunBytes: last.bytes ?? 0,
    chainLength: latest ? chainOf(latest, byIdMap(backups)).backups.length : 0,
    storeBytes: ['full', 'incremental', 'ready'].reduce((s, d) => s + dirBytes(join(root, d)), 0),
  };
}
