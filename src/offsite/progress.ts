/**
 * Progress of uploads longer than a few seconds: on a terminal one rewriting stderr line (bytes,
 * rate, ETA); otherwise a log line every PERIOD_MS. Short transfers print nothing.
 */
import type { Log } from '../report/log.js';

const QUIET_MS = 3000;
const PERIOD_MS = 10_000;

/** XB_MGR_PROGRESS_MS=QUIET[,PERIOD] shortens both (e2e tests see progress without a long upload). */
export function progressTimes(env: string | undefined): { quiet: number; period: number } {
  const m = /^(\d{1,7})(?:,(\d{1,7}))?$/.exec(env ?? '');
  return m ? { quiet: Number(m[1]), period: Number(m[2] ?? m[1]) } : { quiet: QUIET_MS, period: PERIOD_MS };
}

/** Pure: "12.0/48.0 MiB  25% 10.2 MiB/s ETA 4 s". */
export function progressLine(sent: number, total: number, ms: number): string {
  const mib = (b: number) => (b / 1048576).toFixed(1);
  const rate = ms > 0 ? sent / (ms / 1000) : 0;
  const pct = total > 0 ? Math.floor((sent / total) * 100) : 100;
  const eta = rate > 0 ? Math.ceil((total - sent) / rate) : undefined;
  return `${mib(sent)}/${mib(total)} MiB ${pct}% ${mib(rate)} MiB/s ETA ${eta === undefined ? '?' : `${eta} s`}`;
}

export interface Progress {
  (p: { name: string; sent: number; total: number }): void;
  end(): void;
}

export function progressReporter(log: Log, tty = process.stderr.isTTY === true): Progress {
  const { quiet, period } = progressTimes(process.env.XB_MGR_PROGRESS_MS);
  let current: { name: string; t0: number; last: number } | undefined;
  let drawn = false;
  const f = ((p: { name: string; sent: number; total: number }) => {
    const now = Date.now();
    if (!current || current.name !== p.name) current = { name: p.name, t0: now, last: now };
    const ms = now - current.t0;
    if (ms < quiet) return;
    const line = `${p.name}: ${progressLine(p.sent, p.total, ms)}`;
    if (tty) {
      process.stderr.write(`\r${line.slice(0, 150).padEnd(100)}`);
      drawn = true;
    } else if (now - current.last >= period) {
      current.last = now;
      log.info({ step: 'offsite', progress: p.sent, total: p.total }, line);
    }
  }) as Progress;
  f.end = () => {
    if (drawn) process.stderr.write('\n');
    drawn = false;
  };
  return f;
}
