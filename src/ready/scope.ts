/**
 * Pure: which tables the verify checks. With verify_scope = changed, an incremental's ready step
 * checks the tables whose tablespace files the apply modified, every non-InnoDB table (their files
 * are not tracked here) and the system schema; a full, a rebuilt base, verify_scope = all, or a
 * last full check older than verify_full_days checks everything, so every ready file is covered by
 * a full check within that window.
 */

export type VerifyScope = 'changed' | 'all';

export interface TableRef {
  db: string;
  name: string;
  engine: string;
}

/** A file's size and mtime, as the apply leaves it: "changed" means either differs. */
export type FileStamps = ReadonlyMap<string, string>;

export interface ScopeInput {
  scope: VerifyScope;
  fullDays: number;
  /** A full backup or a base rebuilt from the stored streams: nothing to compare against. */
  newBase: boolean;
  lastFullCheckAt: string | undefined;
  now: Date;
  /** Tablespace files (relative to the datadir) the apply created or modified. */
  changedFiles: readonly string[];
  /** Tables (`db/t` file keys) with a tablespace file of their own; others live in ibdata. */
  ownFiles: ReadonlySet<string>;
  /** The base's tables, as the verify server lists them. */
  tables: readonly TableRef[];
}

export interface CheckPlan {
  full: boolean;
  /** Why a full check (or "changed tables only"), for the log and the report. */
  reason: string;
  tables: TableRef[];
}

const DAY_MS = 86_400_000;

/** Schemas whose tables are checked on every run: the system tablespaces. */
const SYSTEM_DBS = new Set(['mysql']);

/**
 * The file name InnoDB gives a table or schema name: [A-Za-z0-9_] as is, other characters as
 * @xxxx (code point, 4 lowercase hex digits). MariaDB uses shorter codes for some letters (@0n,
 * ...): such names do not match here, and an unmatched changed file makes the check a full one.
 */
export function fileNameOf(name: string): string {
  let out = '';
  for (const ch of name) {
    if (/^[A-Za-z0-9_]$/.test(ch)) out += ch;
    else {
      const cp = ch.codePointAt(0)!;
      if (cp > 0xffff) return `\0unencodable`;
      out += `@${cp.toString(16).padStart(4, '0')}`;
    }
  }
  return out;
}

/** The table a tablespace file belongs to (`db/t.ibd`, `db/t#P#p0.ibd` -> `db/t`), or undefined. */
export function tableKeyOfFile(rel: string): string | undefined {
  const m = /^([^/]+)\/([^/]+)\.ibd$/.exec(rel);
  if (!m) return undefined;
  const table = m[2]!.replace(/#(P|p|SP|sp)#.*$/, '');
  return `${m[1]}/${table}`;
}

const keyOf = (t: TableRef) => `${fileNameOf(t.db)}/${fileNameOf(t.name)}`;

export function describeTable(t: TableRef): string {
  return `${t.db}.${t.name}`;
}

/** Pure: files present after the apply whose size or mtime differ from before (or are new). */
export function changedFiles(before: FileStamps, after: FileStamps): string[] {
  return [...after]
    .filter(([f, s]) => before.get(f) !== s)
    .map(([f]) => f)
    .sort();
}

export function planCheck(i: ScopeInput): CheckPlan {
  const all = (reason: string): CheckPlan => ({ full: true, reason, tables: [...i.tables] });
  if (i.scope === 'all') return all('verify_scope = all');
  if (i.newBase) return all('a new base (full backup or rebuilt base)');
  const last = i.lastFullCheckAt === undefined ? NaN : Date.parse(i.lastFullCheckAt);
  if (Number.isNaN(last)) return all('full check due: no full check of this base is recorded');
  const age = i.now.getTime() - last;
  if (age >= i.fullDays * DAY_MS)
    return all(
      `full check due: the last full check of this base (${i.lastFullCheckAt}) is older than verify_full_days = ${i.fullDays}`,
    );
  const byKey = new Map(i.tables.map((t) => [keyOf(t), t] as const));
  const picked = new Set<TableRef>();
  let shared = false;
  for (const f of i.changedFiles) {
    // A shared tablespace (ibdata1, undo): its tables are those without a file of their own.
    if (!f.includes('/')) {
      shared = true;
      continue;
    }
    const key = tableKeyOfFile(f);
    const t = key === undefined ? undefined : byKey.get(key);
    if (!t) return all(`full check: the changed file ${f} names no table the server lists`);
    picked.add(t);
  }
  for (const t of i.tables) {
    const innodb = t.engine.toLowerCase() === 'innodb';
    if (SYSTEM_DBS.has(t.db) || !innodb || (shared && !i.ownFiles.has(keyOf(t)))) picked.add(t);
  }
  return {
    full: false,
    reason: 'changed tables, the system schema and the non-InnoDB tables',
    tables: i.tables.filter((t) => picked.has(t)),
  };
}

/** A name the DB host chose: refused when it cannot travel as one argument line. */
export function badName(s: string): boolean {
  return s === '' || s.includes('\0') || s.includes('\n') || s.includes('\r');
}

/**
 * Pure: the mysqlcheck runs for a table list: one per schema (and per `chunk` tables), the names
 * as separate arguments after `--` (a name such as `-x` is no option; no shell sees them).
 */
export function mysqlcheckTableArgs(socket: string, tables: readonly TableRef[], chunk = 500): string[][] {
  const byDb = new Map<string, string[]>();
  for (const t of tables) {
    if (badName(t.db) || badName(t.name))
      throw new Error(`refusing a table name with a control character: ${JSON.stringify(describeTable(t))}`);
    byDb.set(t.db, [...(byDb.get(t.db) ?? []), t.name]);
  }
  const runs: string[][] = [];
  for (const [db, names] of [...byDb].sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0)))
    for (let k = 0; k < names.length; k += chunk)
      runs.push(['--no-defaults', `--socket=${socket}`, '--tables', '--', db, ...names.slice(k, k + chunk)]);
  return runs;
}

/** The query the verify server answers with its tables (what mysqlcheck --all-databases checks). */
export const TABLES_SQL =
  "SELECT TABLE_SCHEMA, TABLE_NAME, IFNULL(ENGINE, '') FROM information_schema.TABLES " +
  "WHERE TABLE_TYPE IN ('BASE TABLE', 'SYSTEM VERSIONED') " +
  "AND TABLE_SCHEMA NOT IN ('information_schema', 'performance_schema') ORDER BY 1, 2";

export function tableListArgs(socket: string): string[] {
  return ['--no-defaults', `--socket=${socket}`, '--batch', '--skip-column-names', '-e', TABLES_SQL];
}

function unescapeBatch(s: string): string {
  return s.replace(/\\(.)/g, (_, c: string) => ({ n: '\n', t: '\t', '0': '\0', '\\': '\\' })[c] ?? c);
}

/** Pure: the client's batch output (tab-separated, \n \t \0 \\ escaped) -> tables; bad names refused. */
export function parseTableList(out: string): { tables: TableRef[]; refused: string[] } {
  const tables: TableRef[] = [];
  const refused: string[] = [];
  for (const line of out.split('\n')) {
    if (line === '') continue;
    const cols = line.split('\t').map(unescapeBatch);
    if (cols.length !== 3 || badName(cols[0]!) || badName(cols[1]!)) {
      refused.push(JSON.stringify(line));
      continue;
    }
    tables.push({ db: cols[0]!, name: cols[1]!, engine: cols[2]! });
  }
  return { tables, refused };
}
