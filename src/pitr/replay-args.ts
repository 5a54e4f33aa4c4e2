/**
 * Pure command lines of the replay. The binlogs came from a DB host, so the SQL is untrusted:
 * the temporary server runs as the worker without network (the confinement), with --no-defaults
 * and the backup's allowlisted layout only, no TCP, its FILE-privileged statements confined to an
 * empty directory (--secure-file-priv), no event scheduler, no replication, no binlog; the client
 * reads no local files (--local-infile=0), takes the SQL as bytes (--binary-mode) and refuses
 * client commands such as `\! shell` (--sandbox).
 *
 * The server runs WITH grant tables: CREATE USER, GRANT, SET PASSWORD in the binlog then run as
 * they did on the source (with --skip-grant-tables they fail). The replay connects as a user the
 * init file creates (unix_socket: the worker's own OS name, so only the worker gets in) and drops
 * before shutdown.
 */

export interface ReplayPaths {
  datadir: string;
  /** The worker's run directory: socket, pid file, error log, init file, tmp, load, files. */
  run: string;
}

export const replaySocket = (p: ReplayPaths): string => `${p.run}/mysqld.sock`;
export const replayErrorLog = (p: ReplayPaths): string => `${p.run}/mysqld.err`;
export const replayInitFile = (p: ReplayPaths): string => `${p.run}/init.sql`;
/** Empty and not writable by the worker: SELECT INTO OUTFILE and LOAD DATA INFILE have nowhere to go. */
export const replayNoFiles = (p: ReplayPaths): string => `${p.run}/no-files`;
export const replayTmp = (p: ReplayPaths): string => `${p.run}/tmp`;
export const replayBinlogDir = (p: ReplayPaths): string => `${p.run}/binlog`;

/** A MySQL account name in quotes: only the characters a system user name has. */
export function sqlAccount(user: string): string {
  if (!/^[A-Za-z0-9_.-]{1,80}$/.test(user)) throw new Error(`replay: unusable account name ${user}`);
  return `'${user}'@'localhost'`;
}

export function replayInitSql(user: string): string {
  const a = sqlAccount(user);
  return [
    `CREATE OR REPLACE USER ${a} IDENTIFIED VIA unix_socket;`,
    `GRANT ALL PRIVILEGES ON *.* TO ${a} WITH GRANT OPTION;`,
    '',
  ].join('\n');
}

export function replayServerArgs(p: ReplayPaths, layout: readonly string[]): string[] {
  return [
    ...layout,
    `--datadir=${p.datadir}`,
    `--socket=${replaySocket(p)}`,
    `--pid-file=${p.run}/mysqld.pid`,
    `--log-error=${replayErrorLog(p)}`,
    `--init-file=${replayInitFile(p)}`,
    `--secure-file-priv=${replayNoFiles(p)}`,
    `--tmpdir=${replayTmp(p)}`,
    '--skip-networking',
    '--skip-slave-start',
    '--skip-log-bin',
    '--event-scheduler=DISABLED',
    '--local-infile=0',
    // No durability per commit: a replay cut short is redone from the start anyway, and the
    // clean shutdown at its end writes everything. The replay is then not slower than the raw
    // `mariadb-binlog | mariadb` on a default server.
    '--innodb-flush-log-at-trx-commit=0',
    '--innodb-doublewrite=0',
    '--innodb-buffer-pool-size=256M',
    '--loose-innodb-buffer-pool-load-at-startup=0',
    '--loose-innodb-buffer-pool-dump-at-shutdown=0',
  ];
}

/** mariadb-binlog: from the backup's GTID state, every event of the (already cut) files. */
export function binlogReaderArgs(p: ReplayPaths, startGtid: string, files: readonly string[]): string[] {
  if (!/^[0-9,-]*$/.test(startGtid)) throw new Error(`replay: bad GTID state ${startGtid}`);
  return [
    '--no-defaults',
    ...(startGtid ? [`--start-position=${startGtid}`] : []),
    `--local-load=${replayTmp(p)}`,
    ...files.map((f) => `${replayBinlogDir(p)}/${f}`),
  ];
}

export function replayClientArgs(p: ReplayPaths, user: string, extra: readonly string[] = []): string[] {
  return [
    '--no-defaults',
    `--socket=${replaySocket(p)}`,
    `--user=${user}`,
    '--binary-mode',
    '--sandbox',
    '--local-infile=0',
    '--batch',
    ...extra,
  ];
}

/** After the replay: the state the restored server replicates from, its user gone, shut down. */
export function finishSql(user: string, gtidState: string): string {
  if (!/^[0-9,-]*$/.test(gtidState)) throw new Error(`replay: bad GTID state ${gtidState}`);
  return [
    `SET GLOBAL gtid_slave_pos = '${gtidState}';`,
    `DROP USER ${sqlAccount(user)};`,
    'SHUTDOWN;',
    '',
  ].join('\n');
}
