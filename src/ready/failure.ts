/** Typed failures of the manager-side work on backup data (ready step, restore). */
import type { Manifest } from '../catalog/manifest.js';
import { ProcessError, XbError } from '../errors.js';

export type ReadyStage = 'space' | 'prepare' | 'verify' | 'compress';

/** Why the ready step (or a restore's prepare) failed and what to keep for inspection. */
export class ReadyFailure extends XbError {
  constructor(
    message: string,
    readonly stage: ReadyStage,
    /** Working directory worth keeping as failed-<id>. */
    readonly workDir?: string,
    /** The backup to mark unusable (the new one, or a stored one found corrupted). */
    readonly unusable?: Manifest,
    readonly details?: string,
  ) {
    super(message);
  }
}

/** A stored stream or ready file does not have the sha256 recorded for it: it is corrupted. */
export class ChecksumMismatch extends ReadyFailure {
  constructor(what: string, expected: string, got: string, unusable?: Manifest, consequence?: string) {
    super(
      `sha256 mismatch: ${what} is corrupted (expected ${expected}, read ${got})${consequence ? `; ${consequence}` : ''}`,
      'prepare',
      undefined,
      unusable,
    );
  }
}

const NO_SPACE = /No space left on device|Disk quota exceeded|\bENOSPC\b|\bEDQUOT\b|errno 28\b|error 28\b/i;

/** Pure: does this error (a process's stderr, a file operation) say the disk is full? */
export function isNoSpace(e: unknown): boolean {
  const code = (e as NodeJS.ErrnoException | undefined)?.code;
  if (code === 'ENOSPC' || code === 'EDQUOT') return true;
  if (e instanceof ProcessError) return NO_SPACE.test(e.stderrTail) || NO_SPACE.test(e.message);
  if (e instanceof Error) return NO_SPACE.test(e.message);
  return typeof e === 'string' && NO_SPACE.test(e);
}

/**
 * Pure: any error of a ready-step action as a ReadyFailure. A full disk is the 'space' stage (not
 * the backup's fault: nothing is marked unusable); anything else is `stage` with the working
 * directory kept for inspection. A ReadyFailure passes through unchanged.
 */
export function asReadyFailure(
  e: unknown,
  what: string,
  stage: Exclude<ReadyStage, 'space'>,
  o: { workDir?: string; unusable?: Manifest } = {},
): ReadyFailure {
  if (e instanceof ReadyFailure) return e;
  if (isNoSpace(e)) return new ReadyFailure(`${what} failed: the disk is full`, 'space');
  const msg = e instanceof Error ? e.message : String(e);
  const details = e instanceof ProcessError && e.stderrTail ? e.stderrTail : undefined;
  return new ReadyFailure(`${what} failed: ${msg}`, stage, o.workDir, o.unusable, details);
}
