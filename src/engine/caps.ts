/**
 * Caps on what a DB host controls: the size of the stream it sends, what that stream extracts to,
 * and how much of the tool's log the manager keeps. A DB host is untrusted (DESIGN.md, Trust), so
 * each of these is bounded; the defaults follow the backups seen so far and the free space.
 * Pure: (config value or undefined, last full, free space) -> cap, with the words for the one line
 * a failed backup prints.
 */
import { formatBytes } from '../util/size.js';

const KiB = 1024;
const MiB = 1024 * KiB;
const GiB = 1024 * MiB;
const TiB = 1024 * GiB;

/** A stream may always be this large, whatever the last full was (a first full has none). */
export const STREAM_FLOOR_BYTES = 10 * GiB;
/** ... and up to this multiple of the last full's stream (a database may grow between fulls). */
export const STREAM_LAST_FULL_FACTOR = 4;
/**
 * What one stream may extract to: this multiple of its own size. Honest streams here compress
 * 3x (sysbench data) to 20x (a nearly empty server: zeroed pages); a zstd bomb reaches thousands.
 */
export const EXTRACT_STREAM_FACTOR = 100;
export const EXTRACT_FLOOR_BYTES = 10 * GiB;
/**
 * Left free in backup_dir by any cap derived from free space (other hosts, ready files, logs):
 * 1 GiB, or a tenth of the free space when that is less, so that a small filesystem (a 300 MB
 * tmpfs in the tests, a small volume) still takes backups that fit it.
 */
export const FREE_RESERVE_BYTES = 1 * GiB;
export const FREE_RESERVE_FRACTION = 0.1;

/** The reserve kept free by a cap derived from `freeBytes`: min(1 GiB, 10 % of it). */
export function freeReserveBytes(freeBytes: number): number {
  return Math.max(0, Math.min(FREE_RESERVE_BYTES, Math.floor(freeBytes * FREE_RESERVE_FRACTION)));
}
/** The tool's log is kept by its tail only: the verdict needs the last lines (`completed OK!`). */
export const TOOL_LOG_TAIL_BYTES = 1 * MiB;

export interface Cap {
  bytes: number;
  /** Where the number came from: the config key, the default rule, or the free space. */
  source: 'config' | 'default' | 'free space';
  /** For the error line, e.g. "10.0 GiB, the default: the larger of 4x the last full and 10.0 GiB". */
  why: string;
}

export interface StreamCapInput {
  /** max_stream_bytes from backup.conf, when set. */
  configured?: number;
  /** Stream bytes of the host's newest full backup, when it has one. */
  lastFullBytes?: number;
  /** Free bytes in backup_dir before the transfer. */
  freeBytes: number;
  /** Default: freeReserveBytes(freeBytes). */
  reserveBytes?: number;
}

/**
 * max_stream_bytes: the configured value, else the larger of 4x the last full's stream and 10 GiB;
 * never more than the free space less the reserve (a stream that cannot fit fails clearly and early
 * instead of filling the disk that other hosts share). xb_pull stops the transfer at this size.
 */
export function maxStreamBytes(i: StreamCapInput): Cap {
  const base: Cap =
    i.configured !== undefined
      ? { bytes: i.configured, source: 'config', why: `${formatBytes(i.configured)}, set in backup.conf` }
      : {
          bytes: Math.max(STREAM_LAST_FULL_FACTOR * (i.lastFullBytes ?? 0), STREAM_FLOOR_BYTES),
          source: 'default',
          why: `the default: the larger of ${STREAM_LAST_FULL_FACTOR}x the last full (${
            i.lastFullBytes === undefined ? 'none yet' : formatBytes(i.lastFullBytes)
          }) and ${formatBytes(STREAM_FLOOR_BYTES)}`,
        };
  if (base.source === 'default') base.why = `${formatBytes(base.bytes)}, ${base.why}`;
  return clampToFree(base, i.freeBytes, i.reserveBytes ?? freeReserveBytes(i.freeBytes));
}

export interface ExtractCapInput {
  /** max_extract_bytes from backup.conf, when set. */
  configured?: number;
  /** Bytes of the stream being extracted (as stored, compressed). */
  streamBytes: number;
  /** Free bytes where it is extracted. */
  freeBytes: number;
  /** Default: freeReserveBytes(freeBytes). */
  reserveBytes?: number;
}

/** max_extract_bytes: the configured value, else 100x the stream (at least 10 GiB); within the free space. */
export function maxExtractBytes(i: ExtractCapInput): Cap {
  const base: Cap =
    i.configured !== undefined
      ? { bytes: i.configured, source: 'config', why: `${formatBytes(i.configured)}, set in backup.conf` }
      : {
          bytes: Math.max(EXTRACT_STREAM_FACTOR * i.streamBytes, EXTRACT_FLOOR_BYTES),
          source: 'default',
          why: `the default: ${EXTRACT_STREAM_FACTOR}x the stream (${formatBytes(i.streamBytes)}), at least ${formatBytes(EXTRACT_FLOOR_BYTES)}`,
        };
  if (base.source === 'default') base.why = `${formatBytes(base.bytes)}, ${base.why}`;
  return clampToFree(base, i.freeBytes, i.reserveBytes ?? freeReserveBytes(i.freeBytes));
}

function clampToFree(base: Cap, freeBytes: number, reserve: number): Cap {
  const room = Math.max(0, Math.floor(freeBytes - reserve));
  if (room >= base.bytes) return base;
  return {
    bytes: room,
    source: 'free space',
    why: `${formatBytes(room)}: the free space (${formatBytes(Math.max(0, freeBytes))}) less a ${formatBytes(reserve)} reserve; the disk is nearly full`,
  };
}

/** The tool log tail kept in memory and in the logs: tool_log_tail_bytes, else 1 MiB. */
export function toolLogTailBytes(configured?: number): number {
  return configured ?? TOOL_LOG_TAIL_BYTES;
}

/**
 * The one line of a backup that went over a cap, e.g.
 * `the stream is over max_stream_bytes (10.0 GiB, set in backup.conf); the partial data was removed`.
 */
export function overCapMessage(what: string, key: string, cap: Cap): string {
  return `${what} is over ${key} (${cap.why}); the partial data was removed`;
}

export interface WorkerLimitInput {
  /** The step's timeout (wall clock). */
  timeoutMs: number;
  /** Threads the step may keep busy (its --parallel, 1 for a single-threaded tool). */
  threads: number;
  /** The largest file the step may legitimately write: its extract cap. */
  maxFileBytes: number;
}

/**
 * Kernel limits for a confined step: CPU seconds for its whole timeout on every thread it may use
 * (CPU time is summed over threads), and a file size no honest file can exceed (the extract cap).
 */
export function workerLimits(i: WorkerLimitInput): { cpuSeconds: number; fsizeBytes: number } {
  return {
    cpuSeconds: Math.max(1, Math.ceil((i.timeoutMs / 1000) * Math.max(1, i.threads))),
    fsizeBytes: Math.max(1, Math.floor(i.maxFileBytes)),
  };
}

const SIZE_UNITS: Record<string, number> = { '': 1, k: KiB, m: MiB, g: GiB, t: TiB };

/**
 * A size as backup.conf would give it: `10737418240`, `10G`, `10GB`, `10GiB`, `512m` (K, M, G, T are
 * powers of 1024). Undefined when it is not one.
 */
export function parseByteSize(s: string): number | undefined {
  const m = /^\s*(\d{1,15})\s*([kmgt]?)(i?b)?\s*$/i.exec(s);
  if (!m) return undefined;
  if (m[3] && !m[2]) return m[3].toLowerCase() === 'b' ? Number(m[1]) : undefined;
  const n = Number(m[1]) * SIZE_UNITS[m[2]!.toLowerCase()]!;
  return Number.isSafeInteger(n) ? n : undefined;
}
