/**
 * What a transfer leaves in its directory, read with bounds: the DB host controls their sizes.
 * The tool's log (pull: ssh's stderr, kept by xb_pull in tool.log; push: the push task's stderr)
 * is parsed at both ends: the tool's version near the start; the binlog position, "completed OK!"
 * and the framed checkpoints at the end. A log over the bound keeps both ends.
 */
import { closeSync, lstatSync } from 'node:fs';
import { openRegular, readAt, readHead } from '../util/safe-read.js';

/** Far above a real log (a few hundred bytes per table). */
export const MAX_TOOL_LOG = 32 * 1024 * 1024;
const HEAD = 1024 * 1024;

const gap = (n: number) => `\n[xb-mgr: ${n} bytes of the log left out]\n`;

/** Pure: the text itself when within `max` characters, else its head and tail around a marker. */
export function boundLog(text: string, max = MAX_TOOL_LOG): string {
  if (text.length <= max) return text;
  const head = Math.min(HEAD, Math.floor(max / 4));
  const tailLen = max - head;
  return text.slice(0, head) + gap(text.length - max) + text.slice(text.length - tailLen);
}

/** The log file, bounded like boundLog (in bytes); '' when there is none. */
export function readToolLog(path: string, max = MAX_TOOL_LOG): string {
  const f = openRegular(path, true);
  if (!f) return '';
  try {
    if (f.size <= max) return readAt(f.fd, 0, f.size).toString('utf8');
    const head = Math.min(HEAD, Math.floor(max / 4));
    const tailLen = max - head;
    return (
      readAt(f.fd, 0, head).toString('utf8') +
      gap(f.size - max) +
      readAt(f.fd, f.size - tailLen, tailLen).toString('utf8')
    );
  } finally {
    closeSync(f.fd);
  }
}

/** A small file that may be missing (the helper's result): undefined when absent or unreadable,
 * at most `max + 1` bytes (so an oversized file is seen as such without reading it all). */
export function readSmallFile(path: string, max: number): string | undefined {
  return readHead(path, max + 1, true)?.toString('utf8');
}

/** The size of the stored stream; undefined when it is missing or not a regular file. */
export function fileBytes(path: string): number | undefined {
  try {
    const st = lstatSync(path);
    return st.isFile() ? st.size : undefined;
  } catch {
    return undefined;
  }
}
