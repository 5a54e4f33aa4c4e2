/** Exit codes of the CLI contract (docs/ARCHITECTURE.md). */
export const EXIT = { ok: 0, hostFailed: 1, usage: 2, locked: 75 } as const;

/** Base of every error a user is meant to read: one line, no stack trace, an exit code. */
export class XbError extends Error {
  readonly exitCode: number;
  constructor(message: string, exitCode: number = EXIT.hostFailed) {
    super(message);
    this.name = new.target.name;
    this.exitCode = exitCode;
  }
}

/** Bad command-line usage: exit 2, nothing was done. */
export class UsageError extends XbError {
  constructor(message: string) {
    super(message, EXIT.usage);
  }
}

/** One problem found in backup.conf; it names where it is so the user can fix it. */
export interface ConfigIssue {
  file: string;
  section?: string;
  key?: string;
  value?: string;
  line?: number;
  message: string;
}

/** A value, key or name from the file, shortened so that one problem stays one readable line. */
export function clip(s: string, max = 120): string {
  return s.length <= max ? s : `${s.slice(0, max)}... (${s.length} characters)`;
}

export function formatConfigIssue(i: ConfigIssue): string {
  const where = [i.file + (i.line ? `:${i.line}` : '')];
  if (i.section !== undefined) where.push(`[${clip(i.section)}]`);
  if (i.key !== undefined) where.push(clip(i.key));
  const value = i.value !== undefined ? ` = ${JSON.stringify(clip(i.value))}` : '';
  return `${where.join(' ')}${value}: ${i.message}`;
}

/** backup.conf is missing, unreadable or invalid: exit 2, nothing was done. */
export class ConfigError extends XbError {
  readonly issues: ConfigIssue[];
  constructor(issues: ConfigIssue[]) {
    super(issues.map(formatConfigIssue).join('\n'), EXIT.usage);
    this.issues = issues;
  }
}

/** The inventory cannot be read or parsed: exit 2. */
export class InventoryError extends XbError {
  constructor(message: string) {
    super(message, EXIT.usage);
  }
}

/** A child process failed: carries its exit code and the tail of its output. */
export class ProcessError extends XbError {
  readonly command: string;
  readonly procExitCode: number | undefined;
  readonly signal: string | undefined;
  readonly timedOut: boolean;
  readonly stderrTail: string;
  constructor(opts: {
    command: string;
    procExitCode?: number;
    signal?: string;
    timedOut: boolean;
    stderrTail: string;
  }) {
    const why = opts.timedOut
      ? 'timed out'
      : opts.signal
        ? `was killed by ${opts.signal}`
        : `exited with code ${opts.procExitCode}`;
    const tail = opts.stderrTail.trim() ? `: ${lastLine(opts.stderrTail)}` : '';
    super(`${opts.command} ${why}${tail}`);
    this.command = opts.command;
    this.procExitCode = opts.procExitCode;
    this.signal = opts.signal;
    this.timedOut = opts.timedOut;
    this.stderrTail = opts.stderrTail;
  }
}

/** Another run holds the run lock: exit 75 (EX_TEMPFAIL), cron will try again. */
export class LockHeldError extends XbError {
  /** Held longer than lock_alert_hours: the holder is probably stuck (alert by mail). */
  readonly stuck: boolean;
  constructor(message: string, stuck = false) {
    super(message, EXIT.locked);
    this.stuck = stuck;
  }
}

export function lastLine(text: string): string {
  const lines = text.trim().split('\n');
  return (lines[lines.length - 1] ?? '').trim();
}

/** The message of anything thrown, without a stack trace. */
export function errorMessage(e: unknown): string {
  if (e instanceof Error) return e.message;
  return String(e);
}
