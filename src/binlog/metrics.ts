/**
 * Pure: the binlog supervisor's metrics, in a file of its own (metricsPath(metrics_file, 'binlog'))
 * and with names of its own, so `run` and the supervisor never write the same series.
 */
export interface BinlogHostMetrics {
  host: string;
  up: boolean;
  /** Time of the newest stored event (s since the epoch). */
  lastEventTime?: number;
  lastGtid?: string;
  gaps: number;
}

const esc = (v: string) => v.replace(/\\/g, '\\\\').replace(/"/g, '\\"').replace(/\n/g, '\\n');

export function binlogMetricsText(hosts: readonly BinlogHostMetrics[], now: Date): string {
  const out: string[] = [];
  const family = (name: string, help: string, rows: [string, number][]) => {
    out.push(`# HELP ${name} ${help}`, `# TYPE ${name} gauge`);
    for (const [labels, v] of rows) out.push(`${name}{${labels}} ${v}`);
  };
  const host = (h: BinlogHostMetrics) => `host="${esc(h.host)}"`;
  const nowS = Math.floor(now.getTime() / 1000);
  family(
    'xb_mgr_binlog_stream_up',
    '1 while the binlog stream of the host is connected.',
    hosts.map((h) => [host(h), h.up ? 1 : 0]),
  );
  family(
    'xb_mgr_binlog_last_event_timestamp_seconds',
    'Time of the newest binlog event stored (fsynced) on the manager.',
    hosts.filter((h) => h.lastEventTime !== undefined).map((h) => [host(h), h.lastEventTime!]),
  );
  family(
    'xb_mgr_binlog_seconds_since_last_event',
    'Seconds since the newest stored binlog event was written on the server.',
    hosts
      .filter((h) => h.lastEventTime !== undefined)
      .map((h) => [host(h), Math.max(0, nowS - h.lastEventTime!)]),
  );
  family(
    'xb_mgr_binlog_last_gtid_seq',
    'Sequence number of the newest stored GTID (its domain and server id as labels).',
    hosts.flatMap((h): [string, number][] => {
      const m = h.lastGtid ? /^(\d+)-(\d+)-(\d+)$/.exec(h.lastGtid) : null;
      return m ? [[`${host(h)},domain="${m[1]}",server_id="${m[2]}"`, Number(m[3])]] : [];
    }),
  );
  family(
    'xb_mgr_binlog_gaps',
    'Gaps in the stored binlogs of the host (events the manager never got).',
    hosts.map((h) => [host(h), h.gaps]),
  );
  family('xb_mgr_binlog_metrics_timestamp_seconds', 'When the supervisor wrote this file.', [['', nowS]]);
  return out.join('\n').replace(/\{\}/g, '') + '\n';
}
