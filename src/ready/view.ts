/**
 * The directory the verify server runs on, made without copying the prepared base where the
 * machine allows it: a reflink copy, else an overlayfs view (lower = the base, read-only; upper and
 * work in the host's tmp/), else a plain copy. The base is never written by the verify server in
 * any of them. The manager (root) mounts; the worker's server only sees the merged directory.
 *
 * XB_VERIFY_VIEW=copy|overlay|reflink forces one method (tests; a machine where overlay misbehaves).
 */
import { chownSync, mkdirSync, readdirSync, readFileSync, rmSync, statSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { run } from '../util/proc.js';
import { dirBytes, diskSpace } from '../util/size.js';
import { errorMessage } from '../errors.js';
import { freshWorkDir, workerCommand, type WorkerSetup, type StepLimits } from './worker.js';

export type ViewMethod = 'reflink' | 'overlay' | 'copy';

export interface VerifyView {
  dir: string;
  method: ViewMethod;
  /** Bytes written beside the base for the verify: the copy, or what overlay copied up. */
  bytesWritten(): number;
  /** Unmount and drop overlay's scratch (the caller removes or keeps `dir`): safe to call twice. */
  close(): Promise<void>;
}

/** Pure: the methods to try, in order, for a forced method (env) and whether we may mount. */
export function viewMethods(forced: string | undefined, canMount: boolean, mustCopy: boolean): ViewMethod[] {
  if (mustCopy) return ['copy'];
  if (forced === 'copy' || forced === 'reflink' || forced === 'overlay') return [forced];
  return canMount ? ['reflink', 'overlay', 'copy'] : ['reflink', 'copy'];
}

/** Pure: mount's argv for an overlay; paths that would break the option string are refused. */
export function overlayMountArgs(lower: string, upper: string, work: string, merged: string): string[] {
  for (const p of [lower, upper, work])
    if (/[,:\\\n]/.test(p))
      throw new Error(`cannot mount an overlay on ${JSON.stringify(p)} (a , : or \\ in the path)`);
  return [
    '-t',
    'overlay',
    'overlay',
    '-o',
    `lowerdir=${lower},upperdir=${upper},workdir=${work}`,
    '--',
    merged,
  ];
}

/** Pure: the mount points in /proc/self/mountinfo at or below `dir`, deepest first. */
export function mountsUnder(mountinfo: string, dir: string): string[] {
  const prefix = dir.endsWith('/') ? dir : `${dir}/`;
  const found: string[] = [];
  for (const line of mountinfo.split('\n')) {
    const f = line.split(' ');
    if (f.length < 5) continue;
    const mp = f[4]!.replace(/\\([0-7]{3})/g, (_, o: string) => String.fromCharCode(parseInt(o, 8)));
    if (mp === dir || mp.startsWith(prefix)) found.push(mp);
  }
  return found.sort((a, b) => b.length - a.length);
}

async function umount(dir: string): Promise<void> {
  const r = await run('umount', [dir], { reject: false, timeoutMs: 60_000, label: 'umount' });
  // Busy (a server that outlived a kill): detach it, the kernel frees it when the last user goes.
  if (r.exitCode !== 0)
    await run('umount', ['-l', dir], { reject: false, timeoutMs: 60_000, label: 'umount' });
}

/** Unmount what an earlier run left under these directories (a kill -9 skips every finally). */
export async function cleanStaleMounts(dirs: readonly string[]): Promise<string[]> {
  let info = '';
  try {
    info = readFileSync('/proc/self/mountinfo', 'utf8');
  } catch {
    return [];
  }
  const stale = dirs.flatMap((d) => mountsUnder(info, d));
  for (const mp of stale) await umount(mp);
  return stale;
}

/** Size and mtime of every tablespace file (*.ibd one level down; ibdata*, undo* at the top). */
export function tablespaceStamps(dir: string): Map<string, string> {
  const out = new Map<string, string>();
  const stamp = (rel: string) => {
    const st = statSync(join(dir, rel));
    out.set(rel, `${st.size}:${st.mtimeMs}`);
  };
  for (const e of readdirSync(dir, { withFileTypes: true })) {
    if (e.isFile() && /^(ibdata\d*|undo\d+)$/.test(e.name)) stamp(e.name);
    if (!e.isDirectory()) continue;
    for (const f of readdirSync(join(dir, e.name), { withFileTypes: true }))
      if (f.isFile() && f.name.endsWith('.ibd')) stamp(`${e.name}/${f.name}`);
  }
  return out;
}

export interface ViewOptions {
  setup: WorkerSetup | null;
  base: string;
  /** The directory the server sees (prepare/verify-<id>). */
  dir: string;
  /** Where overlay's upper and work directories go (the host's tmp/). */
  scratch: string;
  cp: string;
  limits: StepLimits;
  mustCopy: boolean;
  onFallback: (method: ViewMethod, why: string) => void;
}

async function copyInto(o: ViewOptions, reflink: boolean): Promise<void> {
  freshWorkDir(o.setup, o.dir);
  const mode = reflink ? '--reflink=always' : '--reflink=auto';
  const c = workerCommand(o.setup, o.cp, ['-a', mode, `${o.base}/.`, o.dir], o.limits);
  await run(c.cmd, c.args, { timeoutMs: o.limits.timeoutMs, label: 'cp' });
}

export async function openVerifyView(o: ViewOptions): Promise<VerifyView> {
  const methods = viewMethods(process.env.XB_VERIFY_VIEW, o.setup !== null, o.mustCopy);
  const copied = (method: ViewMethod): VerifyView => ({
    dir: o.dir,
    method,
    bytesWritten: () => (method === 'reflink' ? 0 : dirBytes(o.dir)),
    close: () => Promise.resolve(),
  });
  for (const method of methods) {
    const last = method === methods[methods.length - 1];
    try {
      if (method === 'copy') {
        // The upfront check counted no copy when a copy-free view was expected: count it now.
        const need = dirBytes(o.base);
        const free = diskSpace(dirname(o.dir)).free;
        if (free < need)
          throw Object.assign(
            new Error(`no space left for a copy of the base: ${free} bytes free, ${need} needed`),
            { code: 'ENOSPC' },
          );
        await copyInto(o, false);
        return copied('copy');
      }
      if (method === 'reflink') {
        await copyInto(o, true);
        return copied('reflink');
      }
      return await mountOverlay(o);
    } catch (e) {
      rmSync(o.dir, { recursive: true, force: true });
      if (last) throw e;
      o.onFallback(method, errorMessage(e).split('\n')[0]!);
    }
  }
  throw new Error('no verify view method'); // not reached: methods is never empty
}

async function mountOverlay(o: ViewOptions): Promise<VerifyView> {
  const ovl = `${o.scratch}/${o.dir.split('/').pop()}.ovl`;
  const upper = join(ovl, 'upper');
  const work = join(ovl, 'work');
  rmSync(ovl, { recursive: true, force: true });
  mkdirSync(work, { recursive: true, mode: 0o700 });
  // The merged root takes the upper directory's owner and mode: the worker's, private.
  mkdirSync(upper, { mode: 0o700 });
  if (o.setup) chownSync(upper, o.setup.worker.uid, o.setup.worker.gid);
  freshWorkDir(o.setup, o.dir);
  const r = await run('mount', overlayMountArgs(o.base, upper, work, o.dir), {
    reject: false,
    timeoutMs: 60_000,
    label: 'mount',
  });
  if (r.exitCode !== 0) {
    rmSync(ovl, { recursive: true, force: true });
    throw new Error(`mount -t overlay failed: ${(r.stderr || r.stdout).trim()}`);
  }
  let open = true;
  return {
    dir: o.dir,
    method: 'overlay',
    bytesWritten: () => dirBytes(upper),
    close: async () => {
      if (open) await umount(o.dir);
      open = false;
      rmSync(ovl, { recursive: true, force: true });
    },
  };
}
