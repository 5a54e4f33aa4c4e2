/**
 * A private scratch directory per process (0700) for extra-vars files, credentials on their way
 * to a DB host and ssh control sockets. Removed at exit; one left by a killed run is removed by
 * the next run once its PID is gone.
 */
import { mkdirSync, readdirSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { randomBytes } from 'node:crypto';

const PREFIX = 'xb-mgr-run-';
let current: string | undefined;

function pidAlive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch (e) {
    return (e as NodeJS.ErrnoException).code === 'EPERM';
  }
}

export function cleanStaleRunTmp(base = tmpdir()): void {
  let names: string[];
  try {
    names = readdirSync(base);
  } catch {
    return;
  }
  for (const n of names) {
    const m = new RegExp(`^${PREFIX}(\\d+)-`).exec(n);
    if (m && Number(m[1]) !== process.pid && !pidAlive(Number(m[1]))) {
      rmSync(join(base, n), { recursive: true, force: true });
    }
  }
}

export function runTmp(): string {
  if (current) return current;
  cleanStaleRunTmp();
  // Short names: ssh control sockets must fit in 108 bytes.
  current = join(tmpdir(), `${PREFIX}${process.pid}-${randomBytes(3).toString('hex')}`);
  mkdirSync(current, { mode: 0o700 });
  process.once('exit', () => {
    if (current) rmSync(current, { recursive: true, force: true });
  });
  return current;
}
