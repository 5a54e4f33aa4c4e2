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

export interface Stage {
  cmd: string;
  args: readonly string[];
  label?: string;
}

export interface PipelineOptions {
  timeoutMs: number;
  /** A file read into the first stage; with `onInput`, each chunk is seen before it is written. */
  inputFile?: string;
  onInput?: (chunk: Buffer) => void;
  /** Where the last stage's stdout goes; with `onOutput`, each chunk is seen before it is written. */
  outputFile?: string;
  onOutput?: (chunk: Buffer) => void;
  cwd?: string;
}

export interface PipelineResult {
  stages: { label: string; exitCode: number | null; signal: string | null; stderr: string }[];
  timedOut: boolean;
}

/**
 * A pipeline of processes connected fd to fd (no copy through this process between stages); the
 * input file and the final output pass through here only when a hash is wanted (onInput/onOutput),
 * so a file is never read twice. Every stage has its own process group, is recorded as a live
 * child and is killed on timeout. Throws ProcessError naming the first stage that failed.
 */
export async function pipeline(stages: Stage[], o: PipelineOptions): Promise<PipelineResult> {
  const { spawn } = await import('node:child_process');
  const { createReadStream, createWriteStream } = await import('node:fs');
  const { pipeline: streamPipeline } = await import('node:stream/promises');
  const { Transform } = await import('node:stream');
  const tap = (fn: (c: Buffer) => void) =>
    new Transform({
      transform(chunk: Buffer, _e, cb) {
        fn(chunk);
        cb(null, chunk);
      },
    });
  const children: import('node:child_process').ChildProcess[] = [];
  const stderrs: string[] = stages.map(() => '');
  const pumps: Promise<void>[] = [];
  let timedOut = false;
  const kill = (sig: NodeJS.Signals) => {
    for (const c of children) if (c.pid !== undefined) killGroup(c.pid, sig);
  };
  try {
    stages.forEach((s, i) => {
      const prev = children[i - 1];
      const first = i === 0;
      const last = i === stages.length - 1;
      const stdin = first ? (o.inputFile ? 'pipe' : 'ignore') : prev!.stdout!;
      const stdout = last && !o.outputFile ? 'ignore' : 'pipe';
      const c = spawn(s.cmd, [...s.args], { detached: true, cwd: o.cwd, stdio: [stdin, stdout, 'pipe'] });
      children.push(c);
      if (c.pid !== undefined) {
        live.add(c.pid);
        changed();
      }
      c.stderr!.on('data', (d: Buffer) => {
        stderrs[i] = (stderrs[i]! + d.toString('utf8')).slice(-20_000);
      });
      // The next stage holds its own copy of this pipe; ours must not read from it.
      if (!first && prev?.stdout) prev.stdout.destroy();
    });
    if (o.inputFile) {
      const src = createReadStream(o.inputFile, { highWaterMark: 1 << 20 });
      const sink = children[0]!.stdin!;
      pumps.push(o.onInput ? streamPipeline(src, tap(o.onInput), sink) : streamPipeline(src, sink));
    }
    if (o.outputFile) {
      const out = createWriteStream(o.outputFile, { mode: 0o600, highWaterMark: 8 << 20 });
      const from = children[children.length - 1]!.stdout!;
      pumps.push(o.onOutput ? streamPipeline(from, tap(o.onOutput), out) : streamPipeline(from, out));
    }
    const exits = children.map(
      (c) =>
        new Promise<{ exitCode: number | null; signal: string | null }>((resolve) => {
          c.on('error', (e) => {
            stderrs[children.indexOf(c)] += String(e.message);
            resolve({ exitCode: 127, signal: null });
          });
          c.on('close', (exitCode, signal) => resolve({ exitCode, signal }));
        }),
    );
    let killTimer: NodeJS.Timeout | undefined;
    const timer = setTimeout(() => {
      timedOut = true;
      kill('SIGTERM');
      killTimer = setTimeout(() => kill('SIGKILL'), GRACE_MS);
    }, o.timeoutMs);
    // A broken pipe on the input side (a stage died) is reported through its exit code.
    const pumpErrors = await Promise.allSettled(pumps);
    const results = await Promise.all(exits);
    clearTimeout(timer);
    if (killTimer) clearTimeout(killTimer);
    const out: PipelineResult = {
      stages: results.map((r, i) => ({
        label: stages[i]!.label ?? stages[i]!.cmd.split('/').pop()!,
        ...r,
        stderr: stderrs[i]!,
      })),
      timedOut,
    };
    const bad = out.stages.find((s) => s.exitCode !== 0);
    if (timedOut || bad) {
      throw new ProcessError({
        command: bad?.label ?? stages.map((s) => s.cmd).join(' | '),
        procExitCode: bad?.exitCode ?? undefined,
        signal: bad?.signal ?? undefined,
        timedOut,
        stderrTail: tail(bad?.stderr ?? ''),
      });
    }
    const pumpFailed = pumpErrors.find((p) => p.status === 'rejected');
    if (pumpFailed) throw pumpFailed.reason as Error;
    return out;
  } finally {
    for (const c of children) {
      if (c.pid !== undefined) {
        killGroup(c.pid, 'SIGKILL');
        live.delete(c.pid);
      }
    }
    changed();
  }
}

export interface Daemon {
  pid: number;
  exited: Promise<{ exitCode: number | null; signal: string | null }>;
  isRunning(): boolean;
}

/**
 * Start a long-running child (a temporary mysqld) in its own process group, recorded as a live
 * child until it exits, so that a run that takes over a dead run's lock can stop it.
 */
export async function startDaemon(
  cmd: string,
  args: readonly string[],
  env?: NodeJS.ProcessEnv,
): Promise<Daemon> {
  const { spawn } = await import('node:child_process');
  const c = spawn(cmd, [...args], { detached: true, stdio: 'ignore', ...(env ? { env } : {}) });
  let running = true;
  const exited = new Promise<{ exitCode: number | null; signal: string | null }>((resolve) => {
    c.on('error', () => resolve({ exitCode: 127, signal: null }));
    c.on('close', (exitCode, signal) => resolve({ exitCode, signal }));
  }).then((r) => {
    running = false;
    if (c.pid !== undefined) live.delete(c.pid);
    changed();
    return r;
  });
  if (c.pid === undefined)
    throw new ProcessError({ command: cmd, timedOut: false, stderrTail: `cannot start ${cmd}` });
  live.add(c.pid);
  changed();
  return { pid: c.pid, exited, isRunning: () => running };
}
