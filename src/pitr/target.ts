/**
 * Pure: the target of a point-in-time restore. `--to-time` is an instant with 1-second
 * resolution (binlog event times have no fractions, so a TIME with fractions is refused rather
 * than rounded); without an offset it is wall-clock time in the config's `timezone`. `--to-gtid`
 * is one GTID, domain-server-sequence, included in the restore.
 */
import { UsageError } from '../errors.js';
import { parseNow } from '../time.js';
import type { Gtid } from '../binlog/events.js';

export type PitrTarget =
  | {
      kind: 'time';
      /** Seconds since the epoch: transactions committed before it are included. */ at: number;
    }
  | { kind: 'gtid'; gtid: Gtid };

const FRACTION = /^\d{4}-\d{2}-\d{2}[T ]\d{2}:\d{2}:\d{2}[.,]\d*/;

export function parseToTime(value: string, tz: string): PitrTarget {
  const v = value.trim();
  if (FRACTION.test(v))
    throw new UsageError(
      `--to-time ${value}: fractions of a second are refused (binlog event times have 1-second resolution)`,
    );
  const d = parseNow(v, tz);
  // A date alone would silently mean midnight: ask for the time of day.
  if (!d || !/[T ]\d{2}:\d{2}/.test(v))
    throw new UsageError(
      `--to-time ${value}: not a time; use YYYY-MM-DDTHH:MM[:SS] with an optional offset (Z, +02:00), else read in ${tz}`,
    );
  return { kind: 'time', at: d.getTime() / 1000 };
}

export function parseToGtid(value: string): PitrTarget {
  const m = /^(\d{1,10})-(\d{1,10})-(\d{1,20})$/.exec(value.trim());
  const g = m ? { domain: Number(m[1]), server: Number(m[2]), seq: BigInt(m[3]!) } : undefined;
  if (!g || g.domain > 0xffffffff || g.server > 0xffffffff || g.seq < 1n || g.seq >= 1n << 64n)
    throw new UsageError(`--to-gtid ${value}: not one GTID (domain-server-sequence, e.g. 0-1-42)`);
  return { kind: 'gtid', gtid: g };
}

export function parseTarget(o: { toTime?: string; toGtid?: string }, tz: string): PitrTarget {
  if (o.toTime !== undefined && o.toGtid !== undefined)
    throw new UsageError('give --to-time or --to-gtid, not both');
  if (o.toTime !== undefined) return parseToTime(o.toTime, tz);
  if (o.toGtid !== undefined) return parseToGtid(o.toGtid);
  throw new UsageError('give --to-time TIME or --to-gtid GTID');
}

export function formatTarget(t: PitrTarget): string {
  return t.kind === 'time'
    ? `--to-time ${new Date(t.at * 1000).toISOString().replace('.000Z', 'Z')}`
    : `--to-gtid ${t.gtid.domain}-${t.gtid.server}-${t.gtid.seq}`;
}
