/**
 * `check` for hosts with binlog_stream = true: through the very path the stream uses (SSH forward,
 * binlog user), whether the user has REPLICATION SLAVE and BINLOG MONITOR and whether the server
 * writes a binlog that can be streamed and replayed (log_bin, binlog_format, server_id) and keeps it
 * long enough to survive a stream outage. `binlogCheckLines` is pure.
 */
import type { HostConfig } from '../config/load.js';
import type { InventoryHost } from '../inventory.js';
import type { CheckLine } from '../checks.js';
import { errorMessage } from '../errors.js';
import { binlogLogin, openLink, query, remoteTarget } from './connect.js';

export interface BinlogFacts {
  user: string;
  /** SHOW GLOBAL VARIABLES rows, lower-case names. */
  vars: Record<string, string>;
  /** SHOW GRANTS lines. */
  grants: string[];
  /** binlog_server_id of the config, which must differ from the server's own. */
  streamServerId: number;
}

const NEEDED = ['REPLICATION SLAVE', 'BINLOG MONITOR'] as const;
/** Names older servers show for the same privilege. */
const ALIASES: Record<string, string[]> = { 'BINLOG MONITOR': ['REPLICATION CLIENT'] };
/** Below this a stream outage of a day loses binlogs. */
const MIN_RETENTION_S = 86_400;

/** Pure: the global privileges of SHOW GRANTS lines (`ON *.*` only). */
export function globalPrivileges(grants: readonly string[]): Set<string> {
  const out = new Set<string>();
  for (const g of grants) {
    const m = /^GRANT (.+?) ON \*\.\* TO /i.exec(g.trim());
    if (!m) continue;
    for (const p of m[1]!.split(',')) out.add(p.trim().toUpperCase());
  }
  return out;
}

export function missingBinlogGrants(grants: readonly string[]): string[] {
  const have = globalPrivileges(grants);
  if (have.has('ALL PRIVILEGES')) return [];
  return NEEDED.filter((p) => !have.has(p) && !(ALIASES[p] ?? []).some((a) => have.has(a)));
}

export function binlogCheckLines(host: string, f: BinlogFacts): CheckLine[] {
  const line = (check: string, ok: boolean, detail: string): CheckLine => ({ host, check, ok, detail });
  const v = (k: string) => f.vars[k];
  const missing = missingBinlogGrants(f.grants);
  const lines = [
    line(
      'binlog grants',
      missing.length === 0,
      missing.length === 0
        ? `${f.user} has ${NEEDED.join(', ')}`
        : `${f.user} lacks ${missing.join(', ')}: GRANT ${missing.join(', ')} ON *.* TO ${f.user}`,
    ),
    line(
      'log_bin',
      v('log_bin')?.toUpperCase() === 'ON',
      v('log_bin')?.toUpperCase() === 'ON'
        ? 'ON'
        : `${v('log_bin') ?? '?'}: set log_bin in the server config and restart it`,
    ),
  ];
  const fmt = (v('binlog_format') ?? '?').toUpperCase();
  lines.push(
    line(
      'binlog_format',
      fmt === 'ROW' || fmt === 'MIXED',
      fmt === 'ROW' || fmt === 'MIXED' ? fmt : `${fmt}: use ROW (or MIXED) so a replay gives the same data`,
    ),
  );
  const sid = Number(v('server_id') ?? '0');
  lines.push(
    line(
      'server_id',
      sid > 0 && sid !== f.streamServerId,
      sid === 0
        ? '0: set server_id (a server without one serves no replica)'
        : sid === f.streamServerId
          ? `${sid} equals binlog_server_id: give the stream another id`
          : String(sid),
    ),
  );
  const secs = Number(v('binlog_expire_logs_seconds') ?? '0');
  const days = Number(v('expire_logs_days') ?? '0');
  const keep = secs > 0 ? secs : days > 0 ? days * 86_400 : 0;
  lines.push(
    line(
      'binlog retention',
      keep === 0 || keep >= MIN_RETENTION_S,
      keep === 0
        ? 'kept until purged (binlog_expire_logs_seconds = 0)'
        : keep >= MIN_RETENTION_S
          ? `${(keep / 86_400).toFixed(1)} day(s): a stream may be down that long without a gap`
          : `${keep} s: a stream outage longer than that loses binlogs; keep them at least 1 day`,
    ),
  );
  return lines;
}

export async function binlogChecks(h: HostConfig, inv: InventoryHost): Promise<CheckLine[]> {
  let link;
  try {
    link = await openLink(h, inv);
  } catch (e) {
    return [{ host: h.name, check: 'binlog connect', ok: false, detail: errorMessage(e) }];
  }
  try {
    const vars = Object.fromEntries(
      (
        await query(
          link,
          "SHOW GLOBAL VARIABLES WHERE Variable_name IN ('log_bin','binlog_format','server_id','binlog_expire_logs_seconds','expire_logs_days')",
        )
      ).map((r) => [String(r[0]).toLowerCase(), r[1] ?? '']),
    );
    const grants = (await query(link, 'SHOW GRANTS')).map((r) => r[0] ?? '');
    return [
      {
        host: h.name,
        check: 'binlog connect',
        ok: true,
        detail: `${binlogLogin(h).user} through an ssh forward to ${remoteTarget(h)}`,
      },
      ...binlogCheckLines(h.name, {
        user: binlogLogin(h).user,
        vars,
        grants,
        streamServerId: h.binlog.serverId,
      }),
    ];
  } catch (e) {
    return [{ host: h.name, check: 'binlog connect', ok: false, detail: errorMessage(e) }];
  } finally {
    await link.close();
  }
}
