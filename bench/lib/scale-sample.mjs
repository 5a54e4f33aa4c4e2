// Helpers of bench/scale.mjs: the disk it needs (and a refusal without it), and samplers of the
// load average and of the disk used while a run goes on.
import { mkdirSync, readFileSync, statfsSync } from 'node:fs';
import { dirname } from 'node:path';
import { round, sleep } from './util.mjs';

const MiB = 1024 * 1024;
const GiB = 1024 * MiB;

/**
 * Bytes the scale bench needs on the sandbox's file system, from what one tiny sandbox host took
 * here (2026-11-29): datadir with its 64 MiB redo log 94 MB, the host's catalog after a full run
 * 20 MB; while a host's ready step runs, its verify copy and the temporary server's redo log take
 * about 100 MB more. Rounded up, plus a reserve so the machine never runs full.
 */
export function scaleDiskNeed(hosts, maxParallel) {
  const perHost = 128 * MiB + 32 * MiB;
  const perSlot = 256 * MiB;
  const reserve = 1 * GiB;
  return hosts * perHost + maxParallel * perSlot + reserve;
}

/** Free bytes for root on the file system that holds `dir` (or its nearest existing parent). */
export function freeBytes(dir) {
  for (let d = dir; ; d = dirname(d)) {
    try {
      const s = statfsSync(d);
      return s.bavail * s.bsize;
    } catch (e) {
      if (e.code !== 'ENOENT' || d === dirname(d)) throw e;
    }
  }
}

/** Throws a one-line error when the file system of `dir` has less than `need` bytes free. */
export function requireFree(dir, need, what) {
  mkdirSync(dirname(dir), { recursive: true });
  const free = freeBytes(dir);
  if (free < need) {
    throw new Error(
      `not enough free disk for ${what}: ${gib(need)} GiB needed in ${dirname(dir)}, ${gib(free)} GiB free`,
    );
  }
  return free;
}

export function gib(bytes) {
  return round(bytes / GiB, 2);
}

export function loadAverage() {
  const [one, five, fifteen] = readFileSync('/proc/loadavg', 'utf8').split(' ').map(Number);
  return { one, five, fifteen };
}

/**
 * Samples the 1-minute load average and the bytes used on `dir`'s file system every `ms` until
 * stop() is called; stop() returns {load: {start, mean, max}, disk_peak_bytes (over the start)}.
 */
export function startSampler(dir, ms = 2000) {
  const loads = [loadAverage().one];
  const free0 = freeBytes(dir);
  let minFree = free0;
  let running = true;
  const loop = (async () => {
    while (running) {
      await sleep(ms);
      loads.push(loadAverage().one);
      minFree = Math.min(minFree, freeBytes(dir));
    }
  })();
  return async () => {
    running = false;
    await loop;
    return {
      load: {
        start: loads[0],
        mean: round(loads.reduce((a, b) => a + b, 0) / loads.length, 2),
        max: Math.max(...loads),
      },
      disk_peak_bytes: free0 - minFree,
    };
  };
}
