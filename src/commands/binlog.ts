/** `xb-mgr binlog`: the supervisor (src/binlog/supervisor.ts) and the text of its report. */
import type { Level } from 'pino';
import type { Context } from '../context.js';
import { Supervisor, type BinlogReport } from '../binlog/supervisor.js';

export function binlogSupervisor(ctx: Context, stderrLevel: Level): Supervisor {
  return new Supervisor(ctx, { stderrLevel });
}

export function formatBinlogReport(r: BinlogReport): string {
  const lines = [
    `binlog supervisor ${r.started_at} .. ${r.stopped_at}${r.stopped_by ? ` (${r.stopped_by})` : ''}`,
  ];
  for (const h of r.hosts) {
    const e = h.last_event;
    lines.push(
      `${h.host}  ${h.streamed ? `${h.sessions} session(s), ${h.files_stored} file(s) stored` : 'not streamed'}` +
        (e ? `, last event ${e.time ?? '?'} ${e.gtid ?? ''} (${e.file}:${e.offset})` : '') +
        (h.gaps_found > 0 ? `, ${h.gaps_found} GAP(S)` : '') +
        (h.error ? `; ${h.error}` : ''),
    );
  }
  return lines.join('\n');
}
