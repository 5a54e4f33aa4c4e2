/** Pure: mysqlcheck's output -> the tables it checked and those that are not OK. */

export interface CheckResult {
  tables: number;
  notOk: string[];
}

const DETAIL = /^(note|warning|error|status|info)\s*:\s*(.*)$/i;

/**
 * mysqlcheck prints "db.table   OK" for a good table; a table with something to say is printed
 * alone on its line, followed by "note/warning/error : ..." lines; a table line may also carry
 * another status. Names may contain spaces. mysqlcheck exits 0 even for corrupt tables, so this
 * output is the verdict. Notes (e.g. an engine that does not support CHECK) are fine.
 */
export function parseMysqlcheck(output: string): CheckResult {
  const notOk: string[] = [];
  let tables = 0;
  let current = '?';
  for (const raw of output.split('\n')) {
    const line = raw.trimEnd();
    if (line.trim() === '') continue;
    const detail = DETAIL.exec(line.trim());
    if (detail) {
      const kind = detail[1]!.toLowerCase();
      const text = detail[2]!.trim();
      if (kind === 'note' || kind === 'info' || (kind === 'status' && text === 'OK')) continue;
      notOk.push(`${current}: ${detail[1]}: ${text}`);
      continue;
    }
    // "mariadb-check: Got error: ..." and the like: not a table, and not OK.
    if (/^[^\s.:]+:\s/.test(line) || !line.includes('.')) {
      notOk.push(line.trim());
      continue;
    }
    tables++;
    const ok = /^(.*?)\s+OK$/.exec(line);
    if (ok) {
      current = ok[1]!;
      continue;
    }
    const withStatus = /^(.*?\S)\s{2,}(\S.*)$/.exec(line);
    if (withStatus) {
      current = withStatus[1]!;
      notOk.push(`${current}: ${withStatus[2]}`);
      continue;
    }
    current = line.trim(); // its details follow
  }
  return { tables, notOk };
}
