/**
 * Every key, every Jinja and shell payload (issue 14): the value is refused (one line naming the
 * key) or kept as the literal text. No key turns a payload into something else (a split command
 * is split on whitespace only, a path stays the path), so whatever reaches Ansible (as an !unsafe
 * variable or a validated argv element) or a child's argv is exactly what the file said.
 */
import t from 'tap';
import { parseConfig } from '../../src/config/load.js';
import { KEYS, type KeySpec } from '../../src/config/keys.js';
import { payloads } from '../e2e/badinput-gen.js';

const canary = '/tmp/xb-canary-never';
const PAYLOADS = payloads({ canary, dir: '/tmp/xb-p', secret: 'S3cret' });

function configWith(key: string, value: string, scope: 'global' | 'host'): string {
  const lines = ['[default]', 'mysql_user = u', 'mysql_password = p', 'backup_dir = /b'].filter(
    (l) => !l.startsWith(`${key} =`),
  );
  if (scope === 'global') lines.push(`${key} = ${value}`);
  lines.push('', '[db1]');
  if (scope === 'host') lines.push(`${key} = ${value}`);
  return lines.join('\n') + '\n';
}

/** Every string a parsed config holds (deep), to find the payload in it. */
function strings(v: unknown): string[] {
  if (typeof v === 'string') return [v];
  if (Array.isArray(v)) return v.flatMap(strings);
  if (v && typeof v === 'object') return Object.values(v).flatMap(strings);
  return [];
}

t.test('each key with each payload: refused naming the key, or kept as the literal', async (t) => {
  let refused = 0;
  let literal = 0;
  for (const [key, spec] of Object.entries(KEYS) as [string, KeySpec][]) {
    for (const p of PAYLOADS) {
      const r = parseConfig(configWith(key, p, spec.scope), '/etc/b.conf');
      const name = `${key} = ${p}`;
      if (r.issues.length > 0) {
        refused++;
        t.ok(r.issues.length === 1 && r.issues[0]!.key === key, `${name}: refused, one issue naming the key`);
        continue;
      }
      literal++;
      const touching = strings(r.config).filter((s) => s.includes('touch'));
      if (spec.type === 'command') {
        // Split into arguments (never run by a shell): each one a piece of the text, quotes removed.
        const bare = p.replaceAll("'", '').replaceAll('"', '');
        t.ok(touching.length > 0 && touching.every((s) => bare.includes(s)), `${name}: literal arguments`);
      } else {
        t.strictSame(touching, [p], `${name}: kept as exactly the literal text`);
      }
    }
  }
  t.ok(refused > 0 && literal > 0, `${refused} refused, ${literal} kept as literals`);
});
