/**
 * Pure parts of the S3 catalog driver (s3.ts): where each item's objects are under
 * `PREFIX/<host>/`, the plaintext per-host index (what list and a non-deep verify read without the
 * private key), and the owner marker that keeps a second manager from writing the same host.
 * Everything parsed here comes from the store: untrusted, bounded, validated field by field.
 */
import { parseManifest, type Manifest } from '../catalog/manifest.js';
import { isItemFileName, isItemId } from '../catalog/names.js';
import type { Parsed } from '../config/values.js';
import { compareNames, validBinlogName } from '../binlog/names.js';
import type { BackupRef } from './catalog-store.js';

const ok = <T>(value: T): Parsed<T> => ({ ok: true, value });
const bad = <T>(error: string): Parsed<T> => ({ ok: false, error });

/** The index and the owner marker are small; anything larger is refused unread. */
export const MAX_INDEX_BYTES = 32 * 1024 * 1024;
export const MAX_OWNER_BYTES = 64 * 1024;
const MAX_ITEMS = 20_000;
const SHA = /^[0-9a-f]{64}$/;

export const INDEX_NAME = 'index.json';
export const OWNER_NAME = 'owner.json';
/** Suffix of an age-encrypted object; none when offsite_encryption = none. */
export const AGE_SUFFIX = '.age';

/** One stored object of an item: its name as the local file, and what the store holds. */
export interface IndexObject {
  /** The local file name (the object's name is this plus `.age` when encrypted). */
  file: string;
  /** Bytes of the object as stored (ciphertext when encrypted). */
  bytes: number;
  /** sha256 of the object as stored. */
  sha256: string;
  /** sha256 of the plaintext (= the manifest's for the data file). */
  plain_sha256: string;
}

export interface IndexBackup {
  kind: 'backup';
  manifest: Manifest;
  encrypted: boolean;
  objects: IndexObject[];
  uploaded_at: string;
}

/** A ready file's description, reduced to what needs no key and holds no data. */
export interface IndexReadyInfo {
  id: string;
  file: string;
  sha256: string;
  compress: 'zstd' | 'gzip' | 'none';
  bytes?: number;
  to_lsn?: number;
  contains?: string[];
  created_at?: string;
}

export interface IndexReady {
  kind: 'ready';
  info: IndexReadyInfo;
  encrypted: boolean;
  objects: IndexObject[];
  uploaded_at: string;
}

export type IndexItem = IndexBackup | IndexReady;

/**
 * A closed binlog file of the host (`binlog/<name>[.age]`). Its index entry is its commit marker:
 * written after the object, removed before it. What the local store knows of its events (times,
 * GTID state at its start and end) comes along, so a restore from the store chooses without a key.
 */
export interface IndexBinlog {
  name: string;
  /** Plaintext bytes and sha256 (the local file's). */
  bytes: number;
  plain_sha256: string;
  /** The object as stored (ciphertext when encrypted). */
  object: { bytes: number; sha256: string };
  encrypted: boolean;
  first_time?: number;
  last_time?: number;
  gtid_list?: string;
  state_end?: string;
  last_gtid?: string;
  uploaded_at: string;
}

/** A gap the local store found in its binlogs (binlog/gaps.json), recorded so that a restore from the store names it. */
export interface IndexGap {
  detected_at: string;
  after_file?: string;
  after_state: string;
  before_file: string;
  before_gtid_list: string;
  reason: string;
}

export interface HostIndex {
  format: 1;
  host: string;
  items: IndexItem[];
  /** Closed binlog files off-site, in file order (absent in indexes written before binlogs went off-site). */
  binlogs?: IndexBinlog[];
  binlog_gaps?: IndexGap[];
}

/** The object name (below `<host>/`) of a binlog file. */
export function binlogObjectName(name: string, encrypted: boolean): string {
  return `binlog/${name}${encrypted ? AGE_SUFFIX : ''}`;
}

export function emptyIndex(host: string): HostIndex {
  return { format: 1, host, items: [] };
}

/** The directory of an item below `<host>/`, as in the local layout. */
export function itemDir(ref: BackupRef | { kind: 'ready' }): string {
  return ref.kind === 'ready' ? 'ready' : `${ref.kind}/${(ref as BackupRef).id}`;
}

/** The object name (below `<host>/`) of an item's file. */
export function objectName(ref: BackupRef | { kind: 'ready' }, file: string, encrypted: boolean): string {
  return `${itemDir(ref)}/${file}${encrypted ? AGE_SUFFIX : ''}`;
}

/** The commit marker's file name of an item: the manifest, or the ready description. */
export function markerFile(item: Pick<IndexItem, 'kind'> & { id: string }): string {
  return item.kind === 'ready' ? `${item.id}.json` : 'manifest.json';
}

export function itemId(i: IndexItem): string {
  return i.kind === 'ready' ? i.info.id : i.manifest.id;
}

/** The object names (below `<host>/`) of an item: data files, then its commit marker. */
export function itemObjects(i: IndexItem): { data: string[]; marker: string } {
  const ref = i.kind === 'ready' ? { kind: 'ready' as const } : { kind: i.manifest.type, id: i.manifest.id };
  const marker = markerFile({ kind: i.kind, id: itemId(i) });
  return {
    data: i.objects.filter((o) => o.file !== marker).map((o) => objectName(ref, o.file, i.encrypted)),
    marker: objectName(ref, marker, i.encrypted),
  };
}

function isObj(v: unknown): v is Record<string, unknown> {
  return typeof v === 'object' && v !== null && !Array.isArray(v);
}

function isTime(v: unknown): v is string {
  return typeof v === 'string' && v.length <= 40 && !Number.isNaN(Date.parse(v));
}

function parseObjects(v: unknown): Parsed<IndexObject[]> {
  if (!Array.isArray(v) || v.length === 0 || v.length > 64) return bad('objects must be a list of 1 to 64');
  const out: IndexObject[] = [];
  for (const o of v) {
    if (!isObj(o)) return bad('an object entry that is not an object');
    if (!isItemFileName(o.file)) return bad(`an invalid file name ${JSON.stringify(o.file).slice(0, 80)}`);
    if (typeof o.bytes !== 'number' || !Number.isSafeInteger(o.bytes) || o.bytes < 0)
      return bad(`${o.file}: bad size`);
    if (typeof o.sha256 !== 'string' || !SHA.test(o.sha256)) return bad(`${o.file}: bad sha256`);
    if (typeof o.plain_sha256 !== 'string' || !SHA.test(o.plain_sha256))
      return bad(`${o.file}: bad plain_sha256`);
    if (out.some((x) => x.file === o.file)) return bad(`${o.file} listed twice`);
    out.push({ file: o.file, bytes: o.bytes, sha256: o.sha256, plain_sha256: o.plain_sha256 });
  }
  return ok(out);
}

function parseReadyEntry(v: unknown): Parsed<IndexReadyInfo> {
  if (!isObj(v)) return bad('info is not an object');
  if (!isItemId(v.id)) return bad('a ready item with an invalid id');
  if (!isItemFileName(v.file)) return bad(`ready ${v.id}: invalid file name`);
  if (typeof v.sha256 !== 'string' || !SHA.test(v.sha256)) return bad(`ready ${v.id}: bad sha256`);
  if (v.compress !== 'zstd' && v.compress !== 'gzip' && v.compress !== 'none')
    return bad(`ready ${v.id}: bad compress`);
  const info: IndexReadyInfo = { id: v.id, file: v.file, sha256: v.sha256, compress: v.compress };
  if (typeof v.bytes === 'number' && Number.isSafeInteger(v.bytes) && v.bytes >= 0) info.bytes = v.bytes;
  if (typeof v.to_lsn === 'number' && Number.isSafeInteger(v.to_lsn) && v.to_lsn >= 0) info.to_lsn = v.to_lsn;
  if (Array.isArray(v.contains) && v.contains.length <= 10_000 && v.contains.every(isItemId))
    info.contains = v.contains;
  if (isTime(v.created_at)) info.created_at = v.created_at;
  return ok(info);
}

/** One entry of the index -> an item, or why it is not one (a problem line, never thrown). */
export function parseIndexItem(v: unknown, host: string): Parsed<IndexItem> {
  if (!isObj(v)) return bad('an entry that is not an object');
  if (typeof v.encrypted !== 'boolean') return bad('an entry without "encrypted"');
  if (!isTime(v.uploaded_at)) return bad('an entry without a valid uploaded_at');
  const objects = parseObjects(v.objects);
  if (v.kind === 'backup') {
    const m = parseManifest(JSON.stringify(v.manifest ?? null));
    if (typeof m === 'string') return bad(`a backup whose manifest is invalid: ${m}`);
    if (m.host !== host) return bad(`${m.type}/${m.id}: manifest of host ${JSON.stringify(m.host)}`);
    if (!objects.ok) return bad(`${m.type}/${m.id}: ${objects.error}`);
    const data = objects.value.find((o) => o.file === m.file);
    if (!data) return bad(`${m.type}/${m.id}: its stream ${m.file} is not among its objects`);
    if (data.plain_sha256 !== m.sha256) return bad(`${m.type}/${m.id}: its stream's sha256 differs`);
    if (!objects.value.some((o) => o.file === 'manifest.json'))
      return bad(`${m.type}/${m.id}: no manifest object`);
    return ok({
      kind: 'backup',
      manifest: m,
      encrypted: v.encrypted,
      objects: objects.value,
      uploaded_at: v.uploaded_at,
    });
  }
  if (v.kind === 'ready') {
    const info = parseReadyEntry(v.info);
    if (!info.ok) return info;
    if (!objects.ok) return bad(`ready/${info.value.id}: ${objects.error}`);
    const data = objects.value.find((o) => o.file === info.value.file);
    if (!data || data.plain_sha256 !== info.value.sha256)
      return bad(`ready/${info.value.id}: its file is not among its objects with its sha256`);
    if (!objects.value.some((o) => o.file === `${info.value.id}.json`))
      return bad(`ready/${info.value.id}: no description object`);
    return ok({
      kind: 'ready',
      info: info.value,
      encrypted: v.encrypted,
      objects: objects.value,
      uploaded_at: v.uploaded_at,
    });
  }
  return bad('an entry of unknown kind');
}

/**
 * The index's text -> the items it holds and one problem line per entry that is not valid. A text
 * that is not an index at all is an error (the caller refuses to write over it).
 */
export function parseIndex(text: string, host: string): Parsed<{ index: HostIndex; problems: string[] }> {
  if (text.length > MAX_INDEX_BYTES) return bad('the index is larger than 32 MiB');
  let j: unknown;
  try {
    j = JSON.parse(text);
  } catch {
    return bad('the index is not JSON');
  }
  if (!isObj(j) || j.format !== 1) return bad('the index has an unknown format');
  if (j.host !== host) return bad(`the index is of host ${JSON.stringify(String(j.host).slice(0, 80))}`);
  if (!Array.isArray(j.items) || j.items.length > MAX_ITEMS) return bad('the index has no valid item list');
  const items: IndexItem[] = [];
  const problems: string[] = [];
  const seen = new Set<string>();
  for (const raw of j.items) {
    const p = parseIndexItem(raw, host);
    if (!p.ok) {
      problems.push(`index: ${p.error}`);
      continue;
    }
    const key =
      p.value.kind === 'ready'
        ? `ready/${p.value.info.id}`
        : `${p.value.manifest.type}/${p.value.manifest.id}`;
    if (seen.has(key)) {
      problems.push(`index: ${key} listed twice`);
      continue;
    }
    seen.add(key);
    items.push(p.value);
  }
  const binlogs: IndexBinlog[] = [];
  if (j.binlogs !== undefined && (!Array.isArray(j.binlogs) || j.binlogs.length > MAX_ITEMS))
    problems.push('index: binlogs is not a valid list');
  else
    for (const raw of (j.binlogs as unknown[] | undefined) ?? []) {
      const b = parseIndexBinlog(raw);
      if (!b.ok) problems.push(`index: ${b.error}`);
      else if (binlogs.some((x) => x.name === b.value.name))
        problems.push(`index: binlog/${b.value.name} listed twice`);
      else binlogs.push(b.value);
    }
  const gaps: IndexGap[] = [];
  if (j.binlog_gaps !== undefined && (!Array.isArray(j.binlog_gaps) || j.binlog_gaps.length > 10_000))
    problems.push('index: binlog_gaps is not a valid list');
  else
    for (const raw of (j.binlog_gaps as unknown[] | undefined) ?? []) {
      const g = parseIndexGap(raw);
      if (!g.ok) problems.push(`index: ${g.error}`);
      else gaps.push(g.value);
    }
  binlogs.sort((a, b) => compareNames(a.name, b.name));
  return ok({
    index: {
      format: 1,
      host,
      items,
      ...(binlogs.length > 0 ? { binlogs } : {}),
      ...(gaps.length > 0 ? { binlog_gaps: gaps } : {}),
    },
    problems,
  });
}

/** A GTID state or a GTID list as the binlog reader prints it (`0-1-5,1-2-7`), bounded. */
function isGtidText(v: unknown): v is string {
  return typeof v === 'string' && v.length <= 4096 && /^(\d+-\d+-\d+(,\d+-\d+-\d+)*)?$/.test(v);
}

function isSecond(v: unknown): v is number {
  return typeof v === 'number' && Number.isSafeInteger(v) && v >= 0;
}

const isSize = isSecond;

export function parseIndexBinlog(v: unknown): Parsed<IndexBinlog> {
  if (!isObj(v)) return bad('a binlog entry that is not an object');
  if (typeof v.name !== 'string' || !validBinlogName(v.name))
    return bad(`a binlog with an invalid name ${JSON.stringify(String(v.name)).slice(0, 80)}`);
  const what = `binlog/${v.name}`;
  if (typeof v.encrypted !== 'boolean') return bad(`${what}: no "encrypted"`);
  if (!isTime(v.uploaded_at)) return bad(`${what}: no valid uploaded_at`);
  if (!isSize(v.bytes)) return bad(`${what}: bad size`);
  if (typeof v.plain_sha256 !== 'string' || !SHA.test(v.plain_sha256))
    return bad(`${what}: bad plain_sha256`);
  const o = v.object;
  if (!isObj(o) || !isSize(o.bytes) || typeof o.sha256 !== 'string' || !SHA.test(o.sha256))
    return bad(`${what}: bad object size or sha256`);
  const b: IndexBinlog = {
    name: v.name,
    bytes: v.bytes,
    plain_sha256: v.plain_sha256,
    object: { bytes: o.bytes, sha256: o.sha256 },
    encrypted: v.encrypted,
    uploaded_at: v.uploaded_at,
  };
  if (isSecond(v.first_time)) b.first_time = v.first_time;
  if (isSecond(v.last_time)) b.last_time = v.last_time;
  if (isGtidText(v.gtid_list)) b.gtid_list = v.gtid_list;
  if (isGtidText(v.state_end)) b.state_end = v.state_end;
  if (isGtidText(v.last_gtid) && v.last_gtid !== '') b.last_gtid = v.last_gtid;
  return ok(b);
}

export function parseIndexGap(v: unknown): Parsed<IndexGap> {
  if (!isObj(v)) return bad('a binlog gap that is not an object');
  if (typeof v.before_file !== 'string' || !validBinlogName(v.before_file))
    return bad('a binlog gap with an invalid before_file');
  if (v.after_file !== undefined && (typeof v.after_file !== 'string' || !validBinlogName(v.after_file)))
    return bad('a binlog gap with an invalid after_file');
  if (!isGtidText(v.after_state) || !isGtidText(v.before_gtid_list))
    return bad(`a binlog gap before ${v.before_file} with an invalid GTID state`);
  const reason =
    typeof v.reason === 'string' ? v.reason.replace(/[^\x20-\x7e]/g, '?').slice(0, 300) : 'unknown';
  return ok({
    detected_at: isTime(v.detected_at) ? v.detected_at : new Date(0).toISOString(),
    ...(v.after_file !== undefined ? { after_file: v.after_file } : {}),
    after_state: v.after_state,
    before_file: v.before_file,
    before_gtid_list: v.before_gtid_list,
    reason,
  });
}

export function serializeIndex(i: HostIndex): string {
  const order = (x: IndexItem) => `${itemId(x)}${x.kind}`;
  const items = [...i.items].sort((a, b) => (order(a) < order(b) ? -1 : order(a) > order(b) ? 1 : 0));
  const binlogs = i.binlogs && [...i.binlogs].sort((a, b) => compareNames(a.name, b.name));
  return JSON.stringify({ ...i, items, ...(binlogs ? { binlogs } : {}) }, null, 1) + '\n';
}

/** Who writes a host's objects: the manager (hostname + host directory) and its config section. */
export interface Owner {
  format: 1;
  manager: string;
  section: string;
  since: string;
}

export function parseOwner(text: string): Parsed<Owner> {
  if (text.length > MAX_OWNER_BYTES) return bad('the owner marker is too large');
  let j: unknown;
  try {
    j = JSON.parse(text);
  } catch {
    return bad('the owner marker is not JSON');
  }
  if (!isObj(j) || j.format !== 1) return bad('the owner marker has an unknown format');
  const printable = (s: unknown): s is string =>
    typeof s === 'string' && s.length > 0 && s.length <= 512 && /^[\x20-\x7e]+$/.test(s);
  if (!printable(j.manager) || !printable(j.section) || !isTime(j.since))
    return bad('the owner marker has invalid fields');
  return ok({ format: 1, manager: j.manager, section: j.section, since: j.since });
}

export type OwnerDecision =
  { action: 'ok' } | { action: 'write'; note?: string } | { action: 'refuse'; why: string };

/**
 * Whether this manager may write the host's objects. No marker: write one. Ours: go on. Another
 * manager's (or one unreadable): refused unless taking over, which rewrites it (and says whose it was).
 */
export function ownerDecision(
  found: Parsed<Owner> | undefined,
  me: Pick<Owner, 'manager' | 'section'>,
  takeOver: boolean,
): OwnerDecision {
  if (found === undefined) return { action: 'write' };
  if (found.ok && found.value.manager === me.manager && found.value.section === me.section)
    return { action: 'ok' };
  const whose = found.ok
    ? `manager ${found.value.manager} (section [${found.value.section}]) since ${found.value.since}`
    : `an unreadable owner marker (${found.error})`;
  if (takeOver) return { action: 'write', note: `took over from ${whose}` };
  return {
    action: 'refuse',
    why: `these off-site objects are written by ${whose}; refusing to write them too (xb-mgr offsite sync --take-over moves them to this manager)`,
  };
}
