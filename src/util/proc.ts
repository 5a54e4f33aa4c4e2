/**
 * The one process API of xb-mgr, in the spirit of google/zx but small: argv arrays only (never a
 * shell string), a timeout on every child, the whole process group killed on timeout and reaped
 * at the end, output kept (bounded) for errors, and one error type (ProcessError: exit code,
 * signal, timeout, stderr tail). Everything is built on node:child_process `spawn`, so that a
 * pipeline can pass file descriptors from stage to stage without copying through this process.
 *
 * Every child runs in its own process group so that a stop reaches what it started too
 * (ansible-playbook's ssh, a helper's pipeline), and only that.
 */
import { spawn, type ChildProcess, type StdioOptions } from 'node:child_process';
import { createReadStream, createWriteStream } from 'node:fs';
import { Transform, type Readable, type Writable } from 'node:stream';
import { pipeline as streamPipeline } from 'node:stream/promises';
import { ProcessError } from '../errors.js';

/** Largest output kept per stream of one child; older output is dropped (the tail is what matters). */
const KEEP_BYTES = 64 * 1024 * 1024;
/** Grace between SIGTERM and SIGKILL of a timed-out group. */
const GRACE_MS = 5000;

export interface RunOptions {
  /** Milliseconds; required so that no child can hang a run forever. */
  timeoutMs: number;
  /** Added to this process's environment (undefined removes a variable). */
  env?: Record<string, string | undefined>;
  cwd?: string;
  input?: string;
  /** Called with each line of stdout as it arrives, the last one even without a newline. */
  onStdoutLine?: (line: string) => void;
  /** Do not throw on a non-zero exit, a signal or a timeout; the caller decides. */
  reject?: boolean;
  /** Label for messages; defaults to the basename of the command. */
  label?: string;
  /** Bytes of stdout/stderr kept (default 64 MiB each); the head is dropped beyond it. */
  keepBytes?: number;
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

/**
 * Signal a child's whole process group; a group that is gone already is fine. Refuses anything
 * but a real process id above 1: `kill(-1)` or `kill(-0)` would reach far more than our child.
 */
export function killGroup(pid: number, signal: NodeJS.Signals = 'SIGTERM'): void {
  if (!Number.isSafeInteger(pid) || pid <= 1) return;
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

/** The last few lines of some output, for error messages and reports. */
export function tail(text: string, lines = 20): string {
  const all = text.trimEnd().split('\n');
  return all.slice(-lines).join('\n');
}

/** A bounded text sink: keeps the last `max` bytes of what it is given. */
class Keep {
  private chunks: Buffer[] = [];
  private size = 0;
  constructor(private readonly max: number) {}
  add(b: Buffer): void {
    this.chunks.push(b);
    this.size += b.length;
    while (this.size > this.max && this.chunks.length > 1) this.size -= this.chunks.shift()!.length;
  }
  text(): string {
    const all = Buffer.concat(this.chunks);
    return all.subarray(Math.max(0, all.length - this.max)).toString('utf8');
  }
}

interface Tracked {
  child: ChildProcess;
  /** Resolves when the child has exited and its stdio is closed; never rejects. */
  done: Promise<{ exitCode: number | null; signal: string | null; spawnError?: Error }>;
  timedOut: () => boolean;
  /** Stop the timer and reap the group (SIGKILL to stragglers); idempotent. */
  finish: () => void;
}

/**
 * The one place a child is started: own process group, recorded as live until reaped, a timeout
 * that sends SIGTERM then SIGKILL to the group.
 */
function track(
  cmd: string,
  args: readonly string[],
  o: { stdio: StdioOptions; cwd?: string; env?: NodeJS.ProcessEnv; timeoutMs: number },
): Tracked {
  const child = spawn(cmd, [...args], {
    detached: true,
    cwd: o.cwd,
    env: o.env ?? process.env,
    stdio: o.stdio,
  });
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
  }, o.timeoutMs);
  const done = new Promise<{ exitCode: number | null; signal: string | null; spawnError?: Error }>(
    (resolve) => {
      child.once('error', (e) => resolve({ exitCode: null, signal: null, spawnError: e }));
      child.once('close', (exitCode, signal) => resolve({ exitCode, signal }));
    },
  );
  let finished = false;
  const finish = () => {
    if (finished) return;
    finished = true;
    clearTimeout(timer);
    if (killTimer) clearTimeout(killTimer);
    if (pid !== undefined) {
      // Reap stragglers the child left in its group (a pipeline member, an ssh master).
      killGroup(pid, 'SIGKILL');
      live.delete(pid);
      changed();
    }
  };
  return { child, done, timedOut: () => timedOut, finish };
}

function mergedEnv(env: RunOptions['env']): NodeJS.ProcessEnv {
  if (!env) return process.env;
  const out: NodeJS.ProcessEnv = { ...process.env };
  for (const [k, v] of Object.entries(env)) {
    if (v === undefined) delete out[k];
    else out[k] = v;
  }
  return out;
}

function labelOf(cmd: string, label?: string): string {
  return label ?? cmd.split('/').pop() ?? cmd;
}

/** Split a stream into lines; the last line is delivered at the end even without a newline. */
function lineSplitter(onLine: (line: string) => void): { push: (b: Buffer) => void; end: () => void } {
  let buf = '';
  return {
    push(b) {
      buf += b.toString('utf8');
      let nl: number;
      while ((nl = buf.indexOf('\n')) >= 0) {
        onLine(buf.slice(0, nl));
        buf = buf.slice(nl + 1);
      }
    },
    end() {
      if (buf !== '') onLine(buf);
      buf = '';
    },
  };
}

/**
 * Run a command to completion and return its output. Throws ProcessError when it cannot start,
 * and (unless `reject: false`) when it exits non-zero, is killed by a signal or times out.
 */
export async function run(cmd: string, args: readonly string[], opts: RunOptions): Promise<RunResult> {
  const label = labelOf(cmd, opts.label);
  const t = track(cmd, args, {
    stdio: [opts.input === undefined ? 'ignore' : 'pipe', 'pipe', 'pipe'],
    cwd: opts.cwd,
    env: mergedEnv(opts.env),
    timeoutMs: opts.timeoutMs,
  });
  const out = new Keep(opts.keepBytes ?? KEEP_BYTES);
  const err = new Keep(opts.keepBytes ?? KEEP_BYTES);
  const lines = opts.onStdoutLine ? lineSplitter(opts.onStdoutLine) : undefined;
  t.child.stdout!.on('data', (b: Buffer) => {
    out.add(b);
    lines?.push(b);
  });
  t.child.stderr!.on('data', (b: Buffer) => err.add(b));
  if (opts.input !== undefined && t.child.stdin) {
    // A child that exits without reading its input is not an error of ours.
    t.child.stdin.on('error', () => undefined);
    t.child.stdin.end(opts.input);
  }
  try {
    const r = await t.done;
    lines?.end();
    if (r.spawnError) {
      throw new ProcessError({ command: label, timedOut: false, stderrTail: r.spawnError.message });
    }
    const result: RunResult = {
      exitCode: r.exitCode ?? -1,
      ...(r.signal ? { signal: r.signal } : {}),
      timedOut: t.timedOut(),
      stdout: out.text(),
      stderr: err.text(),
    };
    if (opts.reject !== false && (result.exitCode !== 0 || result.timedOut || result.signal)) {
      throw new ProcessError({
        command: label,
        procExitCode: result.exitCode,
        signal: result.signal,
        timedOut: result.timedOut,
        stderrTail: tail(result.stderr || result.stdout),
      });
    }
    return result;
  } finally {
    t.finish();
  }
}

/**
 * A command's stdout as it comes, read with backpressure (the consumer sets the pace); `input` (a
 * buffer, or a stream such as a download) is written to its stdin. Throws ProcessError at the end
 * when it could not start, exited non-zero, was killed or timed out, or the input stream's own
 * error (the command is killed then); leaving the iteration early kills its process group.
 */
export async function* outputChunks(
  cmd: string,
  args: readonly string[],
  opts: { timeoutMs: number; label?: string; input?: Buffer | Readable },
): AsyncGenerator<Buffer> {
  const label = labelOf(cmd, opts.label);
  const t = track(cmd, args, {
    stdio: [opts.input === undefined ? 'ignore' : 'pipe', 'pipe', 'pipe'],
    timeoutMs: opts.timeoutMs,
  });
  const err = new Keep(64 * 1024);
  t.child.stderr!.on('data', (b: Buffer) => err.add(b));
  let inputFailed: Error | undefined;
  const input = opts.input;
  if (input !== undefined && t.child.stdin) {
    // A child that exits without reading its input is not an error of ours: its exit says why.
    t.child.stdin.on('error', () => undefined);
    if (Buffer.isBuffer(input)) t.child.stdin.end(input);
    else {
      input.on('error', (e) => {
        inputFailed ??= e;
        if (t.child.pid !== undefined) killGroup(t.child.pid, 'SIGKILL');
      });
      input.pipe(t.child.stdin);
    }
  }
  try {
    for await (const c of t.child.stdout!) yield c as Buffer;
    const r = await t.done;
    if (inputFailed) throw inputFailed;
    if (r.spawnError)
      throw new ProcessError({ command: label, timedOut: false, stderrTail: r.spawnError.message });
    if (r.exitCode !== 0 || t.timedOut() || r.signal) {
      throw new ProcessError({
        command: label,
        procExitCode: r.exitCode ?? -1,
        ...(r.signal ? { signal: r.signal } : {}),
        timedOut: t.timedOut(),
        stderrTail: tail(err.text()),
      });
    }
  } finally {
    if (input !== undefined && !Buffer.isBuffer(input)) input.destroy();
    t.finish();
  }
}

export interface Stage {
  cmd: string;
  args: readonly string[];
  label?: string;
  env?: RunOptions['env'];
  /**
   * Bound what this stage writes to the next one (a decompressor fed by a DB host): its output then
   * passes through this process, counted, and the pipeline fails with OutputCapError beyond it.
   */
  maxOutputBytes?: number;
}

/** A pipeline stage wrote more than its maxOutputBytes. */
export class OutputCapError extends ProcessError {
  constructor(
    readonly stage: string,
    readonly maxBytes: number,
  ) {
    super({ command: stage, timedOut: false, stderrTail: `wrote more than ${maxBytes} bytes` });
  }
}

export interface PipelineOptions {
  timeoutMs: number;
  /** A file read into the first stage; with `onInput`, each chunk is seen before it is written. */
  inputFile?: string;
  /** A stream read into the first stage instead of a file (a catalog store's openRead). */
  input?: Readable;
  onInput?: (chunk: Buffer) => void;
  /** An open file (a pipe's read end) the first stage reads itself (its stdin). */
  inputFd?: number;
  /** Where the last stage's stdout goes; with `onOutput`, each chunk is seen before it is written. */
  outputFile?: string;
  onOutput?: (chunk: Buffer) => void;
  /** An open file the last stage writes into itself (its stdout): nothing passes through here. */
  outputFd?: number;
  cwd?: string;
  /** Stop early: every stage is killed and the pipeline rejects with the signal's reason. */
  signal?: AbortSignal;
}

export interface PipelineResult {
  stages: { label: string; exitCode: number | null; signal: string | null; stderr: string }[];
  timedOut: boolean;
}

function tap(fn: (c: Buffer) => void): Transform {
  return new Transform({
    transform(chunk: Buffer, _e, cb) {
      fn(chunk);
      cb(null, chunk);
    },
  });
}

/**
 * A pipeline of processes connected fd to fd (no copy through this process between stages); the
 * input file and the final output pass through here only when a hash is wanted (onInput/onOutput),
 * so a file is never read twice. Every stage has its own process group, is recorded as a live
 * child and is killed when the pipeline times out. Throws ProcessError naming the first stage that
 * failed (with its stderr tail), or the I/O error of the input or output file.
 */
export async function pipeline(stages: Stage[], o: PipelineOptions): Promise<PipelineResult> {
  o.signal?.throwIfAborted();
  const tracked: Tracked[] = [];
  const stderrs = stages.map(() => new Keep(64 * 1024));
  const pumps: Promise<void>[] = [];
  let timedOut = false;
  let overCap: OutputCapError | undefined;
  const killAll = () => {
    for (const t of tracked) if (t.child.pid !== undefined) killGroup(t.child.pid, 'SIGKILL');
  };
  const timer = setTimeout(() => {
    timedOut = true;
    for (const t of tracked) if (t.child.pid !== undefined) killGroup(t.child.pid, 'SIGTERM');
    setTimeout(() => {
      for (const t of tracked) if (t.child.pid !== undefined) killGroup(t.child.pid, 'SIGKILL');
    }, GRACE_MS).unref();
  }, o.timeoutMs);
  o.signal?.addEventListener('abort', killAll, { once: true });
  try {
    const fed = o.inputFile !== undefined || o.input !== undefined;
    stages.forEach((s, i) => {
      const prev = tracked[i - 1]?.child;
      const first = i === 0;
      const last = i === stages.length - 1;
      const counted = !first && stages[i - 1]!.maxOutputBytes !== undefined;
      const stdin = first
        ? fed
          ? 'pipe'
          : (o.inputFd ?? 'ignore')
        : counted
          ? 'pipe'
          : (prev!.stdout as Readable);
      const stdout =
        last && o.outputFd !== undefined ? o.outputFd : last && !o.outputFile ? 'ignore' : 'pipe';
      // The whole pipeline's timer governs; each stage gets a generous one of its own as a backstop.
      const t = track(s.cmd, s.args, {
        stdio: [stdin, stdout, 'pipe'],
        cwd: o.cwd,
        env: mergedEnv(s.env),
        timeoutMs: o.timeoutMs + 2 * GRACE_MS,
      });
      tracked.push(t);
      t.child.stderr!.on('data', (d: Buffer) => stderrs[i]!.add(d));
      if (counted) {
        const max = stages[i - 1]!.maxOutputBytes!;
        const label = labelOf(stages[i - 1]!.cmd, stages[i - 1]!.label);
        let n = 0;
        const counter = new Transform({
          transform(chunk: Buffer, _e, cb) {
            n += chunk.length;
            if (n > max) {
              overCap ??= new OutputCapError(label, max);
              killAll();
              cb(overCap);
              return;
            }
            cb(null, chunk);
          },
        });
        pumps.push(streamPipeline(prev!.stdout as Readable, counter, t.child.stdin as Writable));
      } else if (!first && prev?.stdout) {
        // The next stage holds its own copy of this pipe; ours must not read from it.
        prev.stdout.destroy();
      }
    });
    if (fed) {
      const src = o.input ?? createReadStream(o.inputFile!, { highWaterMark: 1 << 20 });
      const sink = tracked[0]!.child.stdin as Writable;
      pumps.push(o.onInput ? streamPipeline(src, tap(o.onInput), sink) : streamPipeline(src, sink));
    }
    if (o.outputFile) {
      const out = createWriteStream(o.outputFile, { mode: 0o600, highWaterMark: 8 << 20 });
      const from = tracked[tracked.length - 1]!.child.stdout as Readable;
      pumps.push(o.onOutput ? streamPipeline(from, tap(o.onOutput), out) : streamPipeline(from, out));
    }
    // A broken pipe on the input side (a stage died) is reported through that stage's exit code.
    const pumpResults = await Promise.allSettled(pumps);
    const exits = await Promise.all(tracked.map((t) => t.done));
    const result: PipelineResult = {
      stages: exits.map((r, i) => ({
        label: labelOf(stages[i]!.cmd, stages[i]!.label),
        exitCode: r.spawnError ? 127 : r.exitCode,
        signal: r.signal,
        stderr: stderrs[i]!.text() + (r.spawnError ? r.spawnError.message : ''),
      })),
      timedOut,
    };
    o.signal?.throwIfAborted();
    if (overCap) throw overCap;
    const bad = result.stages.find((s) => s.exitCode !== 0);
    if (timedOut || bad) {
      throw new ProcessError({
        command: bad?.label ?? result.stages.map((s) => s.label).join(' | '),
        procExitCode: bad?.exitCode ?? undefined,
        signal: bad?.signal ?? undefined,
        timedOut,
        stderrTail: tail(bad?.stderr ?? ''),
      });
    }
    const pumpFailed = pumpResults.find((p) => p.status === 'rejected');
    if (pumpFailed) throw pumpFailed.reason as Error;
    return result;
  } finally {
    clearTimeout(timer);
    o.signal?.removeEventListener('abort', killAll);
    for (const t of tracked) t.finish();
  }
}

export interface Daemon {
  pid: number;
  exited: Promise<{ exitCode: number | null; signal: string | null }>;
  isRunning(): boolean;
  /** SIGKILL its group and wait until it has exited. */
  kill(): Promise<void>;
  /** The end of its stderr, when started with `keepStderr` (else ''). */
  stderr(): string;
}

/**
 * Start a long-running child (a temporary mysqld) in its own process group, recorded as a live
 * child until it exits, so that a run that takes over a dead run's lock can stop it. Its timeout
 * is a backstop (the caller stops it); output goes nowhere (it logs to its own file).
 */
export function startDaemon(
  cmd: string,
  args: readonly string[],
  o: { timeoutMs: number; env?: RunOptions['env']; label?: string; keepStderr?: boolean },
): Daemon {
  const t = track(cmd, args, {
    stdio: o.keepStderr ? ['ignore', 'ignore', 'pipe'] : 'ignore',
    env: mergedEnv(o.env),
    timeoutMs: o.timeoutMs,
  });
  const err = new Keep(16 * 1024);
  t.child.stderr?.on('data', (b: Buffer) => err.add(b));
  let running = true;
  const exited = t.done.then((r) => {
    running = false;
    t.finish();
    return { exitCode: r.spawnError ? 127 : r.exitCode, signal: r.signal };
  });
  if (t.child.pid === undefined) {
    throw new ProcessError({
      command: labelOf(cmd, o.label),
      timedOut: false,
      stderrTail: `cannot start ${cmd}`,
    });
  }
  const pid = t.child.pid;
  return {
    pid,
    exited,
    isRunning: () => running,
    kill: async () => {
      if (running) killGroup(pid, 'SIGKILL');
      await exited;
    },
    stderr: () => err.text(),
  };
}
