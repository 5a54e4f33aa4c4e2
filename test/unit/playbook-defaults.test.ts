/**
 * Defaults in one place (issue 12): the playbooks take the defaults of backup.conf keys from
 * vars/defaults.yml, generated from the config schema, never from literals of their own (they
 * drifted before: the same default written in keys.ts and in three playbooks).
 */
import t from 'tap';
import { readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { parse } from 'yaml';

const dir = new URL('../../playbooks/', import.meta.url).pathname;
const files = [
  ...readdirSync(dir).filter((n) => n.endsWith('.yml')),
  ...readdirSync(join(dir, 'vars')).map((n) => `vars/${n}`),
  ...readdirSync(join(dir, 'tasks')).map((n) => `tasks/${n}`),
].filter((f) => f !== 'vars/defaults.yml');
const defaults = parse(readFileSync(join(dir, 'vars/defaults.yml'), 'utf8')) as Record<
  string,
  string | number
>;

t.test('no playbook repeats the default of a config key', async (t) => {
  t.ok(Object.keys(defaults).length >= 8, 'defaults.yml has the keys the playbooks use');
  for (const f of files) {
    // Comments may name a default for the reader; the YAML must not use one.
    const text = readFileSync(join(dir, f), 'utf8')
      .split('\n')
      .filter((l) => !/^\s*#/.test(l))
      .join('\n');
    for (const [name, value] of Object.entries(defaults)) {
      const v = String(value);
      const literal = new RegExp(
        `default\\(\\s*['"]?${v.replace(/[.*+?^${}()|[\]\\/]/g, '\\$&')}['"]?\\s*\\)`,
      );
      t.notMatch(text, literal, `${f}: no literal default(${v}) (use ${name})`);
    }
    t.notMatch(text, /\/usr\/local\/xb-mgr\/bin\/backup_local/, `${f}: no literal helper path`);
    t.notMatch(text, /--parallel=\d/, `${f}: no literal --parallel`);
  }
});

t.test('every playbook that uses a default reads defaults.yml', async (t) => {
  for (const f of files.filter((n) => !n.includes('/'))) {
    const text = readFileSync(join(dir, f), 'utf8');
    if (/xb_default_/.test(text) || /vars\/common\.yml/.test(text))
      t.match(text, /- vars\/defaults\.yml/, `${f} lists vars/defaults.yml`);
  }
});
