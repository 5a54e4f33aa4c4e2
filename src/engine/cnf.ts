/**
 * A backup's `backup-my.cnf` is written by the DB host, so it is hostile input: the manager never
 * hands it to a tool as an option file (a `plugin_load` or `plugin_dir` in it made a prepare load a
 * `.so` shipped in the stream, as root). Instead this pure function reads it, keeps only the InnoDB
 * layout keys a prepare and a mysqld need, validates each value strictly and turns them into
 * command-line options for `--no-defaults` runs.
 *
 * Outcome per key (keys compared after `loose-` is stripped, lower case, `-` read as `_`):
 * - kept: a layout key of LAYOUT in `[mysqld]` with a valid value -> one `--innodb-...=V` option;
 * - error: a layout key in `[mysqld]` with a bad value, or twice with different values -> the backup
 *   fails (its layout cannot be trusted);
 * - refused: anything saying the data needs an encryption plugin (a key management plugin in
 *   `plugin_load*`, its variables, an encryption switch that is on, a non-zero `master_key_id`):
 *   xb-mgr does not support encryption at rest, and loading a plugin named by the backup is exactly
 *   what must never happen;
 * - dropped (reported for the log, the backup goes on): everything else, among them `plugin_load`,
 *   `plugin_load_add`, `plugin_dir`, `init_file`, `general_log_file` naming any other plugin or file,
 *   `!include`/`!includedir`, keys of other sections, Percona-only keys, unparsable lines.
 */
import { clip } from '../errors.js';

export interface CnfItem {
  /** The key as written (or the directive, e.g. `!include`; empty for an unparsable line). */
  key: string;
  value?: string;
  /** Section it was found in; undefined before any section header. */
  section?: string;
  line: number;
}

export interface CnfResult {
  /** Options for the tool after `--no-defaults`, in a fixed order, e.g. `--innodb-page-size=16384`. */
  args: string[];
  /** Canonical key -> canonical value of what was kept. */
  kept: Record<string, string>;
  /** Ignored entries, for the log (at most MAX_REPORTED; `omitted` counts the rest). */
  dropped: CnfItem[];
  omitted: number;
  /** Set when the backup needs an encryption plugin: the reason, one line. */
  refused?: string;
  /** Bad values of layout keys (each one line); any error fails the backup. */
  errors: string[];
}

/** mariabackup writes a few hundred bytes; anything this large is not an honest backup-my.cnf. */
export const CNF_MAX_BYTES = 64 * 1024;
const MAX_REPORTED = 50;
const MiB = 1024 * 1024;
const GiB = 1024 * MiB;

type Check = (v: string) => { value: string } | { error: string };

interface LayoutKey {
  check: Check;
  /** Gone from MariaDB 10.11's mariabackup: passed as `--loose-` so a tool that does not know it ignores it. */
  legacy?: boolean;
}

const CHECKSUMS = [
  'crc32',
  'strict_crc32',
  'full_crc32',
  'strict_full_crc32',
  // Values of older servers (10.5 and before): harmless names, a newer tool says what it thinks of them.
  'innodb',
  'strict_innodb',
  'none',
  'strict_none',
];

/** The allowlist, in the order the options are emitted. */
const LAYOUT: Record<string, LayoutKey> = {
  innodb_checksum_algorithm: { check: oneOf(CHECKSUMS) },
  innodb_data_file_path: { check: dataFilePath },
  innodb_log_file_size: { check: size(MiB, 512 * GiB) },
  innodb_page_size: { check: pageSize },
  innodb_undo_directory: { check: undoDirectory },
  innodb_undo_tablespaces: { check: int(0, 127) },
  innodb_compression_level: { check: int(0, 9) },
  innodb_log_files_in_group: { check: int(1, 100), legacy: true },
  innodb_log_block_size: { check: powerOfTwo(512, 65536), legacy: true },
};

/** Sections whose keys are layout: mariabackup writes them all under [mysqld]. */
const LAYOUT_SECTION = 'mysqld';

const PLUGIN_KEYS = new Set(['plugin_load', 'plugin_load_add', 'early_plugin_load']);
/** Key management plugins (MariaDB's *_key_management, MySQL/Percona's keyring_*). */
const KEY_PLUGIN = /key_management|keyring/i;
const KEY_PLUGIN_VARIABLE = /^([a-z0-9]+_)*key_management(_|$)|^keyring_/;
/** Switches that, when on, mean the data or logs are encrypted. */
const ENCRYPTION_SWITCHES = new Set([
  'innodb_encrypt_log',
  'innodb_encrypt_tables',
  'innodb_encrypt_temporary_tables',
  'encrypt_tmp_files',
  'encrypt_tmp_disk_tables',
  'encrypt_binlog',
  'aria_encrypt_tables',
  'innodb_redo_log_encrypt',
  'innodb_undo_log_encrypt',
]);
const OFF = new Set(['0', 'off', 'false', 'no']);

export function parseBackupCnf(input: string | Uint8Array): CnfResult {
  const res: CnfResult = { args: [], kept: {}, dropped: [], omitted: 0, errors: [] };
  const bytes = typeof input === 'string' ? Buffer.byteLength(input) : input.byteLength;
  if (bytes > CNF_MAX_BYTES) {
    res.errors.push(
      `backup-my.cnf is ${bytes} bytes, more than the ${CNF_MAX_BYTES} a backup's option file may have`,
    );
    return res;
  }
  // latin1 maps every byte to one character: no decoding error, and any non-ASCII byte simply fails
  // the value checks below.
  const text = typeof input === 'string' ? input : Buffer.from(input).toString('latin1');
  const seen = new Map<string, { value: string; line: number }>();
  const drop = (item: CnfItem) => {
    if (res.dropped.length < MAX_REPORTED) res.dropped.push(item);
    else res.omitted++;
  };
  const error = (msg: string) => {
    if (res.errors.length < MAX_REPORTED) res.errors.push(msg);
  };
  const refuse = (why: string) => {
    res.refused ??= why;
  };

  let section: string | undefined;
  const lines = text.split('\n');
  for (let i = 0; i < lines.length; i++) {
    const n = i + 1;
    const line = lines[i]!.replace(/\r$/, '').replace(/^[ \t]+/, '');
    if (line === '' || line.startsWith('#') || line.startsWith(';')) continue;
    if (line.startsWith('!')) {
      const m = /^(!\S*)\s*(.*)$/s.exec(line)!;
      drop({ key: m[1]!, value: m[2]!.trim(), section, line: n });
      continue;
    }
    if (line.startsWith('[')) {
      const m = /^\[[ \t]*([^\]]*?)[ \t]*\]$/.exec(removeEndComment(line).trimEnd());
      // A header we cannot read opens a section that is no layout section: nothing after it is kept.
      section = m ? m[1]!.toLowerCase() : '(unreadable header)';
      if (!m) drop({ key: '', value: line, section, line: n });
      continue;
    }
    const body = removeEndComment(line);
    const eq = body.indexOf('=');
    const rawKey = (eq < 0 ? body : body.slice(0, eq)).trim();
    const value = eq < 0 ? undefined : unquote(body.slice(eq + 1).trim());
    const key = canonicalKey(rawKey);
    const item: CnfItem = { key: rawKey, value, section, line: n };

    const why = key === undefined ? undefined : refusal(key, value);
    if (why) {
      refuse(why);
      continue;
    }
    const spec = key === undefined ? undefined : LAYOUT[key];
    if (!spec || key === undefined || section !== LAYOUT_SECTION) {
      drop(item);
      continue;
    }
    const where = `backup-my.cnf:${n} ${key}`;
    if (value === undefined) {
      error(`${where}: has no value`);
      continue;
    }
    const checked = spec.check(value);
    if ('error' in checked) {
      error(`${where} = ${JSON.stringify(clip(value, 80))}: ${checked.error}`);
      continue;
    }
    const before = seen.get(key);
    if (before && before.value !== checked.value) {
      error(
        `${where}: given twice with different values (${before.value} on line ${before.line}, ${checked.value})`,
      );
      continue;
    }
    seen.set(key, { value: checked.value, line: n });
  }

  for (const [key, spec] of Object.entries(LAYOUT)) {
    const v = seen.get(key);
    if (!v) continue;
    res.kept[key] = v.value;
    res.args.push(`--${spec.legacy ? 'loose-' : ''}${key.replaceAll('_', '-')}=${v.value}`);
  }
  return res;
}

/** `loose-Innodb-Page_Size` -> `innodb_page_size`; undefined for a name no option can have. */
export function canonicalKey(raw: string): string | undefined {
  let k = raw.toLowerCase().replaceAll('-', '_');
  while (k.startsWith('loose_')) k = k.slice('loose_'.length);
  return /^[a-z0-9_]+$/.test(k) ? k : undefined;
}

/** Why this entry makes the backup unsupported, or undefined. */
function refusal(key: string, value: string | undefined): string | undefined {
  // skip-X / disable-X switch a plugin or feature off: nothing is needed then.
  if (key.startsWith('skip_') || key.startsWith('disable_')) return undefined;
  const v = (value ?? '').trim();
  if (PLUGIN_KEYS.has(key) && KEY_PLUGIN.test(v)) {
    return `the backup needs the key management plugin in ${key}=${clip(v, 80)} (encryption at rest), which xb-mgr does not support`;
  }
  if (KEY_PLUGIN_VARIABLE.test(key)) {
    return `the backup was taken with a key management plugin (${key}; encryption at rest), which xb-mgr does not support`;
  }
  if (ENCRYPTION_SWITCHES.has(key) && !OFF.has(v.toLowerCase())) {
    return `the backup is encrypted (${key}=${clip(v, 40)}), which xb-mgr does not support`;
  }
  if (key === 'master_key_id' && !/^0*$/.test(v)) {
    return `the backup uses a keyring master key (master_key_id=${clip(v, 40)}; encryption at rest), which xb-mgr does not support`;
  }
  return undefined;
}

/** As MariaDB's option file reader: `#` outside quotes starts a comment (`;` only at line start). */
function removeEndComment(s: string): string {
  let quote = '';
  let escape = false;
  for (let i = 0; i < s.length; i++) {
    const c = s[i]!;
    if ((c === '"' || c === "'") && !escape) {
      if (!quote) quote = c;
      else if (quote === c) quote = '';
    }
    if (!quote && c === '#') return s.slice(0, i);
    escape = quote !== '' && c === '\\' && !escape;
  }
  return s;
}

const ESCAPES: Record<string, string> = {
  n: '\n',
  t: '\t',
  r: '\r',
  b: '\b',
  s: ' ',
  '"': '"',
  "'": "'",
  '\\': '\\',
};

/** Surrounding quotes removed and backslash escapes read, as the server's option reader does. */
function unquote(v: string): string {
  if (v.length >= 2 && (v[0] === '"' || v[0] === "'") && v[v.length - 1] === v[0]) v = v.slice(1, -1);
  let out = '';
  for (let i = 0; i < v.length; i++) {
    if (v[i] === '\\' && i < v.length - 1) {
      const c = v[++i]!;
      out += ESCAPES[c] ?? `\\${c}`;
    } else out += v[i];
  }
  return out;
}

function oneOf(values: readonly string[]): Check {
  return (v) =>
    values.includes(v.toLowerCase())
      ? { value: v.toLowerCase() }
      : { error: `not one of ${values.slice(0, 4).join(', ')}` };
}

function int(min: number, max: number): Check {
  return (v) => {
    if (!/^\d{1,6}$/.test(v)) return { error: `not a whole number from ${min} to ${max}` };
    const n = Number(v);
    return n >= min && n <= max
      ? { value: String(n) }
      : { error: `not a whole number from ${min} to ${max}` };
  };
}

const UNITS: Record<string, number> = { '': 1, k: 1024, m: MiB, g: GiB, t: 1024 * GiB };

/** `100663296`, `96M`, `1g` -> bytes; undefined when it is no size. */
export function parseCnfSize(v: string): number | undefined {
  const m = /^(\d{1,15})([kmgt]?)$/i.exec(v);
  if (!m) return undefined;
  const n = Number(m[1]) * UNITS[m[2]!.toLowerCase()]!;
  return Number.isSafeInteger(n) ? n : undefined;
}

function size(min: number, max: number): Check {
  return (v) => {
    const n = parseCnfSize(v);
    if (n === undefined) return { error: 'not a size (bytes, or a number with K, M, G or T)' };
    if (n < min || n > max) return { error: `not a size from ${min} to ${max} bytes` };
    return { value: String(n) };
  };
}

function pageSize(v: string): { value: string } | { error: string } {
  const n = parseCnfSize(v);
  if (n === undefined || ![4096, 8192, 16384, 32768, 65536].includes(n)) {
    return { error: 'not an InnoDB page size (4K, 8K, 16K, 32K or 64K)' };
  }
  return { value: String(n) };
}

function powerOfTwo(min: number, max: number): Check {
  return (v) => {
    const n = parseCnfSize(v);
    if (n === undefined || n < min || n > max || (n & (n - 1)) !== 0) {
      return { error: `not a power of two from ${min} to ${max}` };
    }
    return { value: String(n) };
  };
}

/** The undo tablespaces travel in the backup's own directory: nothing else is acceptable. */
function undoDirectory(v: string): { value: string } | { error: string } {
  return v === '.' || v === './' ? { value: './' } : { error: 'must be ./ (the backup directory itself)' };
}

const DATA_FILE_NAME = /^[A-Za-z0-9_][A-Za-z0-9_.-]{0,63}$/;
/** InnoDB's own reading: K divides, M is the unit, G multiplies; no suffix means bytes. */
const DATA_FILE_SIZE = /^(\d{1,9})([KkMmGg]?)$/;
const MAX_DATA_FILES = 100;

/**
 * `ibdata1:12M:autoextend`, `ibdata1:50M;ibdata2:50M:autoextend:max:500M`: names of files in the
 * backup directory (no `/`, no `..`), sizes of at least 1M, autoextend only on the last file, no
 * raw partitions.
 */
export function dataFilePath(v: string): { value: string } | { error: string } {
  const entries = v.split(';');
  if (entries.length > MAX_DATA_FILES) return { error: `more than ${MAX_DATA_FILES} data files` };
  const names = new Set<string>();
  const out: string[] = [];
  for (let i = 0; i < entries.length; i++) {
    const parts = entries[i]!.split(':');
    const [name, sz, ...rest] = parts;
    if (!name || !DATA_FILE_NAME.test(name)) {
      return { error: `data file name ${JSON.stringify(clip(name ?? '', 40))} is not a plain file name` };
    }
    if (names.has(name)) return { error: `data file ${name} is named twice` };
    names.add(name);
    const mb = dataFileMiB(sz);
    if (mb === undefined)
      return { error: `size of ${name} is not a size of at least 1M (no raw partitions)` };
    let spec = `${name}:${sz}`;
    if (rest.length > 0) {
      if (rest[0] !== 'autoextend')
        return { error: `${name}: unexpected ${JSON.stringify(clip(rest.join(':'), 40))}` };
      if (i !== entries.length - 1) return { error: `${name}: only the last data file may autoextend` };
      spec += ':autoextend';
      if (rest.length > 1) {
        const max = rest.length === 3 && rest[1] === 'max' ? dataFileMiB(rest[2]) : undefined;
        if (max === undefined || max < mb)
          return { error: `${name}: autoextend takes only max:SIZE (at least the size)` };
        spec += `:max:${rest[2]}`;
      }
    }
    out.push(spec);
  }
  return { value: out.join(';') };
}

function dataFileMiB(s: string | undefined): number | undefined {
  const m = s === undefined ? null : DATA_FILE_SIZE.exec(s);
  if (!m) return undefined;
  const n = Number(m[1]);
  const unit = m[2]!.toLowerCase();
  const mb =
    unit === 'g' ? n * 1024 : unit === 'm' ? n : unit === 'k' ? Math.floor(n / 1024) : Math.floor(n / MiB);
  return mb >= 1 ? mb : undefined;
}
