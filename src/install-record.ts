/**
 * What xb-mgr last installed on a DB host (the helper and the credentials file), so a backup run
 * can skip the install tasks when nothing changed: four Ansible round trips, seconds per run.
 * The record is a digest of everything the install depends on; the helper checks its own sha256
 * and the credentials file on the DB host, so a host changed behind our back is reinstalled on
 * the next try (see backup.ts).
 */
import { createHash } from 'node:crypto';
import { readFileSync, rmSync } from 'node:fs';
import { join } from 'node:path';
import type { HostConfig } from './config/load.js';
import { credentialsFileContent } from './engine/credentials.js';
import { writeFileAtomic } from './catalog/store.js';

/** Exit codes of a transfer that a reinstall can fix: helper outdated (90), credentials file
 * missing (91), helper not executable (126) or not found (127). An "Access denied" of the tool
 * (a credentials file changed on the host) is retried the same way. */
export const REINSTALL_CODES: ReadonlySet<number> = new Set([90, 91, 126, 127]);

export function helperSha256(playbooks: string): string {
  return createHash('sha256')
    .update(readFileSync(join(playbooks, 'files', 'backup_local')))
    .digest('hex');
}

/** Pure: the digest of what an install puts on the host. */
export function installKey(h: HostConfig, helperSha: string, remoteUser: string | undefined): string {
  const parts = [
    helperSha,
    credentialsFileContent(h),
    h.hostname,
    remoteUser ?? '',
    h.remoteBackupCmd,
    h.remoteCredentialsFile,
    h.backupTool,
    h.remoteToolPath ?? '',
  ];
  return createHash('sha256').update(JSON.stringify(parts)).digest('hex');
}

const FILE = 'installed.json';

export function readInstallKey(root: string): string | undefined {
  try {
    const r = JSON.parse(readFileSync(join(root, FILE), 'utf8')) as { key?: unknown };
    return typeof r.key === 'string' ? r.key : undefined;
  } catch {
    return undefined;
  }
}

/** Before an install: whatever happens next, the host no longer holds what the record says. */
export function dropInstallKey(root: string): void {
  rmSync(join(root, FILE), { force: true });
}

export function writeInstallKey(root: string, key: string): void {
  writeFileAtomic(join(root, FILE), JSON.stringify({ key, at: new Date().toISOString() }) + '\n');
}
