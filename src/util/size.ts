import { existsSync, lstatSync, readdirSync, statfsSync } from 'node:fs';
import { dirname, join } from 'node:path';

/** 1536 -> "1.5 KiB". */
export function formatBytes(bytes: number): string {
  const units = ['B', 'KiB', 'MiB', 'GiB', 'TiB'];
  let v = bytes;
  let u = 0;
  while (v >= 1024 && u < units.length - 1) {
    v /= 1024;
    u++;
  }
  return u === 0 ? `${v} B` : `${v.toFixed(1)} ${units[u]}`;
}

/** Bytes of the regular files below a directory (0 when it does not exist). */
export function dirBytes(dir: string): number {
  if (!existsSync(dir)) return 0;
  let total = 0;
  for (const e of readdirSync(dir, { withFileTypes: true })) {
    const p = join(dir, e.name);
    if (e.isDirectory()) total += dirBytes(p);
    else if (e.isFile()) total += lstatSync(p).size;
  }
  return total;
}

/**
 * Free bytes (for an unprivileged writer) and total bytes of the filesystem that holds `dir`, or
 * would hold it: the nearest existing ancestor is asked. Nothing at all: no space, no size limit.
 */
export function diskSpace(dir: string): { free: number; total: number } {
  for (let d = dir; ; d = dirname(d)) {
    try {
      const st = statfsSync(d);
      return { free: st.bavail * st.bsize, total: st.blocks * st.bsize };
    } catch {
      if (d === dirname(d)) return { free: 0, total: Number.MAX_SAFE_INTEGER };
    }
  }
}
