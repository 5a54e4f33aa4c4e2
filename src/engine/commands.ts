/**
 * Pure command-line builders for the backup tools (exact argv, table-tested, in the manner of
 * antfu's ni). mariabackup (MariaDB) runs end to end here; xtrabackup (Percona XtraBackup 8.x) is
 * built by the same functions but not exercised end to end on these machines.
 */
import type { HostConfig } from '../config/load.js';

export type Tool = HostConfig['backupTool'];

export interface BackupArgs {
  tool: Tool;
  parallel: number;
  incrementalLsn?: number;
  throttle: number;
  slaveInfo: boolean;
}

/**
 * Arguments of the backup tool on the DB host, without --defaults-extra-file (which must come
 * first and is added by the helper) and without --target-dir/--extra-lsndir (a temporary directory
 * the helper makes there).
 */
export function backupToolArgs(a: BackupArgs): string[] {
  const argv = ['--backup', '--stream=xbstream', `--parallel=${a.parallel}`];
  if (a.incrementalLsn !== undefined) argv.push(`--incremental-lsn=${a.incrementalLsn}`);
  if (a.throttle > 0) argv.push(`--throttle=${a.throttle}`);
  if (a.slaveInfo) argv.push('--slave-info');
  return argv;
}

/** Extract a stream into a directory: `mbstream -x -p N -C DIR` (stdin is the stream). */
export function extractArgs(tool: Tool, dir: string, parallel: number): string[] {
  void tool; // mbstream and xbstream take the same flags
  return ['-x', '-p', String(parallel), '-C', dir];
}

export interface PrepareArgs {
  tool: Tool;
  targetDir: string;
  incrementalDir?: string;
  /** xtrabackup needs --apply-log-only on every step but the last; mariabackup 10.11 has no such step. */
  lastStep: boolean;
  useMemory?: string;
}

export function prepareArgs(a: PrepareArgs): string[] {
  const argv = ['--prepare', `--target-dir=${a.targetDir}`];
  if (a.incrementalDir) argv.push(`--incremental-dir=${a.incrementalDir}`);
  if (a.tool === 'xtrabackup' && !a.lastStep) argv.push('--apply-log-only');
  if (a.useMemory) argv.push(`--use-memory=${a.useMemory}`);
  return argv;
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
