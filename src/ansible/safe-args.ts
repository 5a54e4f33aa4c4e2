/**
 * Pure: the values xb-mgr puts on ansible-playbook's command line, checked against strict
 * patterns. Ansible templates some command-line values (`-u "{{ lookup('pipe','id') }}"` runs
 * `id`, docs/ARCHITECTURE.md "Trust") and reads others as host patterns (`!`, `&`, `~regex`,
 * `*`, `@file`, `:`), so only plain names pass: a value that does not fit is refused, never quoted.
 */
import { existsSync } from 'node:fs';
import { XbError, clip } from '../errors.js';
import { isIPv6, isSafeHost } from '../config/values.js';

/** A value refused before it reached ansible-playbook: one line naming the option and the value. */
export class UnsafeArgError extends XbError {
  readonly option: string;
  readonly value: string;
  constructor(option: string, value: string, rule: string) {
    super(`refused ansible-playbook ${option} ${JSON.stringify(clip(value))}: ${rule}`);
    this.option = option;
    this.value = value;
  }
}

/** POSIX portable user name (letters, digits, `.`, `_`, `-`; no leading `-`), as useradd allows. */
const USER = /^[A-Za-z0-9._][A-Za-z0-9._-]{0,31}$/;

export function checkUser(option: string, v: string): string {
  if (!USER.test(v))
    throw new UnsafeArgError(
      option,
      v,
      'not a user name (letters, digits, ".", "_", "-", not starting with "-", at most 32 characters)',
    );
  return v;
}

/** An inventory host name or an IP address: nothing Ansible reads as a pattern or a template. */
export const isPlainHost = isSafeHost;

export function checkHost(option: string, v: string): string {
  if (!isPlainHost(v))
    throw new UnsafeArgError(
      option,
      v,
      'not an inventory host name or IP address (letters, digits, "_", "-" in dot-separated labels; no pattern or template syntax)',
    );
  return v;
}

/** `host`, `host:port` or `[v6]:port`, as an inline host list ("db1,db2,") may hold. */
function isHostListItem(s: string): boolean {
  const bracket = /^\[([^\]]+)\](?::(\d{1,5}))?$/.exec(s);
  if (bracket) return isIPv6(bracket[1]!) && (bracket[2] === undefined || Number(bracket[2]) <= 65535);
  if (isPlainHost(s)) return true;
  const m = /^([^:]+):(\d{1,5})$/.exec(s);
  return !!m && isPlainHost(m[1]!) && Number(m[2]) <= 65535;
}

/** Jinja openers and control characters: never in a value Ansible might template or log. */
// eslint-disable-next-line no-control-regex
const TEMPLATE_OR_CONTROL = /\{\{|\{%|\{#|[\u0000-\u001f\u007f]/;

export function checkPath(option: string, v: string): string {
  if (v === '' || TEMPLATE_OR_CONTROL.test(v) || v.startsWith('-') || v.startsWith('@'))
    throw new UnsafeArgError(
      option,
      v,
      'not a plain path (empty, starts with "-" or "@", or holds "{{", "{%", "{#" or a control character)',
    );
  return v;
}

/**
 * An `-i` value: a path, or an inline host list ("db1,db2,"). As for Ansible, a value with a comma
 * is a host list unless that path exists.
 */
export function checkInventory(
  option: string,
  v: string,
  exists: (p: string) => boolean = existsSync,
): string {
  if (!v.includes(',') || exists(v)) return checkPath(option, v);
  const items = v.split(',').filter((p) => p !== '');
  if (items.length === 0 || !items.every(isHostListItem))
    throw new UnsafeArgError(
      option,
      v,
      'not an inventory path or a comma list of host names, IP addresses and ports',
    );
  return v;
}
