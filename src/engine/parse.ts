/** Pure parsers of what the backup tool leaves: its log and xtrabackup_checkpoints. */
import type { BinlogInfo } from '../catalog/manifest.js';

export interface Checkpoints {
  backup_type: string;
  from_lsn: number;
  to_lsn: number;
  last_lsn?: number;
}

export function parseCheckpoints(text: string): Checkpoints | undefined {
  const kv = new Map<string, string>();
  for (const line of text.split('\n')) {
    const m = /^\s*(\w+)\s*=\s*(.*?)\s*$/.exec(line);
    if (m) kv.set(m[1]!, m[2]!);
  }
  // The file comes from the DB host: an LSN past 2^53 would be rounded, and rounded LSNs could
  // seem to link; such a file is refused rather than trusted.
  const num = (k: string) => {
    const v = kv.get(k);
    return v !== undefined && /^\d+$/.test(v) && Number.isSafeInteger(Number(v)) ? Number(v) : undefined;
  };
  const from = num('from_lsn');
  const to = num('to_lsn');
  const type = kv.get('backup_type');
  if (from === undefined || to === undefined || !type) return undefined;
  return { backup_type: type, from_lsn: from, to_lsn: to, last_lsn: num('last_lsn') };
}

/** Success needs exit 0 AND a last log line ending "completed OK!" (mariabackup, xtrabackup). */
export function completedOk(log: string): boolean {
  return /completed OK!\s*$/.test(lastToolLine(log));
}

/** The tool's last log line, ignoring what the helper appends (framed sections, XB-MGR lines). */
function lastToolLine(log: string): string {
  const lines = log.replace(/^XB-MGR BEGIN (\S+)\n[\s\S]*?^XB-MGR END \1$/gm, '').split('\n');
  for (let i = lines.length - 1; i >= 0; i--) {
    const l = lines[i]!;
    if (l.startsWith('XB-MGR ') || l.trim() === '') continue;
    return l;
  }
  return '';
}

/** "MySQL binlog position: filename 'mysql-bin.000001', position '51831', GTID of the last change '0-1-9'" */
export function parseBinlog(log: string): BinlogInfo | undefined {
  const m =
    /binlog position: filename '([^']+)', position '?(\d+)'?(?:, GTID of the last change '([^']*)')?/.exec(
      log,
    );
  if (!m) return undefined;
  // The log comes from the DB host and the file name may name a path later: a name that is not a
  // plain file name, a position that is not exact or a GTID of other characters is not recorded.
  const [file, position, gtid] = [m[1]!, Number(m[2]), m[3]];
  const plainName = file.length <= 255 && !/[/\\]/.test(file) && ![...file].some((ch) => ch < ' ');
  if (!plainName || file === '.' || file === '..') return undefined;
  if (!Number.isSafeInteger(position)) return undefined;
  if (gtid && !/^[0-9A-Za-z:,-]{1,4096}$/.test(gtid)) return undefined;
  return { file, position, ...(gtid ? { gtid } : {}) };
}

export function parseToolVersion(log: string): string | undefined {
  const m =
    /based on (?:MariaDB|MySQL) server (\d+\.\d+\.\d+)/.exec(log) ?? /Using server version (\S+)/.exec(log);
  return m?.[1];
}

/** The helper frames the checkpoints file in its stderr between these markers. */
export function extractFramed(log: string, name: string): string | undefined {
  const m = new RegExp(`^XB-MGR BEGIN ${name}\\n([\\s\\S]*?)^XB-MGR END ${name}$`, 'm').exec(log);
  return m?.[1];
}

/** Error lines of a tool log worth showing in a report: the last lines that say what failed. */
export function toolError(log: string): string {
  const lines = log
    .split('\n')
    .filter((l) => l.trim() !== '' && !l.startsWith('XB-MGR '))
    .map((l) => l.replace(/^\[\d+\] \d{4}-\d\d-\d\d \d\d:\d\d:\d\d /, ''));
  // "Streaming ./sys/statements_with_errors_or_warnings.frm" is not an error.
  const err = lines.filter(
    (l) =>
      /\b(error|failed|denied|cannot|can't|fatal)\b/i.test(l) && !/^(Streaming|Copying) |\.\.\.done$/.test(l),
  );
  return (err.length > 0 ? err.slice(-3) : lines.slice(-3)).join(' | ');
}
