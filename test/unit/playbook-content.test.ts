/**
 * The collection xb_mgr.backup (issue 15), read as data: every play names its hosts only through
 * xb_hosts (no default, never "all"), every variable a role reads from its caller is validated
 * by an argument spec (its own or the helper role's, a dependency), and the collection's
 * metadata names what it needs.
 */
import t from 'tap';
import { readdirSync, readFileSync, statSync, existsSync } from 'node:fs';
import { join, relative } from 'node:path';
import { parse } from 'yaml';

const root = new URL('../../playbooks/', import.meta.url).pathname;
const coll = join(root, 'collections/ansible_collections/xb_mgr/backup');
const read = (p: string) => readFileSync(p, 'utf8');
const yml = (p: string) => parse(read(p)) as unknown;

function files(dir: string, ext = '.yml'): string[] {
  if (!existsSync(dir)) return [];
  return readdirSync(dir).flatMap((n) => {
    const p = join(dir, n);
    return statSync(p).isDirectory() ? files(p, ext) : n.endsWith(ext) ? [p] : [];
  });
}

type Play = { hosts?: string; 'ansible.builtin.import_playbook'?: string; roles?: { role: string }[] };

t.test('plays run only on the hosts named in xb_hosts', async (t) => {
  const plays = [
    ...files(join(coll, 'playbooks')),
    ...readdirSync(root)
      .filter((n) => n.endsWith('.yml'))
      .map((n) => join(root, n)),
  ];
  t.ok(plays.length >= 6);
  for (const f of plays) {
    for (const play of yml(f) as Play[]) {
      const name = relative(root, f);
      if (play['ansible.builtin.import_playbook']) {
        t.match(
          play['ansible.builtin.import_playbook'],
          /^xb_mgr\.backup\.(setup|backup|restore)$/,
          `${name} imports the collection's play`,
        );
        continue;
      }
      t.match(
        play.hosts,
        /^\{\{ xb_hosts \| mandatory\('[^']+'\) \}\}$/,
        `${name}: hosts from xb_hosts, no default`,
      );
      t.notMatch(play.hosts, /\ball\b/, `${name}: never all`);
    }
  }
});

/** Variables a role defines itself: keys of its defaults and vars, set_fact, register, task vars. */
function ownVars(text: string): Set<string> {
  const own = new Set<string>();
  for (const m of text.matchAll(/^\s*(xb_[a-z0-9_]+):/gm)) own.add(m[1]!);
  for (const m of text.matchAll(/register:\s*(xb_[a-z0-9_]+)/g)) own.add(m[1]!);
  return own;
}

const spec = (role: string): string[] =>
  Object.keys(
    (
      yml(join(coll, 'roles', role, 'meta/argument_specs.yml')) as {
        argument_specs: { main: { options: Record<string, unknown> } };
      }
    ).argument_specs.main.options,
  );
/** The role's YAML but its meta/ (whose descriptions name things that are no variables). */
const code = (role: string): string =>
  ['defaults', 'tasks', 'vars']
    .flatMap((d) => files(join(coll, 'roles', role, d)))
    .map((f) =>
      read(f)
        .split('\n')
        .filter((l) => !/^\s*#/.test(l))
        .join('\n'),
    )
    .join('\n');
/** Defined by a role for its own use (computed from the caller's variables), never input. */
const COMPUTED = new Set([
  'xb_h',
  'xb_cmd',
  'xb_cred_file',
  'xb_cred_src',
  'xb_probe_tool',
  'xb_probe_tool_path',
]);
/** Names that are no variables: the collection's namespace, a file, the play's host variable. */
const WORDS = new Set(['xb_mgr', 'xb_pull', 'xb_hosts']);

t.test('every variable a role reads from its caller is in an argument spec', async (t) => {
  // The generated defaults of backup.conf keys are the roles' fallbacks, not caller input.
  const generated = new Set(Object.keys(yml(join(coll, 'roles/helper/defaults/main/config.yml')) as object));
  for (const role of readdirSync(join(coll, 'roles'))) {
    const meta = yml(join(coll, 'roles', role, 'meta/main.yml')) as { dependencies?: { role: string }[] };
    const deps = (meta.dependencies ?? []).map((d) => d.role.replace('xb_mgr.backup.', ''));
    const specs = new Set([...spec(role), ...deps.flatMap(spec)]);
    const own = ownVars([role, ...deps].map(code).join('\n'));
    const used = new Set([...code(role).matchAll(/\bxb_[a-z0-9_]+/g)].map((m) => m[0]));
    for (const v of used) {
      if (WORDS.has(v) || generated.has(v) || COMPUTED.has(v) || specs.has(v)) continue;
      // Whatever else a role defines itself must not be a default its caller could mean to set.
      const defaulted = files(join(coll, 'roles', role, 'defaults')).some((f) =>
        new RegExp(`^${v}:`, 'm').test(read(f)),
      );
      t.ok(own.has(v) && !defaulted, `${role}: ${v} is defined by the role or validated by an argument spec`);
    }
    for (const v of COMPUTED) t.notOk(specs.has(v) && role === 'helper', `${v} is computed, not input`);
  }
});

t.test('the defaults a role sets for its caller are in its argument spec', async (t) => {
  for (const role of ['backup', 'restore']) {
    const defaults = yml(join(coll, 'roles', role, 'defaults/main.yml')) as Record<string, unknown>;
    const options = (
      yml(join(coll, 'roles', role, 'meta/argument_specs.yml')) as {
        argument_specs: { main: { options: Record<string, { type?: string }> } };
      }
    ).argument_specs.main.options;
    for (const k of Object.keys(defaults)) t.ok(options[k]?.type, `${role}: ${k} has a typed spec`);
  }
});

t.test('collection metadata', async (t) => {
  const galaxy = yml(join(coll, 'galaxy.yml')) as { namespace: string; name: string; version: string };
  t.strictSame([galaxy.namespace, galaxy.name], ['xb_mgr', 'backup']);
  t.match(galaxy.version, /^\d+\.\d+\.\d+$/);
  t.match(read(join(coll, 'CHANGELOG.md')), `## ${galaxy.version}`, 'the changelog names this version');
  const req = yml(join(coll, 'requirements.yml')) as { collections: { name: string }[] };
  t.ok(
    req.collections.some((c) => c.name === 'ansible.posix'),
    'requirements.yml names ansible.posix',
  );
  for (const role of ['helper', 'backup', 'restore']) {
    for (const f of ['defaults', 'meta/argument_specs.yml', 'meta/main.yml', 'tasks/main.yml'])
      t.ok(existsSync(join(coll, 'roles', role, f)), `${role}/${f}`);
  }
});
