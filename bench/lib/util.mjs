// Small process, timing and statistics helpers of the benchmark harness (plain ESM, no loader).
import { spawn } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { performance } from 'node:perf_hooks';
import { setTimeout as sleep } from 'node:timers/promises';

export { sleep };

/** Seconds since an arbitrary origin, with sub-millisecond resolution. */
export function clock() {
  return performance.now() / 1000;
}

export function round(x, digits = 2) {
  if (x === null || x === undefined || Number.isNaN(x)) return null;
  const f = 10 ** digits;
  return Math.round(x * f) / f;
}

export function median(values) {
  const v = values.filter((x) => typeof x === 'number' && !Number.isNaN(x)).sort((a, b) => a - b);
  if (v.length === 0) return null;
  const m = Math.floor(v.length / 2);
  return v.length % 2 ? v[m] : (v[m - 1] + v[m]) / 2;
}

function tailOf(text, n = 12) {
  return text.trimEnd().split('\n').slice(-n).join('\n');
}

/** Peak resident set (VmHWM, kB) of a process, read until it exits. */
function readHwm(pid) {
  try {
    const m = /VmHWM:\s+(\d+) kB/.exec(readFileSync(`/proc/${pid}/status`, 'utf8'));
    return m ? Number(m[1]) : undefined;
  } catch {
    return undefined;
  }
}

/**
 * Run a command (argv, no shell), timed from spawn to exit. Options: env (added to process.env),
 * cwd, stdout/stderr capture, memory (poll the child's VmHWM every 20 ms), check (throw on a
 * non-zero exit, the default).
 */
export async function exec(cmd, args, o = {}) {
  const t0 = clock();
  const child = spawn(cmd, args, {
    cwd: o.cwd,
    env: { ...process.env, ...(o.env ?? {}) },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  let stdout = '';
  let stderr = '';
  child.stdout.setEncoding('utf8').on('data', (c) => (stdout += c));
  child.stderr.setEncoding('utf8').on('data', (c) => (stderr += c));
  let peakKb;
  let polling = Boolean(o.memory);
  const poller = (async () => {
    while (polling) {
      const v = readHwm(child.pid);
      if (v !== undefined) peakKb = Math.max(peakKb ?? 0, v);
      await sleep(20);
    }
  })();
  const code = await new Promise((resolve, reject) => {
    child.on('error', reject);
    child.on('close', (c, sig) => resolve(c ?? (sig ? 128 : 1)));
  });
  polling = false;
  await poller;
  const seconds = clock() - t0;
  if (code !== 0 && o.check !== false) {
    throw new Error(`${cmd} ${args.join(' ').slice(0, 300)} exited ${code}:\n${tailOf(stderr || stdout)}`);
  }
  return { code, stdout, stderr, seconds, peakKb };
}

/** Run a bash script with pipefail and errexit. */
export function sh(script, o = {}) {
  return exec('bash', ['-o', 'pipefail', '-ec', script], o);
}

/** Quote a value for a POSIX shell. */
export function q(s) {
  return `'${String(s).replace(/'/g, `'\\''`)}'`;
}

export async function duBytes(path) {
  const r = await exec('du', ['-sb', path], { check: false });
  return r.code === 0 ? Number(r.stdout.split(/\s/)[0]) : null;
}

export function log(msg) {
  process.stderr.write(`bench: ${msg}\n`);
}
