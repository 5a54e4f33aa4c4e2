/** manifest.json of a stored backup (docs/ARCHITECTURE.md, catalog). */
import { isItemFileName, isItemId } from './names.js';

export type BackupType = 'full' | 'incremental';

export interface BinlogInfo {
  file: string;
  position: number;
  gtid?: string;
}

export interface Manifest {
  format: 1;
  id: string;
  type: BackupType;
  host: string;
  /** Id of the backup this incremental applies to; null for a full. */
  parent: string | null;
  from_lsn: number;
  to_lsn: number;
  last_lsn?: number;
  /** The stored stream: file name in the backup's directory, its size and sha256 computed while streaming. */
  file: string;
  bytes: number;
  sha256: string;
  compress: 'zstd' | 'gzip' | 'none';
  tool: string;
  tool_version?: string;
  binlog?: BinlogInfo;
  /** Why this type was chosen (schedule reason). */
  reason: string;
  started_at: string;
  finished_at: string;
  seconds: number;
  /** Set when the backup's prepare or verification failed: it is never a parent again. */
  unusable?: { reason: string; at: string };
}

export function isUsable(m: Manifest): boolean {
  return !m.unusable;
}

const REQUIRED: (keyof Manifest)[] = ['id', 'type', 'host', 'from_lsn', 'to_lsn', 'file', 'bytes', 'sha256'];

/** Pure: parse and sanity-check a manifest's JSON; returns an error message when it is not one. */
export function parseManifest(text: string): Manifest | string {
  let m: Partial<Manifest>;
  try {
    m = JSON.parse(text) as Partial<Manifest>;
  } catch {
    return 'manifest.json is not valid JSON';
  }
  if (typeof m !== 'object' || m === null || Array.isArray(m)) return 'manifest.json is not an object';
  for (const k of REQUIRED) if (m[k] === undefined || m[k] === null) return `manifest.json lacks "${k}"`;
  for (const k of ['from_lsn', 'to_lsn', 'bytes'] as const) {
    if (typeof m[k] !== 'number' || !Number.isSafeInteger(m[k]))
      return `manifest.json has a non-numeric "${k}"`;
  }
  if (m.type !== 'full' && m.type !== 'incremental')
    return `manifest.json has an unknown type ${JSON.stringify(m.type)}`;
  if (m.type === 'incremental' && !m.parent) return 'manifest.json of an incremental names no parent';
  // Names from a store are joined into paths and keys: nothing that could leave the item's place.
  if (!isItemId(m.id)) return `manifest.json has an invalid id ${JSON.stringify(m.id)}`;
  if (m.parent != null && !isItemId(m.parent))
    return `manifest.json has an invalid parent ${JSON.stringify(m.parent)}`;
  if (!isItemFileName(m.file)) return `manifest.json names an invalid file ${JSON.stringify(m.file)}`;
  return m as Manifest;
}
