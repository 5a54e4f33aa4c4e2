/**
 * backup.conf: read -> parse (ini) -> merge [default] into each host section -> validate each key
 * against the KEYS table. Problems are collected as data and raised together as one ConfigError
 * (exit 2), each naming file, section, key and value.
 */
import { readFileSync, statSync } from 'node:fs';
import { ConfigError, type ConfigIssue } from '../errors.js';
import { COMPRESSORS, KEYS, KEY_NAMES, TOOLS, TRANSFERS, type KeyName, type KeySpec } from './keys.js';
import { parseIni, type IniSection } from './ini.js';
import { parseManagerHost } from './values.js';
import {
  closest,
  isSafeName,
  parseBool,
  parseDay,
  parseEmails,
  parseEnum,
  parseHost,
  parseInt10,
  parsePath,
  parseTimezone,
  splitCommand,
  type Parsed,
} from './values.js';

export interface HostConfig {
  /** Section name: the host's name in xb-mgr (catalog directory, logs, --host). */
  name: string;
  /** Name in the Ansible inventory. */
  hostname: string;
  mysqlUser: string;
  mysqlPassword: string;
  mysqlSocket?: string;
  mysqlPort?: number;
  mysqlDatadir?: string;
  mysqlStopCmd?: string[];
  mysqlStartCmd?: string[];
  sshUser?: string;
  backupManagerHost?: string;
  pushSshOptions?: string;
  remoteBackupCmd: string;
  remoteCredentialsFile: string;
  remoteToolPath?: string;
  remoteNice: number;
  remoteIonice: 'none' | 'idle' | 'best-effort' | 'realtime';
  throttle: number;
  slaveInfo: boolean;
  fullBackupDay: number;
  backupDir: string;
  log: string;
  retainDays: number;
  retainNumReadyBackups: number;
  errorEmailRecipients: string[];
  emailOn: 'always' | 'failure';
  transfer: (typeof TRANSFERS)[number];
  compress: (typeof COMPRESSORS)[number];
  compressLevel: number;
  parallel: number;
  backupTool: (typeof TOOLS)[number];
  timeouts: { backup: number; prepare: number; verify: number; compress: number; ssh: number };
  /** Binaries on the manager host; undefined = look up on PATH. */
  bins: {
    mariabackup?: string;
    xtrabackup?: string;
    mbstream?: string;
    xbstream?: string;
    mysqld?: string;
    mysqlcheck?: string;
    mysqladmin?: string;
  };
}

export interface GlobalConfig {
  file: string;
  rootDir?: string;
  pid: string;
  log: string;
  maxParallelHosts: number;
  lockAlertHours: number;
  ansibleInventory?: string;
  ansiblePlaybook?: string;
  timezone?: string;
  metricsFile?: string;
  smtp: { host?: string; port: number; user?: string; password?: string; tls: 'none' | 'starttls' | 'tls' };
  emailFrom: string;
}

export interface Config {
  global: GlobalConfig;
  hosts: HostConfig[];
  warnings: string[];
}

const VERBATIM = new Set(KEY_NAMES.filter((k) => (KEYS[k] as KeySpec).secret));

type Values = Partial<Record<KeyName, unknown>>;

function parseValue(spec: KeySpec, raw: string): Parsed<unknown> {
  const t = spec.type;
  if (typeof t === 'object') return parseEnum(raw, t.enum);
  switch (t) {
    case 'int':
      return parseInt10(raw, spec.min);
    case 'bool':
      return parseBool(raw);
    case 'day':
      return parseDay(raw);
    case 'hostname':
      return parseHost(raw);
    case 'path':
      return parsePath(raw);
    case 'emails':
      return parseEmails(raw);
    case 'command':
      return splitCommand(raw);
    case 'string':
      return { ok: true, value: raw };
  }
}

/**
 * Validate one section's entries; unknown keys and bad values become issues. `present` collects
 * every key the section sets, valid or not, so that a bad value is not also reported as missing.
 */
function readSection(
  section: IniSection,
  file: string,
  isDefault: boolean,
  issues: ConfigIssue[],
  present: Set<string>,
): Values {
  const out: Values = {};
  for (const [key, entry] of section.entries) {
    present.add(key);
    // An unreadable line was reported by the ini reader already.
    if (entry.bad) continue;
    const where = { file, line: entry.line, section: section.name, key };
    if (!(key in KEYS)) {
      const guess = closest(key, KEY_NAMES);
      issues.push({ ...where, message: `unknown key${guess ? ` (did you mean ${guess}?)` : ''}` });
      // A misspelt required key is one mistake: not also "mysql_user: is required".
      if (guess) present.add(guess);
      continue;
    }
    const name = key as KeyName;
    const spec: KeySpec = KEYS[name];
    const shown = spec.secret ? undefined : entry.value;
    if (!isDefault && spec.scope === 'global') {
      issues.push({ ...where, value: shown, message: 'may only be set in [default]' });
      continue;
    }
    // An empty value means "not set" for optional keys, as in the original's ConfigParser use.
    if (entry.value === '' && !spec.required && spec.type !== 'string') continue;
    if (entry.value === '' && spec.required) {
      issues.push({ ...where, message: 'must not be empty' });
      continue;
    }
    const parsed = parseValue(spec, entry.value);
    if (!parsed.ok) issues.push({ ...where, value: shown, message: parsed.error });
    else out[name] = parsed.value;
  }
  return out;
}

function withDefaults(values: Values): Values {
  const out: Values = {};
  for (const name of KEY_NAMES) {
    const spec: KeySpec = KEYS[name];
    if (spec.default !== undefined) {
      const p = parseValue(spec, spec.default);
      if (p.ok) out[name] = p.value;
    }
  }
  return { ...out, ...values };
}

function toHost(name: string, v: Values): HostConfig {
  const s = (k: KeyName) => v[k] as string | undefined;
  const n = (k: KeyName) => v[k] as number;
  return {
    name,
    hostname: s('hostname') ?? name,
    mysqlUser: s('mysql_user') as string,
    mysqlPassword: s('mysql_password') as string,
    mysqlSocket: s('mysql_socket'),
    mysqlPort: v.mysql_port as number | undefined,
    mysqlDatadir: s('mysql_datadir'),
    mysqlStopCmd: v.mysql_stop_cmd as string[] | undefined,
    mysqlStartCmd: v.mysql_start_cmd as string[] | undefined,
    sshUser: s('ssh_user') || undefined,
    backupManagerHost: s('backup_manager_host') || undefined,
    pushSshOptions: s('push_ssh_options') || undefined,
    remoteBackupCmd: s('remote_backup_cmd') as string,
    remoteCredentialsFile: (s('remote_credentials_file') as string).replaceAll('{host}', name),
    remoteToolPath: s('remote_tool_path'),
    remoteNice: n('remote_nice'),
    remoteIonice: v.remote_ionice as HostConfig['remoteIonice'],
    throttle: n('throttle'),
    slaveInfo: v.slave_info as boolean,
    fullBackupDay: n('full_backup_day'),
    backupDir: s('backup_dir') as string,
    log: s('log') as string,
    retainDays: n('retain_days'),
    retainNumReadyBackups: n('retain_num_ready_backups'),
    errorEmailRecipients: (v.error_email_recipient as string[] | undefined) ?? [],
    emailOn: v.email_on as HostConfig['emailOn'],
    transfer: v.transfer as HostConfig['transfer'],
    compress: v.compress as HostConfig['compress'],
    compressLevel: n('compress_level'),
    parallel: n('parallel'),
    backupTool: v.backup_tool as HostConfig['backupTool'],
    timeouts: {
      backup: n('timeout_backup'),
      prepare: n('timeout_prepare'),
      verify: n('timeout_verify'),
      compress: n('timeout_compress'),
      ssh: n('timeout_ssh'),
    },
    bins: {
      mariabackup: s('mariabackup'),
      xtrabackup: s('xtrabackup'),
      mbstream: s('mbstream'),
      xbstream: s('xbstream'),
      mysqld: s('mysqld'),
      mysqlcheck: s('mysqlcheck'),
      mysqladmin: s('mysqladmin'),
    },
  };
}

function toGlobal(file: string, v: Values): GlobalConfig {
  const s = (k: KeyName) => (v[k] as string | undefined) || undefined;
  return {
    file,
    rootDir: s('root_dir'),
    pid: s('pid') as string,
    log: s('log') as string,
    maxParallelHosts: v.max_parallel_hosts as number,
    lockAlertHours: v.lock_alert_hours as number,
    ansibleInventory: s('ansible_inventory'),
    ansiblePlaybook: s('ansible_playbook'),
    timezone: s('timezone'),
    metricsFile: s('metrics_file'),
    smtp: {
      host: s('smtp_host'),
      port: v.smtp_port as number,
      user: s('smtp_user'),
      password: s('smtp_password'),
      tls: v.smtp_tls as GlobalConfig['smtp']['tls'],
    },
    emailFrom: s('email_from') as string,
  };
}

/** Pure: text of backup.conf -> Config, or the list of everything wrong with it. */
export function parseConfig(
  text: string,
  file: string,
  notUtf8Lines: ReadonlySet<number> = new Set(),
): { config?: Config; issues: ConfigIssue[] } {
  const { sections, issues, fatal } = parseIni(text, file, VERBATIM, notUtf8Lines);
  if (fatal) return { issues };
  const defaultSection = sections.find((s) => s.name.toLowerCase() === 'default');
  const defaultsPresent = new Set<string>();
  const defaults =
    defaultSection && !defaultSection.bad
      ? readSection(defaultSection, file, true, issues, defaultsPresent)
      : {};
  if (defaults.timezone !== undefined) {
    const tz = parseTimezone(defaults.timezone as string);
    if (!tz.ok) {
      const line = defaultSection?.entries.get('timezone')?.line;
      issues.push({
        file,
        line,
        section: defaultSection?.name,
        key: 'timezone',
        value: defaults.timezone as string,
        message: tz.error,
      });
    }
  }
  const hostSections = sections.filter((s) => s !== defaultSection);
  if (hostSections.length === 0) {
    issues.push({ file, message: 'no host section: add one [name] section per DB host' });
  }
  const hosts: HostConfig[] = [];
  const seenHostnames = new Map<string, string>();
  for (const section of hostSections) {
    // A header line that could not be read was reported already.
    if (section.bad) continue;
    if (!isSafeName(section.name)) {
      issues.push({
        file,
        line: section.line,
        section: section.name,
        message: 'section name must be a safe host name (letters, digits, ".", "-", "_"; no "/" or "..")',
      });
      continue;
    }
    const ownPresent = new Set<string>();
    const own = readSection(section, file, false, issues, ownPresent);
    const merged = withDefaults({ ...defaults, ...own });
    // Set but invalid (reported already) is not also "missing".
    const attempted = (k: string) => defaultsPresent.has(k) || ownPresent.has(k);
    for (const name of KEY_NAMES) {
      const spec: KeySpec = KEYS[name];
      if (spec.required && (merged[name] === undefined || merged[name] === '') && !attempted(name)) {
        issues.push({
          file,
          line: section.line,
          section: section.name,
          key: name,
          message: `is required: set it in [default] or in [${section.name}]`,
        });
      }
    }
    const host = toHost(section.name, merged);
    if (host.transfer === 'push') {
      const dest = host.backupManagerHost;
      // A backup_manager_host line that could not be read was reported already.
      const unreadable = attempted('backup_manager_host') && merged.backup_manager_host === undefined;
      if (!dest && !unreadable) {
        issues.push({
          file,
          line: section.line,
          section: section.name,
          key: 'backup_manager_host',
          message: 'is required with transfer = push',
        });
      } else if (dest && !parseManagerHost(dest)) {
        issues.push({
          file,
          line: section.line,
          section: section.name,
          key: 'backup_manager_host',
          value: dest,
          message: 'must be [user@]host[:port]',
        });
      }
    }
    const other = seenHostnames.get(host.hostname);
    if (other !== undefined) {
      issues.push({
        file,
        line: section.line,
        section: section.name,
        key: 'hostname',
        value: host.hostname,
        message: `is also the hostname of [${other}]`,
      });
    }
    seenHostnames.set(host.hostname, section.name);
    hosts.push(host);
  }
  if (issues.length > 0) return { issues };
  return { config: { global: toGlobal(file, withDefaults(defaults)), hosts, warnings: [] }, issues };
}

/** Numbers of the lines that are not valid UTF-8 (Node would silently turn them into U+FFFD). */
export function notUtf8Lines(bytes: Uint8Array): Set<number> {
  const out = new Set<number>();
  const strict = new TextDecoder('utf-8', { fatal: true });
  try {
    strict.decode(bytes);
    return out;
  } catch {
    // Find the lines.
  }
  // Lines end at LF; a file without any LF has old Mac line ends (CR), as the ini reader reads it.
  const eol = bytes.includes(0x0a) ? 0x0a : 0x0d;
  let start = 0;
  let line = 1;
  while (start <= bytes.length) {
    let end = bytes.indexOf(eol, start);
    if (end < 0) end = bytes.length;
    try {
      strict.decode(bytes.subarray(start, end));
    } catch {
      out.add(line);
    }
    start = end + 1;
    line++;
  }
  return out;
}

/** Read and validate backup.conf; throws ConfigError (exit 2) with every problem found. */
export function loadConfig(file: string): Config {
  let bytes: Buffer;
  try {
    bytes = readFileSync(file);
  } catch (e) {
    const code = (e as NodeJS.ErrnoException).code;
    const why =
      code === 'ENOENT'
        ? 'file not found'
        : code === 'EACCES'
          ? 'permission denied (cannot read the file)'
          : code === 'EISDIR'
            ? 'is a directory, not a file'
            : `cannot read the file (${code ?? String(e)})`;
    throw new ConfigError([{ file, message: why }]);
  }
  const { config, issues } = parseConfig(bytes.toString('utf8'), file, notUtf8Lines(bytes));
  if (!config) throw new ConfigError(issues);
  const mode = statSync(file).mode & 0o777;
  if ((mode & 0o044) !== 0) {
    config.warnings.push(
      `${file} holds mysql_password and is readable by group or others (mode ${mode.toString(8).padStart(4, '0')}): run chmod 600 ${file}`,
    );
  }
  return config;
}

/** Hosts selected by --host (a section name or its hostname); all when none is given. */
export function selectHosts(config: Config, names: readonly string[] | undefined): HostConfig[] {
  if (!names || names.length === 0) return config.hosts;
  return names.map((n) => {
    const h = config.hosts.find((x) => x.name === n || x.hostname === n);
    if (!h) {
      const guess = closest(
        n,
        config.hosts.map((x) => x.name),
      );
      throw new ConfigError([
        {
          file: config.global.file,
          message: `--host ${n}: no such host section${guess ? ` (did you mean ${guess}?)` : ''}`,
        },
      ]);
    }
    return h;
  });
}
