/**
 * The collection xb_mgr.backup as ops staff use it (issue 15): built with ansible-galaxy, installed
 * into a temporary path, its playbooks run by name (xb_mgr.backup.*) against the sandbox hosts:
 * the helper install twice (changed=0 the second time), backup and restore in check mode (they
 * report and change nothing), a real backup and a real restore, and the refusals (no xb_hosts,
 * two restore targets).
 */
import t from 'tap';
import {
  existsSync,
  mkdirSync,
  mkdtempSync,
  readdirSync,
  readFileSync,
  renameSync,
  rmSync,
  writeFileSync,
} from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { execa } from 'execa';
import { repo, sandbox, sandboxDir, sandboxUp, sb2Address, sql, testConfig, xbMgr } from './sandbox.js';
import { FINGERPRINT_SQL } from './restore-helpers.js';

sandboxUp(2);

const work = mkdtempSync(join(tmpdir(), 'xb-collection-'));
t.teardown(() => rmSync(work, { recursive: true, force: true }));
const inventory = join(sandboxDir, 'inventory/hosts');
const h1 = join(sandboxDir, 'hosts/sb1');
/** sb1's helper and credentials file, where xb-mgr installs them (the sandbox config). */
const sb1Vars = {
  xb_remote_backup_cmd: join(h1, 'bin/backup_local'),
  xb_credentials_file: join(h1, 'etc/credentials.cnf'),
};

interface Run {
  code: number;
  out: string;
}

/** ansible-playbook on a playbook of the installed collection, with vars from a JSON file. */
async function play(name: string, vars: Record<string, unknown>, ...extra: string[]): Promise<Run> {
  const file = join(work, `vars-${Math.random().toString(36).slice(2)}.json`);
  writeFileSync(file, JSON.stringify(vars));
  const r = await execa(
    'ansible-playbook',
    ['-i', inventory, `xb_mgr.backup.${name}`, '-e', `@${file}`, ...extra],
    {
      cwd: work,
      reject: false,
      all: true,
      timeout: 300_000,
      env: {
        ANSIBLE_COLLECTIONS_PATH: join(work, 'installed'),
        ANSIBLE_NOCOLOR: '1',
        ANSIBLE_RETRY_FILES_ENABLED: 'false',
      },
    },
  );
  return { code: r.exitCode ?? -1, out: String(r.all) };
}

/** changed= of a host in the play recap. */
function changed(r: Run, host: string): number {
  const m = new RegExp(`^${host.replaceAll('.', '\\.')}\\s*:.*changed=(\\d+)`, 'm').exec(r.out);
  return m ? Number(m[1]) : -1;
}

t.test('build and install the collection', async (t) => {
  const src = join(repo, 'playbooks/collections/ansible_collections/xb_mgr/backup');
  const b = await execa('ansible-galaxy', ['collection', 'build', src, '--output-path', work], {
    reject: false,
    all: true,
  });
  t.equal(b.exitCode, 0, String(b.all));
  const tarball = readdirSync(work).find((n) => /^xb_mgr-backup-\d+\.\d+\.\d+\.tar\.gz$/.test(n));
  t.ok(tarball, 'the tarball');
  const i = await execa(
    'ansible-galaxy',
    ['collection', 'install', join(work, tarball!), '-p', join(work, 'installed')],
    {
      reject: false,
      all: true,
    },
  );
  t.equal(i.exitCode, 0, String(i.all));
  const roles = join(work, 'installed/ansible_collections/xb_mgr/backup/roles');
  t.strictSame(readdirSync(roles).sort(), ['backup', 'helper', 'restore']);
  t.ok(
    existsSync(join(roles, 'backup/files/xb_pull')) && existsSync(join(roles, 'helper/files/backup_local')),
  );
});

t.test('setup: no xb_hosts is refused; the install is idempotent', async (t) => {
  const none = await play('setup', {});
  t.not(none.code, 0);
  t.match(none.out, /name the DB hosts: -e xb_hosts=db1/);

  const dir = join(work, 'fresh');
  mkdirSync(dir);
  writeFileSync(join(dir, 'src.cnf'), '[client]\nuser=nobody\npassword=not-a-secret\n', { mode: 0o600 });
  const vars = {
    xb_hosts: 'sb1',
    xb_remote_backup_cmd: join(dir, 'bin/backup_local'),
    xb_credentials_file: join(dir, 'etc/credentials.cnf'),
    xb_credentials_src: join(dir, 'src.cnf'),
  };
  const check = await play('setup', vars, '--check');
  t.equal(check.code, 0, check.out);
  t.ok(changed(check, 'sb1') > 0, 'check mode reports the changes');
  t.notOk(existsSync(join(dir, 'bin')), 'and makes none');
  const first = await play('setup', vars);
  t.equal(first.code, 0, first.out);
  t.ok(changed(first, 'sb1') >= 4, `first install: changed=${changed(first, 'sb1')}`);
  const second = await play('setup', vars);
  t.equal(second.code, 0, second.out);
  t.equal(changed(second, 'sb1'), 0, 'second install: changed=0');
  t.equal(
    readFileSync(join(dir, 'etc/credentials.cnf'), 'utf8'),
    '[client]\nuser=nobody\npassword=not-a-secret\n',
  );
});

t.test('backup: check mode writes nothing; a real backup writes the stream and its result', async (t) => {
  // xb-mgr installs sb1's credentials file; a run of it first makes sure they are there.
  const { file, dir } = testConfig();
  const run = await xbMgr([
    '--config',
    file,
    'run',
    '--host',
    'sb1',
    '--json',
    '--now',
    '2026-11-22T01:00:00Z',
  ]);
  t.equal(run.exitCode, 0, run.stderr);
  const id = (JSON.parse(run.stdout) as { hosts: { id: string }[] }).hosts[0]!.id;

  const out = join(work, 'backup-out');
  const check = await play('backup', { ...sb1Vars, xb_hosts: 'sb1', xb_out_dir: out }, '--check');
  t.equal(check.code, 0, check.out);
  t.match(check.out, /would take a full backup of sb1 with mariabackup \d+\.\d+/);
  t.match(check.out, /backup user login: ok/);
  t.notOk(existsSync(out), 'check mode: no output directory');

  const real = await play('backup', { ...sb1Vars, xb_hosts: 'sb1', xb_out_dir: out });
  t.equal(real.code, 0, real.out);
  const result = JSON.parse(readFileSync(join(out, 'result.json'), 'utf8')) as Record<string, unknown>;
  t.strictSame(Object.keys(result).sort(), ['bytes', 'file', 'mode', 'rc', 'sha256']);
  t.match(result, { mode: 'pull', rc: 0, file: join(out, 'backup.xbstream.zst') });
  t.ok((result.bytes as number) > 100_000, `${String(result.bytes)} bytes`);
  t.match(readFileSync(join(out, 'tool.log'), 'utf8'), /completed OK!/);

  const ready = JSON.parse(readFileSync(join(dir, 'backups/sb1/ready', `${id}.json`), 'utf8')) as {
    sha256: string;
    file?: string;
  };
  const readyFile = join(dir, 'backups/sb1/ready', `${id}.tar.zst`);
  t.ok(existsSync(readyFile), 'the ready file of the xb-mgr run');
  const restoreVars = {
    ...sb1Vars,
    xb_ready_file: readyFile,
    xb_ready_sha256: ready.sha256,
    xb_stop_cmd: [join(repo, 'scripts/sandbox'), 'stop-db', 'sb1'],
    xb_start_cmd: [join(repo, 'scripts/sandbox'), 'start-db', 'sb1'],
  };
  const aside = () => readdirSync(h1).filter((n) => /^data\.(old|xb-new|xb-restore|failed)-/.test(n));
  const before = aside();

  await t.test('restore: two targets are refused before anything changes', async (t) => {
    const r = await play('restore', { ...restoreVars, xb_hosts: `sb1,${sb2Address}` });
    t.not(r.code, 0);
    t.match(r.out, /a restore goes onto exactly one DB host, and this play targets 2: sb1, /);
    t.notMatch(r.out, /Install the helper script\] \**\n(ok|changed):/, 'not even the helper install ran');
    t.strictSame(aside(), before, 'nothing beside the datadir');
  });

  await t.test('restore: check mode reports and changes nothing', async (t) => {
    const fp = sql('sb1', FINGERPRINT_SQL);
    const r = await play('restore', { ...restoreVars, xb_hosts: 'sb1' }, '--check');
    t.equal(r.code, 0, r.out);
    t.match(r.out, /would copy .*\.tar\.zst \(\d+ bytes, sha256 ok\)/);
    t.match(r.out, /would stop the server \(.*stop-db sb1\)/);
    t.strictSame(aside(), before, 'nothing beside the datadir');
    t.equal(sql('sb1', FINGERPRINT_SQL), fp, 'the server runs on, untouched');
    const bad = await play(
      'restore',
      { ...restoreVars, xb_hosts: 'sb1', xb_ready_sha256: '0'.repeat(64) },
      '--check',
    );
    t.not(bad.code, 0, 'a wrong sha256 fails in check mode too');
    t.match(bad.out, /the restore would fail: .* has sha256 [0-9a-f]{64}, expected 0{64}/);
  });

  await t.test('restore: a stop command that leaves the server running swaps nothing', async (t) => {
    const fp = sql('sb1', FINGERPRINT_SQL);
    const r = await play('restore', {
      ...restoreVars,
      xb_hosts: 'sb1',
      xb_stop_cmd: ['true'],
      xb_stop_timeout: 3,
    });
    t.not(r.code, 0, 'the restore fails');
    t.match(r.out, /the server \(pid \d+\) still runs after the stop command: not swapping the datadir/);
    t.match(r.out, /the server runs on its old data/);
    t.strictSame(aside(), before, 'nothing beside the datadir');
    t.equal(sql('sb1', FINGERPRINT_SQL), fp, 'the server runs on, untouched');
  });

  await t.test('restore: a real restore onto sb1 from the installed collection', async (t) => {
    const fp = sql('sb1', FINGERPRINT_SQL);
    t.teardown(() => {
      // Put sb1 back on its own data (the restore moved it aside, never deleted it).
      const old = aside().filter((n) => n.startsWith('data.old-') && !before.includes(n));
      if (old.length !== 1) return;
      sandbox('stop-db', 'sb1');
      rmSync(join(h1, 'data'), { recursive: true, force: true });
      renameSync(join(h1, old[0]!), join(h1, 'data'));
      sandbox('start-db', 'sb1');
    });
    const r = await play('restore', { ...restoreVars, xb_hosts: 'sb1' });
    t.equal(r.code, 0, r.out);
    t.equal(
      aside().filter((n) => n.startsWith('data.old-') && !before.includes(n)).length,
      1,
      'old datadir aside',
    );
    t.equal(sql('sb1', FINGERPRINT_SQL), fp, 'the restored server answers with the data of the backup');
  });
});
