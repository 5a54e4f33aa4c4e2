/**
 * Pure parsers of the off-site config values (offsite_url, s3_endpoint, offsite_recipients): text ->
 * value or the one-line reason, in the shape of src/config/values.ts so keys.ts can use them.
 */
import type { Parsed } from '../config/values.js';

const ok = <T>(value: T): Parsed<T> => ({ ok: true, value });
const bad = <T>(error: string): Parsed<T> => ({ ok: false, error });

export interface OffsiteUrl {
  bucket: string;
  /** '' or a prefix without leading or trailing slash. */
  prefix: string;
}

/** S3 bucket naming rules (lower case, 3-63, no dots next to dashes, not an IP address). */
const BUCKET = /^[a-z0-9][a-z0-9.-]{1,61}[a-z0-9]$/;
/** One prefix segment: a conservative set, so a key never needs escaping and never walks (..). */
const SEGMENT = /^[A-Za-z0-9_][A-Za-z0-9._-]{0,127}$/;

/** `s3://BUCKET[/PREFIX]`; empty means no off-site copy. */
export function parseOffsiteUrl(v: string): Parsed<OffsiteUrl | undefined> {
  const s = v.trim();
  if (s === '') return ok(undefined);
  const m = /^s3:\/\/([^/]+)(?:\/(.*))?$/.exec(s);
  if (!m) return bad('must be s3://BUCKET[/PREFIX]');
  const bucket = m[1]!;
  if (!BUCKET.test(bucket) || bucket.includes('..') || /^\d+\.\d+\.\d+\.\d+$/.test(bucket)) {
    return bad(`bucket "${bucket}" is not a valid S3 bucket name (3-63 of a-z 0-9 . -)`);
  }
  const prefix = (m[2] ?? '').replace(/\/+$/, '');
  if (prefix !== '') {
    const parts = prefix.split('/');
    if (parts.some((p) => !SEGMENT.test(p) || p === '..' || p === '.')) {
      return bad('the prefix must be /-separated names of letters, digits, . _ - (no empty, . or .. parts)');
    }
    if (prefix.length > 512) return bad('the prefix is too long (at most 512 characters)');
  }
  return ok({ bucket, prefix });
}

/** `http(s)://host[:port][/path]`; empty: AWS for the region. */
export function parseEndpoint(v: string): Parsed<string | undefined> {
  const s = v.trim();
  if (s === '') return ok(undefined);
  let u: URL;
  try {
    u = new URL(s);
  } catch {
    return bad('must be a URL such as https://s3.example.com');
  }
  if (u.protocol !== 'http:' && u.protocol !== 'https:') return bad('must start with http:// or https://');
  if (u.username !== '' || u.password !== '') return bad('must not hold credentials (use s3_access_key_id)');
  if (u.search !== '' || u.hash !== '') return bad('must have no query or fragment');
  return ok(s.replace(/\/+$/, ''));
}

/** An age X25519 recipient: "age1" and 58 bech32 characters. */
export const AGE_RECIPIENT = /^age1[qpzry9x8gf2tvdw0s3jn54khce6mua7l]{58}$/;

/** Where the recipients come from: listed in the config, or a file read when they are needed. */
export type Recipients = { keys: string[] } | { file: string };

/** `age1...[, age1...]` or `@/absolute/path`; empty: none. */
export function parseRecipients(v: string): Parsed<Recipients | undefined> {
  const s = v.trim();
  if (s === '') return ok(undefined);
  if (s.startsWith('@')) {
    const file = s.slice(1).trim();
    if (!file.startsWith('/')) return bad('@FILE must be an absolute path, e.g. @/etc/xb-mgr/recipients.txt');
    if (file.includes('\0') || file.includes('\n')) return bad('@FILE is not a valid path');
    return ok({ file });
  }
  const keys = s
    .split(',')
    .map((k) => k.trim())
    .filter((k) => k !== '');
  return checkKeys(keys, 'offsite_recipients');
}

function checkKeys(keys: string[], where: string): Parsed<Recipients> {
  if (keys.length === 0) return bad('lists no recipient');
  if (keys.length > 64) return bad('lists more than 64 recipients');
  const wrong = keys.find((k) => !AGE_RECIPIENT.test(k));
  if (wrong !== undefined) {
    const shown = wrong.length > 24 ? `${wrong.slice(0, 24)}...` : wrong;
    return bad(
      `"${shown}" in ${where} is not an age public key (age1 and 58 characters; age-keygen -y KEY prints it)`,
    );
  }
  return ok({ keys: [...new Set(keys)] });
}

/**
 * The text of a recipients file: one key a line, `#` comments and blank lines ignored (the format
 * `age -R` reads, limited to age1 keys). A private key pasted by mistake is named as such.
 */
export function parseRecipientsFile(text: string, file: string): Parsed<string[]> {
  if (text.length > 64 * 1024) return bad(`${file} is larger than 64 KiB`);
  if (/AGE-SECRET-KEY-/i.test(text)) {
    return bad(`${file} holds an age PRIVATE key: give the manager only the public key (age-keygen -y)`);
  }
  const keys = text
    .split('\n')
    .map((l) => l.trim())
    .filter((l) => l !== '' && !l.startsWith('#'));
  const p = checkKeys(keys, file);
  return p.ok ? ok((p.value as { keys: string[] }).keys) : p;
}
