/** The README's configuration reference, generated from the KEYS table (a unit test keeps them equal). */
import { KEYS, KEY_NAMES, type KeySpec } from './keys.js';

function typeName(spec: KeySpec): string {
  if (typeof spec.type === 'object') return spec.type.enum.join(' \\| ');
  return spec.type;
}

export function configReference(): string {
  const rows = KEY_NAMES.map((name) => {
    const spec: KeySpec = KEYS[name];
    const def = spec.default !== undefined ? `\`${spec.default}\`` : '';
    const scope = spec.scope === 'global' ? '[default]' : 'any';
    return `| \`${name}\` | ${typeName(spec)} | ${def} | ${scope} | ${spec.required ? 'yes' : ''} | ${spec.doc} |`;
  });
  return ['| key | type | default | scope | required | meaning |', '|---|---|---|---|---|---|', ...rows].join(
    '\n',
  );
}
