/**
 * Fault injection for the fault suite (test/e2e/faults.test.ts), documented in docs/RELIABILITY.md.
 * With XB_MGR_FAULT_PAUSE=<point> a run stops at that point: it writes {pid, point} to
 * XB_MGR_FAULT_FILE (when set), logs one line, and waits to be killed. Only the points below exist,
 * so a typo cannot silently disable a test; without the variable this is a no-op.
 */
import { writeFileSync } from 'node:fs';

export const FAULT_POINTS = [
  'extract',
  'prepare',
  'verify',
  'compress',
  'commit',
  'retention',
  'report',
] as const;
export type FaultPoint = (typeof FAULT_POINTS)[number];

export async function faultPoint(point: FaultPoint): Promise<void> {
  if (process.env.XB_MGR_FAULT_PAUSE !== point) return;
  const file = process.env.XB_MGR_FAULT_FILE;
  if (file) writeFileSync(file, JSON.stringify({ pid: process.pid, point }) + '\n');
  process.stderr.write(`xb-mgr: fault injection: paused at ${point} (PID ${process.pid})\n`);
  // Never resolves; the interval keeps the process alive until it is killed.
  await new Promise<never>(() => setInterval(() => undefined, 1 << 30));
}
