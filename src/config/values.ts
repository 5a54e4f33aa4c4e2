/** Pure parsers for config values: each returns the typed value or an error message. */
import { clip } from '../errors.js';

export const DAYS = ['sunday', 'monday', 'tuesday', 'wednesday', 'thursday', 'friday', 'saturday'] as const;

export type Parsed<T> = { ok: true; value: T } | { ok: false; error: string };
const ok = <T>(value: T): Parsed<T> => ({ ok: true, value });
const bad = <T>(error: string): Parsed<T> => ({ ok: false, error });

/** Day of week, 0 = Sunday: full names or three-letter abbreviations, any case. */
export function parseDay(v: string): Parsed<number> {
  const s = v.trim().toLowerCase();
  const i = DAYS.findIndex((d) => d === s || (s.length === 3 && d.startsWith(s)));
  if (i < 0) return bad('not a day of the week (use e.g. Sunday or sun)');
  return ok(i);
}

/** A whole number in [min, max]; the message states the bound that was crossed. */
export function parseInt10(v: string, min: number | undefined, max?: number): Parsed<number> {
  const s = v.trim();
  if (!/^\d+$/.test(s)) {
    return bad(/^-\d+$/.test(s) ? 'must not be negative' : 'must be a whole number');
  }
  const n = Number(s);
  if (max !== undefined && n > max) return bad(`must be at most ${max}`);
  if (!Number.isSafeInteger(n)) return bad('is too large');
  if (min !== undefined && n < min) return bad(`must be at least ${min}`);
  return ok(n);
}

const SIZE_UNITS: Record<string, number> = { '': 1, k: 2 ** 10, m: 2 ** 20, g: 2 ** 30, t: 2 ** 40 };

/** A byte count as a config would say it: the largest unit that divides it (64K, 1024T, 100 bytes). */
export function formatSize(bytes: number): string {
  for (const u of ['t', 'g', 'm', 'k'] as const) {
    const n = SIZE_UNITS[u]!;
    if (bytes >= n && bytes % n === 0) return `${bytes / n}${u.toUpperCase()}`;
  }
  return bytes === 1 ? '1 byte' : `${bytes} bytes`;
}

/**
 * A size in bytes, strictly: digits and at most one unit in one word, `10737418240`, `10G`, `10GB`,
 * `10GiB`, `512m` (K, M, G, T are powers of 1024). No fraction, sign, exponent or space inside.
 */
export function parseSize(v: string, min = 1, max?: number): Parsed<number> {
  const m = /^(\d{1,16})([kmgt]?)(i?b)?$/i.exec(v.trim());
  const bytes =
    m && !(m[3] && !m[2] && m[3].toLowerCase() !== 'b')
      ? Number(m[1]) * SIZE_UNITS[(m[2] ?? '').toLowerCase()]!
      : undefined;
  if (bytes === undefined) return bad('must be a size in bytes such as 10G (K, M, G, T are powers of 1024)');
  if (max !== undefined && bytes > max) return bad(`must be at most ${formatSize(max)}`);
  if (!Number.isSafeInteger(bytes)) return bad('is too large');
  if (bytes < min) return bad(`must be at least ${formatSize(min)}`);
  return ok(bytes);
}

export function parseBool(v: string): Parsed<boolean> {
  const s = v.trim().toLowerCase();
  if (['1', 'true', 'yes', 'on'].includes(s)) return ok(true);
  if (['0', 'false', 'no', 'off'].includes(s)) return ok(false);
  return bad('must be true or false');
}

export function parseEnum<T extends string>(v: string, allowed: readonly T[]): Parsed<T> {
  const s = v.trim().toLowerCase();
  const found = allowed.find((a) => a === s);
  return found ? ok(found) : bad(`must be one of ${allowed.join(', ')}`);
}

/**
 * A config section name becomes a directory name under backup_dir and a log field: letters,
 * digits, dot, dash, underscore, starting with a letter or digit; no `..`.
 */
export function isSafeName(s: string): boolean {
  return /^[A-Za-z0-9][A-Za-z0-9._-]{0,127}$/.test(s) && !s.includes('..');
}

const IPV4 = /^(25[0-5]|2[0-4]\d|1\d\d|[1-9]?\d)(\.(25[0-5]|2[0-4]\d|1\d\d|[1-9]?\d)){3}$/;

/** A DNS host name (RFC 1123 labels) or an IPv4/IPv6 address. */
export function isSafeHost(s: string): boolean {
  if (IPV4.test(s)) return true;
  if (s.includes(':')) return isIPv6(s);
  if (s.length > 253) return false;
  return s.split('.').every((label) => /^[A-Za-z0-9_]([A-Za-z0-9_-]{0,61}[A-Za-z0-9_])?$/.test(label));
}

/** Full or ::-compressed IPv6 (hex groups of 1-4 digits), at least two colons. */
export function isIPv6(s: string): boolean {
  if (s.length > 39 || (s.match(/:/g) ?? []).length < 2) return false;
  const halves = s.split('::');
  if (halves.length > 2) return false;
  const groups = halves.flatMap((h) => (h === '' ? [] : h.split(':')));
  if (!groups.every((g) => /^[0-9A-Fa-f]{1,4}$/.test(g))) return false;
  return halves.length === 2 ? groups.length < 8 : groups.length === 8;
}

/**
 * backup_manager_host: `[user@]host[:port]` (the original's "root@10.10.1.1" form), IPv6 in brackets.
 * Neither user nor host may start with "-" (ssh would read an option).
 */
export function parseManagerHost(v: string): { user?: string; host: string; port: number } | undefined {
  const m = /^(?:([A-Za-z0-9_][A-Za-z0-9._-]*)@)?(\[[0-9A-Fa-f:]+\]|[^:@\s]+)(?::(\d{1,5}))?$/.exec(v.trim());
  if (!m) return undefined;
  const host = m[2]!.replace(/^\[|\]$/g, '');
  if (!isSafeHost(host)) return undefined;
  const port = m[3] ? Number(m[3]) : 22;
  if (port < 1 || port > 65535) return undefined;
  return { ...(m[1] ? { user: m[1] } : {}), host, port };
}

/**
 * A login name as POSIX portable names allow (letters, digits, `.`, `_`, `-`; not starting with
 * `-`), at most 32 characters. It reaches `ansible-playbook -u`, which Ansible templates: nothing
 * else may pass. Empty means "none".
 */
export function parseUserName(v: string): Parsed<string | undefined> {
  if (v === '') return ok(undefined);
  return /^[A-Za-z_][A-Za-z0-9._-]{0,31}$/.test(v)
    ? ok(v)
    : bad('must be a user name (letters, digits, ".", "_", "-"; at most 32)');
}

export function parseHost(v: string): Parsed<string> {
  return isSafeHost(v) ? ok(v) : bad('is not a safe host name or IP address');
}

export function parsePath(v: string): Parsed<string> {
  if (v === '') return bad('must not be empty');
  if (!v.startsWith('/')) return bad('must be an absolute path');
  if (/[\0\n\r]/.test(v)) return bad('contains a control character');
  if (v.split('/').includes('..')) return bad('must not contain ".."');
  return ok(v);
}

export function parseEmails(v: string): Parsed<string[]> {
  const list = v
    .split(',')
    .map((s) => s.trim())
    .filter((s) => s !== '');
  const wrong = list.find((a) => !/^[^\s@<>,;]+@[^\s@<>,;]+$/.test(a));
  return wrong ? bad(`${JSON.stringify(clip(wrong))} is not an email address`) : ok(list);
}

/**
 * Split a command into arguments the way a POSIX shell would split words, but never run a shell:
 * whitespace separates, single quotes are literal, double quotes allow \" and \\, a backslash
 * outside quotes escapes the next character. No expansion of any kind.
 */
export function splitCommand(v: string): Parsed<string[]> {
  const args: string[] = [];
  let cur = '';
  let inWord = false;
  let quote: "'" | '"' | null = null;
  for (let i = 0; i < v.length; i++) {
    const c = v[i] as string;
    if (quote === "'") {
      if (c === "'") quote = null;
      else cur += c;
    } else if (quote === '"') {
      if (c === '"') quote = null;
      else if (c === '\\' && (v[i + 1] === '"' || v[i + 1] === '\\')) cur += v[++i];
      else cur += c;
    } else if (c === "'" || c === '"') {
      quote = c;
      inWord = true;
    } else if (c === '\\' && i + 1 < v.length) {
      cur += v[++i];
      inWord = true;
    } else if (/\s/.test(c)) {
      if (inWord) args.push(cur);
      cur = '';
      inWord = false;
    } else {
      cur += c;
      inWord = true;
    }
  }
  if (quote) return bad(`unterminated ${quote} quote`);
  if (inWord) args.push(cur);
  if (args.length === 0) return bad('must not be empty');
  return ok(args);
}

export function parseTimezone(v: string): Parsed<string> {
  // The common case without starting ICU's time zone data (~15 ms of every command's start).
  if (v === 'UTC') return ok(v);
  try {
    new Intl.DateTimeFormat('en-US', { timeZone: v });
    return ok(v);
  } catch {
    return bad('is not a known time zone (use an IANA name such as Europe/Berlin or UTC)');
  }
}

/** Levenshtein distance, for "did you mean". */
export function editDistance(a: string, b: string): number {
  const d: number[] = Array.from({ length: b.length + 1 }, (_, j) => j);
  for (let i = 1; i <= a.length; i++) {
    let prev = d[0] as number;
    d[0] = i;
    for (let j = 1; j <= b.length; j++) {
      const tmp = d[j] as number;
      d[j] = Math.min((d[j] as number) + 1, (d[j - 1] as number) + 1, prev + (a[i - 1] === b[j - 1] ? 0 : 1));
      prev = tmp;
    }
  }
  return d[b.length] as number;
}

export function closest(word: string, candidates: readonly string[]): string | undefined {
  // The distance costs length x length: a huge word is no typo of anything.
  if (word.length > 100) return undefined;
  let best: string | undefined;
  let bestD = Infinity;
  for (const c of candidates) {
    const dist = editDistance(word, c);
    if (dist < bestD) {
      best = c;
      bestD = dist;
    }
  }
  return bestD <= Math.max(2, Math.floor(word.length / 3)) ? best : undefined;
}
