/**
 * Prometheus text format for the node_exporter textfile collector, written atomically after each
 * run: per host the time of the last successful backup and ready backup, the last run's status,
 * duration and bytes, the chain length and the bytes in the store.
 *
 * Each writer owns one file in the textfile directory, so that a long-running writer (a binlog
 * streamer) and `run` never overwrite each other's figures: `run` writes the configured
 * `metrics_file` itself; another writer the same name with `-<owner>` before the extension, in the
 * same directory. Writers must use their own metric names: node_exporter refuses a scrape in which
 * two files hold the same series.
 */
import { basename, dirname, extname, join } from 'node:path';
import { writeFileAtomic } from '../catalog/store.js';

/** The owner whose file is `metrics_file` itself (kept for compatibility). */
export const RUN_OWNER = 'run';

/** Pure: the file of one writer, from the configured metrics_file. */
export function metricsPath(metricsFile: string, owner: string): string {
  if (owner === RUN_OWNER) return metricsFile;
  if (!/^[a-z][a-z0-9_]*$/.test(owner))
    throw new Error(`metrics owner ${JSON.stringify(owner)} is not a plain name`);
  const ext = extname(metricsFile);
  return join(dirname(metricsFile), `${basename(metricsFile, ext)}-${owner}${ext}`);
}

/** Replace one writer's file atomically (temporary name in the same directory, then rename): the
 * collector reads either the old text or the new one, and no other writer's file is touched.
 * 0644: the figures are no secret and node_exporter reads them as an unprivileged user. */
export function writeMetrics(metricsFile: string, owner: string, text: string): string {
  const path = metricsPath(metricsFile, owner);
  writeFileAtomic(path, text, 0o644);
  return path;
}

export interface HostMetrics {
  host: string;
  lastBackupTime?: number;
  lastReadyTime?: number;
  lastRunOk: boolean;
  lastRunSeconds: number;
  lastRunBytes: number;
  chainLength: number;
  storeBytes: number;
}

interface Family {
  name: string;
  help: string;
  value: (h: HostMetrics) => number | undefined;
}

const FAMILIES: Family[] = [
  {
    name: 'xb_mgr_last_backup_timestamp_seconds',
    help: 'Time of the newest usable backup of the host.',
    value: (h) => h.lastBackupTime,
  },
  {
    name: 'xb_mgr_last_ready_timestamp_seconds',
    help: 'Time of the newest ready backup of the host.',
    value: (h) => h.lastReadyTime,
  },
  {
    name: 'xb_mgr_last_run_success',
    help: '1 when the last run of the host succeeded, else 0.',
    value: (h) => (h.lastRunOk ? 1 : 0),
  },
  {
    name: 'xb_mgr_last_run_duration_seconds',
    help: 'Duration of the last run of the host.',
    value: (h) => h.lastRunSeconds,
  },
  {
    name: 'xb_mgr_last_run_bytes',
    help: 'Bytes of the backup taken by the last run of the host.',
    value: (h) => h.lastRunBytes,
  },
  {
    name: 'xb_mgr_chain_length',
    help: 'Backups in the newest chain of the host (full plus incrementals).',
    value: (h) => h.chainLength,
  },
  {
    name: 'xb_mgr_store_bytes',
    help: 'Bytes stored for the host (backups and ready files).',
    value: (h) => h.storeBytes,
  },
];

/** Label values escape backslash, double quote and line feed (exposition format). */
export function escapeLabel(v: string): string {
  return v.replace(/\\/g, '\\\\').replace(/"/g, '\\"').replace(/\n/g, '\\n');
}

function num(v: number): string {
  if (Number.isNaN(v)) return 'NaN';
  if (v === Infinity) return '+Inf';
  if (v === -Infinity) return '-Inf';
  return String(v);
}

export function renderMetrics(hosts: HostMetrics[]): string {
  const out: string[] = [];
  for (const f of FAMILIES) {
    const samples = hosts
      .map((h) => [h, f.value(h)] as const)
      .filter((x): x is readonly [HostMetrics, number] => x[1] !== undefined);
    if (samples.length === 0) continue;
    out.push(
      `# HELP ${f.name} ${f.help.replace(/\\/g, '\\\\').replace(/\n/g, '\\n')}`,
      `# TYPE ${f.name} gauge`,
    );
    for (const [h, v] of samples) out.push(`${f.name}{host="${escapeLabel(h.host)}"} ${num(v)}`);
  }
  return out.join('\n') + '\n';
}
