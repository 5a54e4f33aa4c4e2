/**
 * What xb-mgr last installed on a DB host (the helper and the credentials file), so a backup run
 * can skip the install tasks when nothing changed: four Ansible round trips, seconds per run.
 * The record is a keyed digest (HMAC-SHA256) of everything the install depends on, the password
 * included: without the manager's key (a 0600 file in backup_dir) nobody who reads the record can
 * test guesses of the password against it. The helper checks its own sha256 and the credentials
 * file on the DB host, so a host changed behind our back is reinstalled on the next try (see
 * backup.ts).
 */
import { createHash, createHmac, randomBytes } from 'node:crypto';
import { closeSync, constants, fstatSync, linkSync, openSync, readFileSync, rmSync } from 'node:fs';
import { join } from 'node:path';
import type { HostConfig } from './config/load.js';
import { credentialsFileContent } from './engine/credentials.js';
import { writeFileAtomic } from './catalog/store.js';
import { XbError } from './errors.js';
import { tempName, writeExclusive } from './util/excl.js';

/** Exit codes of a transfer that a reinstall can fix: helper outdated (90), credentials file
 * missing (91), helper not executable (126) or not found (127). An "Access denied" of the tool
 * (a credentials file changed on the host) is retried the same way. */
export const REINSTALL_CODES: ReadonlySet<number> = new Set([90, 91, 126, 127]);

export function helperSha256(playbooks: string): string {
  return createHash('sha256')
    .update(readFileSync(join(playbooks, 'files', 'backup_local')))
    .digest('hex');
}

/** Pure: the keyed digest of what an install puts on the host. */
export function installDigest(
  h: HostConfig,
  helperSha: string,
  remoteUser: string | undefined,
  key: Buffer,
): string {
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
  return createHmac('sha256', key).update(JSON.stringify(parts)).digest('hex');
}

/** The digest of an install of `h`, keyed with the manager's key of its backup_dir. */
export function installKey(h: HostConfig, helperSha: string, remoteUser: string | undefined): string {
  return installDigest(h, helperSha, remoteUser, managerKey(h.backupDir));
}

export const KEY_FILE = '.install-key';
const KEY_TEXT = /^[0-9a-f]{64}\n$/;

/**
 * The manager's key in `<dir>/.install-key`: 32 random bytes, made once (written under a random
 * name, created exclusively, and linked into place, so two runs agree on one complete key) and
 * then only read: a regular file of this user, mode 0600, never through a link. Anything else
 * there is refused.
 */
export function managerKey(dir: string): Buffer {
  const path = join(dir, KEY_FILE);
  const tmp = tempName(path, 'new');
  try {
    writeExclusive(tmp, randomBytes(32).toString('hex') + '\n', 0o600, true);
    linkSync(tmp, path);
  } catch (e) {
    if ((e as NodeJS.ErrnoException).code !== 'EEXIST')
      throw new XbError(`cannot create the install key ${path}: ${(e as Error).message}`);
  } finally {
    rmSync(tmp, { force: true });
  }
  const refuse = (why: string) =>
    new XbError(`refusing the install key ${path}: ${why} (remove it: xb-mgr makes a new one)`);
  let fd: number;
  try {
    fd = openSync(path, constants.O_RDONLY | constants.O_NOFOLLOW | constants.O_NONBLOCK);
  } catch (e) {
    throw refuse(
      (e as NodeJS.ErrnoException).code === 'ELOOP' ? 'it is a symbolic link' : (e as Error).message,
    );
  }
  try {
    const st = fstatSync(fd);
    const me = process.geteuid?.() ?? 0;
    if (!st.isFile()) throw refuse('not a regular file');
    if (st.uid !== me || (st.mode & 0o777) !== 0o600)
      throw refuse(
        `owned by uid ${st.uid} with mode ${(st.mode & 0o777).toString(8)}, not uid ${me} with 0600`,
      );
    const text = readFileSync(fd, 'utf8');
    if (!KEY_TEXT.test(text)) throw refuse('not a key of 64 hex digits');
    return Buffer.from(text.trim(), 'hex');
  } finally {
    closeSync(fd);
  }
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
