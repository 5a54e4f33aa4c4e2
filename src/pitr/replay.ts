/**
 * Replay stored binlogs onto a restored datadir: a temporary mysqld as the worker (no network,
 * socket only, grant tables on: replay-args.ts), `mariadb-binlog FILES | mariadb` as the worker
 * too, then gtid_slave_pos set, the replay account dropped and a clean shutdown. Throws XbError
 * with the failing statement's error and the server log's tail.
 */
import { chmodSync, chownSync, lchownSync, mkdirSync, readdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { userInfo } from 'node:os';
import type { HostConfig } from '../config/load.js';
import { ProcessError, XbError, errorMessage } from '../errors.js';
import { which } from '../engine/binaries.js';
import { managerBin } from '../ready/apply.js';
import { pingArgs } from '../ready/commands.js';
import { freshWorkDir, workerCommand, type WorkerSetup } from '../ready/worker.js';
import { serverLogProblems } from '../ready/server-log.js';
import { readTail } from '../util/safe-read.js';
import { pipeline, run, startDaemon, tail } from '../util/proc.js';
import {
  binlogReaderArgs,
  finishSql,
  replayBinlogDir,
  replayClientArgs,
  replayErrorLog,
  replayInitFile,
  replayInitSql,
  replayNoFiles,
  replayServerArgs,
  replaySocket,
  replayTmp,
  type ReplayPaths,
} from './replay-args.js';

/** Give a tree to `uid` (no link followed). */
export function chownTree(dir: string, uid: number, gid: number): void {
  lchownSync(dir, uid, gid);
  for (const e of readdirSync(dir, { withFileTypes: true })) {
    const p = join(dir, e.name);
    if (e.isDirectory()) chownTree(p, uid, gid);
    else lchownSync(p, uid, gid);
  }
}

/** The OS user the replay runs as: the worker, or this process's user without one. */
export function replayUser(setup: WorkerSetup | null): string {
  return setup ? setup.worker.name : userInfo().username;
}

/** The run directory: the worker's, with the empty directory for --secure-file-priv root's. */
export function prepareRunDir(setup: WorkerSetup | null, p: ReplayPaths): void {
  freshWorkDir(setup, p.run);
  for (const d of [replayTmp(p), replayBinlogDir(p)]) {
    mkdirSync(d, { mode: 0o700 });
    if (setup) chownSync(d, setup.worker.uid, setup.worker.gid);
  }
  // Root's and read-only: the server can neither read anything from it nor write into it.
  mkdirSync(replayNoFiles(p), { mode: 0o555 });
  chmodSync(replayNoFiles(p), 0o555);
  writeFileSync(replayInitFile(p), replayInitSql(replayUser(setup)), { mode: 0o600 });
  if (setup) chownSync(replayInitFile(p), setup.worker.uid, setup.worker.gid);
}

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

export interface ReplayRun {
  h: HostConfig;
  setup: WorkerSetup | null;
  paths: ReplayPaths;
  /** --no-defaults, the backup's allowlisted layout, --plugin-dir. */
  layout: readonly string[];
  startGtid: string;
  /** Names of the copied files in the run directory's binlog/, in order. */
  files: readonly string[];
  /** gtid_slave_pos to leave in the restored server. */
  endState: string;
  maxFileBytes: number;
}

export async function replay(r: ReplayRun): Promise<{ seconds: number }> {
  const { h, setup, paths } = r;
  const timeoutMs = (h.timeouts.prepare + h.timeouts.verify) * 1000;
  const limits = (ms: number, env?: Record<string, string>) => ({
    timeoutMs: ms,
    threads: 4,
    maxFileBytes: r.maxFileBytes,
    ...(env ? { env } : {}),
  });
  const mysqlBin = which(['mariadb', 'mysql']);
  const binlogBin = which(['mariadb-binlog', 'mysqlbinlog']);
  if (!mysqlBin || !binlogBin)
    throw new XbError(
      'mariadb and mariadb-binlog are needed on the manager for a point-in-time restore (package mariadb-client)',
    );
  const server = workerCommand(setup, managerBin(h, 'mysqld'), replayServerArgs(paths, r.layout), {
    ...limits(timeoutMs + 180_000),
    env: { UMASK: '0600', UMASK_DIR: '0700' },
  });
  const mysqld = startDaemon(server.cmd, server.args, {
    timeoutMs: timeoutMs + 180_000,
    ...(server.env ? { env: server.env } : {}),
    label: 'mysqld',
    keepStderr: true,
  });
  // Before its log is open, mysqld complains on stderr (an option it refuses, a directory).
  const errTail = () =>
    tail(readTail(replayErrorLog(paths), 1 << 20) ?? mysqld.stderr() ?? '(no error log)', 15);
  const fail = (msg: string) => new XbError(`${msg}\nreplay server log:\n${errTail()}`);
  const user = replayUser(setup);
  const started = Date.now();
  try {
    const deadline = Date.now() + Math.min(h.timeouts.verify, 600) * 1000;
    for (;;) {
      if (!mysqld.isRunning()) throw fail('the replay server exited before it was ready');
      const c = workerCommand(
        setup,
        managerBin(h, 'mysqladmin'),
        pingArgs(replaySocket(paths)),
        limits(10_000),
      );
      const p = await run(c.cmd, c.args, { timeoutMs: 10_000, reject: false, label: 'mysqladmin' });
      if (p.exitCode === 0) break;
      if (Date.now() > deadline) throw fail('the replay server did not become ready in time');
      await sleep(100);
    }
    if (r.files.length > 0) {
      // Event times are printed by mariadb-binlog in its zone: UTC, whatever the manager's is.
      const reader = workerCommand(
        setup,
        binlogBin,
        binlogReaderArgs(paths, r.startGtid, r.files),
        limits(timeoutMs, { TZ: 'UTC' }),
      );
      const client = workerCommand(setup, mysqlBin, replayClientArgs(paths, user), limits(timeoutMs));
      try {
        await pipeline(
          [
            { ...reader, label: 'mariadb-binlog' },
            { ...client, label: 'mariadb' },
          ],
          { timeoutMs },
        );
      } catch (e) {
        const why = e instanceof ProcessError ? e.message : errorMessage(e);
        // A statement the replay refused (the client's error says which): one line. The server's
        // start-up notes add nothing; only the errors it logged are named.
        const logged = serverLogProblems(readTail(replayErrorLog(paths), 1 << 20) ?? '');
        throw new XbError(
          `replaying the binlogs failed: ${why.replace(/\s*\n\s*/g, ' ')}${logged.length > 0 ? ` (the replay server logged: ${logged[0]})` : ''}`,
        );
      }
    }
    const done = workerCommand(setup, mysqlBin, replayClientArgs(paths, user), limits(60_000));
    const f = await run(done.cmd, done.args, {
      timeoutMs: 60_000,
      reject: false,
      input: finishSql(user, r.endState),
      label: 'mariadb',
    });
    if (f.exitCode !== 0)
      throw fail(`setting gtid_slave_pos and stopping the replay server failed: ${tail(f.stderr, 3)}`);
    let timer: NodeJS.Timeout | undefined;
    const stopped = await Promise.race([
      mysqld.exited,
      new Promise<undefined>((res) => {
        timer = setTimeout(() => res(undefined), 120_000);
      }),
    ]);
    clearTimeout(timer);
    if (!stopped) throw fail('the replay server did not stop in time');
    if (stopped.exitCode !== 0)
      throw fail(`the replay server exited with code ${stopped.exitCode ?? stopped.signal}`);
    const problems = serverLogProblems(readTail(replayErrorLog(paths), 1 << 20) ?? '');
    if (problems.length > 0) throw fail(`the replay server logged errors: ${problems[0]}`);
    return { seconds: (Date.now() - started) / 1000 };
  } finally {
    await mysqld.kill();
  }
}
