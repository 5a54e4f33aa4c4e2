/**
 * One host's stream, kept alive: SSH forward, `mariadb-binlog --read-from-remote-server --raw
 * --stop-never` into a new staging session, the spool's fsync-and-swap tick on a short cadence,
 * and on any end (server restart, SSH cut, kill) a reconnection after a backoff that doubles up to
 * binlog_retry_max_seconds. Nothing here decides what is stored: the spool does.
 */
import type { HostConfig } from '../config/load.js';
import type { InventoryHost } from '../inventory.js';
import type { Log } from '../report/log.js';
import { errorMessage, lastLine } from '../errors.js';
import { which } from '../engine/binaries.js';
import { startDaemon } from '../util/proc.js';
import { FOREVER_MS, LinkError, openLink, query, type Link } from './connect.js';
import { Spool, SpoolError, type StoredPoint } from './spool.js';
import { validBinlogName } from './names.js';
import type { Gap } from './store.js';
import { hostDir } from '../catalog/store.js';

/** Pure: the stream's argv (the option file must come first). */
export function binlogArgs(cnf: string, sessionDir: string, serverId: number, start: string): string[] {
  return [
    `--defaults-extra-file=${cnf}`,
    '--read-from-remote-server',
    '--raw',
    '--stop-never',
    `--stop-never-slave-server-id=${serverId}`,
    `--result-file=${sessionDir}/`,
    start,
  ];
}

/** Pure: the wait before reconnection number `failures` (1 s, 2 s, 4 s ... up to max). */
export function backoffMs(failures: number, maxSeconds: number): number {
  if (failures <= 0) return 0;
  return Math.min(maxSeconds, 2 ** Math.min(failures - 1, 20)) * 1000;
}

/** Pure: SHOW BINARY LOGS rows -> the valid names, oldest first; the rest is reported. */
export function serverBinlogs(rows: readonly string[][]): { names: string[]; invalid: string[] } {
  const names: string[] = [];
  const invalid: string[] = [];
  for (const r of rows) {
    const n = r[0] ?? '';
    (validBinlogName(n) ? names : invalid).push(n);
  }
  return { names, invalid };
}

export interface StreamStatus {
  host: string;
  up: boolean;
  sessions: number;
  point?: StoredPoint;
  gaps: number;
  lastError?: string;
  swapped: number;
}

export class HostStream {
  readonly status: StreamStatus;
  private stopping = false;
  private wake: (() => void) | undefined;
  private current: { link?: Link; mb?: ReturnType<typeof startDaemon> } = {};
  readonly spool: Spool;

  constructor(
    readonly h: HostConfig,
    private readonly inv: InventoryHost,
    private readonly log: Log,
    private readonly hooks: { onGap?: (g: Gap) => void; onPoint?: (p: StoredPoint) => void } = {},
  ) {
    this.status = { host: h.name, up: false, sessions: 0, gaps: 0, swapped: 0 };
    this.spool = new Spool(hostDir(h.backupDir, h.name), {
      maxBinlogBytes: h.binlog.maxBytes,
      onGap: (g) => {
        this.status.gaps++;
        this.log.error(
          { gap: g },
          `binlog gap: ${g.reason} (after ${g.after_file ?? '-'} ${g.after_state}, before ${g.before_file} ${g.before_gtid_list})`,
        );
        this.hooks.onGap?.(g);
      },
      onSwap: (f) => {
        this.status.swapped++;
        this.log.info({ file: f.name, bytes: f.bytes }, `binlog ${f.name} stored (${f.bytes} bytes)`);
      },
    });
  }

  private sleep(ms: number): Promise<void> {
    return new Promise((r) => {
      const t = setTimeout(r, ms);
      this.wake = () => {
        clearTimeout(t);
        r();
      };
    });
  }

  /** Runs until stop(): one session after another. */
  async run(): Promise<void> {
    let failures = 0;
    while (!this.stopping) {
      const before = this.spool.point();
      const started = Date.now();
      try {
        await this.session();
      } catch (e) {
        this.status.lastError = errorMessage(e);
        // What the stream brought is refused (a cap, a bad name, a corrupt file): an error, not a hiccup.
        if (!this.stopping)
          this.log[e instanceof SpoolError ? 'error' : 'warn'](`binlog stream: ${errorMessage(e)}`);
      }
      this.status.up = false;
      if (this.stopping) break;
      const after = this.spool.point();
      const progressed = after?.file !== before?.file || after?.offset !== before?.offset;
      failures = progressed || Date.now() - started > 60_000 ? 1 : failures + 1;
      const wait = backoffMs(failures, this.h.binlog.retryMaxSeconds);
      this.log.info(`binlog stream: reconnecting in ${wait / 1000} s`);
      await this.sleep(wait);
    }
    this.spool.close();
  }

  private async session(): Promise<void> {
    const bin = which(['mariadb-binlog', 'mysqlbinlog']);
    if (!bin) throw new LinkError('mariadb-binlog is not installed on the manager (package mariadb-client)');
    this.spool.recover();
    this.status.point ??= this.spool.point();
    const link = await openLink(this.h, this.inv, () => this.stopping);
    this.current = { link };
    try {
      const { names, invalid } = serverBinlogs(await query(link, 'SHOW BINARY LOGS'));
      if (invalid.length > 0)
        this.log.warn(`ignored binlog names the server listed: ${invalid.slice(0, 3).join(', ')}`);
      const { start, purged } = this.spool.startFile(names);
      if (purged) this.log.error(`binlog ${purged} is no longer on the server; continuing from ${start}`);
      if (this.stopping) return;
      const session = this.spool.newSession();
      const mb = startDaemon(
        bin,
        binlogArgs(link.cnf, this.spool.sessionPath(session), this.h.binlog.serverId, start),
        { timeoutMs: FOREVER_MS, label: 'mariadb-binlog', keepStderr: true },
      );
      this.current.mb = mb;
      this.status.sessions++;
      this.status.up = true;
      this.log.info(`binlog stream from ${start} (session ${session})`);
      let last = this.spool.point();
      const tick = () => {
        this.spool.tick(session);
        const p = this.spool.point();
        if (p && (p.file !== last?.file || p.offset !== last?.offset)) {
          last = p;
          this.status.point = p;
          this.hooks.onPoint?.(p);
        }
      };
      try {
        while (mb.isRunning() && link.ssh.isRunning() && !this.stopping) {
          await Promise.race([this.sleep(this.h.binlog.fsyncMs), mb.exited]);
          tick();
        }
      } finally {
        if (mb.isRunning()) await mb.kill();
        // What it wrote before it ended is stored too.
        tick();
      }
      if (!this.stopping) {
        const why =
          lastLine(mb.stderr()) ||
          (link.ssh.isRunning() ? 'mariadb-binlog ended' : lastLine(link.ssh.stderr()) || 'ssh ended');
        throw new LinkError(`stream ended: ${why}`);
      }
    } finally {
      this.current = {};
      await link.close();
    }
  }

  /** Stop: end the children, store what they wrote, return once run() has returned. */
  stop(): void {
    this.stopping = true;
    this.wake?.();
    void this.current.mb?.kill();
  }
}
