/**
 * `xb-mgr binlog`: a long-running supervisor with one stream per selected host that has
 * binlog_stream = true. It takes its own lock per backup_dir (`.binlog.lock`: a second supervisor
 * exits 75) and neither the run lock nor host locks, so backups run beside it. stop() (the
 * command's SIGTERM/SIGINT handler) ends every stream, stores what they wrote and resolves the
 * report.
 */
import { appendFileSync } from 'node:fs';
import type { Context } from '../context.js';
import type { HostConfig } from '../config/load.js';
import { acquireLock, type Lock } from '../catalog/lock.js';
import { LockHeldError, UsageError, XbError, errorMessage } from '../errors.js';
import { loadInventory } from '../inventory.js';
import { makeLogger, type Log } from '../report/log.js';
import { writeMetrics } from '../report/metrics.js';
import { sendMail } from '../report/email.js';
import { onChildrenChange } from '../util/proc.js';
import { HostStream } from './stream.js';
import { binlogMetricsText } from './metrics.js';
import { lockPath, readGaps, type Gap } from './store.js';
import { hostDir } from '../catalog/store.js';
import type { Level } from 'pino';

export interface BinlogHostReport {
  host: string;
  streamed: boolean;
  /** Why the host was not streamed at all. */
  error?: string;
  /** The last reason a stream ended and was restarted. */
  last_error?: string;
  sessions: number;
  files_stored: number;
  gaps_found: number;
  last_event?: { file: string; offset: number; time?: string; gtid?: string };
}

export interface BinlogReport {
  ok: boolean;
  started_at: string;
  stopped_at: string;
  stopped_by?: string;
  hosts: BinlogHostReport[];
}

export class Supervisor {
  private streams: HostStream[] = [];
  private locks: Lock[] = [];
  private skipped: BinlogHostReport[] = [];
  private stopReason: string | undefined;
  private stopped: () => void = () => undefined;
  private readonly stoppedP = new Promise<void>((r) => (this.stopped = r));
  private readonly started = new Date();

  constructor(
    private readonly ctx: Context,
    private readonly o: { stderrLevel: Level },
  ) {}

  private takeLocks(hosts: readonly HostConfig[]): void {
    for (const dir of [...new Set(hosts.map((h) => h.backupDir))]) {
      try {
        this.locks.push(acquireLock(lockPath(dir), 'run', 'xb-mgr binlog', Number.POSITIVE_INFINITY).lock);
      } catch (e) {
        this.releaseLocks();
        if (e instanceof LockHeldError)
          throw new LockHeldError(e.message.replace(/^another run/, 'another binlog supervisor'));
        throw e;
      }
    }
    // A supervisor killed with -9 leaves its streams running; the next one stops them (lock.ts).
    onChildrenChange((pids) => this.locks.forEach((l) => l.setChildren(pids)));
  }

  private releaseLocks(): void {
    for (const l of this.locks) l.release();
    this.locks = [];
  }

  private writeMetricsFile(): void {
    const file = this.ctx.config.global.metricsFile;
    if (!file) return;
    try {
      writeMetrics(
        file,
        'binlog',
        binlogMetricsText(
          this.streams.map((s) => ({
            host: s.h.name,
            up: s.status.up,
            lastEventTime: s.status.point?.time,
            lastGtid: s.status.point?.gtid,
            gaps: readGaps(hostDir(s.h.backupDir, s.h.name)).length,
          })),
          new Date(),
        ),
      );
    } catch (e) {
      process.stderr.write(`xb-mgr: warning: cannot write the binlog metrics: ${errorMessage(e)}\n`);
    }
  }

  private async mailGap(h: HostConfig, g: Gap, log: Log): Promise<void> {
    const err = await sendMail(this.ctx.config.global, {
      to: h.errorEmailRecipients,
      subject: `[xb-mgr] binlog gap on ${h.name}`,
      text:
        `The binlog stream of ${h.name} has a gap: events between these points are not on the manager.\n\n` +
        `after:  ${g.after_file ?? '-'}  ${g.after_state}\nbefore: ${g.before_file}  ${g.before_gtid_list}\n` +
        `reason: ${g.reason}\n\nPoint-in-time recovery into the gap is not possible; a new backup closes it.\n`,
      attachments: [],
    });
    if (err) log.warn(err);
  }

  /** Starts the streams; resolves the report after stop(). */
  async run(): Promise<BinlogReport> {
    const hosts = this.ctx.hosts.filter((h) => h.binlog.stream);
    if (hosts.length === 0)
      throw new UsageError('no selected host has binlog_stream = true in its section of backup.conf');
    this.takeLocks(hosts);
    const trace = process.env.XB_MGR_BINLOG_TRACE;
    let metricsTimer: NodeJS.Timeout | undefined;
    const runs: Promise<void>[] = [];
    try {
      const inventory = await loadInventory(this.ctx.inventory);
      for (const h of hosts) {
        const inv = inventory.hosts.get(h.hostname);
        if (!inv) {
          this.skipped.push({
            host: h.name,
            streamed: false,
            error: `${h.hostname} is not in the inventory ${inventory.path}`,
            sessions: 0,
            files_stored: 0,
            gaps_found: 0,
          });
          continue;
        }
        const log = makeLogger(h.log, this.o.stderrLevel, { host: h.name, command: 'binlog' });
        const s = new HostStream(h, inv, log, {
          onGap: (g) => {
            this.writeMetricsFile();
            void this.mailGap(h, g, log);
          },
          onPoint: trace
            ? (p) => appendFileSync(trace, `${Date.now()} ${h.name} ${p.gtid ?? '-'} ${p.file} ${p.offset}\n`)
            : undefined,
        });
        this.streams.push(s);
      }
      if (this.streams.length === 0)
        throw new XbError(this.skipped.map((s) => `${s.host}: ${s.error}`).join('\n'));
      for (const s of this.streams) runs.push(s.run());
      this.writeMetricsFile();
      metricsTimer = setInterval(() => this.writeMetricsFile(), 5000);
      await this.stoppedP;
      for (const s of this.streams) s.stop();
      await Promise.all(runs);
    } finally {
      if (metricsTimer) clearInterval(metricsTimer);
      for (const s of this.streams) s.stop();
      await Promise.allSettled(runs);
      this.writeMetricsFile();
      onChildrenChange(undefined);
      this.releaseLocks();
    }
    const reports: BinlogHostReport[] = this.streams.map((s) => {
      const p = s.status.point;
      return {
        host: s.h.name,
        streamed: s.status.sessions > 0,
        ...(s.status.lastError ? { last_error: s.status.lastError } : {}),
        sessions: s.status.sessions,
        files_stored: s.status.swapped,
        gaps_found: s.status.gaps,
        ...(p
          ? {
              last_event: {
                file: p.file,
                offset: p.offset,
                ...(p.time !== undefined ? { time: new Date(p.time * 1000).toISOString() } : {}),
                ...(p.gtid ? { gtid: p.gtid } : {}),
              },
            }
          : {}),
      };
    });
    return {
      ok: this.skipped.length === 0,
      started_at: this.started.toISOString(),
      stopped_at: new Date().toISOString(),
      ...(this.stopReason ? { stopped_by: this.stopReason } : {}),
      hosts: [...reports, ...this.skipped],
    };
  }

  stop(reason: string): void {
    this.stopReason ??= reason;
    this.stopped();
  }
}
