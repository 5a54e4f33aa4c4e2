/**
 * The off-site figures, in a metrics file of their own (`<metrics_file>-offsite<ext>`, report/metrics.ts):
 * per host with offsite_url, the last successful sync, whether the last sync succeeded, and the
 * backlog (items and bytes not off-site yet), read from each host's record (`<host>/offsite.json`),
 * and for a host with local binlog files the binlog backlog (closed files newer than the newest
 * off-site, counted when the metrics are written).
 */
import { hostDir } from '../catalog/store.js';
import type { HostConfig } from '../config/load.js';
import { escapeLabel, writeMetrics } from '../report/metrics.js';
import type { OffsiteRecord } from './plan.js';
import { readRecord } from './sync.js';
import { binlogBacklog } from './binlog-plan.js';
import { localBinlogs } from './binlog-sync.js';

/** A host's record, and its binlog backlog when it keeps binlog files. */
export interface OffsiteFigures {
  host: string;
  r: OffsiteRecord | undefined;
  binlog?: { files: number; bytes: number };
}

export const OFFSITE_OWNER = 'offsite';

/** Pure: the text of the metrics file for these hosts' records. */
export function renderOffsiteMetrics(records: OffsiteFigures[]): string {
  const fam: [string, string, (r: OffsiteRecord, f: OffsiteFigures) => number | undefined][] = [
    [
      'xb_mgr_offsite_last_success_timestamp_seconds',
      'Time of the last off-site sync of the host that succeeded.',
      (r) => (r.last_success ? Math.floor(Date.parse(r.last_success) / 1000) : undefined),
    ],
    [
      'xb_mgr_offsite_last_sync_success',
      '1 when the last off-site sync of the host succeeded, else 0.',
      (r) => (r.ok ? 1 : 0),
    ],
    [
      'xb_mgr_offsite_backlog_items',
      'Backups and ready files of the host not off-site yet.',
      (r) => r.backlog_items,
    ],
    [
      'xb_mgr_offsite_backlog_bytes',
      'Bytes of the backups and ready files of the host not off-site yet.',
      (r) => r.backlog_bytes,
    ],
    [
      'xb_mgr_offsite_binlog_backlog_files',
      'Closed binlog files of the host newer than the newest one off-site.',
      (_r, f) => f.binlog?.files,
    ],
    [
      'xb_mgr_offsite_binlog_backlog_bytes',
      'Bytes of the closed binlog files of the host newer than the newest one off-site.',
      (_r, f) => f.binlog?.bytes,
    ],
  ];
  const out: string[] = [];
  for (const [name, help, value] of fam) {
    const samples = records.flatMap((f) => {
      const { host, r } = f;
      const v = r ? value(r, f) : undefined;
      return v === undefined || Number.isNaN(v) ? [] : [`${name}{host="${escapeLabel(host)}"} ${v}`];
    });
    if (samples.length === 0) continue;
    out.push(`# HELP ${name} ${help}`, `# TYPE ${name} gauge`, ...samples);
  }
  return out.join('\n') + '\n';
}

/** Write the off-site metrics file of every host with offsite_url; the path written, or undefined. */
export function writeOffsiteMetrics(
  metricsFile: string | undefined,
  hosts: readonly HostConfig[],
): string | undefined {
  if (!metricsFile) return undefined;
  const withOffsite = hosts.filter((h) => h.offsite.url !== undefined);
  if (withOffsite.length === 0) return undefined;
  return writeMetrics(
    metricsFile,
    OFFSITE_OWNER,
    renderOffsiteMetrics(
      withOffsite.map((h) => {
        const root = hostDir(h.backupDir, h.name);
        const r = readRecord(root);
        const local = localBinlogs(root);
        return {
          host: h.name,
          r,
          ...(local.length > 0 || r?.binlogs ? { binlog: binlogBacklog(local, r?.binlogs ?? []) } : {}),
        };
      }),
    ),
  );
}
