import t from 'tap';
import { existsSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { e2eTempDir, sandbox, sandboxDir, sandboxUp, sb2Re, sql, testConfig, xbMgr } from './sandbox.js';

interface Line {
  host: string;
  check: string;
  ok: boolean;
  detail: string;
}

sandboxUp(2);

async function checkJson(file: string): Promise<{ code: number; lines: Line[]; stderr: string }> {
  const r = await xbMgr(['--config', file, 'check', '--json']);
  const doc = JSON.parse(r.stdout) as { ok: boolean; checks: Line[] };
  return { code: r.exitCode, lines: doc.checks, stderr: r.stderr };
}

const failed = (lines: Line[]) => lines.filter((l) => !l.ok).map((l) => `${l.host} ${l.check}`);

t.test('check: two sandbox hosts are all OK (one named by IP, on port 2202)', async (t) => {
  const { file } = testConfig();
  const { code, lines } = await checkJson(file);
  t.same(failed(lines), [], 'no check failed');
  t.equal(code, 0);
  for (const host of ['sb1', 'sb2']) {
    for (const c of [
      'inventory',
      'ssh',
      'helper',
      'backup tool',
      'mysql login',
      'tool version',
      'privileges',
      'manager mysqld',
      'backup_dir',
    ]) {
      t.ok(
        lines.some((l) => l.host === host && l.check === c && l.ok),
        `${host} ${c} OK`,
      );
    }
  }
  t.match(
    lines.find((l) => l.host === 'sb2' && l.check === 'inventory')?.detail,
    new RegExp(`${sb2Re}:2202`),
  );
  // The helper and credentials file are installed with the right modes.
  t.ok(existsSync(join(sandboxDir, 'hosts/sb1/bin/backup_local')));
  // The backup password is full of shell and Jinja syntax; none of it ran.
  for (const f of ['pwned-shell', 'pwned-tick', 'pwned-jinja'])
    t.notOk(existsSync(join(sandboxDir, f)), `${f} absent`);
  // Human output: one line per check, OK or FAILED.
  const human = await xbMgr(['--config', file, 'check']);
  t.equal(human.exitCode, 0);
  t.match(human.stdout, /^sb2\s+privileges\s+OK\s+RELOAD, PROCESS, BINLOG MONITOR$/m);
});

t.test("check: a stopped sshd fails exactly that host's ssh check", async (t) => {
  const { file } = testConfig();
  sandbox('stop-ssh', 'sb2');
  t.teardown(() => sandbox('start-ssh', 'sb2'));
  const { code, lines } = await checkJson(file);
  t.equal(code, 1);
  t.same(failed(lines), ['sb2 ssh']);
  t.match(
    lines.find((l) => l.host === 'sb2' && l.check === 'ssh')?.detail,
    new RegExp(`cannot reach ${sb2Re} over ssh: .*(refused|closed)`, 'i'),
  );
  t.ok(
    lines.some((l) => l.host === 'sb1' && l.check === 'privileges' && l.ok),
    'sb1 still OK',
  );
});

t.test('check: a revoked grant fails exactly the privileges check with the GRANT to run', async (t) => {
  const { file } = testConfig();
  sql('sb1', "REVOKE RELOAD ON *.* FROM 'xbbackup'@'localhost'");
  t.teardown(() => sql('sb1', "GRANT RELOAD ON *.* TO 'xbbackup'@'localhost'"));
  const { code, lines } = await checkJson(file);
  t.equal(code, 1);
  t.same(failed(lines), ['sb1 privileges']);
  t.match(
    lines.find((l) => l.host === 'sb1' && l.check === 'privileges')?.detail,
    /lacks RELOAD: GRANT RELOAD ON \*\.\* TO xbbackup/,
  );
});

t.test("check: a wrong password fails the login check with the server's error", async (t) => {
  const { file } = testConfig([], { sb2: ['mysql_password = wrong'] });
  const { code, lines } = await checkJson(file);
  t.equal(code, 1);
  t.same(failed(lines), ['sb2 mysql login']);
  t.match(
    lines.find((l) => l.host === 'sb2' && l.check === 'mysql login')?.detail,
    /Access denied for user 'xbbackup'/,
  );
});

t.test('check: a host missing from the inventory fails that host only', async (t) => {
  const { file } = testConfig([], { sb2: ['hostname = db-nowhere'] });
  const { code, lines } = await checkJson(file);
  t.equal(code, 1);
  t.same(failed(lines), ['sb2 inventory']);
  t.match(
    lines.find((l) => l.host === 'sb2')?.detail,
    /db-nowhere is not in the inventory .*inventory\/hosts/,
  );
});

t.test('check: a helper install is idempotent (second setup changes nothing)', async (t) => {
  const { file } = testConfig();
  await checkJson(file);
  const { lines } = await checkJson(file);
  t.match(
    lines.find((l) => l.host === 'sb1' && l.check === 'helper')?.detail,
    /backup_local$/,
    'not "(installed now)"',
  );
});

t.test('check: a setup that outlives its time budget fails that host with one clean line', async (t) => {
  // The probe asks the configured tool for its version; this one hangs (the helper gives it 30 s),
  // so setup.yml is killed at 10 x timeout_ssh = 20 s after its install tasks succeeded.
  const tool = join(e2eTempDir('xb-slow-tool-'), 'slow-tool');
  writeFileSync(tool, '#!/bin/sh\nexec sleep 40\n', { mode: 0o755 });
  const { file } = testConfig([], { sb2: [`remote_tool_path = ${tool}`, 'timeout_ssh = 2'] });
  const r = await xbMgr(['--config', file, 'check', '--host', 'sb2']);
  t.equal(r.exitCode, 1, r.stderr);
  t.match(
    r.stdout,
    new RegExp(
      `^sb2\\s+setup\\s+FAILED\\s+setup on ${sb2Re} timed out after 20 s \\(10 x timeout_ssh\\) in task "[^"]+"$`,
      'm',
    ),
  );
  t.notMatch(r.stdout + r.stderr, /internal error|\n\s+at /, 'no crash, no stack trace');
  t.equal(r.stdout.split('\n').filter((l) => /FAILED/.test(l)).length, 1, 'exactly one failed line');
});

t.test('check: a missing ansible_playbook is reported, and setup fails cleanly', async (t) => {
  const { file } = testConfig(['ansible_playbook = /nonexistent/ansible-playbook']);
  const { code, lines, stderr } = await checkJson(file);
  t.equal(code, 1);
  t.match(
    lines.find((l) => l.host === 'manager' && l.check === 'ansible-playbook'),
    { ok: false, detail: /\/nonexistent\/ansible-playbook/ },
  );
  t.same(failed(lines), ['manager ansible-playbook', 'sb1 setup', 'sb2 setup']);
  t.match(
    lines.find((l) => l.host === 'sb1' && l.check === 'setup')?.detail,
    /nonexistent\/ansible-playbook/,
  );
  t.notMatch(stderr, /internal error/);
});

t.test('bad config and unparsable inventory exit 2 with one clear line', async (t) => {
  const { file, dir } = testConfig(['retain_days = -3']);
  const r = await xbMgr(['--config', file, 'check']);
  t.equal(r.exitCode, 2);
  t.match(r.stderr, /backup\.conf:\d+ \[default\] retain_days = "-3": must not be negative/);
  t.notMatch(r.stderr, /\n\s+at /, 'no stack trace');
  const good = testConfig();
  const badInv = join(dir, 'broken.yml');
  (await import('node:fs')).writeFileSync(badInv, 'all: [unbalanced\n');
  const r2 = await xbMgr(['--config', good.file, '--inventory', badInv, 'check']);
  t.equal(r2.exitCode, 2, 'an unusable inventory is exit 2 (nothing was done)');
  t.match(r2.stdout, /inventory\s+FAILED\s+inventory .*broken\.yml cannot be parsed/);
  const q = testConfig(['compress = qpress']);
  const rq = await xbMgr(['--config', q.file, 'check']);
  t.equal(rq.exitCode, 2, 'qpress without the binary is a config error');
  t.match(rq.stderr, /compress = "qpress": qpress is not installed on the manager host/);
  const r3 = await xbMgr(['--config', join(dir, 'missing.conf'), 'check']);
  t.equal(r3.exitCode, 2);
  t.match(r3.stderr, /missing\.conf: file not found/);
});
