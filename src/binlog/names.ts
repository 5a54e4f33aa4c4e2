/**
 * Pure: binlog file names. They come from the DB host (SHOW BINARY LOGS, rotate events, the names
 * mariadb-binlog writes), so a name is used only when it is a plain `base.NNNNNN` file name.
 */
const NAME = /^[A-Za-z0-9_][A-Za-z0-9_.-]{0,99}\.(\d{6,10})$/;

export function validBinlogName(name: string): boolean {
  return NAME.test(name) && !name.includes('..');
}

/** The base and sequence number of a valid name. */
export function splitName(name: string): { base: string; seq: number } | undefined {
  if (!validBinlogName(name)) return undefined;
  const dot = name.lastIndexOf('.');
  return { base: name.slice(0, dot), seq: Number(name.slice(dot + 1)) };
}

/** Order of binlog files: by base, then by sequence number (`.000010` after `.000009`, and `.1000000` after `.999999`). */
export function compareNames(a: string, b: string): number {
  const x = splitName(a);
  const y = splitName(b);
  if (!x || !y) return a < b ? -1 : a > b ? 1 : 0;
  if (x.base !== y.base) return x.base < y.base ? -1 : 1;
  return x.seq - y.seq;
}

/** The name the server gives the file after `name` (the sequence number's width is kept, at least 6). */
export function nextName(name: string): string | undefined {
  const s = splitName(name);
  if (!s) return undefined;
  const width = name.length - s.base.length - 1;
  return `${s.base}.${String(s.seq + 1).padStart(width, '0')}`;
}
