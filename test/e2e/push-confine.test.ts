/**
 * Push mode is confined (issue 13): a DB host's push key reaches the manager's sshd only as the
 * push account, whose authorized_keys line forces `xb_pull --receive --host <that host>`
 * (scripts/sandbox writes it with scripts/push-account, as an admin would). With sb1's key:
 * writing outside the run's directory, to another id or for another host, a shell, another
 * command, a subsystem, forwarding, or root's account all fail; the directory root made for the
 * run takes exactly one stream (the positive control). A normal push backup goes through it,
 * and a stream over max_stream_bytes (from the free space or backup.conf) is stopped, pulled or
 * pushed.
 */
import t from 'tap';
import { createHash } from 'node:crypto';
import { existsSync, lstatSync, mkdirSync, readdirSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { execa } from 'execa';
import { preparePushDir, pushAccount, pushRunDir } from '../../src/transfer/push.js';
import { sandboxDir, sandboxUp, testConfig, xbMgr } from './sandbox.js';

sandboxUp(2);

const NET = process.env.XB_SANDBOX_NET ?? '127.0.1';
const MGR = `${NET}.100`;
const ID = '20261124T031500Z';
const sshLog = join(sandboxDir, 'hosts/mgr/sshd.log');

/** ssh to the manager's sshd with DB host `host`'s push key, as `user`, sending `input`. */
async function asDbHost(
  host: string,
  command: string[],
  opts: { user?: string; input?: string; sshArgs?: string[] } = {},
) {
  const r = await execa(
    'ssh',
    [
      '-i',
      join(sandboxDir, 'ssh', `push_${host}`),
      '-o',
      'BatchMode=yes',
      '-o',
      `UserKnownHostsFile=${join(sandboxDir, 'ssh/known_hosts')}`,
      '-o',
      'StrictHostKeyChecking=accept-new',
      '-o',
      'IdentitiesOnly=yes',
      '-o',
      'ConnectTimeout=10',
      '-p',
      '2299',
      ...(opts.sshArgs ?? ['-T']),
      `${opts.user ?? 'xb-mgr-push'}@${MGR}`,
      ...command,
    ],
    { input: opts.input ?? '', reject: false, timeout: 60_000 },
  );
  return { code: r.exitCode ?? -1, stderr: String(r.stderr), stdout: String(r.stdout) };
}

const receive = (backupDir: string, id: string, more: string[] = []) => [
  'xb_pull',
  '--receive',
  '--backup-dir',
  backupDir,
  '--id',
  id,
  ...more,
];

t.test('with a DB host push key: only the stream of the run root prepared, nothing else', async (t) => {
  const { dir } = testConfig();
  const backups = join(dir, 'backups');
  mkdirSync(backups, { mode: 0o700 });
  const account = pushAccount();
  t.ok(account, 'the push account exists (scripts/sandbox up creates it)');
  // What the manager does before a push backup of sb1 and of sb2.
  const run1 = preparePushDir(backups, 'sb1', ID, 1 << 20, account);
  const run2 = preparePushDir(backups, 'sb2', ID, 1 << 20, account);
  const outside = join(dir, 'outside');

  const refused: [name: string, command: string[], opts: Parameters<typeof asDbHost>[2], want: RegExp][] = [
    ['a shell', [], {}, /no shell/],
    // restrict: no terminal; what runs instead is the receiver, which refuses.
    ['a shell with a terminal', [], { sshArgs: ['-tt'] }, /PTY allocation request failed/],
    ['another command', ['id'], {}, /no other command/],
    ['a command to read a file', ['cat', '/etc/shadow'], {}, /no other command/],
    ['a command to write a file', ['sh', '-c', `'echo x > ${outside}'`], {}, /no other command/],
    ['scp upload (scp -t)', ['scp', '-t', outside], {}, /no other command/],
    [
      "the old receiver's options: any directory and name",
      ['xb_pull', '--receive', '--out-dir', outside, '--file', 'x'],
      {},
      /not --out-dir/,
    ],
    ['a path for an id', receive(backups, '../../../outside'), {}, /bad backup id/],
    ['a backup_dir root did not prepare', receive(dir, ID), {}, /no push directory in/],
    ['another backup_dir (/)', receive('/', ID), {}, /no push directory in \/$/m],
    [
      'another id of the same host',
      receive(backups, '20261124T031501Z'),
      {},
      /no push was requested for backup 20261124T031501Z of host sb1/,
    ],
    ["another host's run", receive(backups, ID, ['--host', 'sb2']), {}, /this key pushes for host sb1 only/],
  ];
  for (const [name, command, opts, want] of refused) {
    const r = await asDbHost('sb1', command, { input: 'hostile bytes\n', ...opts });
    t.not(r.code, 0, `${name}: fails`);
    t.match(r.stderr, want, `${name}: ${r.stderr.trim().split('\n').pop()}`);
    t.notMatch(r.stdout, /uid=|root:/, `${name}: nothing ran`);
  }

  // sftp, a subsystem, also ends in the forced command; forwarding is off (restrict).
  const sftp = await execa(
    'sftp',
    [
      '-i',
      join(sandboxDir, 'ssh', 'push_sb1'),
      '-o',
      'BatchMode=yes',
      '-o',
      `UserKnownHostsFile=${join(sandboxDir, 'ssh/known_hosts')}`,
      '-o',
      'IdentitiesOnly=yes',
      '-P',
      '2299',
      '-b',
      '-',
      `xb-mgr-push@${MGR}`,
    ],
    { input: `put /etc/hostname ${outside}\n`, reject: false, timeout: 60_000 },
  );
  t.not(sftp.exitCode, 0, 'sftp fails');
  const fwd = await asDbHost('sb1', [], { sshArgs: ['-W', `${MGR}:2299`] });
  t.not(fwd.code, 0, 'stdio forwarding fails');
  t.match(fwd.stderr, /administratively prohibited|forwarding/i);
  const asRoot = await asDbHost('sb1', ['id'], { user: 'root' });
  t.equal(asRoot.code, 255, "root's account does not take the push key");
  t.match(asRoot.stderr, /Permission denied/);

  t.notOk(existsSync(outside), 'nothing was written outside');
  t.same(readdirSync(run1), ['max_bytes'], "sb1's run: nothing written by the refused attempts");
  t.same(readdirSync(run2), ['max_bytes'], "sb2's run: untouched by sb1's key");

  // Positive control: the same key, the run root prepared, a stream: taken, in fixed names.
  const ok = await asDbHost('sb1', receive(backups, ID), { input: 'the stream\n' });
  t.equal(ok.code, 0, ok.stderr);
  t.same(readdirSync(run1).sort(), ['max_bytes', 'result.json', 'stream']);
  t.equal(lstatSync(join(run1, 'stream')).uid, account!.uid, 'written by the push account, not root');
  const again = await asDbHost('sb1', receive(backups, ID), { input: 'a second stream\n' });
  t.not(again.code, 0, 'one stream per run');
  t.match(again.stderr, /received already/);
  t.equal(readFileSync(join(run1, 'stream'), 'utf8'), 'the stream\n', 'the first stream is kept as it was');
});

t.test('a push backup goes through the push account; its directory is gone afterwards', async (t) => {
  const { file, dir } = testConfig(['transfer = push']);
  const accepted = () =>
    (readFileSync(sshLog, 'utf8').match(/Accepted publickey for xb-mgr-push/g) ?? []).length;
  const before = accepted();
  const r = await xbMgr([
    '--config',
    file,
    'run',
    '--host',
    'sb1',
    '--json',
    '--now',
    '2026-11-22T01:00:00Z',
  ]);
  t.equal(r.exitCode, 0, r.stderr);
  const host = (JSON.parse(r.stdout) as { hosts: { ok: boolean; id: string; type: string }[] }).hosts[0]!;
  t.equal(host.ok, true);
  t.equal(host.type, 'full');
  t.ok(accepted() > before, 'the DB host logged in as xb-mgr-push');
  const d = join(dir, 'backups/sb1/full', host.id);
  const m = JSON.parse(readFileSync(join(d, 'manifest.json'), 'utf8')) as { sha256: string };
  const stream = join(d, 'backup.xbstream.zst');
  t.equal(
    createHash('sha256').update(readFileSync(stream)).digest('hex'),
    m.sha256,
    'the stored stream is the one hashed',
  );
  const st = lstatSync(stream);
  t.equal(st.uid, 0, "the stored stream is root's");
  t.equal(st.mode & 0o777, 0o600);
  t.same(readdirSync(join(dir, 'backups/.push/sb1')), [], 'the run directory was removed');
  t.notOk(existsSync(pushRunDir(join(dir, 'backups'), 'sb1', host.id)));
});

t.test('a push over max_stream_bytes is stopped by the receiver; nothing is kept', async (t) => {
  const { file, dir } = testConfig(['transfer = push']);
  const mnt = join(dir, 'small');
  mkdirSync(mnt);
  // A full stream of sb1 is about 1 MiB: 600 KiB of free space caps it at 540 KiB.
  await execa('mount', ['-t', 'tmpfs', '-o', 'size=600k', 'tmpfs', mnt]);
  t.teardown(() => execa('umount', [mnt], { reject: false }));
  writeFileSync(file, readFileSync(file, 'utf8').replace(/^backup_dir = .*$/m, `backup_dir = ${mnt}`));
  const r = await xbMgr(['--config', file, 'run', '--host', 'sb1', '--json']);
  t.equal(r.exitCode, 1);
  const host = (JSON.parse(r.stdout) as { hosts: { ok: boolean; error: string }[] }).hosts[0]!;
  t.match(
    host.error,
    /^no space left in backup_dir .*: the stream is over max_stream_bytes \(.*the free space .* less a .* reserve; the disk is nearly full\); the partial data was removed$/,
  );
  t.same(readdirSync(join(mnt, 'sb1/tmp')), [], 'nothing in tmp/');
  t.same(readdirSync(join(mnt, '.push/sb1')), [], 'nothing in the push directory');
  t.same(readdirSync(join(mnt, 'sb1/full')), [], 'no backup');
});

t.test('max_stream_bytes set in backup.conf stops a pull and a push at that size', async (t) => {
  for (const transfer of ['pull', 'push']) {
    const { file, dir } = testConfig([`transfer = ${transfer}`, 'max_stream_bytes = 100K']);
    const r = await xbMgr(['--config', file, 'run', '--host', 'sb1', '--json']);
    t.equal(r.exitCode, 1, `${transfer}: the run failed`);
    const host = (JSON.parse(r.stdout) as { hosts: { error: string }[] }).hosts[0]!;
    t.equal(
      host.error,
      'the stream is over max_stream_bytes (100.0 KiB, set in backup.conf); the partial data was removed',
      `${transfer}: one line naming the cap`,
    );
    t.same(readdirSync(join(dir, 'backups/sb1/tmp')), [], `${transfer}: nothing in tmp/`);
    t.same(readdirSync(join(dir, 'backups/sb1/full')), [], `${transfer}: no backup`);
  }
});
