/**
 * Time rules, pure. `--now` without an offset is read in the configured time zone (default: the
 * manager's); backup ids are UTC (20261124T031500Z); the weekly boundary is 00:00 local time of
 * the most recent full_backup_day at or before now.
 */

export function localZone(): string {
  return Intl.DateTimeFormat().resolvedOptions().timeZone;
}

interface Parts {
  year: number;
  month: number;
  day: number;
  hour: number;
  minute: number;
  second: number;
  weekday: number;
}

const WEEKDAYS = ['Sun', 'Mon', 'Tue', 'Wed', 'Thu', 'Fri', 'Sat'];

/** Wall-clock parts of an instant in a zone. */
export function zonedParts(t: Date, tz: string): Parts {
  const f = new Intl.DateTimeFormat('en-US', {
    timeZone: tz,
    hourCycle: 'h23',
    year: 'numeric',
    month: 'numeric',
    day: 'numeric',
    hour: 'numeric',
    minute: 'numeric',
    second: 'numeric',
    weekday: 'short',
  });
  const p: Record<string, string> = {};
  for (const x of f.formatToParts(t)) p[x.type] = x.value;
  return {
    year: Number(p.year),
    month: Number(p.month),
    day: Number(p.day),
    hour: Number(p.hour),
    minute: Number(p.minute),
    second: Number(p.second),
    weekday: WEEKDAYS.indexOf(p.weekday ?? ''),
  };
}

/** Offset of a zone at an instant, in milliseconds (local - UTC). */
function offsetAt(t: number, tz: string): number {
  const p = zonedParts(new Date(t), tz);
  return Date.UTC(p.year, p.month - 1, p.day, p.hour, p.minute, p.second) - Math.floor(t / 1000) * 1000;
}

/**
 * The instant of a wall-clock time in a zone. An ambiguous time (clocks turned back) is its first
 * occurrence; a time that does not exist (clocks turned forward) maps to the instant of the jump.
 */
export function zonedTimeToInstant(
  y: number,
  mo: number,
  d: number,
  h: number,
  mi: number,
  s: number,
  tz: string,
): Date {
  const guess = Date.UTC(y, mo - 1, d, h, mi, s);
  const before = guess - offsetAt(guess - 86_400_000, tz);
  const after = guess - offsetAt(guess + 86_400_000, tz);
  const wall = (t: number) => {
    const p = zonedParts(new Date(t), tz);
    return Date.UTC(p.year, p.month - 1, p.day, p.hour, p.minute, p.second);
  };
  const exact = [before, after].filter((t) => wall(t) === guess);
  if (exact.length > 0) return new Date(Math.min(...exact));
  return new Date(before);
}

/** Parse --now: ISO 8601; without an offset it is wall-clock time in `tz`. */
export function parseNow(value: string, tz: string): Date | undefined {
  const m =
    /^(\d{4})-(\d{2})-(\d{2})(?:[T ](\d{2}):(\d{2})(?::(\d{2})(?:\.\d+)?)?)?(Z|[+-]\d{2}:?\d{2})?$/.exec(
      value.trim(),
    );
  if (!m) return undefined;
  const [y, mo, d, h, mi, s] = [m[1], m[2], m[3], m[4] ?? '0', m[5] ?? '0', m[6] ?? '0'].map(
    Number,
  ) as number[];
  if (mo! < 1 || mo! > 12 || d! < 1 || d! > 31 || h! > 23 || mi! > 59 || s! > 59) return undefined;
  // No 30 February: the date must survive a round trip.
  if (new Date(Date.UTC(y!, mo! - 1, d!)).getUTCDate() !== d) return undefined;
  if (m[7]) {
    const offMin = m[7] === 'Z' ? 0 : Number(m[7].slice(-2));
    if (offMin > 59) return undefined;
    const off = m[7] === 'Z' ? 0 : (m[7][0] === '-' ? -1 : 1) * (Number(m[7].slice(1, 3)) * 60 + offMin);
    return new Date(Date.UTC(y!, mo! - 1, d!, h!, mi!, s!) - off * 60_000);
  }
  return zonedTimeToInstant(y!, mo!, d!, h!, mi!, s!, tz);
}

/** 00:00 (in tz) of the most recent `day` (0 = Sunday) at or before `now`. */
export function weekBoundary(now: Date, day: number, tz: string): Date {
  const p = zonedParts(now, tz);
  const back = (p.weekday - day + 7) % 7;
  // Step back calendar days on the wall clock, then find that midnight's instant.
  const date = new Date(Date.UTC(p.year, p.month - 1, p.day - back));
  return zonedTimeToInstant(date.getUTCFullYear(), date.getUTCMonth() + 1, date.getUTCDate(), 0, 0, 0, tz);
}

/** Backup id: the time in UTC, 20261124T031500Z. */
export function backupId(t: Date): string {
  return t
    .toISOString()
    .replace(/[-:]/g, '')
    .replace(/\.\d+Z$/, 'Z');
}

export function idToDate(id: string): Date | undefined {
  const m = /^(\d{4})(\d{2})(\d{2})T(\d{2})(\d{2})(\d{2})Z$/.exec(id);
  if (!m) return undefined;
  const [y, mo, d, h, mi, s] = m.slice(1).map(Number) as number[];
  return new Date(Date.UTC(y!, mo! - 1, d!, h!, mi!, s!));
}

/** The id for `t`, one second later per collision with an existing id. */
export function uniqueId(t: Date, taken: ReadonlySet<string>): string {
  let ms = Math.floor(t.getTime() / 1000) * 1000;
  while (taken.has(backupId(new Date(ms)))) ms += 1000;
  return backupId(new Date(ms));
}
