/**
 * `xb-mgr offsite sync`: per host with offsite_url, upload what the store lacks, off-site
 * retention, clean-up (src/offsite/sync.ts). Under the run lock (exit 75 while a run or another
 * sync holds it): a sync and a run never write the same items at once.
 */
import type { Level } from 'pino';
import type { Context } from '../context.js';
import { acquireLock } from '../catalog/lock.js';
import { hostDir } from '../catalog/store.js';
import { UsageError } from '../errors.js';
import { makeLogger } from '../report/log.js';
import { backupId } from '../time.js';
import { writeOffsiteMetrics } from '../offsite/metrics.js';
import { syncHost, type HostSyncResult } from '../offsite/sync.js';
import { resolveClock } from './clock.js';

export interface SyncReport {
  ok: boolean;
  hosts: HostSyncResult[];
}

export async function offsiteSyncCommand(
  ctx: Context,
  o: { now?: string; takeOver?: boolean; stderrLevel: Level },
): Promise<SyncReport> {
  const hosts = ctx.hosts.filter((h) => h.offsite.url !== undefined);
  if (hosts.length === 0) throw new UsageError('no selected host has offsite_url set');
  const { now } = resolveClock(ctx, o.now);
  const runId = `${backupId(new Date())}-${process.pid}`;
  const log = makeLogger(ctx.config.global.log, o.stderrLevel, { run: runId, cmd: 'offsite sync' });
  const { lock, tookOver } = acquireLock(
    ctx.config.global.pid,
    'run',
    'offsite sync',
    ctx.config.global.lockAlertHours,
  );
  try {
    if (tookOver) log.warn({ step: 'lock' }, tookOver);
    const results: HostSyncResult[] = [];
    // One host after another: the uploads of one host already use offsite_concurrency connections.
    for (const h of hosts) {
      results.push(
        await syncHost(h, hostDir(h.backupDir, h.name), {
          now,
          takeOver: o.takeOver,
          log: makeLogger(h.log, o.stderrLevel, { run: runId, host: h.name, cmd: 'offsite sync' }),
        }),
      );
    }
    try {
      writeOffsiteMetrics(ctx.config.global.metricsFile, ctx.config.hosts);
    } catch (e) {
      log.error({ step: 'metrics' }, `cannot write the off-site metrics: ${(e as Error).message}`);
    }
    return { ok: results.every((r) => r.ok), hosts: results };
  } finally {
    lock.release();
  }
}

export function formatSyncReport(r: SyncReport): string {
  return r.hosts.map(syncLine).join('\n');
}

function syncLine(h: SyncReport['hosts'][number]): string {
  if (!h.ok)
    return `${h.host}  FAILED  ${h.error} (backlog: ${h.backlog_items} item(s), ${h.backlog_bytes} bytes kept locally)`;
  const binlogs =
    h.uploaded_binlogs?.length || h.deleted_binlogs?.length
      ? `; binlogs: ${h.uploaded_binlogs?.length ?? 0} uploaded, ${h.deleted_binlogs?.length ?? 0} deleted`
      : '';
  // A marking copied to the store changes what a restore from it may use: say so.
  const marked = h.marked_unusable.length > 0 ? `; marked unusable: ${h.marked_unusable.join(', ')}` : '';
  return `${h.host}  OK      ${h.store}: ${h.uploaded.length} uploaded (${h.uploaded_bytes} bytes), ${h.deleted.length} deleted by off-site retention${binlogs}${marked}`;
}
