/**
 * The per-run directory and its root (src/util/runtmp.ts) against another local user: where the
 * root is, what is refused there, and stale cleanup that removes only directories of ours with
 * mode 0700 and never follows a link, also when one is swapped in during the cleanup. The attacker
 * cases run as the unprivileged user `nobody` (needs root and setpriv).
 */
import t, { type Test } from 'tap';
import { execFileSync, spawnSync } from 'node:child_process';
import {
  chmodSync,
  chownSync,
  existsSync,
  lstatSync,
  mkdirSync,
  mkdtempSync,
  readFileSync,
  readdirSync,
  renameSync,
  rmSync,
  symlinkSync,
  writeFileSync,
} from 'node:fs';
import { createServer } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import {
  RunDirError,
  cleanStaleRunTmp,
  ensurePrivateDir,
  removeOwnDir,
  runRootFor,
  runTmp,
} from '../../src/util/runtmp.js';
import { startTs } from './procs-ts.js';

const isRoot = process.getuid?.() === 0;
const NOBODY = 65534;
const hasSetpriv = spawnSync('setpriv', ['--version']).status === 0;
const asNobodyOk = isRoot && hasSetpriv;

function tempDir(t: Test, mode = 0o700): string {
  const d = mkdtempSync(join(tmpdir(), 'xb-runtmp-'));
  chmodSync(d, mode);
  t.teardown(() => rmSync(d, { recursive: true, force: true }));
  return d;
}

/** The PID of a process that has exited and been reaped. */
const deadPid = (): number => spawnSync('true').pid;

/** Run a command as nobody (the local attacker). */
function asNobody(cmd: string, args: string[]): void {
  execFileSync('setpriv', [`--reuid=${NOBODY}`, `--regid=${NOBODY}`, '--clear-groups', '--', cmd, ...args]);
}

/** A directory outside everything cleaned, with a file that must survive. */
function outside(t: Test): { dir: string; file: string } {
  const dir = tempDir(t);
  const file = join(dir, 'precious');
  writeFileSync(file, 'keep me\n');
  return { dir, file };
}

const mode = (p: string) => lstatSync(p).mode & 0o7777;

t.test('runRootFor: root in /run, others in their runtime dir, the temp dir as the fallback', async (t) => {
  const dirs = new Set(['/run', '/run/user/1000', '/run/user/4000000000']);
  const isDir = (p: string) => dirs.has(p);
  const cases: [string, number, Record<string, string | undefined>, string][] = [
    ['root', 0, {}, '/run/xb-mgr'],
    ['root ignores XDG_RUNTIME_DIR', 0, { XDG_RUNTIME_DIR: '/run/user/1000' }, '/run/xb-mgr'],
    ['a user with a runtime dir', 1000, { XDG_RUNTIME_DIR: '/run/user/1000' }, '/run/user/1000/xb-mgr'],
    ['a user without one', 1000, {}, '/tmp/xb-mgr-1000'],
    ['a relative runtime dir is ignored', 1000, { XDG_RUNTIME_DIR: 'run/user/1000' }, '/tmp/xb-mgr-1000'],
    ['a runtime dir that does not exist', 1000, { XDG_RUNTIME_DIR: '/run/user/1001' }, '/tmp/xb-mgr-1000'],
    [
      'too long for the ssh sockets under it',
      4000000000,
      { XDG_RUNTIME_DIR: '/run/user/4000000000' },
      '/tmp/xb-mgr-4000000000',
    ],
  ];
  for (const [name, uid, env, want] of cases) t.equal(runRootFor(uid, env, '/tmp', isDir), want, name);
  t.equal(
    runRootFor(0, {}, '/tmp', () => false),
    '/tmp/xb-mgr-0',
    'root without /run',
  );
});

t.test('ensurePrivateDir: creates 0700 whatever the umask; refuses what it did not make so', async (t) => {
  const base = tempDir(t);
  const old = process.umask(0o277);
  let made: string;
  try {
    made = ensurePrivateDir(join(base, 'new'));
  } finally {
    process.umask(old);
  }
  t.equal(mode(made), 0o700, 'created 0700');
  t.equal(ensurePrivateDir(made), made, 'an existing private directory of ours is used');

  const bad: [string, (p: string) => void, RegExp][] = [
    [
      'mode 0755',
      (p) => mkdirSync(p, { mode: 0o755 }),
      /owned by uid \d+ with mode 0755, not uid \d+ with 0700/,
    ],
    ['mode 1700', (p) => (mkdirSync(p), chmodSync(p, 0o1700)), /with mode 1700/],
    ['a symbolic link to a private directory', (p) => symlinkSync(made, p), /is a symbolic link/],
    ['a file', (p) => writeFileSync(p, ''), /is not a directory/],
  ];
  if (isRoot)
    bad.push([
      "another user's directory, 0700",
      (p) => (mkdirSync(p, { mode: 0o700 }), chownSync(p, NOBODY, NOBODY)),
      /owned by uid 65534 with mode 0700, not uid 0 with 0700/,
    ]);
  for (const [name, make, re] of bad) {
    const p = join(base, name.replace(/\W+/g, '-'));
    make(p);
    const before = lstatSync(p);
    const e = t.throws(() => ensurePrivateDir(p), RunDirError, name) as Error;
    t.match(e.message, re, `${name}: says why`);
    t.ok(e.message.includes(p) && !e.message.includes('\n'), `${name}: one line naming the path`);
    const after = lstatSync(p);
    t.strictSame(
      [after.mode, after.uid, after.ino],
      [before.mode, before.uid, before.ino],
      `${name}: left as it was`,
    );
  }
});

t.test('cleanStaleRunTmp: only dead runs, only our 0700 directories, nothing followed', async (t) => {
  const base = tempDir(t);
  const out = outside(t);
  const dead = deadPid();
  const stale = join(base, `${dead}-aaaaaa`);
  mkdirSync(join(stale, 'pb-x', 'cp'), { recursive: true, mode: 0o700 });
  chmodSync(stale, 0o700);
  writeFileSync(join(stale, 'credentials-db1.cnf'), 'secret', { mode: 0o600 });
  symlinkSync(out.dir, join(stale, 'link-to-dir'));
  symlinkSync(out.file, join(stale, 'pb-x', 'link-to-file'));
  // A Unix socket, as ssh's control sockets are.
  const srv = createServer();
  await new Promise<void>((r) => srv.listen(join(stale, 'pb-x', 'cp', 's'), r));
  srv.close();
  const live = join(base, `${process.pid}-bbbbbb`);
  mkdirSync(live, { mode: 0o700 });
  const wrongMode = join(base, `${dead}-cccccc`);
  mkdirSync(wrongMode, { mode: 0o755 });
  chmodSync(wrongMode, 0o755);
  const link = join(base, `${dead}-dddddd`);
  symlinkSync(out.dir, link);
  const other = join(base, 'not-a-run-dir');
  mkdirSync(other, { mode: 0o700 });
  const names = [`${dead}-eeeeee`];
  if (isRoot) {
    const theirs = join(base, `${dead}-eeeeee`);
    mkdirSync(theirs, { mode: 0o700 });
    writeFileSync(join(theirs, 'f'), 'x');
    chownSync(theirs, NOBODY, NOBODY);
  }
  const removed = cleanStaleRunTmp(base);
  t.strictSame(removed, [`${dead}-aaaaaa`], 'only the stale directory of ours');
  t.notOk(existsSync(stale), 'it is gone, with its socket, files and links');
  t.equal(readFileSync(out.file, 'utf8'), 'keep me\n', 'what its links pointed to is intact');
  t.strictSame(readdirSync(out.dir), ['precious'], 'and nothing was removed from that directory');
  t.ok(existsSync(live), "this process's own directory stays");
  t.ok(existsSync(wrongMode), 'a directory with another mode stays');
  t.ok(lstatSync(link).isSymbolicLink(), 'a link named like a run directory stays, not followed');
  t.ok(existsSync(other), 'other names stay');
  if (isRoot) t.ok(existsSync(join(base, names[0]!, 'f')), "another user's directory stays, with its files");
});

t.test('cleanup: a link swapped in after the checks is not followed', async (t) => {
  const base = tempDir(t);
  const out = outside(t);
  const dead = deadPid();
  // The stale directory itself replaced by a link to the outside directory.
  const a = join(base, `${dead}-aaaaaa`);
  mkdirSync(a, { mode: 0o700 });
  writeFileSync(join(a, 'x'), '');
  // A subdirectory replaced by a link.
  const b = join(base, `${dead}-bbbbbb`);
  mkdirSync(join(b, 'sub'), { recursive: true, mode: 0o700 });
  writeFileSync(join(b, 'sub', 'y'), '');
  const swapped: string[] = [];
  const removed = cleanStaleRunTmp(base, {
    afterCheck: (p) => {
      if (p === a) {
        renameSync(a, join(base, 'moved-a'));
        symlinkSync(out.dir, a);
      } else {
        renameSync(join(b, 'sub'), join(base, 'moved-sub'));
        symlinkSync(out.dir, join(b, 'sub'));
      }
      swapped.push(p);
    },
  });
  t.strictSame(swapped.sort(), [a, b].sort(), 'both were swapped after their checks');
  t.strictSame(readdirSync(out.dir), ['precious'], 'nothing in the outside directory was removed');
  t.equal(readFileSync(out.file, 'utf8'), 'keep me\n', 'nor changed');
  t.ok(
    lstatSync(a).isSymbolicLink(),
    'the link put in place of the directory is left (rmdir does not follow)',
  );
  t.strictSame(
    readdirSync(join(base, 'moved-a')),
    [],
    'the directory that was open was emptied where it went',
  );
  t.notOk(existsSync(b), 'the other directory is gone: its link was unlinked, not followed');
  t.strictSame(readdirSync(join(base, 'moved-sub')), ['y'], 'the real subdirectory moved away is untouched');
  t.strictSame(removed, [`${dead}-bbbbbb`]);
});

t.test(
  'local attacker (nobody): a directory at the old /tmp path with a link inside is not ours: untouched',
  { skip: asNobodyOk ? false : 'needs root and setpriv' },
  async (t) => {
    const out = outside(t);
    chmodSync(out.dir, 0o755);
    const dead = deadPid();
    const planted = join(tmpdir(), `xb-mgr-run-${dead}-${Math.random().toString(16).slice(2, 8)}`);
    t.teardown(() => rmSync(planted, { recursive: true, force: true }));
    asNobody('mkdir', ['-m', '0700', planted]);
    asNobody('ln', ['-s', out.dir, join(planted, 'pb-x')]);
    asNobody('ln', ['-s', out.file, join(planted, 'credentials-db1.cnf')]);
    t.notOk(cleanStaleRunTmp(tmpdir(), { legacy: true }).includes(planted.slice(5)), 'not removed');
    t.ok(existsSync(join(planted, 'credentials-db1.cnf')), "the attacker's directory is left as it was");
    t.equal(readFileSync(out.file, 'utf8'), 'keep me\n', 'the file its link names is not written');
    // A run does not go near the old path: its directory is in the root-owned run root.
    const child = startTs(t, new URL('../fixtures/runtmp-child.ts', import.meta.url).pathname, []);
    const line = await child.line(/^dir /);
    const dir = line.slice(4);
    t.match(dir, /^\/run\/xb-mgr\/\d+-[0-9a-f]{6}$/, 'the run directory is under /run/xb-mgr');
    t.equal(await child.exit, 0);
    t.notOk(existsSync(dir), 'and is removed at exit');
    const root = lstatSync('/run/xb-mgr');
    t.strictSame(
      [root.uid, root.mode & 0o7777, root.isDirectory()],
      [0, 0o700, true],
      'the root: root, 0700',
    );
    t.equal(readFileSync(out.file, 'utf8'), 'keep me\n', 'the outside file is still intact');
    t.strictSame(
      readdirSync(planted).sort(),
      ['credentials-db1.cnf', 'pb-x'],
      'nor was the planted directory used',
    );
  },
);

t.test(
  'local attacker (nobody): a run root it made first is refused, never used',
  { skip: asNobodyOk ? false : 'needs root and setpriv' },
  async (t) => {
    const base = tempDir(t, 0o1777); // like /tmp: world-writable, sticky
    const root = join(base, 'xb-mgr-0');
    asNobody('mkdir', ['-m', '0700', root]);
    t.throws(() => ensurePrivateDir(root, 0), /owned by uid 65534 with mode 0700, not uid 0/);
    const link = join(base, 'xb-mgr-link');
    asNobody('ln', ['-s', '/etc', link]);
    t.throws(() => ensurePrivateDir(link, 0), /is a symbolic link/);
    t.equal(lstatSync('/etc').uid, 0, 'what the link named is not changed');
    t.equal(mode('/etc'), 0o755);
    t.notOk(removeOwnDir(root, 0), 'nor removed by a cleanup');
    t.ok(existsSync(root));
  },
);

t.test('runTmp: one private directory per process, under the run root', async (t) => {
  const a = runTmp();
  t.equal(runTmp(), a, 'the same for the whole process');
  t.equal(mode(a), 0o700);
  t.match(a.split('/').pop(), new RegExp(`^${process.pid}-[0-9a-f]{6}$`));
  t.ok(a.length + '/pb-XXXXXX/cp/'.length + 40 + 17 < 108, 'room for an ssh control socket');
});

t.test('a run killed by SIGKILL leaves its directory; the next run removes it', async (t) => {
  const fixture = new URL('../fixtures/runtmp-child.ts', import.meta.url).pathname;
  const first = startTs(t, fixture, ['wait']);
  const dir = (await first.line(/^dir /)).slice(4);
  first.proc.kill('SIGKILL');
  await first.exit;
  t.ok(existsSync(join(dir, 'credentials-x.cnf')), 'left by the killed run');
  const second = startTs(t, fixture, []);
  await second.line(/^dir /);
  await second.exit;
  t.notOk(existsSync(dir), 'removed by the next one');
});
