/**
 * A small process API in the spirit of google/zx: argv arrays only (never a shell string), a
 * timeout on every child, the whole process group killed on timeout, output kept for errors.
 * Every child runs in its own process group so that a stop reaches what it started too
 * (ansible-playbook's ssh, a helper's pipeline), and only that.
 */
import { execa, type Options } from 'execa';
import { ProcessError } from '../errors.js';

export interface RunOptions {
  /** Milliseconds; required so that no child can hang a run forever. */
  timeoutMs: number;
  env?: Record<string, string | undefined>;
  cwd?: string;
  input?: string;
  /** Called with each chunk of stdout as it arrives (the result still holds stdout). */
  onStdoutLine?: (line: string) => void;
  /** Do not throw on a non-zero exit; the caller decides. */
  reject?: boolean;
  /** Label for messages; defaults to the basename of the command. */
  label?: string;
}

export interface RunResult {
  exitCode: number;
  signal?: string;
  timedOut: boolean;
  stdout: string;
  stderr: string;
}

const live = new Set<number>();
let listener: ((pids: number[]) => void) | undefined;

/** Called with the live children whenever one starts or ends (the run lock records them). */
export function onChildrenChange(fn: ((pids: number[]) => void) | undefined): void {
  listener = fn;
}

function changed(): void {
  try {
    listener?.([...live]);
  } catch {
    // Recording is best effort; it must never break the child it records.
  }
}

/** PIDs (= process group ids) of children running now; recorded with the run lock. */
export function liveChildren(): number[] {
  return [...live];
}

/** Signal a child's whole process group; a group that is gone already is fine. */
export function killGroup(pid: number, signal: NodeJS.Signals = 'SIGTERM'): void {
  try {
    process.kill(-pid, signal);
  } catch {
    // ESRCH: already gone.
  }
}

/** Stop every child this process started (used on SIGINT/SIGTERM of the controller). */
export function killAllChildren(signal: NodeJS.Signals = 'SIGTERM'): void {
  for (const pid of live) killGroup(pid, signal);
}

const GRACE_MS = 5000;

export async function run(cmd: string, args: readonly string[], opts: RunOptions): Promise<RunResult> {
  const label = opts.label ?? cmd.split('/').pop() ?? cmd;
  const execaOpts: Options = {
    reject: false,
    detached: true,
    cwd: opts.cwd,
    env: opts.env,
    extendEnv: true,
    input: opts.input,
    stdin: opts.input === undefined ? 'ignore' : 'pipe',
    stripFinalNewline: false,
    maxBuffer: 64 * 1024 * 1024,
    lines: false,
  };
  const child = execa(cmd, args, execaOpts);
  const pid = child.pid;
  if (pid !== undefined) {
    live.add(pid);
    changed();
  }
  let timedOut = false;
  let killTimer: NodeJS.Timeout | undefined;
  const timer = setTimeout(() => {
    timedOut = true;
    if (pid === undefined) return;
    killGroup(pid, 'SIGTERM');
    killTimer = setTimeout(() => killGroup(pid, 'SIGKILL'), GRACE_MS);
  }, opts.timeoutMs);
  if (opts.onStdoutLine && child.stdout) {
    let buf = '';
    child.stdout.on('data', (chunk: Buffer) => {
      buf += chunk.toString('utf8');
      let nl: number;
      while ((nl = buf.indexOf('\n')) >= 0) {
        opts.onStdoutLine?.(buf.slice(0, nl));
        buf = buf.slice(nl + 1);
      }
    });
  }
  try {
    const r = await child;
    const result: RunResult = {
      exitCode: typeof r.exitCode === 'number' ? r.exitCode : -1,
      signal: r.signal ?? undefined,
      timedOut,
      stdout: String(r.stdout ?? ''),
      stderr: String(r.stderr ?? ''),
    };
    if (r.failed && r.exitCode === undefined && !r.signal && !timedOut) {
      // Could not start at all (ENOENT, EACCES).
      throw new ProcessError({
        command: label,
        procExitCode: undefined,
        timedOut: false,
        stderrTail: r.shortMessage ?? r.message ?? '',
      });
    }
    if (opts.reject !== false && (result.exitCode !== 0 || timedOut || result.signal)) {
      throw new ProcessError({
        command: label,
        procExitCode: result.exitCode,
        signal: result.signal,
        timedOut,
        stderrTail: tail(result.stderr || result.stdout),
      });
    }
    return result;
  } finally {
    clearTimeout(timer);
    if (killTimer) clearTimeout(killTimer);
    if (pid !== undefined) {
      // Reap stragglers the child left in its group (a pipeline member, an ssh master).
      killGroup(pid, 'SIGKILL');
      live.delete(pid);
      changed();
    }
  }
}

/** The last few lines of some output, for error messages and reports. */
export function tail(text: string, lines = 20): string {
  const all = text.trimEnd().split('\n');
  return all.slice(-lines).join('\n');
}
