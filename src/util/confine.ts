/**
 * Confinement of the steps that read backup data (extract, prepare, the verify mysqld): the data
 * comes from an untrusted DB host, so those processes run as the unprivileged system user
 * xb-mgr-worker, in a network namespace of their own (no network: only a loopback that is down),
 * with no capabilities, no new privileges, an empty environment, killed when the manager dies,
 * and with kernel limits on CPU time and file size. No systemd needed (CI has none):
 *
 *   unshare --net -- setpriv --reuid=U --regid=G --clear-groups ... -- prlimit --cpu=N --fsize=N -- CMD ARGS
 *
 * `unshare --net` needs root, so it comes first and privileges are dropped inside it. A network
 * namespace does not cut Unix-domain sockets: those stay guarded by file permissions only.
 */
import { execFileSync } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { which } from '../engine/binaries.js';
import { XbError } from '../errors.js';

export const WORKER_USER = 'xb-mgr-worker';

export interface Worker {
  name: string;
  uid: number;
  gid: number;
}

export interface ConfineLimits {
  /** RLIMIT_CPU: CPU seconds summed over threads; SIGKILL beyond it. */
  cpuSeconds: number;
  /** RLIMIT_FSIZE: largest file the process may write; SIGXFSZ beyond it. */
  fsizeBytes: number;
  /** RLIMIT_NOFILE, when set (mariadbd wants a few thousand). */
  nofile?: number;
  /** RLIMIT_AS, when set. */
  addressSpaceBytes?: number;
}

export interface ConfineBins {
  unshare: string;
  setpriv: string;
  prlimit: string;
}

export interface ConfineOptions {
  worker: Worker;
  limits: ConfineLimits;
  /** Absolute paths of the wrappers (findConfineBins); their names by default. */
  bins?: ConfineBins;
  /** Variables the command gets; nothing else of the manager's environment passes. */
  env?: Record<string, string>;
}

const DEFAULT_BINS: ConfineBins = { unshare: 'unshare', setpriv: 'setpriv', prlimit: 'prlimit' };
const ENV_NAME = /^[A-Za-z_][A-Za-z0-9_]*$/;

/**
 * The argv that runs `cmd args` confined. `cmd` must be an absolute path: the environment (PATH
 * included) is reset before it is looked up.
 */
export function confine(
  cmd: string,
  args: readonly string[],
  o: ConfineOptions,
): { cmd: string; args: string[] } {
  const { worker, limits } = o;
  const bins = o.bins ?? DEFAULT_BINS;
  if (!cmd.startsWith('/')) throw new Error(`confine: ${cmd} must be an absolute path`);
  if (!isId(worker.uid) || !isId(worker.gid)) {
    throw new Error(`confine: ${worker.name} must have a uid and gid other than 0`);
  }
  const rl = [
    `--cpu=${positive(limits.cpuSeconds, 'cpuSeconds')}`,
    `--fsize=${positive(limits.fsizeBytes, 'fsizeBytes')}`,
  ];
  // Core dumps of a process full of hostile data help nobody and may be large.
  rl.push('--core=0');
  if (limits.nofile !== undefined) rl.push(`--nofile=${positive(limits.nofile, 'nofile')}`);
  if (limits.addressSpaceBytes !== undefined)
    rl.push(`--as=${positive(limits.addressSpaceBytes, 'addressSpaceBytes')}`);
  const env: string[] = [];
  for (const [k, v] of Object.entries(o.env ?? {})) {
    if (!ENV_NAME.test(k) || v.includes('\0')) throw new Error(`confine: bad environment variable ${k}`);
    env.push(`${k}=${v}`);
  }
  const tail = env.length > 0 ? ['/usr/bin/env', ...env, cmd, ...args] : [cmd, ...args];
  return {
    cmd: bins.unshare,
    args: [
      '--net',
      '--',
      bins.setpriv,
      `--reuid=${worker.uid}`,
      `--regid=${worker.gid}`,
      '--clear-groups',
      '--no-new-privs',
      '--inh-caps=-all',
      '--ambient-caps=-all',
      '--bounding-set=-all',
      '--reset-env',
      // The worker dies with the manager: no orphan keeps working on a backup nobody waits for.
      '--pdeathsig=KILL',
      '--',
      bins.prlimit,
      ...rl,
      '--',
      ...tail,
    ],
  };
}

function isId(n: number): boolean {
  return Number.isSafeInteger(n) && n > 0;
}

function positive(n: number, what: string): number {
  if (!Number.isSafeInteger(n) || n < 1)
    throw new Error(`confine: ${what} must be a positive integer, not ${n}`);
  return n;
}

/** `name:x:uid:gid:gecos:home:shell` -> the worker, when the line is that user's. */
export function parsePasswdLine(line: string, name: string): Worker | undefined {
  const f = line.trim().split(':');
  if (f.length < 7 || f[0] !== name || !/^\d+$/.test(f[2]!) || !/^\d+$/.test(f[3]!)) return undefined;
  return { name, uid: Number(f[2]), gid: Number(f[3]) };
}

/**
 * The worker's uid and gid: `getent passwd` (any NSS source), else /etc/passwd. Throws a one-line
 * XbError when the user is missing or is privileged.
 */
export function lookupWorker(name = WORKER_USER): Worker {
  let text = '';
  try {
    text = execFileSync('getent', ['passwd', name], {
      encoding: 'utf8',
      timeout: 10_000,
      stdio: ['ignore', 'pipe', 'ignore'],
    });
  } catch (e) {
    // getent exits 2 for an unknown user; without getent at all, read the file.
    if ((e as NodeJS.ErrnoException).code === 'ENOENT') text = readPasswd();
  }
  let worker: Worker | undefined;
  for (const line of text.split('\n')) worker ??= parsePasswdLine(line, name);
  if (!worker) {
    throw new XbError(
      `the system user ${name} is missing: create it as root with scripts/worker-user (scripts/install and scripts/deps do it too)`,
    );
  }
  if (worker.uid === 0 || worker.gid === 0) {
    throw new XbError(`the system user ${name} has uid or gid 0: it must be an unprivileged user of its own`);
  }
  return worker;
}

function readPasswd(): string {
  try {
    return readFileSync('/etc/passwd', 'utf8');
  } catch {
    return '';
  }
}

/** Absolute paths of unshare, setpriv and prlimit (util-linux); a one-line error when one is missing. */
export function findConfineBins(pathEnv?: string): ConfineBins {
  const find = (name: string) => {
    const p = which([name], pathEnv);
    if (!p)
      throw new XbError(
        `${name} (util-linux) is not installed; the manager needs it to confine backup processing`,
      );
    return p;
  };
  return { unshare: find('unshare'), setpriv: find('setpriv'), prlimit: find('prlimit') };
}
