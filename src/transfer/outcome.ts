/**
 * Pure: what a finished backup transfer means, from everything it left: ansible-playbook's exit
 * code and output, the host's events, the helper's result file, the stored stream's size and the
 * tool's log. The transfer may be committed only when the stream ended, ssh and the tool exited 0,
 * the tool's log ends with "completed OK!", the checkpoints are parsed and the LSNs link to the
 * parent. A server whose LSN went below the parent's to_lsn was restored or rebuilt: the
 * incremental is discarded and a full backup is taken instead. backup.ts runs the playbook and
 * reads the files; every decision is here.
 */
import { parseEventLine, taskName, type HostOutcome } from '../ansible/events.js';
import { overCapMessage, type Cap } from '../engine/caps.js';
import type { BinlogInfo, Manifest } from '../catalog/manifest.js';
import {
  completedOk,
  extractFramed,
  parseBinlog,
  parseCheckpoints,
  parseToolVersion,
  toolError,
  type Checkpoints,
} from '../engine/parse.js';
import { lastLine } from '../errors.js';
import { REINSTALL_CODES } from '../install-record.js';
import { parseHelperResult } from './result.js';

/** Task names in playbooks/backup.yml. */
export const PULL_TASK = "Pull the backup stream into the manager's catalog";
export const PUSH_TASK = "Push the backup stream to the manager's catalog";

/**
 * Pure: whether an event line of the backup playbook is the transfer task's success on the host,
 * after which the run's outcome is known (the tasks after it are skipped ones): xb-mgr judges
 * and commits the stream then, without waiting for ansible-playbook's exit.
 */
export function transferSucceeded(line: string, hostname: string): boolean {
  // Cheap test first: most lines are other events.
  if (!line.includes('"v2_runner_on_ok"')) return false;
  const e = parseEventLine(line);
  if (e?._event !== 'v2_runner_on_ok' || typeof e.task?.name !== 'string') return false;
  const task = taskName(e.task.name);
  if (task !== PULL_TASK && task !== PUSH_TASK) return false;
  const result = e.hosts?.[hostname];
  return typeof result === 'object' && result !== null && (result as { skipped?: unknown }).skipped !== true;
}

export interface TransferFacts {
  transfer: 'pull' | 'push';
  /** The host's name in the inventory (what Ansible calls it). */
  hostname: string;
  backupDir: string;
  /** timeout_backup, in seconds. */
  timeoutSeconds: number;
  /** ansible-playbook's exit code (124: stopped at timeout_backup), stderr, lines outside the callback. */
  playbook: { exitCode: number; stderr: string; otherLines: string[] };
  /** The host's events; undefined when the playbook never got to the host. */
  host?: HostOutcome;
  /** The text of the helper's result file; undefined when there is none. */
  result?: string;
  /** Size of the stored stream file; undefined when there is none. */
  streamBytes?: number;
  /**
   * Push mode: the sha256 root computed itself over the stream it moved into the catalog (the
   * receiver runs as the push account, so its result.json is checked against this).
   */
  storedSha256?: string;
  /** This run's max_stream_bytes (xb_pull stops the stream there). */
  streamCap?: Cap;
  /** The tool's log, bounded: tool.log in pull mode, the push task's stderr in push mode. */
  toolLog: string;
  type: 'full' | 'incremental';
  parent?: Pick<Manifest, 'id' | 'to_lsn'>;
}

export type FailureKind =
  /** timeout_backup ran out. */
  | 'timeout'
  /** The playbook never got to the host (its own error, a host pattern that matched nothing). */
  | 'not-run'
  | 'unreachable'
  /** A task other than the transfer failed (install, variable checks). */
  | 'task'
  /** backup_dir filled up while the stream was received. */
  | 'no-space'
  /** The stream went over max_stream_bytes (xb_pull stopped it, or root found it larger). */
  | 'cap'
  /** The pull or push task failed: ssh, the helper, the tool or the compressor exited non-zero. */
  | 'stream'
  /** The helper's result file is missing, invalid or does not match the stored stream. */
  | 'result'
  /** The tool did not log success, or left no readable checkpoints. */
  | 'tool'
  /** The checkpoints do not link to the parent. */
  | 'lsn';

export interface Committable {
  outcome: 'commit';
  bytes: number;
  sha256: string;
  checkpoints: Checkpoints;
  /** The xtrabackup_checkpoints file as the tool wrote it (stored beside the stream). */
  checkpointsText: string;
  toolVersion?: string;
  binlog?: BinlogInfo;
}

export interface TransferFailure {
  outcome: 'failure';
  kind: FailureKind;
  /** One line for the user (e2e tests and docs match these texts). */
  message: string;
  /** The end of the tool's log (or of the failed task's stderr), when there is one. */
  logTail?: string;
  /** A reinstall of the helper and the credentials file may fix it (run once more after it). */
  reinstall: boolean;
}

export type TransferOutcome = Committable | { outcome: 'retry-full'; reason: string } | TransferFailure;

export function tail(text: string, n = 15): string {
  return text.trimEnd().split('\n').slice(-n).join('\n');
}

function failure(kind: FailureKind, message: string, logTail = '', reinstall = false): TransferFailure {
  return { outcome: 'failure', kind, message, ...(logTail ? { logTail } : {}), reinstall };
}

/** Push mode: the DB host's helper writes the tool's log to its stderr, which Ansible returns. */
export function pushToolLog(host: HostOutcome | undefined): string | undefined {
  const stderr = host?.results.get(PUSH_TASK)?.stderr;
  return typeof stderr === 'string' ? stderr : undefined;
}

const NO_SPACE = /xb_pull: cannot write (\S+): (No space left on device|Disk quota exceeded)/;
/** xb_pull's line when it stopped a stream at its --max-bytes (or the receiver at max_bytes). */
const OVER_CAP = /^xb_pull: the stream is over max_stream_bytes \((\d{1,16}) bytes\)/m;
/** The receiver's refusal (push mode), which reaches the DB host's stderr through ssh. */
const REFUSED = /^xb_pull --receive: refused: (.{1,300})$/m;

/**
 * The one line of a stream over its cap. A cap that came from the free space says so first: the
 * stream did not fit the disk (less the reserve other hosts need).
 */
export function streamCapMessage(backupDir: string, cap: Cap): string {
  const line = overCapMessage('the stream', 'max_stream_bytes', cap);
  return cap.source === 'free space' ? `no space left in backup_dir ${backupDir}: ${line}` : line;
}

function capFailure(f: TransferFacts, bytes: number, logTail: string): TransferFailure {
  const cap: Cap = f.streamCap ?? { bytes, source: 'config', why: `${bytes} bytes` };
  return failure('cap', streamCapMessage(f.backupDir, cap), logTail);
}

export function transferOutcome(f: TransferFacts): TransferOutcome {
  const log = f.toolLog;
  if (f.playbook.exitCode === 124)
    return failure('timeout', `the backup timed out after ${f.timeoutSeconds} s (timeout_backup)`, tail(log));
  const o = f.host;
  if (!o) {
    const why =
      lastLine(f.playbook.stderr) || f.playbook.otherLines.slice(-1)[0] || `exit code ${f.playbook.exitCode}`;
    return failure('not-run', `backup playbook did not run on ${f.hostname}: ${why}`);
  }
  if (o.unreachable) return failure('unreachable', `cannot reach ${f.hostname} over ssh: ${o.unreachable}`);
  if (o.failed) {
    const x = o.failed;
    if (x.task !== PULL_TASK && x.task !== PUSH_TASK)
      return failure('task', `task "${x.task}" failed: ${x.stderr?.trim() ? lastLine(x.stderr) : x.msg}`);
    const overCap = OVER_CAP.exec(x.stderr ?? '');
    if (overCap) return capFailure(f, Number(overCap[1]), tail(log));
    const refused = x.task === PUSH_TASK ? REFUSED.exec(x.stderr ?? '') : null;
    if (refused)
      return failure('stream', `the manager's push receiver refused the stream: ${refused[1]}`, tail(log));
    const noSpace = NO_SPACE.exec(x.stderr ?? '');
    if (noSpace)
      return failure(
        'no-space',
        `no space left in backup_dir ${f.backupDir} while receiving the stream (${noSpace[2]}); the partial file was removed`,
        tail(log),
      );
    // An outdated, missing or unexecutable helper, a missing credentials file, or one that no
    // longer matches the server's user (Access denied): what a reinstall repairs.
    const reinstall =
      REINSTALL_CODES.has(x.rc ?? -1) ||
      /Access denied for user/.test(log) ||
      (x.task === PUSH_TASK && /No such file or directory/.test(x.msg));
    return failure(
      'stream',
      `the backup stream failed (exit code ${x.rc ?? '?'}): ${toolError(log || x.stderr || x.msg)}`,
      tail(log || x.stderr || ''),
      reinstall,
    );
  }
  if (f.result === undefined) return failure('result', 'the transfer left no result.json');
  const parsed = parseHelperResult(f.result);
  if (!parsed.ok) return failure('result', `the transfer left an invalid result.json (${parsed.problem})`);
  const r = parsed.result;
  const mode = f.transfer === 'pull' ? 'pull' : 'receive';
  if (r.mode !== mode)
    return failure('result', `the transfer left an invalid result.json (mode "${r.mode}", not "${mode}")`);
  const checkpointsText = extractFramed(log, 'checkpoints');
  const checkpoints = parseCheckpoints(checkpointsText ?? '');
  const verdict = judgeStream({
    exitCode: r.rc,
    log,
    checkpoints,
    bytes: r.bytes,
    type: f.type,
    parent: f.type === 'incremental' ? f.parent : undefined,
  });
  if (!verdict.commit) {
    if (verdict.retryFull) return { outcome: 'retry-full', reason: verdict.error };
    return failure(verdict.kind, verdict.error, tail(log));
  }
  // The helper counted the bytes it wrote; the file must hold exactly those.
  if (f.streamBytes === undefined) return failure('result', 'the transfer left no stream file', tail(log));
  if (f.streamBytes !== r.bytes)
    return failure(
      'result',
      `the stream file holds ${f.streamBytes} bytes, result.json says ${r.bytes}`,
      tail(log),
    );
  if (f.streamCap && f.streamBytes > f.streamCap.bytes) return capFailure(f, f.streamCap.bytes, tail(log));
  if (f.storedSha256 !== undefined && f.storedSha256 !== r.sha256)
    return failure(
      'result',
      `the stream file's sha256 is ${f.storedSha256}, result.json says ${r.sha256}`,
      tail(log),
    );
  const binlog = parseBinlog(log);
  const toolVersion = parseToolVersion(log);
  return {
    outcome: 'commit',
    bytes: r.bytes,
    sha256: r.sha256,
    checkpoints: checkpoints!,
    checkpointsText: checkpointsText!,
    ...(toolVersion !== undefined ? { toolVersion } : {}),
    ...(binlog ? { binlog } : {}),
  };
}

/** The stream and the tool's log of a transfer whose tasks all succeeded. */
export interface StreamFacts {
  exitCode: number;
  log: string;
  checkpoints?: Checkpoints;
  bytes: number;
  type: 'full' | 'incremental';
  parent?: Pick<Manifest, 'id' | 'to_lsn'>;
}

export type StreamVerdict =
  { commit: true } | { commit: false; retryFull?: boolean; kind: 'stream' | 'tool' | 'lsn'; error: string };

export function judgeStream(f: StreamFacts): StreamVerdict {
  const no = (kind: 'stream' | 'tool' | 'lsn', error: string): StreamVerdict => ({
    commit: false,
    kind,
    error,
  });
  if (f.exitCode !== 0) return no('stream', `the transfer failed (exit code ${f.exitCode})`);
  if (!completedOk(f.log)) return no('tool', 'the backup tool did not log "completed OK!"');
  if (f.bytes === 0) return no('stream', 'the stream is empty');
  const c = f.checkpoints;
  if (!c) return no('tool', 'xtrabackup_checkpoints is missing or unreadable');
  if (f.type === 'incremental') {
    if (!f.parent) return no('lsn', 'an incremental without a parent');
    if (c.from_lsn !== f.parent.to_lsn)
      return no('lsn', `from_lsn ${c.from_lsn} is not the parent ${f.parent.id}'s to_lsn ${f.parent.to_lsn}`);
    if (c.to_lsn < c.from_lsn) {
      return {
        commit: false,
        retryFull: true,
        kind: 'lsn',
        error: `the server's LSN ${c.to_lsn} is lower than the parent ${f.parent.id}'s to_lsn ${f.parent.to_lsn}: the server was restored or rebuilt`,
      };
    }
  } else if (c.from_lsn !== 0) {
    return no('lsn', `a full backup with from_lsn ${c.from_lsn}`);
  }
  if (c.from_lsn > c.to_lsn) return no('lsn', `from_lsn ${c.from_lsn} > to_lsn ${c.to_lsn}`);
  return { commit: true };
}
