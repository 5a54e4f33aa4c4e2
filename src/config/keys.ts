/**
 * Every key backup.conf accepts, in one table: its type, range, default, scope, meaning, and the
 * zod schema that turns its text into its value. The loader validates against this table, the
 * HostConfig and GlobalConfig types are inferred from the schemas built on it (schema.ts), the
 * README's configuration reference and playbooks/vars/defaults.yml are written from it
 * (`node scripts/config-reference.mjs --write`), and the bad-input tests generate their cases from
 * it (test/e2e/badinput-gen.ts), so none of them can drift apart.
 *
 * Declaring a key is all it takes: `name: key(KIND, { scope, doc, ... })`.
 * - KIND (below; `KINDS` for other tables) says how the text becomes a value, and carries what the
 *   bad-input generator needs: `type` (int, size, bool, day, enum, path, hostname, emails, command,
 *   user, timezone, string: each type has its own wrong values in the generator), and for int and
 *   size the range `min`-`max` (`int(0, 3650)`, `bytes(64 * KiB, PiB)`; the README states it).
 *   Every int and size key has an upper bound: a unit test requires one.
 * - `empty`: what an empty value (`key =`) means, e.g. 'none' or 'found on PATH'. Only such keys
 *   accept an empty value: it unsets the key for that section, over [default]. For every other key
 *   an empty value is an error, never the default (a half-typed line must not shorten retention).
 *   `textOrNone` and the user-name kind carry `empty: 'none'` themselves.
 * - `required`, `default` (config text), `defaultFrom` (the value of another key): a key with
 *   none of them is optional, undefined when unset. `empty` is only for such keys.
 * - `rangeBy`: the range depends on another key's value (compress_level on compress); `undefined`
 *   for a value means that value takes no setting of this key at all.
 * - `secret`: the value is never shown (in messages, logs, reports) and runs verbatim to the end
 *   of its line.
 */
import { z } from 'zod';
import {
  DAYS,
  formatSize,
  parseBool,
  parseDay,
  parseEmails,
  parseEnum,
  parseHost,
  parseInt10,
  parseSize,
  parseUserName,
  parsePath,
  parseTimezone,
  splitCommand,
  type Parsed,
} from './values.js';
import { parseEndpoint, parseOffsiteUrl, parseRecipients } from '../offsite/values.js';

export { DAYS };

export type KeyType =
  | 'string'
  | 'path'
  | 'int'
  | 'size'
  | 'bool'
  | 'day'
  | 'hostname'
  | 'emails'
  | 'command'
  | 'user'
  | 'timezone'
  | { enum: readonly string[] };

/** A range of a number key: min-max inclusive. */
export type Range = readonly [min: number, max: number];

export interface KeySpec<T = unknown> {
  /** Type shown in the README reference; the bad-input generator picks wrong values by it. */
  type: KeyType;
  /** Value used when neither [default] nor the host's section sets the key, as config text. */
  default?: string;
  /** Derived default: the value of this other key (after its own default) when this one is unset. */
  defaultFrom?: string;
  /** 'global': only in [default]; 'host': in [default] or a host section. */
  scope: 'global' | 'host';
  required?: boolean;
  /** Range of an int (a number) or a size (bytes), inclusive. */
  min?: number;
  max?: number;
  /** What an empty value means; without it an empty value is an error. */
  empty?: string;
  /** The range depends on another key: its value -> the range, or undefined (this key not used). */
  rangeBy?: { key: string; ranges: Readonly<Record<string, Range | undefined>> };
  secret?: boolean;
  doc: string;
  /** Text -> value. A failure's message is the one the user reads after `key = "text": `. */
  value: z.ZodType<T, string>;
  /** `value` as a field of the config objects: optional unless the key always has a value. */
  field: z.ZodType<T | undefined, string | undefined>;
}

/** How a key's text becomes its value. */
export interface Kind<T> {
  type: KeyType;
  min?: number;
  max?: number;
  empty?: string;
  value: z.ZodType<T, string>;
}

/** A parser of values.ts as a zod schema; its error message becomes the issue's message. */
function parsed<T>(parse: (text: string) => Parsed<T>): z.ZodType<T, string> {
  return z.string().transform((text, ctx) => {
    const p = parse(text);
    if (p.ok) return p.value;
    ctx.addIssue({ code: 'custom', message: p.error, input: text });
    return z.NEVER;
  });
}

export const KiB = 2 ** 10;
export const MiB = 2 ** 20;
export const GiB = 2 ** 30;
export const TiB = 2 ** 40;
export const PiB = 2 ** 50;

const text: Kind<string> = { type: 'string', value: z.string() };
/** Free text where an empty value means "none" (and overrides a value from [default]). */
const textOrNone: Kind<string | undefined> = {
  type: 'string',
  empty: 'none',
  value: z.string().transform((s) => (s === '' ? undefined : s)),
};
const timezone: Kind<string> = { type: 'timezone', value: parsed(parseTimezone) };
const path: Kind<string> = { type: 'path', value: parsed(parsePath) };
const hostname: Kind<string> = { type: 'hostname', value: parsed(parseHost) };
const emails: Kind<string[]> = { type: 'emails', value: parsed(parseEmails) };
const command: Kind<string[]> = { type: 'command', value: parsed(splitCommand) };
const bool: Kind<boolean> = { type: 'bool', value: parsed(parseBool) };
/** Day of the week, 0 = Sunday. */
const day: Kind<number> = { type: 'day', value: parsed(parseDay) };
/** A whole number in min-max (give max: every count and duration has a sensible upper bound). */
const int = (min: number, max?: number): Kind<number> => ({
  type: 'int',
  min,
  max,
  value: parsed((v) => parseInt10(v, min, max)),
});
/** A login name (it reaches `ansible-playbook -u`, which Ansible templates); empty: none. */
const userName: Kind<string | undefined> = { type: 'user', empty: 'none', value: parsed(parseUserName) };
/** A size in bytes with a unit (K, M, G, T), in min-max. */
const bytes = (min: number, max: number): Kind<number> => ({
  type: 'size',
  min,
  max,
  value: parsed((v) => parseSize(v, min, max)),
});
/** Any size from 1 byte to 1 PiB (prefer `bytes` with a range of the key's own). */
const size: Kind<number> = bytes(1, PiB);
const oneOf = <const V extends readonly string[]>(values: V): Kind<V[number]> => ({
  type: { enum: values },
  value: parsed((v) => parseEnum(v, values)),
});

/** The kinds of value, for key tables beyond this one (tests, and keys added later). */
export const KINDS = {
  text,
  textOrNone,
  timezone,
  path,
  hostname,
  emails,
  command,
  bool,
  day,
  int,
  bytes,
  size,
  userName,
  oneOf,
};

interface Meta {
  scope: 'global' | 'host';
  doc: string;
  secret?: boolean;
  rangeBy?: KeySpec['rangeBy'];
}
/** A key that always has a value: required, or with a default or a derived default. */
type Given = Meta & ({ required: true } | { default: string } | { defaultFrom: string }) & { empty?: never };

export function key<T>(kind: Kind<T>, meta: Given): KeySpec<T> & { field: z.ZodType<T, string> };
export function key<T>(
  kind: Kind<T>,
  meta: Meta & { empty?: undefined },
): KeySpec<T> & { field: z.ZodOptional<z.ZodType<T, string>> };
export function key<T>(
  kind: Kind<T>,
  meta: Meta & { empty: string },
): KeySpec<T | undefined> & { field: z.ZodOptional<z.ZodType<T | undefined, string>> };
export function key<T>(
  kind: Kind<T>,
  meta: Meta & { required?: true; default?: string; defaultFrom?: string; empty?: string },
): KeySpec<T | undefined> {
  const given = meta.required === true || meta.default !== undefined || meta.defaultFrom !== undefined;
  const empty = given ? undefined : (meta.empty ?? kind.empty);
  // A schema of its own either way: the config schemas find a key by the identity of its field's
  // schema. An empty value of a key that accepts one is unset (none).
  const value: z.ZodType<T | undefined, string> =
    empty === undefined
      ? kind.value.clone()
      : z.string().transform((s, ctx) => {
          if (s === '') return undefined;
          const r = kind.value.safeParse(s);
          if (r.success) return r.data;
          for (const i of r.error.issues) ctx.addIssue({ code: 'custom', message: i.message, input: s });
          return z.NEVER;
        });
  return { ...kind, ...meta, empty, value, field: given ? value : value.optional() };
}

/** Text of a range for the reference: `0-3650`, `64K-1024T`. */
export function rangeText(spec: Pick<KeySpec, 'type' | 'min' | 'max'>): string | undefined {
  if (spec.min === undefined && spec.max === undefined) return undefined;
  const f = (n: number) => (spec.type === 'size' ? formatSize(n) : String(n));
  if (spec.max === undefined) return `at least ${f(spec.min!)}`;
  return `${f(spec.min ?? 0)}-${f(spec.max)}`;
}

const ON_PATH = 'found on PATH';

export const COMPRESSORS = ['zstd', 'gzip', 'qpress', 'none'] as const;
export const TOOLS = ['mariabackup', 'xtrabackup'] as const;
export const TRANSFERS = ['pull', 'push'] as const;

export const KEYS = {
  // Keys of the original tool.
  mysql_user: key(text, { scope: 'host', required: true, doc: 'MySQL user the backup tool logs in as.' }),
  mysql_password: key(text, {
    scope: 'host',
    required: true,
    secret: true,
    doc: 'Its password. Taken verbatim to the end of the line; never shown, never on a command line.',
  }),
  ssh_user: key(userName, {
    scope: 'host',
    empty: "the inventory's ansible_user, else Ansible's default",
    doc: 'SSH user for the DB host when the inventory sets no `ansible_user` for it.',
  }),
  backup_manager_host: key(textOrNone, {
    scope: 'host',
    doc: '`[user@]host[:port]` the DB host connects back to in push mode; unused in pull mode.',
  }),
  push_ssh_options: key(textOrNone, {
    scope: 'host',
    doc: 'Extra ssh options the DB host uses to reach backup_manager_host in push mode (e.g. `-i /root/.ssh/xb_key`).',
  }),
  remote_backup_cmd: key(path, {
    scope: 'host',
    default: '/usr/local/xb-mgr/bin/backup_local',
    doc: 'Where the helper script is installed on the DB host.',
  }),
  full_backup_day: key(day, {
    scope: 'host',
    default: 'Sunday',
    doc: 'Day of the weekly full backup: a full name or three-letter abbreviation, any case.',
  }),
  root_dir: key(path, {
    scope: 'global',
    empty: 'the installed package',
    doc: 'Where xb-mgr finds playbooks/ and conf/.',
  }),
  backup_dir: key(path, { scope: 'host', required: true, doc: 'Root of the backup catalog.' }),
  log: key(path, {
    scope: 'host',
    default: '/var/log/xb-mgr/backup_manager.log',
    doc: 'Log file (JSON lines). In [default]: run-level events; in a host section: that host.',
  }),
  pid: key(path, {
    scope: 'global',
    default: '/var/run/xb-mgr.pid',
    doc: 'Run lock file: a second run exits 75 while it is held.',
  }),
  retain_days: key(int(0, 3650), {
    scope: 'host',
    default: '7',
    doc: 'Keep what is needed to restore any backup point of the last N days.',
  }),
  retain_num_ready_backups: key(int(1, 100), {
    scope: 'host',
    default: '1',
    doc: 'Ready (prepared, checked, compressed) copies to keep; at least 1.',
  }),
  error_email_recipient: key(emails, {
    scope: 'host',
    empty: 'no email',
    doc: 'Comma-separated addresses for the run report.',
  }),
  hostname: key(hostname, {
    scope: 'host',
    doc: 'Name of the DB host in the Ansible inventory (a host name or an IP address). Default: the section name.',
  }),
  // New keys; an old file needs none of them.
  mysql_socket: key(path, {
    scope: 'host',
    empty: 'the client default',
    doc: 'Server socket on the DB host.',
  }),
  mysql_port: key(int(1, 65535), {
    scope: 'host',
    doc: 'Server TCP port on the DB host (used with 127.0.0.1 when no socket is set).',
  }),
  mysql_datadir: key(path, {
    scope: 'host',
    empty: 'what the server reports',
    doc: 'Server datadir on the DB host.',
  }),
  mysql_stop_cmd: key(command, {
    scope: 'host',
    empty: 'the mariadb/mysql service',
    doc: 'Command that stops the server for a restore (split into arguments, no shell).',
  }),
  mysql_start_cmd: key(command, {
    scope: 'host',
    empty: 'the mariadb/mysql service',
    doc: 'Command that starts the server after a restore; must detach fully.',
  }),
  transfer: key(oneOf(TRANSFERS), {
    scope: 'host',
    default: 'pull',
    doc: '`pull`: the manager runs ssh and reads the stream. `push`: the DB host pipes to `ssh backup_manager_host` (needs a key to the manager on the DB host).',
  }),
  compress: key(oneOf(COMPRESSORS), {
    scope: 'host',
    default: 'zstd',
    doc: 'Compressor for streams and ready files. `qpress` only where the binary exists.',
  }),
  compress_level: key(int(1, 19), {
    scope: 'host',
    default: '1',
    rangeBy: { key: 'compress', ranges: { zstd: [1, 19], gzip: [1, 9], qpress: undefined, none: undefined } },
    doc: 'Compression level: zstd 1-19, gzip 1-9; qpress and none take no level (an error when set in the same section; one inherited from [default] is not used).',
  }),
  parallel: key(int(1, 64), {
    scope: 'host',
    default: '2',
    doc: 'Threads of the backup tool (`--parallel`) and of extraction.',
  }),
  max_stream_bytes: key(bytes(64 * KiB, PiB), {
    scope: 'host',
    doc: 'Largest backup stream accepted from the DB host; over it, that backup fails and the partial data is removed. Default: the larger of 4 times the last full stream and 10G, never more than the free space in backup_dir less a reserve.',
  }),
  max_extract_bytes: key(bytes(64 * KiB, PiB), {
    scope: 'host',
    doc: 'Most bytes one stream may extract to (a zstd bomb fails here). Default: 100 times the stream, at least 10G, never more than the free space less a reserve.',
  }),
  tool_log_tail_bytes: key(bytes(64 * KiB, 32 * MiB), {
    scope: 'host',
    default: '1M',
    doc: "How much of the end of the backup tool's log is kept and read.",
  }),
  max_parallel_hosts: key(int(1, 64), {
    scope: 'global',
    default: '2',
    doc: 'Hosts backed up at the same time.',
  }),
  backup_tool: key(oneOf(TOOLS), {
    scope: 'host',
    default: 'mariabackup',
    doc: '`mariabackup` (MariaDB) or `xtrabackup` (Percona XtraBackup 8.x).',
  }),
  remote_tool_path: key(path, {
    scope: 'host',
    empty: 'found on its PATH',
    doc: 'Path of the backup tool on the DB host.',
  }),
  remote_credentials_file: key(path, {
    scope: 'host',
    default: '/etc/xb-mgr/credentials-{host}.cnf',
    doc: 'The 0600 option file with the MySQL credentials on the DB host; `{host}` is the section name.',
  }),
  remote_nice: key(int(0, 19), {
    scope: 'host',
    default: '10',
    doc: 'nice level of the backup on the DB host.',
  }),
  remote_ionice: key(oneOf(['none', 'idle', 'best-effort', 'realtime']), {
    scope: 'host',
    default: 'best-effort',
    doc: 'ionice class of the backup on the DB host.',
  }),
  throttle: key(int(0, 1_000_000), {
    scope: 'host',
    default: '0',
    doc: "The tool's `--throttle` (I/O operations per second); 0 means unlimited.",
  }),
  slave_info: key(bool, {
    scope: 'host',
    default: 'false',
    doc: "Record a replica's position (`--slave-info`; needs SLAVE MONITOR).",
  }),
  lock_alert_hours: key(int(1, 720), {
    scope: 'global',
    default: '24',
    doc: 'Warn when the run lock has been held this long.',
  }),
  timeout_backup: key(int(1, 604_800), {
    scope: 'host',
    default: '21600',
    doc: 'Seconds allowed for one backup transfer.',
  }),
  timeout_prepare: key(int(1, 604_800), {
    scope: 'host',
    default: '21600',
    doc: 'Seconds allowed for extracting and preparing one backup.',
  }),
  timeout_verify: key(int(1, 604_800), {
    scope: 'host',
    default: '21600',
    doc: 'Seconds allowed for the mysqld check of a ready backup.',
  }),
  timeout_compress: key(int(1, 604_800), {
    scope: 'host',
    default: '21600',
    doc: 'Seconds allowed for compressing a ready file.',
  }),
  verify_scope: key(oneOf(['changed', 'all'] as const), {
    scope: 'host',
    default: 'changed',
    doc: 'Tables the ready step checks after an incremental: `changed` (the tables whose files the apply modified, every non-InnoDB table and the `mysql` schema) or `all`. Every table is checked on a full, on a rebuilt base and when `verify_full_days` have passed.',
  }),
  verify_full_days: key(int(0, 3650), {
    scope: 'host',
    default: '7',
    doc: 'With `verify_scope = changed`: check every table when the last full check of the prepared base is this many days old (0: on every run).',
  }),
  timeout_ssh: key(int(1, 3600), {
    scope: 'host',
    default: '30',
    doc: 'Seconds allowed to connect to a DB host.',
  }),
  ansible_inventory: key(path, {
    scope: 'global',
    empty: '$ANSIBLE_INVENTORY, else /etc/ansible/hosts',
    doc: 'Ansible inventory.',
  }),
  timezone: key(timezone, {
    scope: 'global',
    doc: "IANA zone for `--now` times without an offset and for `full_backup_day`. Default: the manager host's.",
  }),
  // Binaries on the manager host; empty means: found on PATH.
  mariabackup: key(path, { scope: 'host', empty: ON_PATH, doc: 'mariabackup on the manager host.' }),
  xtrabackup: key(path, { scope: 'host', empty: ON_PATH, doc: 'xtrabackup on the manager host.' }),
  mbstream: key(path, { scope: 'host', empty: ON_PATH, doc: 'mbstream on the manager host.' }),
  xbstream: key(path, { scope: 'host', empty: ON_PATH, doc: 'xbstream on the manager host.' }),
  mysqld: key(path, {
    scope: 'host',
    empty: ON_PATH,
    doc: "Server binary for checks on the manager host (mariadbd or mysqld); its major version must match the host's.",
  }),
  mysqlcheck: key(path, {
    scope: 'host',
    empty: ON_PATH,
    doc: 'mysqlcheck (mariadb-check) on the manager host.',
  }),
  mysqladmin: key(path, {
    scope: 'host',
    empty: ON_PATH,
    doc: 'mysqladmin (mariadb-admin) on the manager host.',
  }),
  ansible_playbook: key(path, {
    scope: 'global',
    empty: ON_PATH,
    doc: 'ansible-playbook on the manager host.',
  }),
  // Reports.
  smtp_host: key(textOrNone, { scope: 'global', empty: 'the local sendmail binary', doc: 'SMTP server.' }),
  smtp_port: key(int(1, 65535), { scope: 'global', default: '25', doc: 'SMTP port.' }),
  smtp_user: key(textOrNone, { scope: 'global', doc: 'SMTP user.' }),
  smtp_password: key(textOrNone, { scope: 'global', secret: true, doc: 'SMTP password.' }),
  smtp_tls: key(oneOf(['none', 'starttls', 'tls']), {
    scope: 'global',
    default: 'starttls',
    doc: '`starttls` (required when smtp_user is set: no AUTH in the clear), `tls` from the start, `none` (with smtp_user only with smtp_allow_plaintext_auth).',
  }),
  smtp_allow_plaintext_auth: key(bool, {
    scope: 'global',
    default: 'false',
    doc: 'Allow `smtp_tls = none` with smtp_user: the SMTP password then crosses the network in the clear.',
  }),
  email_from: key(text, { scope: 'global', default: 'xb-mgr@localhost', doc: 'Sender address.' }),
  email_on: key(oneOf(['always', 'failure']), {
    scope: 'host',
    default: 'always',
    doc: 'Send the report after every run or only on failure.',
  }),
  // Off-site copies (issue 16): S3-compatible object storage, age-encrypted.
  offsite_url: key(
    { type: 'string', value: parsed(parseOffsiteUrl) },
    { scope: 'host', empty: 'no off-site copy', doc: '`s3://BUCKET[/PREFIX]` for off-site copies.' },
  ),
  s3_endpoint: key(
    { type: 'string', value: parsed(parseEndpoint) },
    { scope: 'host', empty: 'AWS for the region', doc: 'S3 endpoint URL.' },
  ),
  s3_region: key(text, { scope: 'host', default: 'us-east-1', doc: 'S3 region.' }),
  s3_access_key_id: key(textOrNone, {
    scope: 'host',
    doc: 'S3 access key id. Empty with an empty secret: the SDK default credential chain.',
  }),
  s3_secret_access_key: key(textOrNone, {
    scope: 'host',
    secret: true,
    doc: 'S3 secret key. Taken verbatim like mysql_password; never shown, never on a command line.',
  }),
  s3_force_path_style: key(bool, {
    scope: 'host',
    doc: 'Path-style bucket addressing. Default: true when s3_endpoint is set.',
  }),
  offsite_recipients: key(
    { type: 'string', value: parsed(parseRecipients) },
    {
      scope: 'host',
      doc: 'age public keys (`age1...`, comma-separated) or `@/path/to/file`; required with offsite_url unless offsite_encryption = none.',
    },
  ),
  offsite_encryption: key(oneOf(['age', 'none']), {
    scope: 'host',
    default: 'age',
    doc: '`age` (the store sees only ciphertext) or `none`.',
  }),
  offsite_retain_days: key(int(0, 3650), {
    scope: 'host',
    defaultFrom: 'retain_days',
    doc: 'retain_days for the off-site copies. Default: retain_days.',
  }),
  offsite_retain_num_ready_backups: key(int(1, 100), {
    scope: 'host',
    defaultFrom: 'retain_num_ready_backups',
    doc: 'retain_num_ready_backups off-site. Default: retain_num_ready_backups.',
  }),
  offsite_part_size: key(bytes(5 * MiB, 5 * GiB), {
    scope: 'host',
    default: '64M',
    doc: 'Multipart upload part size (S3 takes 5M to 5G).',
  }),
  offsite_concurrency: key(int(1, 64), { scope: 'host', default: '4', doc: 'Parts uploaded at once.' }),
  offsite_bandwidth: key(bytes(64 * KiB, 100 * GiB), {
    scope: 'host',
    empty: 'unlimited',
    doc: 'Upload bandwidth limit in bytes per second (e.g. 50M).',
  }),
  metrics_file: key(path, {
    scope: 'global',
    empty: 'no metrics file',
    doc: 'Prometheus text file written after each run (node_exporter textfile collector).',
  }),
  // Binlog streaming (xb-mgr binlog; src/binlog/).
  binlog_stream: key(bool, {
    scope: 'host',
    default: 'false',
    doc: "Stream the host's binary log to `<backup_dir>/<host>/binlog/` while `xb-mgr binlog` runs.",
  }),
  // Unset: mysql_user/mysql_password, resolved where used (src/binlog/connect.ts binlogLogin), so a
  // missing mysql_password is reported once and the config holds each secret once.
  binlog_user: key(text, {
    scope: 'host',
    doc: 'MySQL user of the binlog stream; needs REPLICATION SLAVE and BINLOG MONITOR. Default: mysql_user.',
  }),
  binlog_password: key(text, {
    scope: 'host',
    secret: true,
    doc: 'Its password (verbatim, as mysql_password); kept on the manager in a 0600 option file only. Default: mysql_password.',
  }),
  binlog_server_id: key(int(1, 4294967295), {
    scope: 'host',
    default: '4170017',
    doc: 'Server id the stream presents to the DB host as a replica; unique among its replicas.',
  }),
  binlog_fsync_ms: key(int(20, 10000), {
    scope: 'host',
    default: '200',
    doc: "How often (ms) what the stream wrote is fsync'd and counted as stored.",
  }),
  binlog_retry_max_seconds: key(int(1, 3600), {
    scope: 'host',
    default: '30',
    doc: 'Longest wait between reconnections of a broken stream (the wait doubles from 1 s up to it).',
  }),
  max_binlog_bytes: key(bytes(MiB, 64 * GiB), {
    scope: 'host',
    default: '4G',
    doc: 'Largest binlog file accepted from the DB host (and largest event); over it the stream stops with an error.',
  }),
} satisfies Record<string, KeySpec>;

export type KeyName = keyof typeof KEYS;

export const KEY_NAMES = Object.keys(KEYS) as KeyName[];
