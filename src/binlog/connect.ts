/**
 * Reaching a DB host's server from the manager: an SSH-forwarded Unix socket (the server may
 * listen on its socket only) with the inventory's address, port, user, key and options, and a
 * 0600 option file on the manager with the binlog user's password (never in argv, never on the DB
 * host). The argv builders are pure; `openLink` starts ssh and waits for the forwarded socket.
 */
import { existsSync, mkdtempSync, rmSync } from 'node:fs';
import { join } from 'node:path';
import type { HostConfig } from '../config/load.js';
import type { InventoryHost } from '../inventory.js';
import { quoteOptionValue } from '../engine/credentials.js';
import { writeExclusive } from '../util/excl.js';
import { run, startDaemon, type Daemon } from '../util/proc.js';
import { runTmp } from '../util/runtmp.js';
import { XbError, lastLine } from '../errors.js';
import { which } from '../engine/binaries.js';

/** The server socket on the DB host when the config names neither socket nor port (Debian's). */
export const DEFAULT_REMOTE_SOCKET = '/run/mysqld/mysqld.sock';
/** setTimeout's largest delay: the backstop of a child that is meant to run until stopped. */
export const FOREVER_MS = 2 ** 31 - 1;

type LinkHost = Pick<HostConfig, 'mysqlSocket' | 'mysqlPort' | 'sshUser'> & {
  timeouts: Pick<HostConfig['timeouts'], 'ssh'>;
};

/** Pure: what the local socket is forwarded to on the DB host. */
export function remoteTarget(h: Pick<HostConfig, 'mysqlSocket' | 'mysqlPort'>): string {
  if (h.mysqlSocket) return h.mysqlSocket;
  if (h.mysqlPort !== undefined) return `127.0.0.1:${h.mysqlPort}`;
  return DEFAULT_REMOTE_SOCKET;
}

/** Pure: `ssh -N -L LOCAL.sock:REMOTE` with the inventory's connection settings. */
export function sshForwardArgs(h: LinkHost, inv: InventoryHost, localSocket: string): string[] {
  const user = inv.user ?? h.sshUser ?? 'root';
  return [
    '-N',
    '-o',
    'BatchMode=yes',
    '-o',
    'ExitOnForwardFailure=yes',
    '-o',
    'StreamLocalBindUnlink=yes',
    '-o',
    `ConnectTimeout=${h.timeouts.ssh}`,
    // A cut connection ends ssh within 15 s, which ends the stream, which is then restarted.
    '-o',
    'ServerAliveInterval=5',
    '-o',
    'ServerAliveCountMax=3',
    '-p',
    String(inv.port),
    ...(inv.privateKeyFile ? ['-i', inv.privateKeyFile] : []),
    ...inv.sshArgs,
    '-l',
    user,
    '-L',
    `${localSocket}:${remoteTarget(h)}`,
    '--',
    inv.address,
  ];
}

/** Pure: the option file of the binlog user, for --defaults-extra-file. */
export function optionFileText(user: string, password: string, socket: string): string {
  return [
    '# Written by xb-mgr binlog; removed when the stream ends.',
    '[client]',
    `user=${quoteOptionValue(user)}`,
    `password=${quoteOptionValue(password)}`,
    `socket=${quoteOptionValue(socket)}`,
    '',
  ].join('\n');
}

/** The binlog user and password: binlog_user/binlog_password, else mysql_user/mysql_password. */
export function binlogLogin(
  h: Pick<HostConfig, 'mysqlUser' | 'mysqlPassword'> & {
    binlog: Pick<HostConfig['binlog'], 'user' | 'password'>;
  },
): { user: string; password: string } {
  return { user: h.binlog.user ?? h.mysqlUser, password: h.binlog.password ?? h.mysqlPassword };
}

export interface Link {
  dir: string;
  socket: string;
  cnf: string;
  ssh: Daemon;
  close(): Promise<void>;
}

export class LinkError extends XbError {}

export function clientBin(): string {
  const b = which(['mariadb', 'mysql']);
  if (!b) throw new LinkError('the mariadb client is not installed on the manager (package mariadb-client)');
  return b;
}

/** Start the forward; resolves once the local socket exists, or fails with ssh's last line. */
export async function openLink(
  h: LinkHost & Pick<HostConfig, 'binlog' | 'mysqlUser' | 'mysqlPassword'>,
  inv: InventoryHost,
  isStopping: () => boolean = () => false,
): Promise<Link> {
  // In this process's private run directory (short: a Unix socket path is limited to 108 bytes),
  // which goes at exit, or with a later run once a kill -9 left it: it holds the binlog user's
  // option file.
  const dir = mkdtempSync(join(runTmp(), 'bl-'));
  const socket = join(dir, 's');
  const cnf = join(dir, 'client.cnf');
  const login = binlogLogin(h);
  writeExclusive(cnf, optionFileText(login.user, login.password, socket), 0o600);
  const ssh = startDaemon('ssh', sshForwardArgs(h, inv, socket), {
    timeoutMs: FOREVER_MS,
    label: 'ssh',
    keepStderr: true,
  });
  const close = async () => {
    await ssh.kill();
    rmSync(dir, { recursive: true, force: true });
  };
  const deadline = Date.now() + (h.timeouts.ssh + 5) * 1000;
  while (!existsSync(socket)) {
    if (!ssh.isRunning() || Date.now() > deadline || isStopping()) {
      const why = ssh.isRunning()
        ? isStopping()
          ? 'stopping'
          : 'timed out'
        : lastLine(ssh.stderr()) || 'ssh exited';
      await close();
      throw new LinkError(`ssh forward to ${inv.address}:${inv.port}: ${why}`);
    }
    await new Promise((r) => setTimeout(r, 50));
  }
  return { dir, socket, cnf, ssh, close };
}

/** Run one SQL statement as the binlog user through the link: rows of tab-separated fields. */
export async function query(link: Link, sql: string, timeoutMs = 30_000): Promise<string[][]> {
  const r = await run(
    clientBin(),
    [`--defaults-extra-file=${link.cnf}`, '--batch', '--skip-column-names', '--raw', '-e', sql],
    { timeoutMs, label: 'mariadb', keepBytes: 1 << 20 },
  );
  return r.stdout
    .split('\n')
    .filter((l) => l !== '')
    .map((l) => l.split('\t'));
}
