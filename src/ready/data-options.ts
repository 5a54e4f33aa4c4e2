/**
 * The options a tool gets for a backup's data instead of the backup's own option file:
 * `--no-defaults`, the InnoDB layout keys of backup-my.cnf that engine/cnf.ts allowlists and
 * validates, and the manager's own plugin dir. backup-my.cnf is written by the DB host: it is read
 * here as data (no link followed, bounded), never handed to a tool.
 */
import { readHead } from '../util/safe-read.js';
import { join } from 'node:path';
import type { HostConfig } from '../config/load.js';
import type { Manifest } from '../catalog/manifest.js';
import { CNF_MAX_BYTES, parseBackupCnf, type CnfItem } from '../engine/cnf.js';
import { clip, errorMessage } from '../errors.js';
import { run } from '../util/proc.js';
import { managerBin } from './apply.js';
import { ReadyFailure } from './failure.js';

/** Read `<dir>/backup-my.cnf`: a regular file, no symlink followed, at most CNF_MAX_BYTES + 1 bytes. */
export function readBackupCnf(dir: string): Buffer | undefined {
  return readHead(join(dir, 'backup-my.cnf'), CNF_MAX_BYTES + 1);
}

const pluginDirs = new Map<string, string>();

/** The plugin dir of the manager's own server install (asked once per mysqld binary). */
export async function managerPluginDir(h: HostConfig): Promise<string> {
  const mysqld = managerBin(h, 'mysqld');
  const known = pluginDirs.get(mysqld);
  if (known) return known;
  let dir = '/usr/lib/mysql/plugin';
  try {
    const r = await run(mysqld, ['--no-defaults', '--verbose', '--help'], {
      timeoutMs: 30_000,
      reject: false,
    });
    const m = /^plugin-dir\s+(\/\S*)\s*$/m.exec(r.stdout);
    if (m) dir = m[1]!.replace(/\/+$/, '');
  } catch {
    // The default of Debian's packages.
  }
  pluginDirs.set(mysqld, dir);
  return dir;
}

function describe(items: CnfItem[], omitted: number): string {
  const names = items.map((i) => clip(i.key || `line ${i.line}`, 40));
  return names.join(', ') + (omitted > 0 ? ` and ${omitted} more` : '');
}

export interface DataLayout {
  /** `--no-defaults`, the allowlisted layout options, `--plugin-dir`. */
  options: string[];
  /** The validated innodb_data_file_path, when backup-my.cnf has one. */
  dataFilePath?: string;
}

/**
 * `--no-defaults`, the allowlisted layout of `dir`'s backup-my.cnf and `--plugin-dir`. A bad value
 * of a layout key fails the backup (it is marked unusable); a backup that needs an encryption
 * plugin is refused as unsupported; other keys are dropped and reported through `onDropped`.
 */
export async function dataOptions(
  h: HostConfig,
  dir: string,
  m: Manifest,
  onDropped?: (message: string) => void,
): Promise<string[]> {
  return (await dataLayout(h, dir, m, onDropped)).options;
}

/** dataOptions and the system tablespace's layout (which files every backup of it has). */
export async function dataLayout(
  h: HostConfig,
  dir: string,
  m: Manifest,
  onDropped?: (message: string) => void,
): Promise<DataLayout> {
  const what = `${m.type}/${m.id}`;
  const text = readBackupCnf(dir);
  if (!text)
    throw new ReadyFailure(
      `${what} has no backup-my.cnf (a regular file): it cannot be prepared`,
      'prepare',
      undefined,
      m,
    );
  let cnf;
  try {
    cnf = parseBackupCnf(text);
  } catch (e) {
    throw new ReadyFailure(
      `backup-my.cnf of ${what} cannot be read: ${errorMessage(e)}`,
      'prepare',
      undefined,
      m,
    );
  }
  if (cnf.refused)
    throw new ReadyFailure(`${what} is not supported: ${cnf.refused}`, 'prepare', undefined, m);
  if (cnf.errors.length > 0)
    throw new ReadyFailure(
      `backup-my.cnf of ${what}: ${cnf.errors[0]}`,
      'prepare',
      undefined,
      m,
      cnf.errors.join('\n'),
    );
  if (cnf.dropped.length > 0)
    onDropped?.(
      `ignored keys of ${what}'s backup-my.cnf (not InnoDB layout): ${describe(cnf.dropped, cnf.omitted)}`,
    );
  const dataFilePath = cnf.kept.innodb_data_file_path;
  return {
    options: ['--no-defaults', ...cnf.args, `--plugin-dir=${await managerPluginDir(h)}`],
    ...(dataFilePath ? { dataFilePath } : {}),
  };
}
