/** `xb-mgr plan`: what `run` would do for each host and why. Changes nothing. */
import type { Context } from '../context.js';
import { hostDir, readCatalog } from '../catalog/store.js';
import { decide } from '../schedule.js';
import { resolveClock } from './clock.js';

export interface HostPlan {
  host: string;
  type: 'full' | 'incremental';
  reason: string;
  parent?: { id: string; to_lsn: number };
  catalog_problems: string[];
}

export function planCommand(
  ctx: Context,
  nowOpt: string | undefined,
  full: boolean,
): { now: string; hosts: HostPlan[] } {
  const { now, timezone } = resolveClock(ctx, nowOpt);
  const hosts = ctx.hosts.map((h): HostPlan => {
    const catalog = readCatalog(hostDir(h.backupDir, h.name));
    const d = decide({
      backups: catalog.backups,
      now,
      fullBackupDay: h.fullBackupDay,
      timezone,
      forceFull: full,
    });
    return {
      host: h.name,
      type: d.type,
      reason: d.reason,
      ...(d.type === 'incremental' ? { parent: { id: d.parent.id, to_lsn: d.parent.to_lsn } } : {}),
      catalog_problems: catalog.problems,
    };
  });
  return { now: now.toISOString(), hosts };
}

export function formatPlan(p: { now: string; hosts: HostPlan[] }): string {
  return [
    `plan at ${p.now}`,
    ...p.hosts.map(
      (h) =>
        `${h.host}  ${h.type}: ${h.reason}` + h.catalog_problems.map((x) => `\n  ignored: ${x}`).join(''),
    ),
  ].join('\n');
}
