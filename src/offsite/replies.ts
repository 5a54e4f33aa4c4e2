/**
 * Pure checks of what the object store answers. The store is untrusted (docs: Trust): a name,
 * size, count or ETag it returns is validated and bounded before anything uses it.
 */
import type { Parsed } from '../config/values.js';

/** S3's own limits: keys up to 1024 bytes, objects up to 5 TiB, parts 1..10000. */
export const MAX_KEY_BYTES = 1024;
export const MAX_OBJECT_BYTES = 5 * 1024 ** 4;
export const MAX_PARTS = 10_000;
/** Most objects one listing may return in all its pages (a host has far fewer). */
export const MAX_LISTED = 100_000;

const ok = <T>(value: T): Parsed<T> => ({ ok: true, value });
const bad = <T>(error: string): Parsed<T> => ({ ok: false, error });

export interface Listed {
  key: string;
  size: number;
}

/** A key under `prefix`: bounded, printable, no empty/./.. segment in the part below the prefix. */
export function checkKey(key: unknown, prefix: string): Parsed<string> {
  if (typeof key !== 'string') return bad('an object without a name');
  if (Buffer.byteLength(key) > MAX_KEY_BYTES) return bad('an object name longer than 1024 bytes');
  if ([...key].some((c) => c.charCodeAt(0) < 0x20 || c.charCodeAt(0) === 0x7f))
    return bad('an object name with control characters');
  const head = prefix === '' ? '' : `${prefix}/`;
  if (!key.startsWith(head)) return bad(`an object outside the prefix "${prefix}"`);
  const rel = key.slice(head.length);
  if (rel === '' || rel.split('/').some((p) => p === '' || p === '.' || p === '..')) {
    return bad(`an object name with an empty, . or .. part: ${JSON.stringify(key.slice(0, 200))}`);
  }
  return ok(key);
}

export function checkSize(size: unknown): Parsed<number> {
  if (typeof size !== 'number' || !Number.isSafeInteger(size) || size < 0 || size > MAX_OBJECT_BYTES) {
    return bad(
      `an object size that is not a whole number of bytes up to 5 TiB (${String(size).slice(0, 40)})`,
    );
  }
  return ok(size);
}

/** One page of ListObjectsV2 -> its entries, or the first thing wrong with it. */
export function checkListing(contents: unknown, prefix: string): Parsed<Listed[]> {
  if (contents === undefined) return ok([]);
  if (!Array.isArray(contents)) return bad('a listing that is not a list');
  if (contents.length > 1000) return bad('a listing page of more than 1000 objects');
  const out: Listed[] = [];
  for (const c of contents as { Key?: unknown; Size?: unknown }[]) {
    const k = checkKey(c?.Key, prefix);
    if (!k.ok) return k;
    const s = checkSize(c?.Size);
    if (!s.ok) return s;
    out.push({ key: k.value, size: s.value });
  }
  return ok(out);
}

/** S3 ETags of plain objects and of parts are a quoted MD5 in hex. */
const ETAG = /^"?([0-9a-f]{32})"?$/i;

/** Pure: the MD5 in hex of an ETag, if it is one. */
export function etagMd5(etag: unknown): string | undefined {
  if (typeof etag !== 'string') return undefined;
  const m = ETAG.exec(etag.trim());
  return m ? m[1]!.toLowerCase() : undefined;
}

export interface ListedPart {
  n: number;
  size: number;
  /** MD5 hex of the part as the store has it. */
  md5: string;
}

/** One page of ListParts -> its parts, validated (numbers, sizes, ETags). */
export function checkParts(parts: unknown): Parsed<ListedPart[]> {
  if (parts === undefined) return ok([]);
  if (!Array.isArray(parts)) return bad('a part list that is not a list');
  if (parts.length > 1000) return bad('a part list page of more than 1000 parts');
  const out: ListedPart[] = [];
  for (const p of parts as { PartNumber?: unknown; Size?: unknown; ETag?: unknown }[]) {
    const n = p?.PartNumber;
    if (typeof n !== 'number' || !Number.isInteger(n) || n < 1 || n > MAX_PARTS) {
      return bad(`a part number out of 1..10000 (${String(n).slice(0, 20)})`);
    }
    const s = checkSize(p?.Size);
    if (!s.ok) return s;
    const md5 = etagMd5(p?.ETag);
    if (md5 === undefined) return bad(`part ${n} without an MD5 ETag`);
    out.push({ n, size: s.value, md5 });
  }
  return ok(out);
}

/** Multipart upload ids are opaque to us but bounded, printable and free of separators. */
export function checkUploadId(id: unknown): Parsed<string> {
  if (typeof id !== 'string' || id.length === 0 || id.length > 1024 || !/^[\x21-\x7e]+$/.test(id)) {
    return bad('an upload id that is empty, too long or not printable');
  }
  return ok(id);
}
