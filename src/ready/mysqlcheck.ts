/** Pure: mysqlcheck's output -> the tables it checked and those that are not OK. */

export interface CheckResult {
  tables: number;
  notOk: string[];
}

/**
 * mysqlcheck prints "db.table   OK" per table; a problem is a table line with another status, or
 * a table line followed by "note"/"warning"/"error"/"Error" lines. Notes that a table does not
 * support check (views, some engines) are fine.
 */
export function parseMysqlcheck(output: string): CheckResult {
  const notOk: string[] = [];
  let tables = 0;
  let current: string | undefined;
  for (const raw of output.split('\n')) {
    const line = raw.trimEnd();
    if (line.trim() === '') continue;
    const m = /^(\S+\.\S+)\s+(.*)$/.exec(line);
    if (m && !/^(note|warning|error|status)\s*:/i.test(line)) {
      tables++;
      current = m[1]!;
      const status = m[2]!.trim();
      if (status !== '' && status !== 'OK') notOk.push(`${current}: ${status}`);
      continue;
    }
    const detail = /^(note|warning|error|status)\s*:\s*(.*)$/i.exec(line.trim());
    if (detail) {
      const kind = detail[1]!.toLowerCase();
      const text = detail[2]!;
      if (kind === 'note' && /doesn't support check|does not support check/i.test(text)) continue;
      if (kind === 'status' && text.trim() === 'OK') continue;
      if (kind === 'note') continue;
      notOk.push(`${current ?? '?'}: ${detail[1]}: ${text}`);
    } else {
      notOk.push(line.trim());
    }
  }
  return { tables, notOk };
}
