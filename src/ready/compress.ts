/**
 * The compress step's output: the last stage (the compressor) writes the staged ready file itself,
 * and this process hashes the file behind the writer, from the page cache, finishing the tail once
 * the pipeline has ended; then one fsync. Nothing of the output is copied through this process (a
 * pipe into Node and a write stream cost a second copy and a thread-pool round trip per chunk).
 * The stages are connected by real pipes (FIFOs), each stage its own pipeline: the error is then
 * the last stage's that failed, so a full disk reads as zstd's "No space left on device", not as
 * tar's broken pipe (Node's socketpair between stages made that "Connection reset by peer").
 */
import { constants, rmSync } from 'node:fs';
import { open, type FileHandle } from 'node:fs/promises';
import { createHash, randomBytes } from 'node:crypto';
import { dirname, join } from 'node:path';
import { pipeline, run, type Stage } from '../util/proc.js';

/** A pipe: a FIFO in `dir` (root's), opened at both ends, then unlinked. */
async function fifo(dir: string): Promise<{ r: FileHandle; w: FileHandle }> {
  const path = join(dir, `.pipe-${randomBytes(8).toString('hex')}`);
  await run('mkfifo', ['-m', '600', path], { timeoutMs: 30_000 });
  try {
    // Each open waits for the other end (in the thread pool); should one fail, the other is
    // released by a non-blocking open of the opposite end.
    const release = (flags: number) => () =>
      open(path, flags | constants.O_NONBLOCK)
        .then((h) => h.close())
        .catch(() => undefined);
    const r = open(path, 'r');
    const w = open(path, 'w');
    r.catch(release(constants.O_WRONLY));
    w.catch(release(constants.O_RDONLY));
    const [rr, ww] = await Promise.allSettled([r, w]);
    if (rr.status === 'fulfilled' && ww.status === 'fulfilled') return { r: rr.value, w: ww.value };
    for (const x of [rr, ww]) if (x.status === 'fulfilled') await x.value.close();
    throw ((rr.status === 'rejected' ? rr : ww) as PromiseRejectedResult).reason;
  } finally {
    rmSync(path, { force: true });
  }
}

/**
 * Run `stages` one pipeline each, connected by pipes, the last one writing into `outFd`. The error
 * is that of the last stage that failed: upstream stages then die of the broken pipe.
 */
async function connected(
  stages: Stage[],
  outFd: number,
  timeoutMs: number,
  dir: string,
  signal: AbortSignal | undefined,
): Promise<void> {
  const pipes: { r: FileHandle; w: FileHandle }[] = [];
  const runs: Promise<unknown>[] = [];
  try {
    for (let i = 1; i < stages.length; i++) pipes.push(await fifo(dir));
    stages.forEach((s, i) => {
      const p = pipeline([s], {
        ...(i > 0 ? { inputFd: pipes[i - 1]!.r.fd } : {}),
        outputFd: i === stages.length - 1 ? outFd : pipes[i]!.w.fd,
        timeoutMs,
        ...(signal ? { signal } : {}),
      });
      p.catch(() => undefined);
      runs.push(p);
    });
  } finally {
    // The children hold their own copies: a reader sees the end once its writer has exited.
    for (const p of pipes) {
      await p.r.close();
      await p.w.close();
    }
  }
  const settled = await Promise.allSettled(runs);
  const failed = settled.filter((x): x is PromiseRejectedResult => x.status === 'rejected').pop();
  if (failed) throw failed.reason;
}

/** Read size of the hash behind the writer. */
const CHUNK = 8 << 20;
/** Bytes written between two fdatasyncs behind the hash. */
const SYNC_EVERY = 64 << 20;
/** How long the hash waits for the writer when it has caught up with the file. */
const FOLLOW_MS = 20;

export interface Written {
  bytes: number;
  sha256: string;
}

/**
 * Run `stages` with the last one's stdout on `file` (created 0600, replaced if a killed run left
 * it), hash the file while it grows, fsync it once at the end. On failure, or once `signal` is
 * aborted (every stage killed), the partial file is removed and the error is thrown.
 */
export async function pipelineToFile(
  stages: Stage[],
  file: string,
  timeoutMs: number,
  signal?: AbortSignal,
): Promise<Written> {
  rmSync(file, { force: true });
  const out = await open(file, 'wx', 0o600);
  let src: FileHandle | undefined;
  try {
    src = await open(file, 'r');
    let settled = false;
    let wake: (() => void) | undefined;
    const running = connected(stages, out.fd, timeoutMs, dirname(file), signal).finally(() => {
      settled = true;
      wake?.();
    });
    // Observed below; never an unhandled rejection while the hash is reading.
    running.catch(() => undefined);
    const hash = createHash('sha256');
    const buf = Buffer.allocUnsafe(CHUNK);
    let bytes = 0;
    // Writeback behind the hash: one fdatasync in flight at a time, each after SYNC_EVERY more
    // bytes, so the disk writes while zstd works and the final fsync finds little left to do.
    let flushing: Promise<void> | undefined;
    let flushedTo = 0;
    for (;;) {
      // Read the state before the read: a read that finds nothing after the end is the whole file.
      const ended = settled;
      const { bytesRead } = await src.read(buf, 0, CHUNK, bytes);
      if (bytesRead > 0) {
        hash.update(buf.subarray(0, bytesRead));
        bytes += bytesRead;
        if (!flushing && bytes - flushedTo >= SYNC_EVERY) {
          flushedTo = bytes;
          flushing = out.datasync().finally(() => (flushing = undefined));
          flushing.catch(() => undefined); // the final fsync reports an I/O error
        }
        continue;
      }
      if (ended) break;
      await new Promise<void>((r) => {
        const t = setTimeout(r, FOLLOW_MS);
        wake = () => {
          clearTimeout(t);
          r();
        };
      });
      wake = undefined;
    }
    await running;
    await flushing?.catch(() => undefined);
    await out.sync(); // the whole file, at the end: the ready file's description is the commit marker
    return { bytes, sha256: hash.digest('hex') };
  } catch (e) {
    rmSync(file, { force: true });
    throw e;
  } finally {
    await out.close();
    await src?.close();
  }
}
