/**
 * Defaults in one place (issue 12): the collection's roles take the defaults of backup.conf keys
 * from the helper role's defaults/main/config.yml, generated from the config schema, never from
 * literals of their own (they drifted before: the same default written in keys.ts and in three
 * playbooks). A role that uses them gets them by depending on the helper role.
 */
import t from 'tap';
import { readdirSync, readFileSync, statSync } from 'node:fs';
import { join, relative } from 'node:path';
import { parse } from 'yaml';

const root = new URL('../../playbooks/', import.meta.url).pathname;
const coll = join(root, 'collections/ansible_collections/xb_mgr/backup');
const generated = join(coll, 'roles/helper/defaults/main/config.yml');

function yamlFiles(dir: string): string[] {
  return readdirSync(dir).flatMap((n) => {
    const p = join(dir, n);
    if (statSync(p).isDirectory()) return n === 'files' ? [] : yamlFiles(p);
    return n.endsWith('.yml') ? [p] : [];
  });
}
const files = yamlFiles(root).filter((f) => f !== generated);
const defaults = parse(readFileSync(generated, 'utf8')) as Record<string, string | number>;

t.test('no playbook or role repeats the default of a config key', async (t) => {
  t.ok(Object.keys(defaults).length >= 8, 'config.yml has the keys the roles use');
  t.ok(files.length >= 15, 'the playbooks and the roles are scanned');
  for (const f of files) {
    const name = relative(root, f);
    // Comments may name a default for the reader; the YAML must not use one.
    const text = readFileSync(f, 'utf8')
      .split('\n')
      .filter((l) => !/^\s*#/.test(l))
      .join('\n');
    for (const [key, value] of Object.entries(defaults)) {
      const v = String(value);
      const literal = new RegExp(
        `default\\(\\s*['"]?${v.replace(/[.*+?^${}()|[\]\\/]/g, '\\$&')}['"]?\\s*\\)`,
      );
      t.notMatch(text, literal, `${name}: no literal default(${v}) (use ${key})`);
    }
    t.notMatch(text, /\/usr\/local\/xb-mgr\/bin\/backup_local/, `${name}: no literal helper path`);
    t.notMatch(text, /--parallel=\d/, `${name}: no literal --parallel`);
  }
});

t.test('every role that uses a default depends on the helper role', async (t) => {
  for (const role of readdirSync(join(coll, 'roles')).filter((r) => r !== 'helper')) {
    const text = yamlFiles(join(coll, 'roles', role))
      .map((f) => readFileSync(f, 'utf8'))
      .join('\n');
    if (!/xb_default_|xb_cmd|xb_cred_file/.test(text)) continue;
    const meta = parse(readFileSync(join(coll, 'roles', role, 'meta/main.yml'), 'utf8')) as {
      dependencies?: { role: string }[];
    };
    t.ok(
      meta.dependencies?.some((d) => d.role === 'xb_mgr.backup.helper'),
      `${role} depends on xb_mgr.backup.helper`,
    );
  }
});
