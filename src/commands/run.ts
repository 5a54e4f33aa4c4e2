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

/** Run `fn` over items with at most `limit` at once, keeping the order of results. */
export async function pool<T, R>(items: T[], limit: number, fn: (t: T) => Promise<R>): Promise<R[]> {
  const out: R[] = new Array(items.length);
  let next = 0;
  const worker = async () => {
    while (next < items.length) {
      const i = next++;
      out[i] = await fn(items[i]!);
    }
  };
  await Promise.all(Array.from({ length: Math.min(limit, items.length) }, worker));
  return out;
}

export async function runCommand(ctx: Context, o: RunOptions): Promise<RunReport> {
  const { now, timezone } = resolveClock(ctx, o.now);
  const runId = `${backupId(new Date())}-${process.pid}`;
  const runLog: Log = makeLogger(ctx.config.global.log, o.stderrLevel, { run: runId });
  const inventory = await loadInventory(ctx.inventory);
  const { lock, tookOver } = acquireLock(
    ctx.config.global.pid,
    'run',
    'run',
    ctx.config.global.lockAlertHours,
  );
  onChildrenChange((pids) => lock.setChildren(pids));
  try {
    if (tookOver) runLog.warn({ step: 'lock' }, tookOver);
    runLog.info(
      { step: 'start', hosts: ctx.hosts.map((h) => h.name), now: now.toISOString() },
      `run started for ${ctx.hosts.length} host(s)`,
    );
    const results = await pool(ctx.hosts, ctx.config.global.maxParallelHosts, (h) =>
      backupHost(ctx, inventory, h, {
        now,
        timezone,
        forceFull: o.full === true,
        log: makeLogger(h.log, o.stderrLevel, { run: runId, host: h.name }),
      }),
    );
    const ok = results.every((r) => r.ok);
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
    .join('\n');
}
