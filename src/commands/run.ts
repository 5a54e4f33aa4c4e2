/**
 * `xb-mgr run`: every selected host, max_parallel_hosts at a time, under the run lock. One host's
 * failure does not stop the others; the exit code is 1 when any failed.
 */
import type { Context } from '../context.js';
import { acquireLock } from '../catalog/lock.js';
import { backupHost, type HostRunResult } from '../backup.js';
import { loadInventory } from '../inventory.js';
import { onChildrenChange } from '../util/proc.js';
import { makeLogger, type Log } from '../report/log.js';
import type { Level } from 'pino';
import { backupId } from '../time.js';
import { resolveClock } from './clock.js';
import { alertMail, hostMail, sendMail } from '../report/email.js';
import { hostMetrics, recordLastRun } from '../report/collect.js';
import { renderMetrics, RUN_OWNER, writeMetrics } from '../report/metrics.js';
import { errorMessage, InventoryError, LockHeldError, UsageError } from '../errors.js';
import type { Inventory } from '../inventory.js';
import type { Lock } from '../catalog/lock.js';
import { FAULT_POINTS, faultPoint } from '../util/fault.js';
import { writeOffsiteMetrics } from '../offsite/metrics.js';
import { pool } from './pool.js';

export interface RunOptions {
  now?: string;
  full?: boolean;
  stderrLevel: Level;
}

export interface RunReport {
  run_id: string;
  now: string;
  ok: boolean;
  hosts: HostRunResult[];
}

export async function runCommand(ctx: Context, o: RunOptions): Promise<RunReport> {
  const pause = process.env.XB_MGR_FAULT_PAUSE;
  if (pause && !(FAULT_POINTS as readonly string[]).includes(pause))
    throw new UsageError(`XB_MGR_FAULT_PAUSE=${pause} is not a fault point (${FAULT_POINTS.join(', ')})`);
  const { now, timezone } = resolveClock(ctx, o.now);
  const runId = `${backupId(new Date())}-${process.pid}`;
  const runLog: Log = makeLogger(ctx.config.global.log, o.stderrLevel, { run: runId });
  let inventory: Inventory;
  let lock: Lock;
  let tookOver: string | undefined;
  try {
    inventory = await loadInventory(ctx.inventory);
    ({ lock, tookOver } = acquireLock(ctx.config.global.pid, 'run', 'run', ctx.config.global.lockAlertHours));
  } catch (e) {
    // A run that fails before any host is tried alerts by mail: an unusable inventory, or a lock
    // held so long that the run holding it is probably stuck.
    if (e instanceof InventoryError || (e instanceof LockHeldError && e.stuck)) {
      // Into the log file only: the CLI prints the error itself, once.
      makeLogger(ctx.config.global.log, 'fatal', { run: runId }).error({ step: 'start' }, e.message);
      const err = await sendMail(ctx.config.global, alertMail(ctx.config.hosts, e.message));
      if (err) runLog.error({ step: 'email' }, err);
    }
    throw e;
  }
  onChildrenChange((pids) => lock.setChildren(pids));
  try {
    if (tookOver) runLog.warn({ step: 'lock' }, tookOver);
    runLog.info(
      { step: 'start', hosts: ctx.hosts.map((h) => h.name), now: now.toISOString() },
      `run started for ${ctx.hosts.length} host(s)`,
    );
    const captured = new Map(ctx.hosts.map((h) => [h.name, [] as string[]]));
    const started = new Map<string, { at: number; log: Log }>();
    const results = await pool(
      ctx.hosts,
      ctx.config.global.maxParallelHosts,
      (h) => {
        const log = makeLogger(h.log, o.stderrLevel, { run: runId, host: h.name }, captured.get(h.name));
        started.set(h.name, { at: Date.now(), log });
        return backupHost(ctx, inventory, h, { now, timezone, forceFull: o.full === true, log });
      },
      // backupHost reports its own failures; this is an exception it did not expect: that host
      // failed, the others go on.
      (h, e): HostRunResult => {
        const s = started.get(h.name);
        const error = errorMessage(e);
        (s?.log ?? runLog).error({ step: 'backup', host: h.name }, error);
        const seconds = s ? Math.round((Date.now() - s.at) / 100) / 10 : 0;
        return { host: h.name, ok: false, seconds, error };
      },
    );
    const ok = results.every((r) => r.ok);
    await faultPoint('report');
    await Promise.all(
      ctx.hosts.map(async (h, i) => {
        const r = results[i]!;
        recordLastRun(h, r);
        if (h.emailOn === 'failure' && r.ok) return;
        const err = await sendMail(
          ctx.config.global,
          hostMail(h, r, runId, (captured.get(h.name) ?? []).join('')),
        );
        if (err) runLog.error({ step: 'email', host: h.name }, err);
      }),
    );
    if (ctx.config.global.metricsFile) {
      try {
        writeMetrics(
          ctx.config.global.metricsFile,
          RUN_OWNER,
          renderMetrics(ctx.config.hosts.map(hostMetrics)),
        );
        writeOffsiteMetrics(ctx.config.global.metricsFile, ctx.config.hosts);
      } catch (e) {
        runLog.error(
          { step: 'metrics' },
          `cannot write ${ctx.config.global.metricsFile}: ${(e as Error).message}`,
        );
      }
    }
    runLog.info(
      { step: 'end', ok },
      `run finished: ${results.filter((r) => r.ok).length} of ${results.length} host(s) ok`,
    );
    return { run_id: runId, now: now.toISOString(), ok, hosts: results };
  } finally {
    onChildrenChange(undefined);
    lock.release();
  }
}

export function formatRunReport(r: RunReport): string {
  return r.hosts
    .map((h) =>
      h.ok
        ? `${h.host}  OK      ${h.type} ${h.id}  ${h.bytes} bytes  ${h.seconds} s  (${h.reason})`
        : `${h.host}  FAILED  ${h.type ? h.type + ': ' : ''}${h.error}`,
    )
    .map((line, i) =>
      r.hosts[i]!.offsite_override
        ? `${line}\n${r.hosts[i]!.host}  WARNING ${r.hosts[i]!.offsite_override}`
        : line,
    )
    .join('\n');
}
