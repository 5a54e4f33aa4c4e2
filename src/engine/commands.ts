/**
 * Pure command-line builders of the transfer (exact argv, table-tested, in the manner of antfu's
 * ni): stream compression and file names. What differs between the backup tools is in engine.ts.
 */
import type { HostConfig } from '../config/load.js';
import { engineFor, type BackupArgs as EngineBackupArgs, type Tool } from './engine.js';

export type { Tool } from './engine.js';

export interface BackupArgs extends EngineBackupArgs {
  tool: Tool;
}

/** Arguments of the backup tool on the DB host (see Engine.backupArgs). */
export function backupToolArgs(a: BackupArgs): string[] {
  return engineFor(a.tool).backupArgs(a);
}

/** Compressor argv for a stream (stdin -> stdout). */
export function compressArgs(compress: 'zstd' | 'gzip', level: number, threads: number): string[] {
  if (compress === 'zstd') return ['-q', `-${Math.min(level, 19)}`, `-T${threads}`];
  return [`-${Math.min(level, 9)}`, '-c'];
}

/** Compression of a stored stream: qpress is for ready files only, so its streams use zstd. */
export function streamCompression(compress: HostConfig['compress']): 'zstd' | 'gzip' | 'none' {
  return compress === 'qpress' ? 'zstd' : compress;
}

export function streamFileName(compress: 'zstd' | 'gzip' | 'none'): string {
  return { zstd: 'backup.xbstream.zst', gzip: 'backup.xbstream.gz', none: 'backup.xbstream' }[compress];
}
