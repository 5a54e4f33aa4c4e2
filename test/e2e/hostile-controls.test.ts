/**
 * Positive controls of the hostile-host suite (issue 13). Each tampering of
 * test/e2e/fixtures/tamper-mariabackup, fed to the old way of running (a scratch directory and
 * the command lines used before issue 13: mbstream's exit code only, `mariabackup --prepare`
 * without --no-defaults, `mariadbd --defaults-file=<backup>/backup-my.cnf --user=root`), produces
 * the canary or exceeds the cap. So the hostile suite cannot pass because an attack was broken.
 * The first case also runs the new building blocks (engine/cnf + util/confine) on the same input:
 * no canary. Needs no xb-mgr integration: the wrapper runs here as the helper would run it.
 */
import { spawn } from 'node:child_process';
import {
  chmodSync,
  chownSync,
  closeSync,
  existsSync,
  mkdirSync,
  mkdtempSync,
  openSync,
  readdirSync,
  readFileSync,
  rmSync,
  statSync,
  writeFileSync,
} from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { execa } from 'execa';
import t from 'tap';
import { parseBackupCnf } from '../../src/engine/cnf.js';
import { confine, findConfineBins, lookupWorker, type Worker } from '../../src/util/confine.js';
import { dirBytes } from '../../src/util/size.js';
import { Tail } from '../../src/util/tail.js';
import {
  buildEvilSo,
  CNF_ATTACK_KEYS,
  cnfAttack,
  entries,
  exited,
  MiB,
  oldExtract,
  oldMysqldArgs,
  oldPrepare,
  withServer,
  WRAPPER,
} from './hostile-helpers.js';
import { sandboxDir, sandboxUp } from './sandbox.js';

if (process.getuid?.() !== 0) {
  t.plan(0, 'needs root');
  process.exit(0);
}

sandboxUp(2);
const MY_CNF = join(sandboxDir, 'hosts/sb1/my.cnf');
const root = mkdtempSync(join(tmpdir(), 'xb-hostile-'));
// The worker passes through (x), it cannot list (r).
chmodSync(root, 0o711);
t.teardown(() => rmSync(root, { recursive: true, force: true }));

const CANARY = join(root, 'canary');
const GENERAL_LOG = join(root, 'canary-general-log');
const INIT_FILE = join(root, 'canary-init-file');
const EVIL_SO = join(root, 'evil.so');
await buildEvilSo(EVIL_SO, CANARY);

/** The cnf handles of issue 13 and the files they point at, shipped in the stream. */
const CNF_ATTACK = cnfAttack({ so: EVIL_SO, generalLog: GENERAL_LOG, initOut: INIT_FILE });

interface Taken {
  dir: string;
  stream: string;
  exitCode: number | null;
  logBytes: number;
  logTail: string;
}

/** A backup of sb1 through the wrapper, compressed with zstd -1 as the helper does. */
async function take(tag: string, mode: object): Promise<Taken> {
  const dir = join(root, tag);
  mkdirSync(join(dir, 'tmp'), { recursive: true });
  const modeFile = join(dir, 'mode.json');
  writeFileSync(modeFile, JSON.stringify(mode));
  const stream = join(dir, 'backup.xbstream.zst');
  const out = openSync(stream, 'w');
  const tool = spawn(
    WRAPPER,
    [
      `--defaults-extra-file=${MY_CNF}`,
      '-uroot',
      '--backup',
      '--stream=xbstream',
      '--parallel=2',
      `--target-dir=${dir}/tmp`,
      `--extra-lsndir=${dir}/tmp`,
    ],
    { env: { ...process.env, XB_TAMPER_MODE_FILE: modeFile }, stdio: ['ignore', 'pipe', 'pipe'] },
  );
  const zstd = spawn('zstd', ['-q', '-1', '-T0'], { stdio: [tool.stdout!, out, 'inherit'] });
  // zstd holds its own copy of the pipe; this process must not read from it.
  tool.stdout!.destroy();
  // The log is counted and only its tail kept: a tampered one is a gigabyte.
  const tail = new Tail(64 * 1024);
  let logBytes = 0;
  tool.stderr!.on('data', (c: Buffer) => {
    logBytes += c.length;
    tail.push(c);
  });
  const logDone = new Promise((resolve) => tool.stderr!.on('end', resolve));
  const [exitCode, zstdCode] = await Promise.all([exited(tool), exited(zstd), logDone]);
  closeSync(out);
  if (zstdCode !== 0) throw new Error(`zstd exited ${zstdCode}`);
  return { dir, stream, exitCode, logBytes, logTail: tail.text() };
}

function canaries(): string[] {
  return [CANARY, GENERAL_LOG, INIT_FILE].filter((f) => existsSync(f));
}

function workDir(path: string, w: Worker): string {
  mkdirSync(path, { recursive: true, mode: 0o700 });
  chownSync(path, w.uid, w.gid);
  return path;
}

t.test('the honest tool through the wrapper: a normal backup', async (t) => {
  const h = await take('honest', {});
  t.equal(h.exitCode, 0);
  t.match(h.logTail, /completed OK!\n$/);
  const names = await entries(h.stream);
  t.ok(names.includes('backup-my.cnf') && names.includes('ibdata1'), 'a whole backup');
  t.ok(statSync(h.stream).size < 16 * MiB, 'small enough that the caps below are exceeded by tampering only');
});

t.test('cnf handles + a .so: the old way runs the canary as root, the new way does not', async (t) => {
  const a = await take('cnf', CNF_ATTACK);
  t.equal(a.exitCode, 0, 'the tool succeeded');
  t.match(a.logTail, /completed OK!\n$/, 'and says so');
  const names = await entries(a.stream);
  t.ok(names.includes('evil.so') && names.includes('evil.sql'), 'the stream carries evil.so and evil.sql');

  // New way first, so that no canary of the old way can hide a failure of the new one.
  const worker = lookupWorker();
  const bins = findConfineBins();
  const limits = { cpuSeconds: 600, fsizeBytes: 1024 * MiB, nofile: 4096 };
  const work = workDir(join(a.dir, 'new'), worker);
  const data = workDir(join(work, 'data'), worker);
  const input = openSync(a.stream, 'r');
  const zstd = spawn('zstd', ['-dcq'], { stdio: [input, 'pipe', 'inherit'] });
  const x = confine('/usr/bin/mbstream', ['-x', '-p', '2', '-C', data], { worker, limits, bins });
  const mb = spawn(x.cmd, x.args, { stdio: [zstd.stdout!, 'ignore', 'pipe'] });
  zstd.stdout!.destroy();
  let mbErr = '';
  mb.stderr!.on('data', (c: Buffer) => (mbErr += c.toString()));
  t.strictSame(await Promise.all([exited(zstd), exited(mb)]), [0, 0], 'confined extract');
  closeSync(input);
  t.equal(mbErr, '', 'no refused entry');

  const cnf = parseBackupCnf(readFileSync(join(data, 'backup-my.cnf')));
  t.strictSame(cnf.errors, [], 'layout values valid');
  t.equal(cnf.refused, undefined, 'not refused');
  t.strictSame(
    cnf.dropped.map((d) => d.key),
    CNF_ATTACK_KEYS,
    'the handles are dropped',
  );
  const prep = confine(
    '/usr/bin/mariabackup',
    ['--no-defaults', '--prepare', `--target-dir=${data}`, '--plugin-dir=/usr/lib/mysql/plugin', ...cnf.args],
    { worker, limits, bins },
  );
  const p = await execa(prep.cmd, prep.args, { reject: false });
  t.equal(p.exitCode, 0, `confined prepare with --no-defaults: ${p.stderr.split('\n').slice(-2).join(' ')}`);
  const run = workDir(join(work, 'run'), worker);
  const mysqld = confine(
    '/usr/sbin/mariadbd',
    [
      '--no-defaults',
      ...cnf.args,
      '--plugin-dir=/usr/lib/mysql/plugin',
      `--datadir=${data}`,
      `--socket=${run}/s.sock`,
      `--pid-file=${run}/s.pid`,
      `--log-error=${run}/s.err`,
      '--skip-networking',
      '--skip-grant-tables',
      '--skip-slave-start',
      '--skip-log-bin',
      '--innodb-buffer-pool-size=128M',
    ],
    { worker, limits, bins },
  );
  await withServer(mysqld.cmd, mysqld.args, `${run}/s.sock`, async () => {
    const q = await execa('mariadb', [
      '--no-defaults',
      `--socket=${run}/s.sock`,
      '-N',
      '-e',
      'SELECT COUNT(*) FROM shop.accounts',
    ]);
    t.equal(q.stdout.trim(), '100', 'the confined server answers with the data');
  });
  t.strictSame(canaries(), [], 'new way: no canary, no general log, no init file output');

  // Positive control: the old way, on a scratch copy.
  const old = join(a.dir, 'old');
  const ex = await oldExtract(a.stream, old);
  t.equal(ex.exitCode, 0, 'old extract');
  const op = await oldPrepare(old);
  t.match(
    readFileSync(CANARY, 'utf8'),
    /^uid=0 exe=\S*mariadb-backup$/m,
    `old prepare ran evil.so as root (exit ${op.exitCode})`,
  );
  rmSync(CANARY);
  const oldRun = join(a.dir, 'old-run');
  mkdirSync(oldRun);
  await withServer('mariadbd', oldMysqldArgs(old, oldRun), `${oldRun}/s.sock`, async () => {});
  t.match(
    readFileSync(CANARY, 'utf8'),
    /^uid=0 exe=\S*mariadbd$/m,
    'old mysqld ran evil.so as root (plugin_load*)',
  );
  t.ok(existsSync(GENERAL_LOG), 'old mysqld wrote the general log where the backup said (general_log_file)');
  t.equal(
    readFileSync(INIT_FILE, 'utf8').trim(),
    'pwned',
    'old mysqld ran the SQL the backup shipped (init_file)',
  );
  for (const f of canaries()) rmSync(f);
});

t.test('unsafe entry names: the old extract exits 0', async (t) => {
  const abs = join(root, 'abs-x');
  const u = await take('names', {
    add: [
      { name: '../x', text: 'up' },
      { name: abs, text: 'abs' },
    ],
  });
  t.equal(u.exitCode, 0);
  const names = await entries(u.stream);
  t.strictSame(names.slice(-2), ['../x', abs], 'the stream carries both names');
  const dir = join(u.dir, 'old');
  const ex = await oldExtract(u.stream, dir);
  t.equal(ex.exitCode, 0, 'control: the old extract (exit code only) calls it a success');
  t.match(ex.stderr, /mbstream: invalid filename \.\.\/x/, 'while mbstream names the entry on stderr');
  t.notOk(existsSync(join(dirname(dir), 'x')) || existsSync(abs), 'no path named by the stream exists');

  // Before the tool's entries: mbstream stops at the refused name and still exits 0, leaving the
  // rest unread (in a pipeline its writer then dies of SIGPIPE, which the old code did notice).
  const first = await take('names-first', { prepend: [{ name: '../x', text: 'up' }] });
  const raw = join(first.dir, 'raw.xbstream');
  await execa('zstd', ['-dcq', '-o', raw, first.stream]);
  const dir2 = join(first.dir, 'old');
  mkdirSync(dir2);
  const mb = await execa('mbstream', ['-x', '-p', '2', '-C', dir2], { inputFile: raw, reject: false });
  t.equal(mb.exitCode, 0, 'control: mbstream alone exits 0 again');
  t.match(mb.stderr, /invalid filename \.\.\/x/, 'names the entry');
  t.strictSame(readdirSync(dir2), [], 'and extracted nothing of the backup');
});

t.test('a stream padded over max_stream_bytes', async (t) => {
  const cap = 32 * MiB;
  const s = await take('pad', { pad_bytes: 48 * MiB });
  t.equal(s.exitCode, 0);
  t.match(s.logTail, /completed OK!\n$/);
  t.ok(
    statSync(s.stream).size > cap,
    `control: the stored stream (${statSync(s.stream).size}) exceeds the ${cap} cap`,
  );
});

t.test('a zstd bomb over max_extract_bytes', async (t) => {
  const cap = 128 * MiB;
  const b = await take('bomb', { bomb_bytes: 256 * MiB });
  t.equal(b.exitCode, 0);
  t.ok(statSync(b.stream).size < 16 * MiB, `the stream stays small (${statSync(b.stream).size})`);
  const dir = join(b.dir, 'old');
  const ex = await oldExtract(b.stream, dir);
  t.equal(ex.exitCode, 0, 'old extract');
  const bytes = dirBytes(dir);
  t.ok(bytes > cap, `control: it extracts to ${bytes}, over the ${cap} cap`);
  rmSync(dir, { recursive: true });
});

t.test('completed OK! with files missing', async (t) => {
  const d = await take('drop', { drop: ['ibdata1'] });
  t.equal(d.exitCode, 0, 'the tool exits 0');
  t.match(d.logTail, /completed OK!\n$/, 'and its log ends with completed OK!');
  t.ok(existsSync(join(d.dir, 'tmp', 'xtrabackup_checkpoints')), 'the checkpoints are there');
  const dir = join(d.dir, 'old');
  t.equal((await oldExtract(d.stream, dir)).exitCode, 0, 'control: the old extract succeeds');
  t.notOk(existsSync(join(dir, 'ibdata1')), 'without ibdata1');
  t.not((await oldPrepare(dir)).exitCode, 0, 'only the prepare finds out');
});

t.test('a 1 GiB tool log', async (t) => {
  const l = await take('log', { log_bytes: 1024 * MiB });
  t.equal(l.exitCode, 0);
  t.ok(l.logBytes > 1024 * MiB, `control: the log is ${l.logBytes} bytes`);
  t.match(l.logTail, /completed OK!\n$/, 'and still ends with the verdict');
  t.ok(l.logTail.length < 70 * 1024, 'of which this test kept only the tail');
  t.equal((await oldExtract(l.stream, join(l.dir, 'old'))).exitCode, 0, 'the stream itself is fine');
});
