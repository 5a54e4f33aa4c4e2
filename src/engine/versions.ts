/** Pure decisions about tool and server versions and the backup user's privileges. */
import type { HostConfig } from '../config/load.js';
import { engineFor } from './engine.js';

/** "10.11.19-MariaDB-0+deb12u1-log" -> "10.11"; "8.0.35-27" -> "8.0". */
export function majorVersion(v: string | undefined | null): string | undefined {
  const m = /(\d+)\.(\d+)/.exec(v ?? '');
  return m ? `${m[1]}.${m[2]}` : undefined;
}

/** The version in `mariadbd --version`, `mysqld --version` or `mariabackup --version` output. */
export function parseVersionOutput(out: string): string | undefined {
  const m =
    /based on (?:MariaDB|MySQL) server\s+(\d+\.\d+\.\d+)/.exec(out) ??
    /\bVer\s+(\d+\.\d+\.\d+)/.exec(out) ??
    /version\s+(\d+\.\d+\.\d+)/.exec(out);
  return m?.[1];
}

/** Global privileges the backup user needs (MariaDB 10.5+ names; older names are accepted as aliases). */
export function requiredPrivileges(
  tool: HostConfig['backupTool'],
  opts: { logBin: boolean; slaveInfo: boolean },
): string[] {
  return engineFor(tool).requiredPrivileges(opts);
}

const ALIASES: Record<string, string[]> = {
  'BINLOG MONITOR': ['REPLICATION CLIENT', 'SUPER'],
  'SLAVE MONITOR': ['REPLICATION CLIENT', 'SUPER', 'REPLICA MONITOR'],
  'REPLICATION CLIENT': ['BINLOG MONITOR'],
};

export function missingPrivileges(required: string[], have: string[]): string[] {
  const set = new Set(have.map((p) => p.toUpperCase()));
  if (set.has('ALL PRIVILEGES') || set.has('ALL')) return [];
  return required.filter((p) => !set.has(p) && !(ALIASES[p] ?? []).some((a) => set.has(a)));
}
