/** Process helpers for e2e tests: wait for a condition, find sandbox processes, check liveness. */
import { readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { sandboxDir } from './sandbox.js';

export async function waitFor<T>(what: string, fn: () => T | undefined | false, ms = 60_000): Promise<T> {
  const end = Date.now() + ms;
  while (Date.now() < end) {
    const v = fn();
    if (v !== undefined && v !== false) return v;
    await new Promise((r) => setTimeout(r, 100));
  }
  throw new Error(`timed out waiting for ${what}`);
}

/** pid -> argv of every process on the machine now. */
export function processes(): Map<number, string[]> {
  const out = new Map<number, string[]>();
  for (const pid of readdirSync('/proc')) {
    if (!/^\d+$/.test(pid)) continue;
    try {
      out.set(Number(pid), readFileSync(`/proc/${pid}/cmdline`, 'utf8').split('\0').slice(0, -1));
    } catch {
      // gone
    }
  }
  return out;
}

export function cmdlines(): string[] {
  return [...processes().values()].map((a) => a.join(' '));
}

/** Running and not a zombie. */
export function alive(pid: number): boolean {
  try {
    return !/\) [ZX] /.test(readFileSync(`/proc/${pid}/stat`, 'utf8'));
  } catch {
    return false;
  }
}

/** The remote mariabackup of a sandbox host (it runs with that host's credentials file). */
export function remoteToolPid(host: string): number | undefined {
  const creds = join(sandboxDir, 'hosts', host, 'etc', 'credentials.cnf');
  for (const [pid, argv] of processes())
    if (argv.some((a) => a.endsWith('mariabackup')) && argv.includes(`--defaults-extra-file=${creds}`))
      return pid;
  return undefined;
}
