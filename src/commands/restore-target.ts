/**
 * The settings of a `restore --to-host` target that has no section in backup.conf: what a section
 * `[<target>]` with no keys of its own would get, i.e. [default] and the key defaults, with
 * `{host}` in paths standing for the target's name. Never the source host's settings with its
 * name replaced inside them (a path that merely contains the source's name would change too, and
 * the source section's own keys would leak onto another host).
 */
import { readFileSync } from 'node:fs';
import { notUtf8Lines, parseConfig, type HostConfig } from '../config/load.js';
import { UsageError, formatConfigIssue } from '../errors.js';

/** Pure: the config text with an empty section for `name` at its end, in the file's own line ends. */
export function withEmptySection(text: string, name: string): string {
  const eol = text.includes('\n') ? '\n' : text.includes('\r') ? '\r' : '\n';
  return `${text}${eol}[${name}]${eol}`;
}

/** Pure: the settings an empty section `[name]` would get from this config text. */
export function defaultsFor(text: string, file: string, name: string, bad: ReadonlySet<number>): HostConfig {
  const { config, issues } = parseConfig(withEmptySection(text, name), file, bad);
  const h = config?.hosts.find((x) => x.name === name);
  if (!h) {
    const why = issues.map(formatConfigIssue).join('; ') || 'no settings';
    throw new UsageError(`--to-host ${name}: cannot take its settings from [default]: ${why}`);
  }
  return h;
}

/** The settings of an unconfigured target, from the config file as it is on disk. */
export function targetFromDefaults(file: string, name: string): HostConfig {
  const bytes = readFileSync(file);
  return defaultsFor(bytes.toString('utf8'), file, name, notUtf8Lines(bytes));
}
