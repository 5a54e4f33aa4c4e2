/** Child processes that run TypeScript sources of this repository (tap's loader, no type check). */
import { fork, type ChildProcess } from 'node:child_process';
import { once } from 'node:events';
import type { Test } from 'tap';

const loader = process.execArgv.filter((a) => a.includes('@tapjs/typescript'));

export interface Child {
  proc: ChildProcess & { pid: number };
  /** Everything printed so far. */
  out: () => string;
  err: () => string;
  /** Resolves with the first stdout line matching `re`. */
  line: (re: RegExp) => Promise<string>;
  exit: Promise<number | null>;
}

/** Start `node SCRIPT ARGS` (SCRIPT a .ts file); killed at the end of the test. */
export function startTs(t: Test, script: string, args: string[], env: NodeJS.ProcessEnv = {}): Child {
  const proc = fork(script, args, {
    execArgv: loader.length > 0 ? loader : process.execArgv,
    env: { ...process.env, TS_NODE_TRANSPILE_ONLY: '1', ...env },
    stdio: ['ignore', 'pipe', 'pipe', 'ipc'],
  }) as ChildProcess & { pid: number };
  let out = '';
  let err = '';
  const waiters: { re: RegExp; resolve: (l: string) => void }[] = [];
  proc.stdout!.on('data', (d: Buffer) => {
    out += d.toString();
    for (const w of [...waiters]) {
      const l = out.split('\n').find((x) => w.re.test(x));
      if (l !== undefined) {
        waiters.splice(waiters.indexOf(w), 1);
        w.resolve(l);
      }
    }
  });
  proc.stderr!.on('data', (d: Buffer) => (err += d.toString()));
  const exit = once(proc, 'exit').then(([code]) => code as number | null);
  t.teardown(() => {
    if (proc.exitCode === null && proc.signalCode === null) proc.kill('SIGKILL');
  });
  return {
    proc,
    out: () => out,
    err: () => err,
    exit,
    line: (re) =>
      new Promise<string>((resolve, reject) => {
        const l = out.split('\n').find((x) => re.test(x));
        if (l !== undefined) return resolve(l);
        waiters.push({ re, resolve });
        void exit.then((code) => reject(new Error(`exited ${code} before ${re}: ${out}${err}`)));
      }),
  };
}
