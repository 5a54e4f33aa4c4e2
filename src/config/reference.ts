/**
 * Documents generated from the key table, each kept equal to its committed copy by a unit test:
 * the README's configuration reference and playbooks/vars/defaults.yml.
 */
import { stringify } from 'yaml';
import { KEYS, rangeText, type KeyName, type KeySpec } from './keys.js';
import { withDefaults, type KeyTable } from './schema.js';

function typeName(spec: KeySpec): string {
  if (typeof spec.type === 'object') return spec.type.enum.join(' \\| ');
  const range = rangeText(spec);
  return range === undefined ? spec.type : `${spec.type} ${range}`;
}

/** The meaning, then what an empty value means (the keys that accept one). */
function meaning(spec: KeySpec): string {
  return spec.empty === undefined ? spec.doc : `${spec.doc} Empty or unset: ${spec.empty}.`;
}

function defaultText(spec: KeySpec): string {
  if (spec.default !== undefined) return `\`${spec.default}\``;
  if (spec.defaultFrom !== undefined) return `same as \`${spec.defaultFrom}\``;
  return '';
}

export function configReference(keys: KeyTable = KEYS): string {
  const rows = Object.entries(keys).map(([name, spec]) => {
    const scope = spec.scope === 'global' ? '[default]' : 'any';
    return `| \`${name}\` | ${typeName(spec)} | ${defaultText(spec)} | ${scope} | ${spec.required ? 'yes' : ''} | ${meaning(spec)} |`;
  });
  return ['| key | type | default | scope | required | meaning |', '|---|---|---|---|---|---|', ...rows].join(
    '\n',
  );
}

/**
 * Keys whose defaults the playbooks fall back on when they are run without xb-mgr (xb-mgr itself
 * passes every host's own values). Each becomes `xb_default_<key>`.
 */
export const PLAYBOOK_KEYS = [
  'remote_backup_cmd',
  'remote_credentials_file',
  'backup_tool',
  'transfer',
  'compress',
  'compress_level',
  'parallel',
  'remote_nice',
  'remote_ionice',
  'timeout_ssh',
] as const satisfies readonly KeyName[];

/** playbooks/vars/defaults.yml: the values (not the texts) of those defaults, typed for YAML. */
export function playbookDefaults(): string {
  const texts = withDefaults(KEYS, {});
  const vars = Object.fromEntries(
    PLAYBOOK_KEYS.map((name) => {
      const spec: KeySpec = KEYS[name];
      return [`xb_default_${name}`, spec.value.parse(texts[name])];
    }),
  );
  return [
    '---',
    '# Generated from src/config/keys.ts by `node scripts/config-reference.mjs --write`: do not edit.',
    '# Defaults of backup.conf keys for the playbooks run without xb-mgr (xb-mgr passes every',
    "# host's own values). In xb_default_remote_credentials_file, {host} stands for the host's name.",
    stringify(vars),
  ].join('\n');
}
