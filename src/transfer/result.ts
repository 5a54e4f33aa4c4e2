/**
 * Pure: the helper's result file. playbooks/files/xb_pull writes one JSON object per transfer into
 * the transfer directory (temporary name, then rename), in pull and in push (`--receive`) mode.
 * It is written on the manager, but its figures describe a stream the DB host sent, and in push
 * mode the DB host starts the receiver: every field is checked like untrusted input.
 */

export const RESULT_FILE = 'result.json';
/** A real result is about 200 bytes; anything far bigger is not one. */
export const MAX_RESULT_BYTES = 64 * 1024;

export interface HelperResult {
  /** pull: xb_pull ran ssh to the DB host; receive: the DB host pushed into xb_pull --receive. */
  mode: 'pull' | 'receive';
  /** ssh's exit code in pull mode (negative: killed by that signal); 0 in receive mode. */
  rc: number;
  bytes: number;
  sha256: string;
}

export type ParsedResult = { ok: true; result: HelperResult } | { ok: false; problem: string };

const bad = (problem: string): ParsedResult => ({ ok: false, problem });

export function parseHelperResult(text: string): ParsedResult {
  if (text.length > MAX_RESULT_BYTES) return bad(`more than ${MAX_RESULT_BYTES} bytes`);
  let v: unknown;
  try {
    v = JSON.parse(text);
  } catch {
    return bad('not JSON');
  }
  if (typeof v !== 'object' || v === null || Array.isArray(v)) return bad('not a JSON object');
  const r = v as Record<string, unknown>;
  if (r.mode !== 'pull' && r.mode !== 'receive') return bad('mode is not "pull" or "receive"');
  // JSON numbers beyond 2^53 lose precision (and 1e999 parses as Infinity): refused, not rounded.
  if (!Number.isSafeInteger(r.rc)) return bad('rc is not an integer');
  if (!Number.isSafeInteger(r.bytes) || (r.bytes as number) < 0) return bad('bytes is not a byte count');
  if (typeof r.sha256 !== 'string' || !/^[0-9a-f]{64}$/.test(r.sha256))
    return bad('sha256 is not 64 lowercase hex digits');
  return {
    ok: true,
    result: { mode: r.mode, rc: r.rc as number, bytes: r.bytes as number, sha256: r.sha256 },
  };
}
