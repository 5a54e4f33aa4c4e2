/** `xb-mgr plan`: what `run` would do for each host and why. Changes nothing. */
import type { Context } from '../context.js';
import { hostDir } from '../catalog/store.js';
import { openStore } from '../storage/open.js';
import { decide } from '../schedule.js';
import { restoredAt } from '../backup.js';
import { hostRetentionPlan } from '../catalog/retain.js';
import type { Deletion } from '../retention.js';
import { resolveClock } from './clock.js';

export interface HostPlan {
  host: string;
  type: 'full' | 'incremental';
  reason: string;
  parent?: { id: string; to_lsn: number };
  catalog_problems: string[];
  /** What retention would delete after a successful run now (before this run's new backup). */
  retention: Deletion[];
}

export async function planCommand(
  ctx: Context,
  nowOpt: string | undefined,
  full: boolean,
): Promise<{ now: string; hosts: HostPlan[] }> {
  const { now, timezone } = resolveClock(ctx, nowOpt);
  const hosts: HostPlan[] = [];
  for (const h of ctx.hosts) {
    const root = hostDir(h.backupDir, h.name);
    const store = openStore(h);
    const catalog = await store.list();
    const d = decide({
      backups: catalog.backups,
      now,
      fullBackupDay: h.fullBackupDay,
      timezone,
      forceFull: full,
      restoredAt: restoredAt(root),
    });
    hosts.push({
      host: h.name,
      type: d.type,
      reason: d.reason,
      ...(d.type === 'incremental' ? { parent: { id: d.parent.id, to_lsn: d.parent.to_lsn } } : {}),
      catalog_problems: catalog.problems,
      retention: (await hostRetentionPlan(h, root, now, store)).delete,
    });
  }
  return { now: now.toISOString(), hosts };
}

export function formatPlan(p: { now: string; hosts: HostPlan[] }): string {
  return [
    `plan at ${p.now}`,
    ...p.hosts.map(
      (h) =>
        `${h.host}  ${h.type}: ${h.reason}` +
        h.catalog_problems.map((x) => `\n  ignored: ${x}`).join('') +
        h.retention
          .map((d) => `\n  retention would delete ${d.kind} ${d.what} ${d.id}: ${d.reason}`)
          .join(''),
    ),
  ].join('\n');
}
