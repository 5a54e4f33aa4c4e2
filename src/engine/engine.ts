/**
 * The backup tool seam: every difference between MariaBackup and Percona XtraBackup (binary
 * names, argv, prepare steps, log parsing, privileges, the client and service names restore.yml
 * uses on a DB host) lives behind this interface, one implementation per tool. The rest of the
 * code asks `engineFor(tool)` and never compares tool names itself.
 */
import type { HostConfig } from '../config/load.js';
import type { BinlogInfo } from '../catalog/manifest.js';
import { completedOk, parseBinlog, parseToolVersion } from './parse.js';

export type Tool = HostConfig['backupTool'];

export interface BackupArgs {
  parallel: number;
  incrementalLsn?: number;
  throttle: number;
  slaveInfo: boolean;
}

export interface PrepareStep {
  /**
   * Options that come first: `--no-defaults`, the backup's allowlisted InnoDB layout and the
   * manager's own plugin dir (a backup's option file is never read: it is hostile data).
   */
  options?: readonly string[];
  targetDir: string;
  incrementalDir?: string;
  /**
   * Keep the directory able to take another incremental (XtraBackup's --apply-log-only). A
   * directory prepared this way must be finalized before a server starts on it.
   */
  keepApplicable: boolean;
  useMemory?: string;
}

export interface Engine {
  readonly tool: Tool;
  /** Candidate names of the backup tool and of the stream extractor on the manager host. */
  readonly toolNames: readonly string[];
  readonly streamNames: readonly string[];
  /** On the DB host (restore.yml): the SQL client and the service name of the server. */
  readonly remoteClient: string;
  readonly remoteService: string;
  /**
   * Arguments of the backup on the DB host, without --defaults-extra-file (which must come first
   * and is added by the helper) and without --target-dir/--extra-lsndir (the helper's temp dir).
   */
  backupArgs(a: BackupArgs): string[];
  /** Extract a stream read on stdin into `dir`. */
  extractArgs(dir: string, parallel: number): string[];
  /** One prepare step (a full, or an incremental applied to a prepared directory). */
  prepareArgs(s: PrepareStep): string[];
  /** The step that makes a directory prepared with keepApplicable startable; undefined: none needed. */
  finalizeArgs(targetDir: string, useMemory?: string, options?: readonly string[]): string[] | undefined;
  /** Global privileges the backup user needs on the DB server. */
  requiredPrivileges(opts: { logBin: boolean; slaveInfo: boolean }): string[];
  /** Success of a backup or prepare: exit 0 AND this on the tool's log. */
  completedOk(log: string): boolean;
  parseVersion(log: string): string | undefined;
  parseBinlog(log: string): BinlogInfo | undefined;
}

function streamArgs(a: BackupArgs): string[] {
  const argv = ['--backup', '--stream=xbstream', `--parallel=${a.parallel}`];
  if (a.incrementalLsn !== undefined) argv.push(`--incremental-lsn=${a.incrementalLsn}`);
  if (a.throttle > 0) argv.push(`--throttle=${a.throttle}`);
  if (a.slaveInfo) argv.push('--slave-info');
  return argv;
}

function prepare(s: PrepareStep, logOnly: boolean): string[] {
  const argv = [...(s.options ?? []), '--prepare', `--target-dir=${s.targetDir}`];
  if (s.incrementalDir) argv.push(`--incremental-dir=${s.incrementalDir}`);
  if (logOnly) argv.push('--apply-log-only');
  if (s.useMemory) argv.push(`--use-memory=${s.useMemory}`);
  return argv;
}

const shared = {
  completedOk,
  parseVersion: parseToolVersion,
  parseBinlog,
  extractArgs: (dir: string, parallel: number) => ['-x', '-p', String(parallel), '-C', dir],
};

/** MariaBackup 10.x: every prepare leaves the directory applicable (no --apply-log-only step). */
export const mariabackup: Engine = {
  tool: 'mariabackup',
  toolNames: ['mariabackup', 'mariadb-backup'],
  streamNames: ['mbstream'],
  remoteClient: 'mariadb',
  remoteService: 'mariadb',
  backupArgs: streamArgs,
  prepareArgs: (s) => prepare(s, false),
  finalizeArgs: () => undefined,
  requiredPrivileges: ({ logBin, slaveInfo }) => [
    'RELOAD',
    'PROCESS',
    ...(logBin ? ['BINLOG MONITOR'] : []),
    ...(slaveInfo ? ['SLAVE MONITOR'] : []),
  ],
  ...shared,
};

/** Percona XtraBackup 8.x: --apply-log-only on every step but the last, then a final prepare. */
export const xtrabackup: Engine = {
  tool: 'xtrabackup',
  toolNames: ['xtrabackup'],
  streamNames: ['xbstream'],
  remoteClient: 'mysql',
  remoteService: 'mysql',
  backupArgs: streamArgs,
  prepareArgs: (s) => prepare(s, s.keepApplicable),
  finalizeArgs: (targetDir, useMemory, options) =>
    prepare({ options, targetDir, keepApplicable: false, ...(useMemory ? { useMemory } : {}) }, false),
  requiredPrivileges: () => ['RELOAD', 'PROCESS', 'LOCK TABLES', 'REPLICATION CLIENT', 'BACKUP_ADMIN'],
  ...shared,
};

const ENGINES: Record<Tool, Engine> = { mariabackup, xtrabackup };

export function engineFor(tool: Tool): Engine {
  return ENGINES[tool];
}
