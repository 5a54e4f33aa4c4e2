/** `ready/<id>.json`: the description (and commit marker) of a ready file. Parsed here only. */
import type { HostConfig } from '../config/load.js';
import type { Manifest } from './manifest.js';
import { isItemFileName, isItemId } from './names.js';

export interface ReadyInfo {
  id: string;
  host: string;
  file: string;
  contains: string[];
  to_lsn: number;
  binlog?: Manifest['binlog'];
  bytes: number;
  sha256: string;
  compress: HostConfig['compress'];
  check: {
    tool: 'mysqlcheck';
    tables: number;
    ok: boolean;
    /** all: every table; changed: the tables the apply touched, non-InnoDB, system (`checked`). */
    scope?: 'all' | 'changed';
    reason?: string;
    /** The last full check of the base this file was made from. */
    full_check_at?: string;
    checked?: string[];
  };
  rebuilt_base: boolean;
  rebuild_reason?: string;
  steps: { step: string; seconds: number; bytes?: number; backup?: string; method?: string }[];
  created_at: string;
}

/** What retention needs of a ready item: its id and its data file. */
export interface ReadyRef {
  id: string;
  file: string;
}

function asObject(text: string): Record<string, unknown> | string {
  let v: unknown;
  try {
    v = JSON.parse(text);
  } catch {
    return 'not valid JSON';
  }
  if (typeof v !== 'object' || v === null || Array.isArray(v)) return 'not an object';
  return v as Record<string, unknown>;
}

/**
 * Pure: the part of `<id>.json` that names its file. Its own id, when it states one, must be the
 * id of its name; the file must be a plain name starting with the id (never `../x`).
 */
export function parseReadyRef(text: string, id: string): ReadyRef | string {
  const o = asObject(text);
  if (typeof o === 'string') return `${id}.json is ${o}`;
  if (o.id !== undefined && o.id !== id) return `${id}.json says it is ${JSON.stringify(o.id)}`;
  if (!isItemFileName(o.file) || !o.file.startsWith(`${id}.`) || o.file === `${id}.json`)
    return `${id}.json names no valid ready file (${JSON.stringify(o.file ?? null)})`;
  return { id, file: o.file };
}

/**
 * A description as read back from a store: what a restore needs is required (file, sha256,
 * compress); the rest is checked when present (older or hand-made descriptions lack it).
 */
export type StoredReadyInfo = Pick<ReadyInfo, 'id' | 'file' | 'sha256' | 'compress'> &
  Partial<Omit<ReadyInfo, 'id' | 'file' | 'sha256' | 'compress'>>;

const COMPRESS = new Set(['zstd', 'gzip', 'qpress', 'none']);

const isCount = (v: unknown) => typeof v === 'number' && Number.isSafeInteger(v) && v >= 0;

/** Pure: the whole description, checked enough to restore from; an error message otherwise. */
export function parseReadyInfo(text: string, id: string): StoredReadyInfo | string {
  const ref = parseReadyRef(text, id);
  if (typeof ref === 'string') return ref;
  const o = JSON.parse(text) as Record<string, unknown>;
  if (typeof o.sha256 !== 'string' || !/^[0-9a-f]{64}$/.test(o.sha256))
    return `${id}.json has no valid "sha256"`;
  if (typeof o.compress !== 'string' || !COMPRESS.has(o.compress))
    return `${id}.json has an unknown compress ${JSON.stringify(o.compress ?? null)}`;
  if (o.contains !== undefined && (!Array.isArray(o.contains) || !o.contains.every(isItemId)))
    return `${id}.json has an invalid "contains"`;
  for (const k of ['bytes', 'to_lsn'] as const)
    if (o[k] !== undefined && !isCount(o[k])) return `${id}.json has a non-numeric "${k}"`;
  return { ...(o as unknown as StoredReadyInfo), id, file: ref.file };
}
