import t, { type Test } from 'tap';
import { spawn, spawnSync, type ChildProcess } from 'node:child_process';
import { once } from 'node:events';
import {
  existsSync,
  lstatSync,
  mkdirSync,
  mkdtempSync,
  readFileSync,
  readdirSync,
  rmSync,
  statSync,
  symlinkSync,
  writeFileSync,
} from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import {
  backupPath,
  cleanTmp,
  commitBackup,
  ensureLayout,
  hostDir,
  readCatalog,
  updateManifest,
  writeFileAtomic,
} from '../../src/catalog/store.js';
import { acquireLock, isAlive, procStart, safeToSignal } from '../../src/catalog/lock.js';
import { tempName, writeExclusive } from '../../src/util/excl.js';
import type { Manifest } from '../../src/catalog/manifest.js';
import { LockHeldError, XbError } from '../../src/errors.js';

function full(id: string, toLsn: number, extra: Partial<Manifest> = {}): Manifest {
  return {
    format: 1,
    id,
    type: 'full',
    host: 'db1',
    parent: null,
    from_lsn: 0,
    to_lsn: toLsn,
    file: 'backup.xbstream.zst',
    bytes: 1000,
    sha256: 'f'.repeat(64),
    compress: 'zstd',
    tool: 'mariabackup',
    reason: 'test',
    started_at: '2026-11-24T03:15:00.000Z',
    finished_at: '2026-11-24T03:15:09.000Z',
    seconds: 9,
    ...extra,
  };
}

function inc(id: string, parent: Manifest, toLsn: number): Manifest {
  return full(id, toLsn, { type: 'incremental', parent: parent.id, from_lsn: parent.to_lsn });
}

const F = full('20261122T010000Z', 1000);
const I = inc('20261123T010000Z', F, 2000);

function tempDir(t: Test): string {
  const d = mkdtempSync(join(tmpdir(), 'xb-store-'));
  t.teardown(() => rmSync(d, { recursive: true, force: true }));
  return d;
}

/** A backup directory as it would be on disk, with a manifest of the given text. */
function put(root: string, kind: string, id: string, manifest?: string): void {
  const dir = join(root, kind, id);
  mkdirSync(dir, { recursive: true });
  writeFileSync(join(dir, 'backup.xbstream.zst'), 'stream');
  if (manifest !== undefined) writeFileSync(join(dir, 'manifest.json'), manifest);
}

const json = (m: unknown) => JSON.stringify(m, null, 2) + '\n';
const mode = (p: string) => statSync(p).mode & 0o777;

t.test('hostDir, backupPath, ensureLayout', async (t) => {
  t.equal(hostDir('/backup', 'db1'), '/backup/db1');
  t.equal(backupPath('/backup/db1', F), '/backup/db1/full/20261122T010000Z');
  t.equal(backupPath('/backup/db1', I), '/backup/db1/incremental/20261123T010000Z');
  const root = join(tempDir(t), 'db1');
  ensureLayout(root);
  ensureLayout(root); // twice is fine
  t.strictSame(readdirSync(root).sort(), ['full', 'incremental', 'prepare', 'ready', 'tmp', 'trash']);
  for (const d of ['', 'full', 'tmp']) t.equal(mode(join(root, d)) & 0o077, 0, `${d || 'root'} is private`);
});

t.test('readCatalog: good backups, and problems reported and ignored', async (t) => {
  const root = tempDir(t);
  const I2 = inc('20261124T010000Z', I, 3000);
  put(root, 'full', F.id, json(F));
  put(root, 'incremental', I.id, json(I));
  put(root, 'incremental', I2.id, JSON.stringify(I2)); // compact JSON is fine
  put(root, 'full', '20261115T010000Z'); // no manifest
  put(root, 'full', '20261116T010000Z', '{"id": "20261116T010000Z", "type": "fu'); // truncated
  put(root, 'full', '20261117T010000Z', json(full('20261118T010000Z', 5))); // id mismatch
  put(root, 'incremental', '20261119T010000Z', json(full('20261119T010000Z', 5))); // type mismatch
  put(root, 'full', '20261120T010000Z', json({ ...F, id: '20261120T010000Z', sha256: undefined })); // lacks a key
  put(root, 'incremental', '20261121T010000Z', json({ ...I, id: '20261121T010000Z', parent: null })); // no parent
  writeFileSync(join(root, 'full', 'README'), 'a file, not a backup');
  const c = readCatalog(root);
  t.equal(c.root, root);
  t.strictSame(c.backups, [F, I, I2], 'the good backups, full/ first, each in id order');
  t.strictSame(c.problems, [
    'full/20261115T010000Z: no manifest.json',
    'full/20261116T010000Z: manifest.json is not valid JSON',
    'full/20261117T010000Z: manifest says full/20261118T010000Z',
    'full/20261120T010000Z: manifest.json lacks "sha256"',
    'full/README: no manifest.json',
    'incremental/20261119T010000Z: manifest says full/20261119T010000Z',
    'incremental/20261121T010000Z: manifest.json of an incremental names no parent',
  ]);
});

t.test('readCatalog: an empty or missing catalog', async (t) => {
  const root = tempDir(t);
  t.strictSame(readCatalog(join(root, 'nothing-here')), {
    root: join(root, 'nothing-here'),
    backups: [],
    problems: [],
  });
  ensureLayout(join(root, 'db1'));
  t.strictSame(readCatalog(join(root, 'db1')), { root: join(root, 'db1'), backups: [], problems: [] });
  // Only full/ exists.
  put(join(root, 'db2'), 'full', F.id, json(F));
  t.strictSame(readCatalog(join(root, 'db2')).backups, [F]);
});

t.test('commitBackup renames tmp/<id> into place with its manifest', async (t) => {
  const root = join(tempDir(t), 'db1');
  ensureLayout(root);
  const cases: Manifest[] = [F, I];
  for (const m of cases) {
    const tmp = join(root, 'tmp', m.id);
    mkdirSync(tmp);
    writeFileSync(join(tmp, 'backup.xbstream.zst'), `stream of ${m.id}`);
    writeFileSync(join(tmp, 'xtrabackup_checkpoints'), 'backup_type = full-backuped\n');
    writeFileSync(join(tmp, 'tool.log'), 'completed OK!\n');
    writeFileSync(join(tmp, 'result.json'), '{"rc":0}');
    const dest = commitBackup(root, tmp, m);
    t.equal(dest, join(root, m.type, m.id), `${m.type}: destination`);
    t.notOk(existsSync(tmp), `${m.type}: tmp/<id> is gone`);
    t.strictSame(
      readdirSync(dest).sort(),
      ['backup.xbstream.zst', 'manifest.json', 'tool.log', 'xtrabackup_checkpoints'],
      `${m.type}: files (result.json removed)`,
    );
    t.equal(readFileSync(join(dest, 'manifest.json'), 'utf8'), json(m), `${m.type}: manifest.json`);
    t.equal(mode(join(dest, 'manifest.json')), 0o600, `${m.type}: manifest.json is 0600`);
    t.equal(readFileSync(join(dest, 'backup.xbstream.zst'), 'utf8'), `stream of ${m.id}`);
  }
  t.strictSame(readdirSync(join(root, 'tmp')), [], 'tmp/ is empty');
  t.strictSame(readCatalog(root), { root, backups: [F, I], problems: [] }, 'the catalog reads both back');

  // A committed backup is never overwritten.
  const again = join(root, 'tmp', F.id);
  mkdirSync(again);
  writeFileSync(join(again, 'backup.xbstream.zst'), 'another stream');
  t.throws(() => commitBackup(root, again, full(F.id, 9999)), 'a second commit of the same id fails');
  t.equal(readFileSync(join(root, 'full', F.id, 'backup.xbstream.zst'), 'utf8'), `stream of ${F.id}`);

  // updateManifest rewrites a committed manifest in place.
  const marked = { ...I, unusable: { reason: 'prepare failed', at: '2026-11-24T05:00:00.000Z' } };
  updateManifest(root, marked);
  t.equal(readFileSync(join(root, 'incremental', I.id, 'manifest.json'), 'utf8'), json(marked));
  t.strictSame(readCatalog(root).backups[1], marked);
});

t.test('cleanTmp removes everything in tmp/ and nothing else', async (t) => {
  const root = join(tempDir(t), 'db1');
  t.strictSame(cleanTmp(root), [], 'no tmp/ at all');
  ensureLayout(root);
  t.strictSame(cleanTmp(root), [], 'an empty tmp/');
  put(root, 'full', F.id, json(F));
  mkdirSync(join(root, 'tmp', '20261124T010000Z', 'deep', 'er'), { recursive: true });
  writeFileSync(join(root, 'tmp', '20261124T010000Z', 'deep', 'er', 'f'), 'x');
  writeFileSync(join(root, 'tmp', 'ready-20261124T010000Z.tar.zst'), 'x');
  t.strictSame(cleanTmp(root).sort(), ['20261124T010000Z', 'ready-20261124T010000Z.tar.zst']);
  t.strictSame(readdirSync(join(root, 'tmp')), []);
  t.strictSame(readCatalog(root).backups, [F], 'committed backups stay');
});

t.test('writeFileAtomic', async (t) => {
  const dir = tempDir(t);
  const p = join(dir, 'x.json');
  writeFileAtomic(p, 'one\n');
  t.equal(readFileSync(p, 'utf8'), 'one\n');
  t.equal(mode(p), 0o600);
  writeFileSync(join(dir, 'y.json'), 'old', { mode: 0o644 });
  writeFileAtomic(join(dir, 'y.json'), 'two');
  t.equal(readFileSync(join(dir, 'y.json'), 'utf8'), 'two', 'replaces a file');
  t.equal(mode(join(dir, 'y.json')), 0o600, 'the replacement is 0600');
  writeFileAtomic(p, '');
  t.equal(readFileSync(p, 'utf8'), '', 'an empty file');
  t.strictSame(readdirSync(dir).sort(), ['x.json', 'y.json'], 'no temporary file is left');
  t.throws(() => writeFileAtomic(join(dir, 'missing', 'z'), 'x'), 'a missing directory is an error');
});

t.test('writeFileAtomic: a random name created exclusively, never a planted file or link', async (t) => {
  const dir = tempDir(t);
  const victim = join(dir, 'victim');
  writeFileSync(victim, 'keep me\n', { mode: 0o644 });
  const p = join(dir, 'm.prom');
  // The name the temporary file used to have, planted as a link to another file.
  symlinkSync(victim, `${p}.tmp-${process.pid}`);
  writeFileAtomic(p, 'new\n', 0o644);
  t.equal(readFileSync(p, 'utf8'), 'new\n');
  t.equal(mode(p), 0o644, 'the mode asked for, exactly');
  t.equal(readFileSync(victim, 'utf8'), 'keep me\n', 'the file the planted link names is not written');
  t.ok(lstatSync(`${p}.tmp-${process.pid}`).isSymbolicLink(), 'the planted link is not used');
  const old = process.umask(0o077);
  try {
    writeFileAtomic(p, 'x', 0o644);
  } finally {
    process.umask(old);
  }
  t.equal(mode(p), 0o644, 'the umask does not narrow it');
  t.strictSame(
    readdirSync(dir).sort(),
    ['m.prom', `m.prom.tmp-${process.pid}`, 'victim'],
    'no temporary file left',
  );
  const mine = tempName(p, 'tmp');
  t.match(mine, new RegExp(`^${p.replace(/\W/g, '\\$&')}\\.tmp-${process.pid}-[0-9a-f]{12}$`), 'tempName');
  t.not(tempName(p, 'tmp'), mine, 'random each time');
  writeFileSync(mine, '');
  t.throws(
    () => writeExclusive(mine, 'x', 0o600),
    { code: 'EEXIST' },
    'writeExclusive never opens what exists',
  );
});

t.test('acquireLock: a link planted at the old private name is not followed', async (t) => {
  const dir = tempDir(t);
  const victim = join(dir, 'victim');
  writeFileSync(victim, 'keep me\n');
  const path = join(dir, 'run.pid');
  symlinkSync(victim, `${path}.new-${process.pid}`);
  const { lock } = acquireLock(path, 'run', 'xb-mgr run');
  t.equal(lockInfo(path).pid, process.pid, 'the lock is taken');
  t.equal(readFileSync(victim, 'utf8'), 'keep me\n', 'the linked file is not written');
  t.strictSame(readdirSync(dir).sort(), ['run.pid', `run.pid.new-${process.pid}`, 'victim']);
  lock.release();
});

/** Spawn `sleep N` and wait until it runs. */
async function sleeper(t: Test, seconds: number, detached = false): Promise<ChildProcess & { pid: number }> {
  const child = spawn('sleep', [String(seconds)], { detached, stdio: 'ignore' });
  await once(child, 'spawn');
  t.teardown(() => {
    if (child.exitCode === null && child.signalCode === null) child.kill('SIGKILL');
  });
  return child as ChildProcess & { pid: number };
}

/** The PID of a process that has exited and been reaped. */
function deadPid(): number {
  const r = spawnSync('true');
  return r.pid;
}

const lockInfo = (p: string) => JSON.parse(readFileSync(p, 'utf8')) as Record<string, unknown>;

t.test('procStart and isAlive', async (t) => {
  const me = procStart(process.pid);
  t.match(me, /^\d+$/, 'a number of clock ticks');
  t.equal(isAlive(process.pid), true);
  t.equal(isAlive(process.pid, me), true);
  t.equal(isAlive(process.pid, `${me}1`), false, 'another start time is another process');
  const dead = deadPid();
  t.equal(procStart(dead), undefined);
  t.equal(isAlive(dead), false);
});

t.test('acquireLock: a free lock', async (t) => {
  const dir = tempDir(t);
  const path = join(dir, 'sub', 'run.pid');
  const before = Date.now();
  const { lock, tookOver } = acquireLock(path, 'run', 'xb-mgr run');
  t.equal(tookOver, undefined);
  t.equal(lock.path, path);
  const info = lockInfo(path);
  t.equal(info.pid, process.pid);
  t.equal(info.start, procStart(process.pid));
  t.equal(info.command, 'xb-mgr run');
  t.strictSame(info.children, []);
  t.ok(Date.parse(String(info.since)) >= before - 1000, 'since is now');
  t.equal(mode(path), 0o600);
  // Held by this very process: a second acquire fails.
  t.throws(() => acquireLock(path, 'run', 'xb-mgr run'), LockHeldError);
  lock.release();
  t.notOk(existsSync(path), 'release removes the file');
  lock.release();
  const again = acquireLock(path, 'host', 'db1');
  t.equal(again.tookOver, undefined, 'free again after release');
  again.lock.release();
});

t.test('acquireLock: setChildren records the process groups', async (t) => {
  const path = join(tempDir(t), 'run.pid');
  const child = await sleeper(t, 30);
  const { lock } = acquireLock(path, 'run', 'xb-mgr run');
  lock.setChildren([child.pid]);
  t.strictSame(lockInfo(path).children, [{ pid: child.pid, start: procStart(child.pid) }]);
  lock.setChildren([]);
  t.strictSame(lockInfo(path).children, []);
  lock.release();
  lock.setChildren([child.pid]);
  t.notOk(existsSync(path), 'nothing is written after release');
});

t.test('acquireLock: a lock held by a live process', async (t) => {
  const dir = tempDir(t);
  const holder = await sleeper(t, 30);
  const since = new Date(Date.now() - 3_600_000).toISOString();
  const content =
    JSON.stringify({ pid: holder.pid, start: procStart(holder.pid), since, command: 'xb-mgr run' }) + '\n';
  const path = join(dir, 'run.pid');
  writeFileSync(path, content);

  const run = (() => {
    try {
      acquireLock(path, 'run', 'xb-mgr run');
      return undefined;
    } catch (e) {
      return e;
    }
  })();
  t.type(run, LockHeldError, 'run lock: LockHeldError');
  t.equal((run as XbError).exitCode, 75);
  t.equal((run as Error).message, `another run holds the lock ${path}: PID ${holder.pid} since ${since}`);

  const hostPath = join(dir, 'db1.lock');
  writeFileSync(hostPath, content);
  const host = (() => {
    try {
      acquireLock(hostPath, 'host', 'db1');
      return undefined;
    } catch (e) {
      return e;
    }
  })();
  t.type(host, XbError, 'host lock: XbError');
  t.notOk(host instanceof LockHeldError, 'host lock: not LockHeldError');
  t.equal((host as XbError).exitCode, 1);
  t.equal(
    (host as Error).message,
    `host db1: another process holds the lock ${hostPath}: PID ${holder.pid} since ${since}`,
  );

  t.equal(readFileSync(path, 'utf8'), content, 'the run lock is untouched');
  t.equal(readFileSync(hostPath, 'utf8'), content, 'the host lock is untouched');
  t.equal(holder.exitCode, null, 'the holder still runs');
});

t.test('acquireLock: a lock held for longer than lock_alert_hours says so', async (t) => {
  const holder = await sleeper(t, 30);
  const path = join(tempDir(t), 'run.pid');
  const since = new Date(Date.now() - 30.5 * 3_600_000).toISOString();
  writeFileSync(path, JSON.stringify({ pid: holder.pid, start: procStart(holder.pid), since }));
  t.throws(() => acquireLock(path, 'run', 'xb-mgr run'), {
    message: `another run holds the lock ${path}: PID ${holder.pid} since ${since} (held for 30 h: is that run stuck?)`,
    exitCode: 75,
  });
  t.throws(() => acquireLock(path, 'run', 'xb-mgr run', 31), {
    message: `another run holds the lock ${path}: PID ${holder.pid} since ${since}`,
  });
});

t.test('acquireLock: a stale lock is taken over', async (t) => {
  const dir = tempDir(t);
  const dead = deadPid();
  const cases: [name: string, content: string, pidShown: string][] = [
    [
      'owner exited',
      JSON.stringify({ pid: dead, start: '12345', since: '2026-11-24T03:00:00.000Z', children: [] }),
      String(dead),
    ],
    [
      'owner exited, no start time recorded',
      JSON.stringify({ pid: dead, since: '2026-11-24T03:00:00.000Z' }),
      String(dead),
    ],
    ['legacy lock: a plain PID of a process that exited', `${dead}\n`, String(dead)],
    ['legacy lock without a newline', `${dead}`, String(dead)],
    ['garbage', 'not a lock file\n', '?'],
    ['JSON without a pid', '{"since": "2026-11-24T03:00:00.000Z"}', '?'],
  ];
  for (const [i, [name, content, pidShown]] of cases.entries()) {
    const path = join(dir, `lock-${i}`);
    writeFileSync(path, content);
    const { lock, tookOver } = acquireLock(path, 'run', 'xb-mgr run');
    t.equal(tookOver, `took over the stale lock ${path} of PID ${pidShown} (not running)`, name);
    t.equal(lockInfo(path).pid, process.pid, `${name}: the lock is ours`);
    t.strictSame(
      readdirSync(dir).filter((n) => n.includes('.stale-')),
      [],
      `${name}: nothing left aside`,
    );
    lock.release();
  }
});

t.test('acquireLock: a live PID with another start time is a reused PID, not the owner', async (t) => {
  const other = await sleeper(t, 30);
  const path = join(tempDir(t), 'run.pid');
  writeFileSync(path, JSON.stringify({ pid: other.pid, start: '1', since: '2026-11-24T03:00:00.000Z' }));
  const { lock, tookOver } = acquireLock(path, 'run', 'xb-mgr run');
  t.equal(tookOver, `took over the stale lock ${path} of PID ${other.pid} (not running)`);
  t.equal(other.exitCode, null, 'the unrelated process is left alone');
  lock.release();
});

t.test('acquireLock: a legacy plain-PID lock of a live process is held', async (t) => {
  const holder = await sleeper(t, 30);
  const path = join(tempDir(t), 'run.pid');
  writeFileSync(path, `${holder.pid}\n`);
  t.throws(() => acquireLock(path, 'run', 'xb-mgr run'), {
    message: `another run holds the lock ${path}: PID ${holder.pid} since ?`,
    exitCode: 75,
  });
  t.throws(() => acquireLock(path, 'host', 'db1'), {
    message: `host db1: another process holds the lock ${path}: PID ${holder.pid} since ?`,
    exitCode: 1,
  });
  t.equal(readFileSync(path, 'utf8'), `${holder.pid}\n`, 'untouched');
});

t.test('acquireLock: the process groups a dead run left are killed on takeover', async (t) => {
  const group = await sleeper(t, 60, true);
  const exited = once(group, 'exit');
  const path = join(tempDir(t), 'run.pid');
  const dead = deadPid();
  writeFileSync(
    path,
    JSON.stringify({
      pid: dead,
      start: '1',
      since: '2026-11-24T03:00:00.000Z',
      children: [{ pid: group.pid, start: procStart(group.pid) }],
    }),
  );
  const { lock, tookOver } = acquireLock(path, 'run', 'xb-mgr run');
  t.equal(
    tookOver,
    `took over the stale lock ${path} of PID ${dead} (not running); stopped the process groups it left: ${group.pid}`,
  );
  const timeout = new Promise<'timeout'>((r) => setTimeout(() => r('timeout'), 5000).unref());
  const how = await Promise.race([exited, timeout]);
  t.strictSame(how, [null, 'SIGKILL'], 'the recorded group was killed');
  lock.release();
});

t.test('acquireLock: a recorded child whose start time does not match is not killed', async (t) => {
  const stranger = await sleeper(t, 60, true);
  const gone = deadPid();
  const path = join(tempDir(t), 'run.pid');
  const dead = deadPid();
  writeFileSync(
    path,
    JSON.stringify({
      pid: dead,
      since: '2026-11-24T03:00:00.000Z',
      children: [
        { pid: stranger.pid, start: `${procStart(stranger.pid)}0` },
        { pid: gone, start: '1' },
      ],
    }),
  );
  const { lock, tookOver } = acquireLock(path, 'run', 'xb-mgr run');
  t.equal(tookOver, `took over the stale lock ${path} of PID ${dead} (not running)`);
  await new Promise((r) => setTimeout(r, 300));
  t.equal(stranger.exitCode, null, 'still running');
  t.equal(stranger.signalCode, null, 'not signalled');
  t.equal(isAlive(stranger.pid), true);
  lock.release();
});

t.test('safeToSignal: only a PID above 1 whose start time is the recorded one', async (t) => {
  // A fake process table: PID -> start time. Nothing here looks at real processes.
  const table = new Map<number, string>([
    [1, '1'],
    [4321, '777'],
  ]);
  const startOf = (pid: number) => table.get(pid);
  const cases: [name: string, child: { pid?: unknown; start?: unknown }, want: boolean][] = [
    ['a child that is still ours', { pid: 4321, start: '777' }, true],
    ['pid 0 (kill(-0) is our own group)', { pid: 0, start: '777' }, false],
    ['pid 1 (kill(-1) is every process), start matching', { pid: 1, start: '1' }, false],
    ['pid 1 without a start time', { pid: 1 }, false],
    ['negative pid', { pid: -5, start: '777' }, false],
    ['NaN', { pid: NaN, start: '777' }, false],
    ['Infinity', { pid: Infinity, start: '777' }, false],
    ['not an integer', { pid: 4321.5, start: '777' }, false],
    ['a numeric string', { pid: '4321', start: '777' }, false],
    ['a string /proc understands', { pid: 'self', start: '777' }, false],
    ['no pid', { start: '777' }, false],
    ['null pid (NaN in JSON)', { pid: null, start: '777' }, false],
    ['a child without a start time', { pid: 4321 }, false],
    ['an empty start time', { pid: 4321, start: '' }, false],
    ['a start time that is not a string', { pid: 4321, start: 777 }, false],
    ['start time differs (the PID was reused)', { pid: 4321, start: '776' }, false],
    ['the process is gone', { pid: 999_999, start: '777' }, false],
  ];
  for (const [name, child, want] of cases) t.equal(safeToSignal(child, startOf), want, name);
  t.equal(safeToSignal({ pid: process.pid, start: procStart(process.pid) }), true, 'default: /proc');
  t.equal(safeToSignal({ pid: deadPid(), start: '1' }), false, 'default: a dead PID');
});

t.test('acquireLock: takeover signals only recorded children that are provably still ours', async (t) => {
  // Safety net: killGroup itself is replaced too, so even code that ignored the injected kill
  // (the code before this fix did) never sends a real signal from this test.
  const reached: number[] = [];
  const { acquireLock: acquire } = await t.mockImport<typeof import('../../src/catalog/lock.js')>(
    '../../src/catalog/lock.js',
    { '../../src/util/proc.js': { killGroup: (pid: number) => void reached.push(pid) } },
  );
  const me = process.pid; // a live process with a known start time: the "good child"
  const myStart = procStart(me)!;
  const initStart = procStart(1);
  const dead = deadPid();
  const cases: [name: string, children: string, killed: number[]][] = [
    ['pid 0', `[{"pid": 0, "start": "${myStart}"}]`, []],
    ['pid 1 with its real start time', `[{"pid": 1, "start": "${initStart}"}]`, []],
    ['pid 1 without a start time', '[{"pid": 1}]', []],
    ['pid -5', `[{"pid": -5, "start": "${myStart}"}]`, []],
    ['NaN (null in JSON)', `[{"pid": null, "start": "${myStart}"}]`, []],
    ['a pid that is a string /proc understands', `[{"pid": "self", "start": "${myStart}"}]`, []],
    ['a child without a start time', `[{"pid": ${me}}]`, []],
    ['start time mismatch', `[{"pid": ${me}, "start": "${myStart}0"}]`, []],
    ['a reused pid: the child is gone, another process has its pid', `[{"pid": ${me}, "start": "1"}]`, []],
    ['a good child is killed', `[{"pid": ${me}, "start": "${myStart}"}]`, [me]],
    ['children is not a list', '"1"', []],
    ['a list of garbage', '[1, null, "x", [1]]', []],
    ['only the good one of several', `[{"pid": 1}, {"pid": ${me}, "start": "${myStart}"}, {"pid": 0}]`, [me]],
  ];
  const dir = tempDir(t);
  for (const [i, [name, children, killed]] of cases.entries()) {
    const path = join(dir, `lock-${i}`);
    writeFileSync(path, `{"pid": ${dead}, "since": "2026-11-24T03:00:00.000Z", "children": ${children}}`);
    const calls: [number, string][] = [];
    reached.length = 0;
    const { lock, tookOver } = acquire(path, 'run', 'xb-mgr run', 24, {
      kill: (pid, signal) => void calls.push([pid, signal]),
    });
    t.strictSame(reached, [], `${name}: the real killGroup is never reached`);
    t.strictSame(
      calls,
      killed.map((p) => [p, 'SIGKILL']),
      `${name}: ${killed.length > 0 ? 'killed' : 'nothing signalled'}`,
    );
    t.equal(
      tookOver,
      `took over the stale lock ${path} of PID ${dead} (not running)${
        killed.length > 0 ? `; stopped the process groups it left: ${killed.join(', ')}` : ''
      }`,
      `${name}: the warning`,
    );
    lock.release();
  }
});
