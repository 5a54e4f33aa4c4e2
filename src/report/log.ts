/**
 * Logging: one JSON line per event (pino) to the log file of the host (`log` of its section) or of
 * the run (`log` of [default]); human-readable lines on stderr: every level from --log-level (or
 * info) when stderr is a TTY, warnings and errors otherwise. Secrets are never passed to it.
 */
import { mkdirSync } from 'node:fs';
import { dirname } from 'node:path';
import { Writable } from 'node:stream';
import pino, { type Logger, type Level } from 'pino';

export type Log = Logger;

const LEVELS: Record<number, string> = {
  10: 'trace',
  20: 'debug',
  30: 'info',
  40: 'warn',
  50: 'error',
  60: 'fatal',
};

function humanStream(): Writable {
  return new Writable({
    write(chunk: Buffer, _enc, cb) {
      for (const line of chunk.toString('utf8').split('\n')) {
        if (!line) continue;
        try {
          const o = JSON.parse(line) as Record<string, unknown>;
          const lvl = LEVELS[o.level as number] ?? String(o.level);
          const host = o.host ? `[${String(o.host)}] ` : '';
          const step = o.step ? `${String(o.step)}: ` : '';
          const secs = typeof o.seconds === 'number' ? ` (${o.seconds.toFixed(1)} s)` : '';
          process.stderr.write(
            `xb-mgr ${lvl === 'info' ? '' : lvl + ': '}${host}${step}${String(o.msg ?? '')}${secs}\n`,
          );
        } catch {
          process.stderr.write(line + '\n');
        }
      }
      cb();
    },
  });
}

const files = new Map<string, pino.DestinationStream>();

function fileDest(path: string): pino.DestinationStream {
  let d = files.get(path);
  if (!d) {
    mkdirSync(dirname(path), { recursive: true, mode: 0o700 });
    d = pino.destination({ dest: path, sync: true, mode: 0o600 });
    files.set(path, d);
  }
  return d;
}

export function stderrLevel(cli: string | undefined): Level {
  if (cli) return cli as Level;
  return process.stderr.isTTY ? 'info' : 'warn';
}

/** A logger writing to `file` (JSON lines) and to stderr (human lines at `stderrLevel`). */
export function makeLogger(
  file: string | undefined,
  level: Level,
  base: Record<string, unknown>,
  capture?: string[],
): Log {
  const streams: pino.StreamEntry[] = [{ stream: humanStream(), level }];
  if (capture) {
    // The lines of this run, for the email report's attachment.
    const sink = new Writable({
      write(chunk: Buffer, _enc, cb) {
        capture.push(chunk.toString('utf8'));
        cb();
      },
    });
    streams.push({ stream: sink, level: 'debug' });
  }
  if (file) {
    try {
      streams.push({ stream: fileDest(file), level: 'debug' });
    } catch (e) {
      process.stderr.write(`xb-mgr: warning: cannot open log file ${file}: ${(e as Error).message}\n`);
    }
  }
  return pino({ level: 'debug', base, timestamp: pino.stdTimeFunctions.isoTime }, pino.multistream(streams));
}
