/** Pure command lines of the ready step: temporary mysqld, mysqlcheck, mysqladmin, tar and compressors. */
import type { HostConfig } from '../config/load.js';

export interface ServerPaths {
  datadir: string;
  socket: string;
  pidFile: string;
  errorLog: string;
}

/**
 * A temporary server on a verified copy: `options` first (--no-defaults, the backup's allowlisted
 * InnoDB layout, the manager's plugin dir: never the backup's own option file), then its own
 * socket, no networking, no grant tables, no replication, no binlog, a small buffer pool, InnoDB
 * read-only. It runs
 * as the unprivileged worker, so it needs no --user.
 */
export function mysqldArgs(p: ServerPaths, options: readonly string[]): string[] {
  return [
    ...options,
    `--datadir=${p.datadir}`,
    `--socket=${p.socket}`,
    `--pid-file=${p.pidFile}`,
    `--log-error=${p.errorLog}`,
    '--skip-networking',
    '--skip-grant-tables',
    '--skip-slave-start',
    '--skip-log-bin',
    '--innodb-buffer-pool-size=256M',
    // CHECK TABLE works read-only: InnoDB then writes nothing (no redo resize, no page flush), so
    // an overlay view of the base copies no tablespace up.
    '--innodb-read-only',
    '--loose-innodb-buffer-pool-load-at-startup=0',
    '--loose-innodb-buffer-pool-dump-at-shutdown=0',
  ];
}

export function mysqlcheckArgs(socket: string): string[] {
  return ['--no-defaults', `--socket=${socket}`, '--all-databases'];
}

export function pingArgs(socket: string): string[] {
  return ['--no-defaults', `--socket=${socket}`, '--connect-timeout=2', 'ping'];
}

export function shutdownArgs(socket: string): string[] {
  return ['--no-defaults', `--socket=${socket}`, 'shutdown'];
}

/**
 * 1 MiB records (`-b 2048`) instead of tar's 10 KiB: a hundredth of tar's reads and writes and of
 * the compressor's reads, about 8 % off the compress step on two cores (docs/BENCHMARKS.md).
 */
export const TAR_RECORD_BLOCKS = 2048;

export function tarCreateArgs(dir: string): string[] {
  return ['-C', dir, '-b', String(TAR_RECORD_BLOCKS), '-cf', '-', '.'];
}

/**
 * Unpack from stdin with the same record size. GNU tar stops reading at the end-of-archive blocks:
 * with its default 10 KiB reads it would leave up to 1 MiB of the last record's zero padding in the
 * pipe, and the decompressor writing it would die of a broken pipe. Archives of 10 KiB records
 * (ready files of earlier versions) read the same way.
 */
export function tarExtractArgs(dir: string): string[] {
  return ['-C', dir, '-b', String(TAR_RECORD_BLOCKS), '-xf', '-'];
}

export type ReadyCompress = HostConfig['compress'];

/** Extension of a ready file: follows the compressor. */
export function readyExtension(c: ReadyCompress): string {
  return { zstd: '.tar.zst', gzip: '.tar.gz', qpress: '.tar.qp', none: '.tar' }[c];
}

/** Compressor stage for a ready file (stdin -> stdout); undefined for none. */
export function readyCompressor(
  c: ReadyCompress,
  level: number,
  bin: string,
): { cmd: string; args: string[] } | undefined {
  switch (c) {
    case 'zstd':
      return { cmd: bin, args: ['-q', `-${Math.min(level, 19)}`, '-T0'] };
    case 'gzip':
      return { cmd: bin, args: [`-${Math.min(level, 9)}`, '-c'] };
    case 'qpress':
      // Read stdin, write stdout; the name is that of the single archived stream.
      return { cmd: bin, args: ['-io', 'backup.tar'] };
    case 'none':
      return undefined;
  }
}

/** Decompressor stage for a stored stream or a ready file (stdin -> stdout). */
export function decompressor(c: ReadyCompress, bin: string): { cmd: string; args: string[] } | undefined {
  switch (c) {
    case 'zstd':
      return { cmd: bin, args: ['-dcq'] };
    case 'gzip':
      return { cmd: bin, args: ['-dc'] };
    case 'qpress':
      return { cmd: bin, args: ['-dio'] };
    case 'none':
      return undefined;
  }
}
