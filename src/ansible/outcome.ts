/**
 * Pure: what one ansible-playbook run means for one host. The events say what each host did; the
 * exit code says whether the run got to its end. Both count: a run killed at its timeout after some
 * tasks succeeded has no failed task, and one host's failure makes the exit code non-zero for the
 * other hosts of the same run too.
 */
import type { HostOutcome, TaskFailure } from './events.js';
import type { PlaybookResult } from './playbook.js';
import { lastLine } from '../errors.js';

/** The exit code runPlaybook reports for a run it killed at its timeout (as timeout(1) does). */
export const TIMEOUT_EXIT = 124;

export type HostRunOutcome =
  /** Went through the whole play. */
  | { kind: 'ok'; host: HostOutcome }
  | { kind: 'unreachable'; message: string }
  /** Killed at the time budget; `failed` when a task had failed before (a rescue was running). */
  | { kind: 'timeout'; task?: string; failed?: TaskFailure }
  | { kind: 'failed'; failure: TaskFailure }
  /** No event for this host at all: Ansible stopped before (bad playbook, inventory, binary). */
  | { kind: 'not-run'; reason: string }
  /** Some tasks ran, then ansible-playbook ended with a non-zero code and no failed task. */
  | { kind: 'incomplete'; exitCode: number; reason: string };

/** Why a run ended, from what Ansible printed last. */
function reason(r: PlaybookResult): string {
  return (
    lastLine(r.stderr) ||
    lastLine(r.otherLines.join('\n')) ||
    `ansible-playbook exited with code ${r.exitCode}`
  );
}

export function hostRunOutcome(r: PlaybookResult, inventoryHost: string): HostRunOutcome {
  const o = r.hosts.get(inventoryHost);
  if (o?.unreachable) return { kind: 'unreachable', message: o.unreachable };
  if (r.exitCode === TIMEOUT_EXIT && !o?.done) {
    return {
      kind: 'timeout',
      ...(r.lastTask !== undefined ? { task: r.lastTask } : {}),
      ...(o?.failed ? { failed: o.failed } : {}),
    };
  }
  if (o?.failed) return { kind: 'failed', failure: o.failed };
  if (!o) return { kind: 'not-run', reason: reason(r) };
  // Exit 0 is Ansible's own word that every host got through; otherwise this host must have
  // reached the closing stats (another host's failure also makes the code non-zero).
  if (o.done || r.exitCode === 0) return { kind: 'ok', host: o };
  const why = reason(r);
  return {
    kind: 'incomplete',
    exitCode: r.exitCode,
    reason: why.startsWith('ansible-playbook exited')
      ? why
      : `ansible-playbook exited with code ${r.exitCode}: ${why}`,
  };
}

/**
 * The detail of a failed task: its stderr's last line when it has one (tools print their error
 * last), else its message's first line (Ansible's own errors go on with where in the file).
 */
export function failureDetail(f: TaskFailure): string {
  if (f.stderr?.trim()) return lastLine(f.stderr);
  return f.msg.trim().split('\n')[0]!.trim() || 'failed';
}

export interface OutcomeWords {
  /** What the playbook does, e.g. "setup" or "restore". */
  action: string;
  /** How it refers to the host: "setup on db1", "restore onto db1". */
  onHost: string;
  host: string;
  /** The time budget and the keys it comes from, e.g. "20 s (10 x timeout_ssh)". */
  budget: string;
}

/** Pure: one line for a host whose run did not succeed. */
export function outcomeLine(o: Exclude<HostRunOutcome, { kind: 'ok' }>, w: OutcomeWords): string {
  switch (o.kind) {
    case 'unreachable':
      return `cannot reach ${w.host} over ssh: ${lastLine(o.message)}`;
    case 'timeout':
      return (
        `${w.onHost} timed out after ${w.budget}` +
        (o.task ? ` in task "${o.task}"` : '') +
        (o.failed ? `, after task "${o.failed.task}" had failed: ${failureDetail(o.failed)}` : '')
      );
    case 'failed':
      return `${w.onHost} failed in task "${o.failure.task}": ${failureDetail(o.failure)}`;
    case 'not-run':
      return `${w.action} playbook did not run on ${w.host}: ${o.reason}`;
    case 'incomplete':
      return `${w.onHost} did not finish: ${o.reason}`;
  }
}
