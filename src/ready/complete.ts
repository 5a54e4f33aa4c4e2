/**
 * The files every extracted backup has. A DB host writes every byte of its stream, and the tool's
 * `completed OK!` is its word only: mariabackup 10.11 applies an incremental that lacks the system
 * tablespace's delta, exits 0 and says `completed OK!` (the damage goes unseen). So after the
 * extract, the manager checks that the stream brought what any backup of that type holds.
 *
 * Only what every backup has is required: its option file, its checkpoints and the system
 * tablespace files of innodb_data_file_path (a full: the files; an incremental: `.delta` and
 * `.meta` of each, written for every tablespace even when no page changed). Per-table files are
 * not: a table may be dropped between two backups.
 */
import { lstatSync } from 'node:fs';
import { join } from 'node:path';

/** InnoDB's default when backup-my.cnf names none. */
export const DEFAULT_DATA_FILE_PATH = 'ibdata1:12M:autoextend';

/** Pure: the names of an (already validated) innodb_data_file_path's files. */
export function systemTablespaceFiles(dataFilePath: string = DEFAULT_DATA_FILE_PATH): string[] {
  return dataFilePath
    .split(';')
    .map((spec) => spec.split(':')[0]!)
    .filter((name) => name !== '');
}

/** Pure: the files a backup of `type` must have in its extracted directory. */
export function requiredFiles(type: 'full' | 'incremental', dataFilePath?: string): string[] {
  const sys = systemTablespaceFiles(dataFilePath);
  return [
    'backup-my.cnf',
    'xtrabackup_checkpoints',
    ...(type === 'full' ? sys : sys.flatMap((f) => [`${f}.delta`, `${f}.meta`])),
  ];
}

/** Which of `names` are not regular files in `dir` (a link does not count). */
export function missingFiles(dir: string, names: readonly string[]): string[] {
  return names.filter((n) => {
    try {
      return !lstatSync(join(dir, n)).isFile();
    } catch {
      return true;
    }
  });
}
