/**
 * Pure decisions of a resumable multipart upload: how a spooled file is cut into parts, the state
 * file that survives a kill -9 (upload id + part ETags), and which parts a resume must still send.
 */
import type { Parsed } from '../config/values.js';
import { checkUploadId, etagMd5, MAX_PARTS, type ListedPart } from './replies.js';

export const MIN_PART = 5 * 1024 * 1024;
export const MAX_PART = 5 * 1024 ** 3;

export interface Part {
  n: number;
  offset: number;
  length: number;
}

/**
 * The parts of a file of `size` bytes: `partSize` each (raised, in whole MiB, when 10000 parts would
 * not hold the file), the last one shorter; an empty file is one empty part (S3 allows that).
 */
export function planParts(size: number, partSize: number): { partSize: number; parts: Part[] } {
  if (!Number.isSafeInteger(size) || size < 0) throw new RangeError(`bad size ${size}`);
  let ps = Math.max(partSize, MIN_PART);
  if (Math.ceil(size / ps) > MAX_PARTS) ps = Math.ceil(size / MAX_PARTS / 1048576) * 1048576;
  if (ps > MAX_PART) throw new RangeError(`${size} bytes do not fit in ${MAX_PARTS} parts of at most 5 GiB`);
  const parts: Part[] = [];
  for (let off = 0, n = 1; off < size || n === 1; off += ps, n++) {
    parts.push({ n, offset: off, length: Math.min(ps, size - off) });
    if (size === 0) break;
  }
  return { partSize: ps, parts };
}

/** What is on disk beside the spool while its upload is open. */
export interface UploadState {
  v: 1;
  bucket: string;
  key: string;
  uploadId: string;
  /** The spool this upload is of: a changed file starts a new upload. */
  size: number;
  mtimeMs: number;
  partSize: number;
  /** Part number -> MD5 hex (= the part's ETag) of parts the store acknowledged. */
  etags: Record<string, string>;
}

/** The spool a state must match to be resumed. */
export interface Spool {
  bucket: string;
  key: string;
  size: number;
  mtimeMs: number;
  partSize: number;
}

/** Pure: the state file's text -> a state, or why it cannot be used (then a new upload starts). */
export function parseState(text: string): Parsed<UploadState> {
  let j: unknown;
  try {
    j = JSON.parse(text);
  } catch {
    return { ok: false, error: 'not JSON' };
  }
  const s = j as Partial<UploadState>;
  if (typeof s !== 'object' || s === null || s.v !== 1) return { ok: false, error: 'unknown version' };
  if (typeof s.bucket !== 'string' || typeof s.key !== 'string')
    return { ok: false, error: 'no bucket or key' };
  if (!checkUploadId(s.uploadId).ok) return { ok: false, error: 'bad upload id' };
  for (const f of ['size', 'mtimeMs', 'partSize'] as const) {
    if (typeof s[f] !== 'number' || !Number.isFinite(s[f]) || s[f] < 0)
      return { ok: false, error: `bad ${f}` };
  }
  if (typeof s.etags !== 'object' || s.etags === null || Array.isArray(s.etags)) {
    return { ok: false, error: 'bad etags' };
  }
  const etags: Record<string, string> = {};
  for (const [n, e] of Object.entries(s.etags)) {
    const num = Number(n);
    const md5 = etagMd5(e);
    if (!Number.isInteger(num) || num < 1 || num > MAX_PARTS || md5 === undefined) {
      return { ok: false, error: `bad part ${n.slice(0, 10)}` };
    }
    etags[String(num)] = md5;
  }
  return { ok: true, value: { ...(s as UploadState), etags } };
}

/** Pure: whether a recorded state is an upload of this very spool. */
export function stateMatches(s: UploadState, spool: Spool): boolean {
  return (
    s.bucket === spool.bucket &&
    s.key === spool.key &&
    s.size === spool.size &&
    s.mtimeMs === spool.mtimeMs &&
    s.partSize === spool.partSize
  );
}

export interface ResumeDecision {
  /** Parts the store holds intact: part number -> MD5 hex. */
  kept: Map<number, string>;
  /** Listed parts whose MD5 is not known yet (stored after the last state write): hash locally. */
  toHash: Part[];
  /** Parts to send. */
  send: Part[];
}

/**
 * Pure: after ListParts, what to keep and what to send. A listed part is kept when its size is the
 * planned one and its MD5 equals the one recorded; a listed part not recorded (acknowledged after
 * the last state write, i.e. in flight at the kill) is kept only if the local bytes hash to it
 * (`toHash`, decided by the caller); everything else is sent again.
 */
export function resumeDecision(
  parts: readonly Part[],
  listed: readonly ListedPart[],
  recorded: Record<string, string>,
): ResumeDecision {
  const byN = new Map(listed.map((p) => [p.n, p]));
  const kept = new Map<number, string>();
  const toHash: Part[] = [];
  const send: Part[] = [];
  for (const p of parts) {
    const l = byN.get(p.n);
    if (!l || l.size !== p.length) {
      send.push(p);
      continue;
    }
    const rec = recorded[String(p.n)];
    if (rec === undefined) toHash.push(p);
    else if (rec === l.md5) kept.set(p.n, l.md5);
    else send.push(p);
  }
  return { kept, toHash, send };
}
