/**
 * backup.conf reader with the semantics of Python's ConfigParser, which the original tool used,
 * so old files mean what they meant. The npm `ini` package is not used on purpose: it cuts values
 * at `;` and `#`, turns `true` into a boolean and strips quotes, which would change a password.
 *
 * - `[section]` headers; `key = value` or `key: value`; keys are case-insensitive (lowercased).
 * - Whole-line comments start with `#` or `;`. An inline comment is whitespace then `;` or `#`,
 *   except in keys listed as verbatim (passwords), which run to the end of the line.
 * - Values are strings, trimmed, never unquoted or unescaped.
 */
import type { ConfigIssue } from '../errors.js';

export interface IniEntry {
  value: string;
  line: number;
}

export interface IniSection {
  name: string;
  line: number;
  entries: Map<string, IniEntry>;
}

export interface IniResult {
  sections: IniSection[];
  issues: ConfigIssue[];
}

export function parseIni(text: string, file: string, verbatimKeys: ReadonlySet<string>): IniResult {
  const sections: IniSection[] = [];
  const issues: ConfigIssue[] = [];
  let current: IniSection | undefined;
  const lines = text.split(/\r?\n/);
  lines.forEach((raw, i) => {
    const line = i + 1;
    const trimmed = raw.trim();
    if (trimmed === '' || trimmed.startsWith('#') || trimmed.startsWith(';')) return;
    const header = /^\[([^\]]*)\]\s*(?:[;#].*)?$/.exec(trimmed);
    if (header) {
      const name = (header[1] ?? '').trim();
      if (sections.some((s) => s.name === name)) {
        issues.push({ file, line, section: name, message: 'section appears twice' });
      }
      current = { name, line, entries: new Map() };
      sections.push(current);
      return;
    }
    if (/^\s/.test(raw)) {
      issues.push({ file, line, message: `unexpected indented line ${JSON.stringify(trimmed)}` });
      return;
    }
    const m = /^([^=:]+?)\s*[=:]\s?(.*)$/.exec(raw);
    if (!m) {
      issues.push({
        file,
        line,
        section: current?.name,
        message: `expected "key = value", got ${JSON.stringify(trimmed)}`,
      });
      return;
    }
    const key = (m[1] ?? '').trim().toLowerCase();
    let value = m[2] ?? '';
    if (!verbatimKeys.has(key)) value = value.replace(/\s[;#].*$/, '');
    value = value.trim();
    if (!current) {
      issues.push({ file, line, key, message: 'key before any [section]' });
      return;
    }
    if (current.entries.has(key)) {
      issues.push({ file, line, section: current.name, key, message: 'key set twice in this section' });
    }
    current.entries.set(key, { value, line });
  });
  return { sections, issues };
}
