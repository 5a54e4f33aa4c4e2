/** Where the manager's binaries are: the configured path, else the first name found on PATH. */
import { accessSync, constants } from 'node:fs';
import { delimiter, join } from 'node:path';
import type { HostConfig } from '../config/load.js';
import { engineFor } from './engine.js';

const SBIN = ['/usr/local/sbin', '/usr/sbin', '/sbin'];

export function which(names: readonly string[], pathEnv = process.env.PATH ?? ''): string | undefined {
  const dirs = [...pathEnv.split(delimiter).filter((d) => d !== ''), ...SBIN];
  for (const name of names) {
    if (name.includes('/')) {
      if (isExecutable(name)) return name;
      continue;
    }
    for (const d of dirs) {
      const p = join(d, name);
      if (isExecutable(p)) return p;
    }
  }
  return undefined;
}

function isExecutable(p: string): boolean {
  try {
    accessSync(p, constants.X_OK);
    return true;
  } catch {
    return false;
  }
}

export type Role = 'tool' | 'stream' | 'mysqld' | 'mysqlcheck' | 'mysqladmin' | 'compressor';

/** Candidate names for each binary the manager runs, for a host's settings. */
export function candidates(h: HostConfig, role: Role): string[] {
  const own = (v: string | undefined, names: string[]) => (v ? [v] : names);
  switch (role) {
    case 'tool':
      return own(h.backupTool === 'mariabackup' ? h.bins.mariabackup : h.bins.xtrabackup, [
        ...engineFor(h.backupTool).toolNames,
      ]);
    case 'stream':
      return own(h.backupTool === 'mariabackup' ? h.bins.mbstream : h.bins.xbstream, [
        ...engineFor(h.backupTool).streamNames,
      ]);
    case 'mysqld':
      return own(h.bins.mysqld, ['mariadbd', 'mysqld']);
    case 'mysqlcheck':
      return own(h.bins.mysqlcheck, ['mariadb-check', 'mysqlcheck']);
    case 'mysqladmin':
      return own(h.bins.mysqladmin, ['mariadb-admin', 'mysqladmin']);
    case 'compressor':
      return compressorNames(h.compress);
  }
}

/** Binaries that (de)compress a format, best first. */
export function compressorNames(c: HostConfig['compress']): string[] {
  switch (c) {
    case 'zstd':
      return ['zstd'];
    case 'gzip':
      return ['pigz', 'gzip'];
    case 'qpress':
      return ['qpress'];
    case 'none':
      return [];
  }
}
