/**
 * A file system of its own for a test's backup_dir (ext4 on a loop device; root only), so that a
 * test can bring its free space under a threshold for real: the code under test measures it with
 * statfs as always. The image is sparse and the filler is fallocated: little real disk is used.
 */
import { execFileSync } from 'node:child_process';
import { chmodSync, mkdirSync, rmSync, statfsSync } from 'node:fs';
import { join } from 'node:path';

/** Mount a fresh ext4 of `size` (e.g. "8G") at `dir`; returns the unmount. */
export function loopMount(image: string, dir: string, size: string): () => void {
  execFileSync('truncate', ['-s', size, image]);
  execFileSync('mkfs.ext4', ['-q', '-F', '-m', '0', image]);
  mkdirSync(dir, { recursive: true });
  execFileSync('mount', ['-o', 'loop', image, dir]);
  rmSync(join(dir, 'lost+found'), { recursive: true, force: true });
  chmodSync(dir, 0o711);
  return () => {
    execFileSync('umount', [dir]);
    rmSync(image, { force: true });
  };
}

export function freeBytes(dir: string): number {
  const st = statfsSync(dir);
  return st.bavail * st.bsize;
}

/** Allocate a file in `dir` so that about `free` bytes stay free; returns its path (rm it to undo). */
export function fillTo(dir: string, free: number): string {
  const file = join(dir, 'filler');
  const n = freeBytes(dir) - free;
  if (n > 0) execFileSync('fallocate', ['-l', String(n), file]);
  return file;
}
