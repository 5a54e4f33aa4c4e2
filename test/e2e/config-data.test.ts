/**
 * Config values are data (issue 14), end to end on the sandbox hosts: values that reach Ansible
 * and the DB host (the helper's path, the credentials file's path, the MySQL user) hold Jinja and
 * shell syntax, and a real `check` and `run` treat them as literal text; `ssh_user` with Jinja
 * (Ansible templates `-u`) is refused before anything runs. No canary is ever created.
 */
import t from 'tap';
import { existsSync, readdirSync } from 'node:fs';
import { join } from 'node:path';
import { sandboxUp, setKeys, testConfig, xbMgr } from './sandbox.js';
import { readFileSync, writeFileSync } from 'node:fs';

t.setTimeout(600_000);
sandboxUp();

const { file, dir } = testConfig();
const canary = join(dir, 'CANARY');
const jinja = `{{ lookup('pipe','touch ${canary}') }}`;
const shell = `$(touch ${canary})`;
const tick = `\`touch ${canary}\``;

function withSb1(lines: string[]): string {
  const f = join(dir, `c-${Math.random().toString(36).slice(2)}.conf`);
  writeFileSync(f, setKeys(readFileSync(file, 'utf8'), 'sb1', lines), { mode: 0o600 });
  return f;
}

t.test('paths with Jinja and shell syntax reach the DB host as literal paths', async (t) => {
  const weird = join(dir, `h ${jinja} ${shell}`);
  const f = withSb1([
    `remote_backup_cmd = ${weird}/backup_local`,
    `remote_credentials_file = ${join(dir, `cred ${tick} ${jinja}`)}/sb1.cnf`,
  ]);
  const r = await xbMgr(['--config', f, 'run', '--host', 'sb1', '--json', '--now', '2026-11-22T01:00:00Z']);
  t.equal(r.exitCode, 0, r.stderr);
  t.ok(existsSync(`${weird}/backup_local`), 'the helper was installed at the literal path');
  t.ok(existsSync(join(dir, `cred ${tick} ${jinja}`, 'sb1.cnf')), 'and the credentials file');
  t.notOk(existsSync(canary), 'no canary');
});

t.test('a MySQL user with Jinja and shell syntax is a literal user name (it cannot log in)', async (t) => {
  const f = withSb1([`mysql_user = ${jinja}${shell}`]);
  const c = await xbMgr(['--config', f, 'check', '--host', 'sb1']);
  t.equal(c.exitCode, 1, 'check fails: that user does not exist');
  const r = await xbMgr(['--config', f, 'run', '--host', 'sb1', '--json', '--now', '2026-11-22T02:00:00Z']);
  t.equal(r.exitCode, 1, 'the backup fails');
  t.match(r.stdout + r.stderr, /Access denied/, 'because the server refused that literal user');
  t.notOk(existsSync(canary), 'no canary');
});

t.test('ssh_user with Jinja is refused before anything runs (Ansible templates -u)', async (t) => {
  const f = withSb1([`ssh_user = ${jinja}`]);
  for (const cmd of ['check', 'run', 'plan']) {
    const r = await xbMgr(['--config', f, cmd, '--host', 'sb1']);
    t.equal(r.exitCode, 2, `${cmd}: exit 2`);
    t.equal(r.stderr.trim().split('\n').length, 1, `${cmd}: one line`);
    t.match(r.stderr, /\[sb1\] ssh_user = .*must be a user name/, `${cmd}: names the key`);
  }
  t.notOk(existsSync(canary), 'no canary');
  t.same(
    readdirSync(dir).filter((n) => n.includes('CANARY')),
    [],
    'nothing named after the canary either',
  );
});
