/** Pure: what a host's probe says -> one check line per requirement. */
import type { HostConfig } from './config/load.js';
import { majorVersion, missingPrivileges, requiredPrivileges } from './engine/versions.js';

export interface CheckLine {
  host: string;
  check: string;
  ok: boolean;
  detail: string;
}

/** What `backup_local probe` prints (see playbooks/files/backup_local). */
export interface Probe {
  helper_version?: string;
  tools?: Record<string, { path: string; version?: string | null; version_line?: string }>;
  configured_tool?: { path: string; exists: boolean; version?: string | null };
  login?: boolean;
  login_error?: string;
  server_version?: string | null;
  datadir?: string | null;
  log_bin?: boolean | null;
  privileges?: string[];
}

export function probeChecks(
  h: HostConfig,
  probe: Probe,
  managerMysqld: { path?: string; version?: string },
): CheckLine[] {
  const lines: CheckLine[] = [];
  const add = (check: string, ok: boolean, detail: string) => lines.push({ host: h.name, check, ok, detail });
  const tools = probe.tools ?? {};
  const others = Object.keys(tools).filter((t) => t !== h.backupTool);
  // With remote_tool_path set, only that binary counts: it is the one the backup runs.
  const tool = probe.configured_tool
    ? probe.configured_tool.exists
      ? { path: probe.configured_tool.path, version: probe.configured_tool.version }
      : undefined
    : tools[h.backupTool];
  if (probe.configured_tool && !probe.configured_tool.exists) {
    add(
      'backup tool',
      false,
      `remote_tool_path ${probe.configured_tool.path} is not an executable file on the host`,
    );
  } else if (!tool) {
    add(
      'backup tool',
      false,
      others.length > 0
        ? `backup_tool = ${h.backupTool} but the host has ${others.join(', ')}: set backup_tool = ${others[0]}`
        : `${h.backupTool} is not installed on the host (not found on its PATH)`,
    );
  } else {
    add('backup tool', true, `${tool.path} ${tool.version ?? '(unknown version)'}`);
  }
  if (!probe.login) {
    add('mysql login', false, `${h.mysqlUser} cannot log in: ${probe.login_error ?? 'unknown error'}`);
    return lines;
  }
  add('mysql login', true, `${h.mysqlUser} on ${probe.server_version ?? 'unknown server'}`);
  const serverMajor = majorVersion(probe.server_version);
  if (tool) {
    const toolMajor = majorVersion(tool.version);
    const match = toolMajor !== undefined && toolMajor === serverMajor;
    add(
      'tool version',
      match,
      match
        ? `${h.backupTool} ${tool.version} matches server ${serverMajor}`
        : `${h.backupTool} ${tool.version ?? '?'} does not match the server's major version ${serverMajor ?? '?'}: install the ${serverMajor ?? 'matching'} backup tool on the host`,
    );
  }
  const need = requiredPrivileges(h.backupTool, { logBin: probe.log_bin === true, slaveInfo: h.slaveInfo });
  const missing = missingPrivileges(need, probe.privileges ?? []);
  add(
    'privileges',
    missing.length === 0,
    missing.length === 0
      ? need.join(', ')
      : `${h.mysqlUser} lacks ${missing.join(', ')}: GRANT ${missing.join(', ')} ON *.* TO ${h.mysqlUser}`,
  );
  const mgrMajor = majorVersion(managerMysqld.version);
  const mgrMatch = mgrMajor !== undefined && mgrMajor === serverMajor;
  add(
    'manager mysqld',
    mgrMatch,
    !managerMysqld.path
      ? 'no mysqld or mariadbd on the manager host: install the server package (it checks the backups)'
      : mgrMatch
        ? `${managerMysqld.path} ${managerMysqld.version} matches server ${serverMajor}`
        : `${managerMysqld.path} ${managerMysqld.version ?? '?'} does not match the host's server ${serverMajor ?? '?'}: set mysqld for this host to a ${serverMajor ?? 'matching'} server binary`,
  );
  return lines;
}
