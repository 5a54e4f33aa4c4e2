/**
 * backup.conf: read -> parse (ini) -> validate each section's values against the key table ->
 * merge [default] into each host section, fill in the defaults -> the host and global schemas
 * (schema.ts) give the typed config. Problems are collected as data and raised together as one
 * ConfigError (exit 2), each naming file, line, section, key and value.
 */
import { readFileSync, statSync } from 'node:fs';
import { z } from 'zod';
import { ConfigError, type ConfigIssue } from '../errors.js';
import { KEYS, KEY_NAMES, type KeyName, type KeySpec } from './keys.js';
import { parseIni, type IniSection } from './ini.js';
import { closest, isSafeName } from './values.js';
import {
  GLOBAL_SHAPE,
  HOST_SHAPE,
  globalSchema,
  hostSchema,
  keyFields,
  schemaInput,
  withDefaults,
  type GlobalConfig,
  type HostConfig,
} from './schema.js';

export type { GlobalConfig, HostConfig };

export interface Config {
  global: GlobalConfig;
  hosts: HostConfig[];
  warnings: string[];
}

const VERBATIM = new Set(KEY_NAMES.filter((k) => KEYS[k].secret === true));

const isKey = (k: string): k is KeyName => Object.hasOwn(KEYS, k);

/** The valid values of one section, as text. */
type Texts = Partial<Record<KeyName, string>>;

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
): Texts {
  const out: Texts = {};
  for (const [key, entry] of section.entries) {
    present.add(key);
    // An unreadable line was reported by the ini reader already.
    if (entry.bad) continue;
    const where = { file, line: entry.line, section: section.name, key };
    if (!isKey(key)) {
      const guess = closest(key, KEY_NAMES);
      issues.push({ ...where, message: `unknown key${guess ? ` (did you mean ${guess}?)` : ''}` });
      // A misspelt required key is one mistake: not also "mysql_user: is required".
      if (guess) present.add(guess);
      continue;
    }
    const spec: KeySpec = KEYS[key];
    const shown = spec.secret ? undefined : entry.value;
    if (!isDefault && spec.scope === 'global') {
      issues.push({ ...where, value: shown, message: 'may only be set in [default]' });
      continue;
    }
    // Empty is never the default (a half-typed `retain_days =` must not shorten retention); only
    // a key that says what empty means takes it, and then it unsets the key here, over [default].
    if (entry.value === '' && spec.empty === undefined) {
      issues.push({ ...where, message: `must not be empty${emptyHint(spec)}` });
      continue;
    }
    const parsed = spec.value.safeParse(entry.value);
    if (!parsed.success) issues.push({ ...where, value: shown, message: messageOf(parsed.error) });
    else out[key] = entry.value;
  }
  return out;
}

function emptyHint(spec: KeySpec): string {
  if (spec.required) return '';
  if (spec.default !== undefined) return ` (remove the line for the default, ${spec.default})`;
  if (spec.defaultFrom !== undefined) return ` (remove the line to follow ${spec.defaultFrom})`;
  return ' (remove the line to leave it unset)';
}

/** The value of a key's text (valid, or it was reported), for rules between keys. */
function valueOf(k: string, text: string | undefined): unknown {
  if (text === undefined || !isKey(k)) return undefined;
  const r = (KEYS[k] as KeySpec).value.safeParse(text);
  return r.success ? r.data : undefined;
}

/**
 * A key whose range depends on another key (compress_level on compress), checked where it is set
 * against the other key's value for that section (its own, else inherited, else the default).
 * `inherited` holds the texts the section inherits ([default]'s, for a host section).
 */
function rangeByIssues(section: IniSection, file: string, own: Texts, inherited: Texts): ConfigIssue[] {
  return KEY_NAMES.flatMap((k): ConfigIssue[] => {
    const spec: KeySpec = KEYS[k];
    const text = own[k];
    if (!spec.rangeBy || text === undefined || text === '') return [];
    const by = spec.rangeBy.key;
    const byText = isKey(by) ? (own[by] ?? inherited[by] ?? KEYS[by].default) : undefined;
    const message = rangeMessage(spec, valueOf(k, text), valueOf(by, byText));
    if (message === undefined) return [];
    const line = section.entries.get(k)?.line;
    return [{ file, line, section: section.name, key: k, value: spec.secret ? undefined : text, message }];
  });
}

/** Why a number is out of the range the other key's value gives it; undefined when it is in. */
function rangeMessage(spec: KeySpec, n: unknown, byValue: unknown): string | undefined {
  if (!spec.rangeBy || typeof n !== 'number' || typeof byValue !== 'string') return undefined;
  if (!Object.hasOwn(spec.rangeBy.ranges, byValue)) return undefined;
  const range = spec.rangeBy.ranges[byValue];
  const by = `${spec.rangeBy.key} = ${byValue}`;
  if (range === undefined) return `is not used with ${by}: remove it`;
  const [min, max] = range;
  if (n < min) return `must be at least ${min} with ${by}`;
  if (n > max) return `must be at most ${max} with ${by}`;
  return undefined;
}

/**
 * A host that sets the other key itself, inheriting this key from [default]: a value out of the
 * host's range is an error at the host's header; a value the host's choice does not use at all
 * (compress = none) is left unused, as it is meant for the other hosts.
 */
function inheritedRangeIssues(section: IniSection, file: string, own: Texts, defaults: Texts): ConfigIssue[] {
  return KEY_NAMES.flatMap((k): ConfigIssue[] => {
    const spec: KeySpec = KEYS[k];
    const by = spec.rangeBy?.key;
    const text = defaults[k];
    if (by === undefined || !isKey(by) || own[k] !== undefined || own[by] === undefined) return [];
    if (text === undefined || text === '') return [];
    const byValue = valueOf(by, own[by]);
    if (typeof byValue === 'string' && spec.rangeBy?.ranges[byValue] === undefined) return [];
    const message = rangeMessage(spec, valueOf(k, text), byValue);
    if (message === undefined) return [];
    const value = spec.secret ? undefined : text;
    return [{ file, line: section.line, section: section.name, key: k, value, message }];
  });
}

const messageOf = (e: z.ZodError) => e.issues.map((i) => i.message).join('; ');

/**
 * The problems a config schema found in the merged values of a section: a required key that is
 * missing, or a rule between keys. They point at the section's header; a key that is set but
 * unusable was reported where it is set and is not reported again.
 */
function objectIssues(
  error: z.ZodError,
  shape: z.core.$ZodShape,
  where: { file: string; line?: number; section: string },
  attempted: (key: string) => boolean,
  texts: Readonly<Record<string, string>>,
): ConfigIssue[] {
  const fields = keyFields(KEYS, shape);
  return error.issues.flatMap((iss) => {
    const key = fields.find((f) => f.path.join('.') === iss.path.join('.'))?.key;
    if (key !== undefined && attempted(key) && texts[key] === undefined) return [];
    const secret = key !== undefined && isKey(key) && KEYS[key].secret === true;
    const value = typeof iss.input === 'string' && !secret ? iss.input : undefined;
    const missing = iss.code === 'invalid_type' && iss.input === undefined;
    return [
      {
        ...where,
        key,
        value,
        message: missing ? `is required: set it in [default] or in [${where.section}]` : iss.message,
      },
    ];
  });
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
  if (defaultSection && !defaultSection.bad)
    issues.push(...rangeByIssues(defaultSection, file, defaults, {}));
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
    issues.push(
      ...rangeByIssues(section, file, own, defaults),
      ...inheritedRangeIssues(section, file, own, defaults),
    );
    // hostname defaults to the section name; the duplicate check below needs it even when
    // the host has other problems.
    const hostname = own.hostname ?? defaults.hostname ?? section.name;
    const texts = withDefaults(KEYS, { ...defaults, ...own, hostname });
    // Set but invalid (reported already) is not also "missing".
    const attempted = (k: string) => defaultsPresent.has(k) || ownPresent.has(k);
    const parsed = hostSchema.safeParse(
      { ...schemaInput(KEYS, HOST_SHAPE, texts), name: section.name },
      { reportInput: true },
    );
    if (parsed.success) hosts.push(parsed.data);
    else {
      const where = { file, line: section.line, section: section.name };
      issues.push(...objectIssues(parsed.error, HOST_SHAPE, where, attempted, texts));
    }
    const other = seenHostnames.get(hostname);
    if (other !== undefined) {
      issues.push({
        file,
        line: section.line,
        section: section.name,
        key: 'hostname',
        value: hostname,
        message: `is also the hostname of [${other}]`,
      });
    }
    seenHostnames.set(hostname, section.name);
  }
  const globalTexts = withDefaults(KEYS, defaults);
  const global = globalSchema.safeParse(
    { ...schemaInput(KEYS, GLOBAL_SHAPE, globalTexts), file },
    { reportInput: true },
  );
  if (!global.success) {
    const where = { file, line: defaultSection?.line, section: defaultSection?.name ?? 'default' };
    issues.push(
      ...objectIssues(global.error, GLOBAL_SHAPE, where, (k) => defaultsPresent.has(k), globalTexts),
    );
  }
  if (issues.length > 0 || !global.success) return { issues };
  return { config: { global: global.data, hosts, warnings: [] }, issues };
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
