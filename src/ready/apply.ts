/**
 * The one way a chain of stored backups becomes a prepared directory, for the ready step (which
 * applies only what its prepared base lacks) and for `restore --backup` (the whole chain):
 * extract each stream (its sha256 checked in the same read), then prepare it with the engine's
 * steps. `applySteps` is the pure plan (table-tested); `applyChain` runs it.
 */
import { createHash } from 'node:crypto';
import { createReadStream, mkdirSync, rmSync } from 'node:fs';
import type { HostConfig } from '../config/load.js';
import type { Manifest } from '../catalog/manifest.js';
import { catalogFile } from '../catalog/store.js';
import { candidates, compressorNames, which, type Role } from '../engine/binaries.js';
import { engineFor, type Engine } from '../engine/engine.js';
import { errorMessage } from '../errors.js';
import { faultPoint } from '../util/fault.js';
import { pipeline, run, tail } from '../util/proc.js';
import { decompressor } from './commands.js';
import { ChecksumMismatch, isNoSpace, ReadyFailure } from './failure.js';

export const USE_MEMORY = '1G';

export type ApplyStep =
  | { kind: 'extract'; backup: Manifest; dir: string }
  | { kind: 'prepare'; backup: Manifest; argv: string[]; label: 'prepare' | 'apply' }
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
      steps.push({
        kind: 'prepare',
        backup: m,
        argv: engine.prepareArgs({ targetDir: target, keepApplicable, ...mem }),
        label: 'prepare',
      });
    } else {
      const inc = o.incrementalDir(m);
      steps.push({ kind: 'extract', backup: m, dir: inc });
      steps.push({
        kind: 'prepare',
        backup: m,
        argv: engine.prepareArgs({ targetDir: target, incrementalDir: inc, keepApplicable, ...mem }),
        label: 'apply',
      });
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

/** Extract a stored stream into dir, checking its sha256 in the same read. */
export async function extract(h: HostConfig, root: string, m: Manifest, dir: string): Promise<void> {
  const file = catalogFile(root, m);
  rmSync(dir, { recursive: true, force: true });
  mkdirSync(dir, { recursive: true, mode: 0o700 });
  const hash = createHash('sha256');
  const stages = [];
  const d = decompressor(m.compress, decompressorBin(m.compress));
  if (d) stages.push({ cmd: d.cmd, args: d.args, label: `${d.cmd.split('/').pop()} -d` });
  stages.push({
    cmd: managerBin(h, 'stream'),
    args: engineFor(h.backupTool).extractArgs(dir, h.parallel),
    label: 'mbstream -x',
  });
  let got: string;
  try {
    await pipeline(stages, {
      inputFile: file,
      onInput: (c) => hash.update(c),
      timeoutMs: h.timeouts.prepare * 1000,
    });
    got = hash.digest('hex');
  } catch (e) {
    // The decompressor may notice a corruption first; the checksum says what is wrong.
    got = await sha256File(file);
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
    throw new ChecksumMismatch(`${m.type}/${m.id}/${m.file}`, m.sha256, got, m, 'it was not applied');
  }
}

/** Run one prepare step of the backup tool; success needs exit 0 and `completed OK!`. */
export async function prepareStep(
  h: HostConfig,
  argv: readonly string[],
  target: string,
  m: Manifest,
): Promise<void> {
  const engine = engineFor(h.backupTool);
  const r = await run(managerBin(h, 'tool'), argv, {
    timeoutMs: h.timeouts.prepare * 1000,
    reject: false,
    label: 'prepare',
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
  throw new ReadyFailure(
    `prepare of ${m.type}/${m.id} failed${r.timedOut ? ' (timeout_prepare)' : ` (exit code ${r.exitCode})`}: ${tail(r.stderr, 3)}`,
    'prepare',
    target,
    m,
    tail(r.stderr, 30),
  );
}

export interface ApplyHooks {
  /** Wraps each step for timing and logging (the ready step's `timed`). */
  timed?: <T>(step: string, fn: () => Promise<T>, extra: { backup: string; bytes?: number }) => Promise<T>;
}

/** Run `applySteps` for `apply` onto `target`; an incremental's directory is removed even on failure. */
export async function applyChain(
  h: HostConfig,
  root: string,
  apply: readonly Manifest[],
  target: string,
  o: ApplyOptions,
  hooks: ApplyHooks = {},
): Promise<void> {
  const timed = hooks.timed ?? ((_s, fn) => fn());
  const steps = applySteps(engineFor(h.backupTool), apply, target, o);
  const pending = new Set(steps.flatMap((s) => (s.kind === 'remove' ? [s.dir] : [])));
  try {
    for (const s of steps) {
      if (s.kind === 'extract') {
        await timed('extract', () => extract(h, root, s.backup, s.dir), {
          backup: s.backup.id,
          bytes: s.backup.bytes,
        });
        await faultPoint('extract');
      } else if (s.kind === 'prepare') {
        await timed(s.label, () => prepareStep(h, s.argv, target, s.backup), { backup: s.backup.id });
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
export async function finalize(h: HostConfig, dir: string, m: Manifest): Promise<boolean> {
  const argv = engineFor(h.backupTool).finalizeArgs(dir, USE_MEMORY);
  if (!argv) return false;
  await prepareStep(h, argv, dir, m);
  return true;
}
