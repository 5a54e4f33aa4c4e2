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
