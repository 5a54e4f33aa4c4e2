/**
 * The one way a chain of stored backups becomes a prepared directory, for the ready step (which
 * applies only what its prepared base lacks) and for `restore --backup` (the whole chain):
 * extract each stream (its sha256 checked in the same read), then prepare it with the engine's
 * steps. `applySteps` is the pure plan (table-tested); `applyChain` runs it.
 */
import { createHash } from 'node:crypto';
import { createReadStream, rmSync } from 'node:fs';
import { diskSpace } from '../util/size.js';
import type { HostConfig } from '../config/load.js';
import type { Manifest } from '../catalog/manifest.js';
import type { CatalogStore } from '../storage/catalog-store.js';
import { candidates, compressorNames, which, type Role } from '../engine/binaries.js';
import { engineFor, type Engine, type PrepareStep } from '../engine/engine.js';
import { maxExtractBytes, overCapMessage, type Cap } from '../engine/caps.js';
import { clip, errorMessage } from '../errors.js';
import { faultPoint } from '../util/fault.js';
import { OutputCapError, pipeline, run, tail, type Stage } from '../util/proc.js';
import { decompressor } from './commands.js';
import { ChecksumMismatch, isNoSpace, ReadyFailure } from './failure.js';
import { dataLayout, dataOptions, type DataLayout } from './data-options.js';
import { missingFiles, requiredFiles } from './complete.js';
import { freshWorkDir, workerCommand, workerSetup } from './worker.js';

export const USE_MEMORY = '1G';

export type ApplyStep =
  | { kind: 'extract'; backup: Manifest; dir: string }
  /**
   * `argv` without the data options: applyChain puts those first (--no-defaults, the layout read
   * from the extracted backup-my.cnf, the manager's plugin dir) once the backup is extracted.
   */
  | { kind: 'prepare'; backup: Manifest; step: PrepareStep; argv: string[]; label: 'prepare' | 'apply' }
  | { kind: 'remove'; dir: string };

export interface ApplyOptions {
  /**
   * The chain's last step leaves the directory startable (restore). When false the directory stays
   * able to take another incremental (the ready step's base) and must be finalized on a copy.
   */
  final: boolean;
  /** Where an incremental is extracted before it is applied to the target. */
  incrementalDir: (m: Manifest) => string;
  useMemory?: string;
}

/**
 * Pure: the steps that bring `target` from its current state to `apply`'s last backup. `apply`
 * starts with a full (a new directory) or continues a directory that already holds the parent of
 * its first backup.
 */
export function applySteps(
  engine: Engine,
  apply: readonly Manifest[],
  target: string,
  o: ApplyOptions,
): ApplyStep[] {
  const steps: ApplyStep[] = [];
  apply.forEach((m, i) => {
    const last = i === apply.length - 1;
    const keepApplicable = !(o.final && last);
    const mem = o.useMemory ? { useMemory: o.useMemory } : {};
    if (m.type === 'full') {
      steps.push({ kind: 'extract', backup: m, dir: target });
      const step: PrepareStep = { targetDir: target, keepApplicable, ...mem };
      steps.push({ kind: 'prepare', backup: m, step, argv: engine.prepareArgs(step), label: 'prepare' });
    } else {
      const inc = o.incrementalDir(m);
      steps.push({ kind: 'extract', backup: m, dir: inc });
      const step: PrepareStep = { targetDir: target, incrementalDir: inc, keepApplicable, ...mem };
      steps.push({ kind: 'prepare', backup: m, step, argv: engine.prepareArgs(step), label: 'apply' });
      steps.push({ kind: 'remove', dir: inc });
    }
  });
  return steps;
}

export function managerBin(h: HostConfig, role: Role | 'tar' | 'cp'): string {
  return findBin(role === 'tar' ? ['tar'] : role === 'cp' ? ['cp'] : candidates(h, role));
}

/** The binary that decompresses a stored stream or ready file of format `c` ('' for none). */
export function decompressorBin(c: HostConfig['compress']): string {
  return c === 'none' ? '' : findBin(compressorNames(c));
}

function findBin(names: string[]): string {
  const found = which(names);
  if (!found)
    throw new ReadyFailure(
      `${names.join(' or ')} not found on the manager host (needed for the ready backup)`,
      'prepare',
    );
  return found;
}

export async function sha256File(file: string): Promise<string> {
  const hash = createHash('sha256');
  for await (const chunk of createReadStream(file, { highWaterMark: 1 << 20 })) hash.update(chunk as Buffer);
  return hash.digest('hex');
}

/** The sha256 of a stored backup's stream, read again from the store. */
async function storedSha256(store: CatalogStore, m: Manifest): Promise<string> {
  const hash = createHash('sha256');
  for await (const chunk of await store.openRead({ kind: m.type, id: m.id }, m.file))
    hash.update(chunk as Buffer);
  return hash.digest('hex');
}

/**
 * The largest file a step that works on a whole datadir (prepare, the verify copy, mysqld) may
 * write: the size of the filesystem. A prepared base legitimately outgrows any one stream (a
 * small incremental applied to a large table), so its bound is the disk; extraction has the cap.
 */
export function datadirFileLimit(dir: string): number {
  return Math.max(1, diskSpace(dir).total);
}

/** max_extract_bytes for a backup extracted near `dir` (the default reserve shrinks on small disks). */
export function extractCap(h: HostConfig, m: Manifest, dir: string): Cap {
  return maxExtractBytes({
    ...(h.caps.maxExtractBytes !== undefined ? { configured: h.caps.maxExtractBytes } : {}),
    streamBytes: m.bytes,
    freeBytes: diskSpace(dir).free,
  });
}

/**
 * Extract a stored stream into dir (a fresh working directory of the worker), checking its sha256
 * in the same read. The decompressor's output is bounded by max_extract_bytes (a zstd bomb from a
 * DB host fails here), mbstream runs confined, and an entry name it refuses (it says so on stderr
 * but exits 0) fails the extract.
 */
export async function extract(h: HostConfig, store: CatalogStore, m: Manifest, dir: string): Promise<void> {
  const setup = workerSetup();
  freshWorkDir(setup, dir);
  const cap = extractCap(h, m, dir);
  const limits = {
    timeoutMs: h.timeouts.prepare * 1000,
    threads: h.parallel + 1,
    maxFileBytes: Math.max(1, cap.bytes),
  };
  const hash = createHash('sha256');
  const stages: Stage[] = [];
  const d = decompressor(m.compress, decompressorBin(m.compress));
  if (d)
    stages.push({
      ...workerCommand(setup, d.cmd, d.args, limits),
      label: `${d.cmd.split('/').pop()} -d`,
      maxOutputBytes: cap.bytes,
    });
  stages.push({
    ...workerCommand(
      setup,
      managerBin(h, 'stream'),
      engineFor(h.backupTool).extractArgs(dir, h.parallel),
      limits,
    ),
    label: 'mbstream -x',
  });
  let got: string;
  let refused: string | undefined;
  try {
    const input = await store.openRead({ kind: m.type, id: m.id }, m.file);
    const r = await pipeline(stages, {
      input,
      onInput: (c) => hash.update(c),
      timeoutMs: h.timeouts.prepare * 1000,
    });
    got = hash.digest('hex');
    refused = r.stages[r.stages.length - 1]!.stderr.trim().split('\n')[0] || undefined;
  } catch (e) {
    if (e instanceof OutputCapError) {
      rmSync(dir, { recursive: true, force: true });
      throw new ReadyFailure(
        overCapMessage(`extracting ${m.type}/${m.id}`, 'max_extract_bytes', cap),
        'prepare',
        undefined,
        m,
      );
    }
    // The decompressor may notice a corruption first; the checksum says what is wrong.
    got = await storedSha256(store, m);
    if (got === m.sha256) {
      rmSync(dir, { recursive: true, force: true });
      // A full disk is not the backup's fault: do not mark it unusable.
      if (isNoSpace(e))
        throw new ReadyFailure(
          `extracting ${m.type}/${m.id} failed: the disk is full (${errorMessage(e)})`,
          'space',
        );
      throw new ReadyFailure(
        `extracting ${m.type}/${m.id} failed: ${errorMessage(e)}`,
        'prepare',
        undefined,
        m,
      );
    }
  }
  if (got !== m.sha256) {
    rmSync(dir, { recursive: true, force: true });
    throw new ChecksumMismatch(`${m.type}/${m.id}/${m.file}`, m.sha256, got, m, 'it was not applied');
  }
  if (refused) {
    rmSync(dir, { recursive: true, force: true });
    throw new ReadyFailure(
      `extracting ${m.type}/${m.id} failed: the stream has an entry mbstream refused (${clip(refused, 200)})`,
      'prepare',
      undefined,
      m,
    );
  }
}

/** Run one prepare step of the backup tool as the worker; success needs exit 0 and `completed OK!`. */
export async function prepareStep(
  h: HostConfig,
  argv: readonly string[],
  target: string,
  m: Manifest,
): Promise<void> {
  const engine = engineFor(h.backupTool);
  const cmd = workerCommand(workerSetup(), managerBin(h, 'tool'), argv, {
    timeoutMs: h.timeouts.prepare * 1000,
    threads: h.parallel + 1,
    // A prepared datadir outgrows any one stream: its bound is the filesystem (see datadirFileLimit).
    maxFileBytes: datadirFileLimit(target),
  });
  const r = await run(cmd.cmd, cmd.args, {
    timeoutMs: h.timeouts.prepare * 1000,
    reject: false,
    label: 'prepare',
    keepBytes: h.caps.toolLogTailBytes,
  });
  if (r.exitCode === 0 && !r.timedOut && engine.completedOk(r.stderr)) return;
  if (isNoSpace(r.stderr)) {
    throw new ReadyFailure(
      `prepare of ${m.type}/${m.id} failed: the disk is full`,
      'space',
      undefined,
      undefined,
      tail(r.stderr, 30),
    );
  }
  const why = r.timedOut
    ? ' (timeout_prepare)'
    : r.signal
      ? ` (killed by ${r.signal})`
      : ` (exit code ${r.exitCode})`;
  throw new ReadyFailure(
    `prepare of ${m.type}/${m.id} failed${why}: ${tail(r.stderr, 3)}`,
    'prepare',
    target,
    m,
    tail(r.stderr, 30),
  );
}

export interface ApplyHooks {
  /** Wraps each step for timing and logging (the ready step's `timed`). */
  timed?: <T>(step: string, fn: () => Promise<T>, extra: { backup: string; bytes?: number }) => Promise<T>;
  /** Keys of a backup-my.cnf that were ignored (for a warning in the log). */
  onDropped?: (message: string) => void;
}

/** Run `applySteps` for `apply` onto `target`; an incremental's directory is removed even on failure. */
export async function applyChain(
  h: HostConfig,
  store: CatalogStore,
  apply: readonly Manifest[],
  target: string,
  o: ApplyOptions,
  hooks: ApplyHooks = {},
): Promise<void> {
  const timed = hooks.timed ?? ((_s, fn) => fn());
  const engine = engineFor(h.backupTool);
  const steps = applySteps(engine, apply, target, o);
  const pending = new Set(steps.flatMap((s) => (s.kind === 'remove' ? [s.dir] : [])));
  // The layout of the target, read after each extract: a full's own, for an incremental the base's.
  let layout: DataLayout | undefined;
  try {
    for (const s of steps) {
      if (s.kind === 'extract') {
        await timed('extract', () => extract(h, store, s.backup, s.dir), {
          backup: s.backup.id,
          bytes: s.backup.bytes,
        });
        layout = await dataLayout(h, target, s.backup, hooks.onDropped);
        const missing = missingFiles(s.dir, requiredFiles(s.backup.type, layout.dataFilePath));
        if (missing.length > 0)
          throw new ReadyFailure(
            `${s.backup.type}/${s.backup.id} is incomplete: the stream has no ${missing.join(', ')} (though the tool said completed OK!)`,
            'prepare',
            undefined,
            s.backup,
          );
        await faultPoint('extract');
      } else if (s.kind === 'prepare') {
        // Never the backup's option file: --no-defaults, the allowlisted layout, our plugin dir.
        const argv = engine.prepareArgs({ ...s.step, options: layout!.options });
        await timed(s.label, () => prepareStep(h, argv, target, s.backup), { backup: s.backup.id });
      } else {
        rmSync(s.dir, { recursive: true, force: true });
        pending.delete(s.dir);
      }
    }
  } finally {
    for (const d of pending) rmSync(d, { recursive: true, force: true });
  }
}

/** Does a directory prepared with `final: false` need `finalize` before a server starts on it? */
export function needsFinalize(h: HostConfig): boolean {
  return engineFor(h.backupTool).finalizeArgs('.') !== undefined;
}

/** Make a directory prepared with `final: false` startable (XtraBackup's last prepare; none for MariaBackup). */
export async function finalize(
  h: HostConfig,
  dir: string,
  m: Manifest,
  onDropped?: (message: string) => void,
): Promise<boolean> {
  const options = await dataOptions(h, dir, m, onDropped);
  const argv = engineFor(h.backupTool).finalizeArgs(dir, USE_MEMORY, options);
  if (!argv) return false;
  await prepareStep(h, argv, dir, m);
  return true;
}
