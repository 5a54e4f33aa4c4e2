/**
 * The compress step's output: the last stage (the compressor) writes the staged ready file itself,
 * and this process hashes the file behind the writer, from the page cache, finishing the tail once
 * the pipeline has ended; then one fsync. Nothing of the output is copied through this process (a
 * pipe into Node and a write stream cost a second copy and a thread-pool round trip per chunk).
 */
import { rmSync } from 'node:fs';
import { open, type FileHandle } from 'node:fs/promises';
import { createHash } from 'node:crypto';
import { pipeline, type Stage } from '../util/proc.js';

/** Read size of the hash behind the writer. */
const CHUNK = 8 << 20;
/** How long the hash waits for the writer when it has caught up with the file. */
const FOLLOW_MS = 20;

export interface Written {
  bytes: number;
  sha256: string;
}

/**
 * Run `stages` with the last one's stdout on `file` (created 0600, replaced if a killed run left
 * it), hash the file while it grows, fsync it once at the end. On failure the partial file is
 * removed and the pipeline's error (or the I/O error) is thrown.
 */
export async function pipelineToFile(stages: Stage[], file: string, timeoutMs: number): Promise<Written> {
  rmSync(file, { force: true });
  const out = await open(file, 'wx', 0o600);
  let src: FileHandle | undefined;
  try {
    src = await open(file, 'r');
    let settled = false;
    let wake: (() => void) | undefined;
    const running = pipeline(stages, { outputFd: out.fd, timeoutMs }).finally(() => {
      settled = true;
      wake?.();
    });
    // Observed below; never an unhandled rejection while the hash is reading.
    running.catch(() => undefined);
    const hash = createHash('sha256');
    const buf = Buffer.allocUnsafe(CHUNK);
    let bytes = 0;
    for (;;) {
      // Read the state before the read: a read that finds nothing after the end is the whole file.
      const ended = settled;
      const { bytesRead } = await src.read(buf, 0, CHUNK, bytes);
      if (bytesRead > 0) {
        hash.update(buf.subarray(0, bytesRead));
        bytes += bytesRead;
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
    await out.sync(); // once, at the end: the ready file's description is the commit marker
    return { bytes, sha256: hash.digest('hex') };
  } catch (e) {
    rmSync(file, { force: true });
    throw e;
  } finally {
    await out.close();
    await src?.close();
  }
}
