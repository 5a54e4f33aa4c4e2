import type { Context } from '../context.js';
import { UsageError } from '../errors.js';
import { localZone, parseNow } from '../time.js';

/** The run's clock: --now (read in the `timezone` key when it has no offset) or the real time. */
export function resolveClock(ctx: Context, nowOpt: string | undefined): { now: Date; timezone: string } {
  const timezone = ctx.config.global.timezone ?? localZone();
  if (nowOpt === undefined) return { now: new Date(), timezone };
  const now = parseNow(nowOpt, timezone);
  if (!now)
    throw new UsageError(
      `--now ${nowOpt}: not an ISO 8601 time (e.g. 2026-11-24T03:15 or 2026-11-24T03:15:00Z)`,
    );
  return { now, timezone };
}
