/**
 * backup.conf reader with the semantics of Python's ConfigParser, which the original tool used,
 * so old files mean what they meant. The npm `ini` package is not used on purpose: it cuts values
 * at `;` and `#`, turns `true` into a boolean and strips quotes, which would change a password.
 *
 * - `[section]` headers; `key = value` or `key: value`; keys are case-insensitive (lowercased).
 * - Whole-line comments start with `#` or `;`. An inline comment is whitespace then `;` or `#`,
 *   except in keys listed as verbatim (passwords), which run to the end of the line.
 * - Values are strings, trimmed, never unquoted or unescaped.
 * - LF, CRLF (or old Mac CR) line ends; a leading byte order mark is ignored. A control character (other than
 *   tab) anywhere, or a line the caller found not to be UTF-8, is an error; a NUL byte
 *   (a binary or UTF-16 file) stops the reading with one issue.
 *
 * One mistake is one issue: a line that cannot be read still marks its key (when it has one) as
 * present but unusable (`bad`), so the loader does not also report the key as missing.
 */
import { clip, type ConfigIssue } from '../errors.js';

export interface IniEntry {
  value: string;
  line: number;
  /** The line was reported already (unreadable); the value must not be used or validated. */
  bad?: boolean;
}

export interface IniSection {
  name: string;
  line: number;
  entries: Map<string, IniEntry>;
  /** The header line was reported already (unreadable); the section must not be used. */
  bad?: boolean;
}

export interface IniResult {
  sections: IniSection[];
  issues: ConfigIssue[];
  /** Not a text file at all: the one issue says so, nothing else was read. */
  fatal?: boolean;
}

// C0 controls except tab, DEL, C1 controls.
// eslint-disable-next-line no-control-regex
const CONTROL = /[\u0000-\u0008\u000a-\u001f\u007f-\u009f]/;

/** The key a line that could not be parsed was probably meant to set. */
function probableKey(raw: string): string | undefined {
  return /^\s*([A-Za-z_][A-Za-z0-9_]*)/.exec(raw)?.[1]?.toLowerCase();
}

/** Section names are case-sensitive, except that [default] counts once in any case. */
const sectionId = (name: string) => (name.toLowerCase() === 'default' ? 'default' : name);

export function parseIni(
  text: string,
  file: string,
  verbatimKeys: ReadonlySet<string>,
  notUtf8Lines: ReadonlySet<number> = new Set(),
): IniResult {
  const sections: IniSection[] = [];
  const issues: ConfigIssue[] = [];
  // NUL bytes: a binary or UTF-16 file. One issue, not one per line.
  const nul = text.indexOf('\0');
  if (nul >= 0) {
    const line = text.slice(0, nul).split('\n').length;
    issues.push({ file, line, message: 'contains NUL bytes: not a text file (save it as UTF-8 text)' });
    return { sections, issues, fatal: true };
  }
  let current: IniSection | undefined;
  const body = text.replace(/^\uFEFF/, '');
  // LF or CRLF; a file with CRs and no LF at all has old Mac line ends. A CR elsewhere is an error.
  const lines = body.includes('\n') ? body.split('\n') : body.split('\r');
  // The text of a line in a message, unless it may hold a password.
  const shown = (trimmed: string) => {
    const key = probableKey(trimmed);
    return key !== undefined && verbatimKeys.has(key) ? `a ${key} line` : JSON.stringify(clip(trimmed));
  };
  // Without the offending characters: "mysql_\u0001user = x" still sets mysql_user.
  const cleanKey = (raw: string) =>
    probableKey(raw.replace(new RegExp(CONTROL.source, 'g'), '').replaceAll('\uFFFD', ''));
  /** A line reported already: keep its key as present (but bad) so it is not reported missing too. */
  const markBad = (raw: string, line: number) => {
    const key = cleanKey(raw);
    if (current && key !== undefined && !current.entries.has(key)) {
      current.entries.set(key, { value: '', line, bad: true });
    }
  };
  lines.forEach((rawLine, i) => {
    const line = i + 1;
    const raw = rawLine.endsWith('\r') ? rawLine.slice(0, -1) : rawLine;
    const trimmed = raw.trim();
    const header = /^\[([^\]]*)\]\s*(?:[;#].*)?$/.exec(trimmed);
    const unreadable = notUtf8Lines.has(line)
      ? 'is not valid UTF-8 (save the file as UTF-8)'
      : CONTROL.test(raw)
        ? `contains a control character (U+${raw
            .charCodeAt(raw.search(CONTROL))
            .toString(16)
            .toUpperCase()
            .padStart(4, '0')})`
        : undefined;
    if (unreadable) {
      // The key is named when the line sets one; its value is never shown (it may be a password).
      const key = header || !/^[^=:]+[=:]/.test(raw) ? undefined : cleanKey(raw);
      issues.push({ file, line, section: header ? undefined : current?.name, key, message: unreadable });
      if (header) {
        current = { name: header[1] ?? '', line, entries: new Map(), bad: true };
        sections.push(current);
      } else markBad(raw, line);
      return;
    }
    if (trimmed === '' || trimmed.startsWith('#') || trimmed.startsWith(';')) return;
    if (header) {
      const name = (header[1] ?? '').trim();
      const earlier = sections.find((s) => !s.bad && sectionId(s.name) === sectionId(name));
      if (earlier) {
        // Reported once; its keys go on into the first one (a key in both is "set twice").
        issues.push({
          file,
          line,
          section: name,
          message: `section appears twice (first on line ${earlier.line})`,
        });
        current = earlier;
        return;
      }
      current = { name, line, entries: new Map() };
      sections.push(current);
      return;
    }
    if (/^\s/.test(raw)) {
      issues.push({
        file,
        line,
        section: current?.name,
        message: `unexpected indented line ${shown(trimmed)}`,
      });
      markBad(raw, line);
      return;
    }
    const m = /^([^=:]+?)\s*[=:]\s?(.*)$/.exec(raw);
    if (!m) {
      issues.push({
        file,
        line,
        section: current?.name,
        message: `expected "key = value", got ${shown(trimmed)}`,
      });
      markBad(raw, line);
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
    if (current.entries.has(key) && !current.entries.get(key)?.bad) {
      issues.push({ file, line, section: current.name, key, message: 'key set twice in this section' });
    }
    current.entries.set(key, { value, line });
  });
  return { sections, issues };
}
