/**
 * Pure: may a finished transfer be committed? Only when the stream ended, ssh and the tool
 * exited 0, the tool's log ends with "completed OK!", the checkpoints are parsed and the LSNs link
 * to the parent. A server whose LSN went below the parent's to_lsn was restored or rebuilt: the
 * incremental is discarded and a full backup is taken instead.
 */
import type { Manifest } from '../catalog/manifest.js';
import { completedOk, type Checkpoints } from './parse.js';

export interface TransferFacts {
  exitCode: number;
  log: string;
  checkpoints?: Checkpoints;
  bytes: number;
  type: 'full' | 'incremental';
  parent?: Pick<Manifest, 'id' | 'to_lsn'>;
}

export type Verdict = { commit: true } | { commit: false; retryFull?: boolean; error: string };

export function judgeTransfer(f: TransferFacts): Verdict {
  if (f.exitCode !== 0) return { commit: false, error: `the transfer failed (exit code ${f.exitCode})` };
  if (!completedOk(f.log)) return { commit: false, error: 'the backup tool did not log "completed OK!"' };
  if (f.bytes === 0) return { commit: false, error: 'the stream is empty' };
  const c = f.checkpoints;
  if (!c) return { commit: false, error: 'xtrabackup_checkpoints is missing or unreadable' };
  if (f.type === 'incremental') {
    if (!f.parent) return { commit: false, error: 'an incremental without a parent' };
    if (c.from_lsn !== f.parent.to_lsn) {
      return {
        commit: false,
        error: `from_lsn ${c.from_lsn} is not the parent ${f.parent.id}'s to_lsn ${f.parent.to_lsn}`,
      };
    }
    if (c.to_lsn < c.from_lsn) {
      return {
        commit: false,
        retryFull: true,
        error: `the server's LSN ${c.to_lsn} is lower than the parent ${f.parent.id}'s to_lsn ${f.parent.to_lsn}: the server was restored or rebuilt`,
      };
    }
  } else if (c.from_lsn !== 0) {
    return { commit: false, error: `a full backup with from_lsn ${c.from_lsn}` };
  }
  if (c.from_lsn > c.to_lsn) return { commit: false, error: `from_lsn ${c.from_lsn} > to_lsn ${c.to_lsn}` };
  return { commit: true };
}
