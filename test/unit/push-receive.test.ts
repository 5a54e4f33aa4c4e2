/**
 * Push mode's two ends on the manager, for real: root's run directory (src/transfer/push.ts) and
 * the receiver (playbooks/files/xb_pull --receive) run as an unprivileged user the way sshd's
 * forced command runs it, with the DB host's command in SSH_ORIGINAL_COMMAND. Over ssh, with the
 * real push account: test/e2e/push-confine.test.ts.
 */
import t, { type Test } from 'tap';
import { spawn, spawnSync } from 'node:child_process';
import { createHash, randomBytes } from 'node:crypto';
import {
  chmodSync,
  chownSync,
  existsSync,
  lstatSync,
  mkdirSync,
  mkdtempSync,
  readdirSync,
  readFileSync,
  rmSync,
  symlinkSync,
  writeFileSync,
} from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import {
  acceptableStream,
  preparePushDir,
  PUSH_DIR,
  pushRunDir,
  removePushDirs,
  takeReceived,
} from '../../src/transfer/push.js';
import { parseHelperResult } from '../../src/transfer/result.js';
import type { Worker } from '../../src/util/confine.js';

const XB_PULL = join(import.meta.dirname, '../../playbooks/files/xb_pull');
const ROOT = process.getuid?.() === 0;
/** As root the receiver runs as nobody (it refuses root); otherwise as ourselves. */
const RECEIVER: Worker | null = ROOT ? { name: 'nobody', uid: 65534, gid: 65534 } : null;
const ID = '20261124T031500Z';
const sha = (b: Buffer) => createHash('sha256').update(b).digest('hex');
// As xb-mgr runs (cli.ts): what the receiver must read may not depend on a friendly umask.
process.umask(0o077);

function backupDir(t: Test): string {
  const d = mkdtempSync(join(tmpdir(), 'xb-push-'));
  chmodSync(d, 0o711);
  t.teardown(() => rmSync(d, { recursive: true, force: true }));
  const b = join(d, 'backups');
  mkdirSync(b, { mode: 0o700 });
  return b;
}

/** The receiver as sshd starts it for the key of host `keyHost`: forced argv, the DB host's command. */
function receive(keyHost: string, sent: string | undefined, input: Buffer, extraArgv: string[] = []) {
  const argv = [XB_PULL, '--receive', '--host', keyHost, ...extraArgv];
  const env: Record<string, string> = { PATH: process.env.PATH ?? '/usr/bin:/bin' };
  if (sent !== undefined) env.SSH_ORIGINAL_COMMAND = sent;
  const cmd = RECEIVER ? 'setpriv' : argv[0]!;
  const args = RECEIVER
    ? [`--reuid=${RECEIVER.uid}`, `--regid=${RECEIVER.gid}`, '--clear-groups', '--', ...argv]
    : argv.slice(1);
  return spawnSync(cmd, args, { input, env, encoding: 'buffer', timeout: 60_000 });
}

const request = (dir: string, id = ID, more = '') =>
  `/opt/xb_pull --receive --backup-dir ${dir} --id ${id}${more}`;

t.test('preparePushDir: root 0711 above, the receiver 0700 for this run, with root cap file', async (t) => {
  const b = backupDir(t);
  const run = preparePushDir(b, 'db1', ID, 12345, RECEIVER);
  t.equal(run, pushRunDir(b, 'db1', ID));
  t.equal(run, join(b, PUSH_DIR, 'db1', ID));
  const st = lstatSync(run);
  t.equal(st.mode & 0o777, 0o700);
  if (RECEIVER) {
    t.equal(st.uid, RECEIVER.uid, "the receiver's");
    t.equal(lstatSync(join(b, PUSH_DIR)).mode & 0o777, 0o711, '.push passable, not listable');
    t.equal(lstatSync(join(b, PUSH_DIR, 'db1')).mode & 0o777, 0o711);
    t.equal(lstatSync(b).mode & 0o777, 0o711, 'backup_dir passable');
    t.equal(lstatSync(join(run, 'max_bytes')).uid, 0, "the cap is root's");
  }
  t.equal(readFileSync(join(run, 'max_bytes'), 'utf8'), '12345\n');
  writeFileSync(join(run, 'old'), 'x');
  preparePushDir(b, 'db1', ID, 1, RECEIVER);
  t.same(readdirSync(run), ['max_bytes'], 'fresh for each attempt');
  removePushDirs(b, 'db1', ID);
  t.notOk(existsSync(run));
  preparePushDir(b, 'db1', ID, 1, RECEIVER);
  removePushDirs(b, 'db1');
  t.same(readdirSync(join(b, PUSH_DIR)), [], "all of a host's push directories");
});

t.test(
  'preparePushDir: a backup_dir parent others cannot pass is an error naming it',
  { skip: !ROOT },
  async (t) => {
    const b = backupDir(t);
    const parent = join(b, '..');
    chmodSync(parent, 0o700);
    t.throws(
      () => preparePushDir(join(b), 'db1', ID, 1, RECEIVER),
      /is not traversable by others.*chmod o\+x/,
    );
    chmodSync(parent, 0o711);
  },
);

t.test('receive, then root takes the stream: its bytes, its hash, root-owned, run dir empty', async (t) => {
  const b = backupDir(t);
  const run = preparePushDir(b, 'db1', ID, 10 * 1024 * 1024, RECEIVER);
  const data = randomBytes(3 * 1024 * 1024 + 11);
  const r = receive('db1', request(b), data);
  t.equal(r.status, 0, String(r.stderr));
  t.same(readdirSync(run).sort(), ['max_bytes', 'result.json', 'stream'], 'only the fixed names');
  const dest = join(b, 'dest.zst');
  const got = await takeReceived(run, dest, RECEIVER);
  t.strictSame(parseHelperResult(got.result!), {
    ok: true,
    result: { mode: 'receive', rc: 0, bytes: data.length, sha256: sha(data) },
  });
  t.equal(got.streamBytes, data.length);
  t.equal(got.sha256, sha(data), "root's own hash");
  const st = lstatSync(dest);
  t.equal(st.uid, process.getuid?.() ?? 0, 'the stored stream is the manager user');
  t.equal(st.mode & 0o777, 0o600);
  t.notOk(existsSync(join(run, 'stream')), 'moved, not copied');
});

t.test('receive: the cap in max_bytes stops the stream (exit 4), nothing kept', async (t) => {
  const b = backupDir(t);
  const run = preparePushDir(b, 'db1', ID, 1024 * 1024, RECEIVER);
  const r = receive('db1', request(b), randomBytes(3 * 1024 * 1024));
  t.equal(r.status, 4);
  t.equal(
    String(r.stderr),
    // On a line of its own: it reaches the manager inside the DB host's stderr.
    '\nxb_pull: the stream is over max_stream_bytes (1048576 bytes); the partial file was removed\n',
  );
  t.same(readdirSync(run), ['max_bytes']);
  t.strictSame(await takeReceived(run, join(b, 'dest'), RECEIVER), {}, 'nothing to take');
});

t.test('receive: refusals (exit 2, one line, nothing written)', async (t) => {
  const b = backupDir(t);
  const cases: [name: string, keyHost: string, sent: string | undefined, want: RegExp, argv?: string[]][] = [
    ['a shell (no command)', 'db1', undefined, /no shell/],
    ['another command', 'db1', 'bash -c id', /no other command/],
    ['an empty command', 'db1', '', /no other command/],
    ['a receive with another option', 'db1', request(b, ID, ' --out-dir /tmp'), /not --out-dir/],
    ['an option twice', 'db1', request(b, ID, ` --id ${ID}`), /not --id/],
    ['unbalanced quotes', 'db1', `--receive --id '${ID}`, /is not `--receive/],
    ['another host than the key', 'db1', request(b, ID, ' --host db2'), /pushes for host db1 only/],
    [
      'an id without a directory',
      'db1',
      request(b, '20261124T031501Z'),
      /no push was requested for backup 20261124T031501Z of host db1/,
    ],
    ['a path for an id', 'db1', request(b, '../../../../tmp'), /bad backup id/],
    ['a relative backup_dir', 'db1', `--receive --backup-dir backups --id ${ID}`, /not an absolute path/],
    ['a host without push directories', 'db3', request(b), /no push was requested for host db3/],
    ['a bad host name in the key', '../db1', request(b), /bad host name/],
    ['a backup_dir without .push', 'db1', request('/tmp'), /no push directory in \/tmp/],
    [
      'a pinned backup_dir',
      'db1',
      request(b),
      /pushes for backup_dir \/elsewhere only/,
      ['--backup-dir', '/elsewhere'],
    ],
  ];
  preparePushDir(b, 'db1', ID, 1 << 20, RECEIVER);
  preparePushDir(b, 'db2', ID, 1 << 20, RECEIVER);
  for (const [name, keyHost, sent, want, argv] of cases) {
    const r = receive(keyHost, sent, Buffer.from('data'), argv);
    const err = String(r.stderr);
    t.equal(r.status, 2, `${name}: exit 2 (${err.trim()})`);
    t.match(err, want, name);
    t.match(err, /^\nxb_pull --receive: refused: [^\n]*\n$/, `${name}: one line, on a line of its own`);
  }
  for (const h of ['db1', 'db2'])
    t.same(readdirSync(pushRunDir(b, h, ID)), ['max_bytes'], `${h}: nothing written`);
});

t.test('receive: a run directory that is not exactly root made it is refused', async (t) => {
  const cases: [name: string, spoil: (b: string, run: string) => void, want: RegExp][] = [
    [
      'a second stream for the same id',
      (_b, run) => writeFileSync(join(run, 'stream'), ''),
      /received already/,
    ],
    [
      'a stream name that is a link (never followed)',
      (b, run) => symlinkSync(join(b, 'target'), join(run, 'stream')),
      /received already/,
    ],
    ['no cap file', (_b, run) => rmSync(join(run, 'max_bytes')), /set no max_bytes/],
    [
      'a cap that is no number',
      (_b, run) => writeFileSync(join(run, 'max_bytes'), '1e9\n'),
      /set no max_bytes/,
    ],
    ['a run directory open to others', (_b, run) => chmodSync(run, 0o755), /is not this account's \(0700\)/],
    [
      'a link for the run directory',
      (b, run) => {
        rmSync(run, { recursive: true });
        mkdirSync(join(b, 'real'), { mode: 0o700 });
        if (RECEIVER) chownSync(join(b, 'real'), RECEIVER.uid, RECEIVER.gid);
        symlinkSync(join(b, 'real'), run);
      },
      /no push was requested for backup/,
    ],
    [
      "a host directory others may write (not the manager's)",
      (b) => chmodSync(join(b, PUSH_DIR, 'db1'), 0o733),
      /\.push\/db1 is not the manager's/,
    ],
  ];
  if (ROOT)
    cases.push([
      "a run directory of another user (root's)",
      (_b, run) => chownSync(run, 0, 0),
      /is not this account's/,
    ]);
  for (const [name, spoil, want] of cases) {
    const b = backupDir(t);
    const run = preparePushDir(b, 'db1', ID, 1 << 20, RECEIVER);
    spoil(b, run);
    const r = receive('db1', request(b), Buffer.from('data'));
    t.equal(r.status, 2, `${name}: exit 2`);
    t.match(String(r.stderr), want, name);
    t.notOk(existsSync(join(b, 'target')), `${name}: no file through a link`);
  }
});

t.test('receive: a stream that outlives its run directory stops', async (t) => {
  const b = backupDir(t);
  const run = preparePushDir(b, 'db1', ID, 1 << 30, RECEIVER);
  const argv = [XB_PULL, '--receive', '--host', 'db1'];
  const env = { PATH: process.env.PATH ?? '/usr/bin:/bin', SSH_ORIGINAL_COMMAND: request(b) };
  const child = RECEIVER
    ? spawn(
        'setpriv',
        [`--reuid=${RECEIVER.uid}`, `--regid=${RECEIVER.gid}`, '--clear-groups', '--', ...argv],
        { env },
      )
    : spawn(argv[0]!, argv.slice(1), { env });
  let stderr = '';
  child.stderr.on('data', (d: Buffer) => (stderr += d.toString()));
  child.stdin.on('error', () => {}); // EPIPE once it stopped
  const exited = new Promise<number | null>((resolve) => child.on('exit', (code) => resolve(code)));
  const write = (n: number) =>
    new Promise<void>((resolve) => child.stdin.write(Buffer.alloc(n), () => resolve()));
  await write(1 << 20);
  for (let i = 0; i < 100 && !existsSync(join(run, 'stream')); i++)
    await new Promise((r) => setTimeout(r, 50));
  rmSync(run, { recursive: true }); // what the manager does when the run ends
  for (let i = 0; i < 64 && child.exitCode === null; i++) await write(1 << 20);
  child.stdin.end();
  t.equal(await exited, 2, stderr);
  t.match(stderr, /refused: the manager removed the directory of backup 20261124T031500Z/);
});

t.test('receive: never as root', { skip: !ROOT }, async (t) => {
  const b = backupDir(t);
  preparePushDir(b, 'db1', ID, 1 << 20, null);
  const r = spawnSync(XB_PULL, ['--receive', '--host', 'db1', '--backup-dir', b, '--id', ID], {
    input: 'data',
    encoding: 'utf8',
  });
  t.equal(r.status, 2);
  t.match(r.stderr, /never runs as root/);
  t.same(readdirSync(pushRunDir(b, 'db1', ID)), ['max_bytes']);
});

t.test('takeReceived: what is not the receiver stream is not taken', async (t) => {
  const b = backupDir(t);
  const run = preparePushDir(b, 'db1', ID, 1 << 20, RECEIVER);
  t.strictSame(await takeReceived(run, join(b, 'd'), RECEIVER), {}, 'nothing received');
  // A link named stream (to a file of root's) and a result that is a link: neither is read.
  writeFileSync(join(b, 'secret'), 'root only');
  symlinkSync(join(b, 'secret'), join(run, 'stream'));
  symlinkSync(join(b, 'secret'), join(run, 'result.json'));
  t.strictSame(await takeReceived(run, join(b, 'd'), RECEIVER), {}, 'links are not followed');
  t.notOk(existsSync(join(b, 'd')));
  const now = { uid: 5, nlink: 1, isFile: () => true };
  t.ok(acceptableStream(now, 5));
  t.notOk(acceptableStream({ ...now, uid: 0 }, 5), "another user's file");
  t.notOk(acceptableStream({ ...now, nlink: 2 }, 5), 'a hard link to something else');
  t.notOk(acceptableStream({ ...now, isFile: () => false }, 5), 'not a regular file');
});
