/**
 * The fault suite (issue 7): kill -9 of the controller at every step of a run, an SSH connection
 * cut midway, backup_dir filling up during the transfer, the DB server down, the grant revoked,
 * the helper deleted. Each case ends with `xb-mgr verify` clean and a next `run` that succeeds, no
 * good backup or ready file lost, no partial backup listed, and nothing the dead run started still
 * running. The steps after the transfer are paused with XB_MGR_FAULT_PAUSE (src/util/fault.ts) so
 * the kill lands inside them every time.
 */
import t, { type Test } from 'tap';
import { existsSync, mkdirSync, readFileSync, rmSync, statfsSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { execa, type ResultPromise } from 'execa';
import { repo, sandbox, sandboxDir, sandboxUp, setKeys, sql, testConfig, xbMgr } from './sandbox.js';
import { alive, processes, remoteToolPid, waitFor } from './procs.js';

sandboxUp(2);

interface HostResult {
  host: string;
  ok: boolean;
  type?: string;
  id?: string;
  parent?: string | null;
  error?: string;
  ready?: { rebuilt_base: boolean; check: { ok: boolean } };
}
interface Listing {
  hosts: {
    host: string;
    chains: { backups: { id: string; type: string; sha256: string }[] }[];
    ready: { id: string; file: string; sha256: string }[];
  }[];
}

const cli = join(repo, 'dist', 'cli.js');
const { file, dir } = testConfig();
const backupDir = join(dir, 'backups');
/** The same catalog with a throttled transfer, for faults that must land during the stream. */
const slow = join(dir, 'slow.conf');
writeFileSync(slow, setKeys(readFileSync(file, 'utf8'), 'sb1', ['throttle = 40']), { mode: 0o600 });

/** Hours of one week, so every run gets a later --now (2026-11-22 is the Sunday of the full). */
let hour = 0;
function nextNow(): string {
  hour++;
  return new Date(Date.UTC(2026, 10, 22, 1 + hour, 0, 0)).toISOString();
}

async function run(
  cfg: string,
  ...args: string[]
): Promise<{ code: number; host?: HostResult; stderr: string }> {
  const r = await xbMgr(['--config', cfg, 'run', '--json', '--host', 'sb1', ...args]);
  let host: HostResult | undefined;
  try {
    host = (JSON.parse(r.stdout) as { hosts: HostResult[] }).hosts[0];
  } catch {
    // left undefined; stderr says why
  }
  return { code: r.exitCode, host, stderr: r.stderr };
}

async function listing(cfg = file): Promise<{ backups: Map<string, string>; ready: Map<string, string> }> {
  const r = await xbMgr(['--config', cfg, 'list', '--json', '--host', 'sb1']);
  if (r.exitCode !== 0) throw new Error(`list failed: ${r.stderr}`);
  const h = (JSON.parse(r.stdout) as Listing).hosts[0]!;
  return {
    backups: new Map(h.chains.flatMap((c) => c.backups.map((b) => [`${b.type}/${b.id}`, b.sha256] as const))),
    ready: new Map(h.ready.map((r) => [r.id, r.sha256] as const)),
  };
}

/** Every good backup of `before` is still listed with the same checksum, and `verify` is clean. */
async function assertNothingLost(
  t: Test,
  before: Awaited<ReturnType<typeof listing>>,
  cfg = file,
): Promise<Awaited<ReturnType<typeof listing>>> {
  const after = await listing(cfg);
  for (const [id, sha] of before.backups) t.equal(after.backups.get(id), sha, `${id} is still there, intact`);
  const newestReady = [...before.ready.keys()].sort().pop();
  if (newestReady)
    t.ok(
      after.ready.has(newestReady) || [...after.ready.keys()].some((id) => id > newestReady),
      `the newest ready backup ${newestReady} (or a newer one) is still there`,
    );
  const v = await xbMgr(['--config', cfg, 'verify', '--host', 'sb1']);
  t.equal(v.exitCode, 0, `verify is clean: ${v.stdout}${v.stderr}`);
  return after;
}

/** Start a run that pauses at `point` (or, without one, just runs) and return it with its PID. */
function startRun(cfg: string, now: string, point?: string): { proc: ResultPromise; faultFile: string } {
  const faultFile = join(dir, `fault-${point ?? 'none'}.json`);
  rmSync(faultFile, { force: true });
  const proc = execa('node', [cli, '--config', cfg, 'run', '--host', 'sb1', '--now', now], {
    reject: false,
    env: point ? { XB_MGR_FAULT_PAUSE: point, XB_MGR_FAULT_FILE: faultFile } : {},
  });
  return { proc, faultFile };
}

/** The processes the run lock says the run started (pids of process groups). */
function lockChildren(): number[] {
  try {
    const lock = JSON.parse(readFileSync(join(dir, 'xb-mgr.pid'), 'utf8')) as {
      children?: { pid: number }[];
    };
    return (lock.children ?? []).map((c) => c.pid);
  } catch {
    return [];
  }
}

/** Processes still running whose argv mentions this test's directory (mysqld, mbstream, zstd...). */
function leftovers(): string[] {
  return [...processes()]
    .filter(([pid, argv]) => pid !== process.pid && alive(pid) && argv.some((a) => a.includes(dir)))
    .map(([pid, argv]) => `${pid} ${argv.join(' ')}`);
}

/** After a kill: verify clean, nothing lost, and the next run succeeds and stops what the dead run left. */
async function recover(
  t: Test,
  before: Awaited<ReturnType<typeof listing>>,
  orphans: number[],
): Promise<{ host?: HostResult; stderr: string }> {
  const mid = await assertNothingLost(t, before);
  t.notOk(
    [...mid.backups.keys()].some(
      (k) => !before.backups.has(k) && !existsSync(join(backupDir, 'sb1', k, 'manifest.json')),
    ),
    'every listed backup has its manifest (nothing partial is listed)',
  );
  const r = await run(file, '--now', nextNow(), '--log-level', 'warn');
  t.equal(r.code, 0, `the next run succeeds: ${r.host?.error ?? r.stderr}`);
  t.match(
    r.stderr,
    orphans.length > 0
      ? /took over the stale lock .* of PID \d+ \(not running\); stopped the process groups it left/
      : /took over the stale lock .* of PID \d+ \(not running\)/,
    "it took over the dead run's lock (and stopped what it left running)",
  );
  for (const pid of orphans) t.notOk(alive(pid), `the dead run's child ${pid} is stopped`);
  t.same(leftovers(), [], 'nothing the dead run started is still running');
  t.equal(r.host?.ready?.check.ok, true, 'the next run made a checked ready backup');
  await assertNothingLost(t, mid);
  return { host: r.host, stderr: r.stderr };
}

t.before(async () => {
  const r = await run(file, '--now', '2026-11-22T01:00:00Z');
  if (r.code !== 0) throw new Error(`the first full backup failed: ${r.stderr}`);
  const r2 = await run(file, '--now', nextNow());
  if (r2.code !== 0) throw new Error(`the first incremental failed: ${r2.stderr}`);
});

t.test('kill -9 of the controller during the transfer', async (t) => {
  const before = await listing();
  const { proc } = startRun(slow, nextNow());
  await waitFor('the remote tool', () => remoteToolPid('sb1'));
  await waitFor('bytes in tmp/', () => existsSync(join(backupDir, 'sb1/tmp')) && lockChildren().length > 0);
  const orphans = lockChildren();
  proc.kill('SIGKILL');
  await proc;
  t.ok(
    orphans.some((p) => alive(p)),
    'the dead run left its transfer running',
  );
  const next = await recover(t, before, orphans);
  t.match(next.stderr, /removed leftovers of an interrupted run: tmp\//, 'the partial transfer was removed');
  t.equal(remoteToolPid('sb1'), undefined, 'no remote tool left running');
  t.equal(next.host?.type, 'incremental', 'the chain goes on');
});

for (const point of ['extract', 'prepare', 'verify', 'compress', 'retention', 'report'] as const) {
  t.test(`kill -9 of the controller paused at ${point}`, async (t) => {
    const before = await listing();
    const { proc, faultFile } = startRun(file, nextNow(), point);
    const paused = await Promise.race([
      waitFor(`the run to pause at ${point}`, () => existsSync(faultFile), 120_000),
      proc.then((r) => {
        throw new Error(`the run ended before ${point}: ${String(r.stderr)}`);
      }),
    ]);
    t.ok(paused, `paused at ${point}`);
    const orphans = lockChildren();
    if (point === 'verify') {
      t.ok(orphans.length > 0 && orphans.every((p) => alive(p)), 'the temporary mysqld is running');
    }
    proc.kill('SIGKILL');
    await proc;
    // The worker's processes (confined with --pdeathsig=KILL) die with the controller.
    await new Promise((r) => setTimeout(r, 500));
    const survivors = orphans.filter((p) => alive(p));
    if (point === 'verify') t.same(survivors, [], "the worker's mysqld died with the controller");
    const next = await recover(t, before, survivors);
    t.equal(next.host?.type, 'incremental', 'the chain goes on from the committed backup');
    if (point === 'extract' || point === 'prepare')
      t.equal(next.host?.ready?.rebuilt_base, true, 'the half-applied base was rebuilt, not trusted');
  });
}

/** The sshd processes serving the backup stream's session on sb1: ancestors of the remote tool. */
function sessionSshds(): number[] | undefined {
  const listener = Number(readFileSync(join(sandboxDir, 'hosts/sb1/sshd.pid'), 'utf8'));
  const ppid = (pid: number): number => {
    const stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
    return Number(stat.slice(stat.lastIndexOf(')') + 2).split(' ')[1]);
  };
  try {
    const chain: number[] = [];
    for (let p = remoteToolPid('sb1'); p && p > 1; p = ppid(p)) {
      if (p === listener) return chain.filter((q) => processes().get(q)?.[0]?.startsWith('sshd'));
      chain.push(p);
    }
  } catch {
    // a process of the chain ended
  }
  return undefined;
}

t.test('the SSH connection cut midway (its sshd killed): clean failure, next run succeeds', async (t) => {
  const before = await listing();
  const { proc } = startRun(slow, nextNow());
  await waitFor('the remote tool', () => remoteToolPid('sb1'));
  const sshds = await waitFor('the session sshd', () => sessionSshds());
  t.ok(sshds.length > 0, `the stream's sshd processes: ${sshds.join(', ')}`);
  for (const p of sshds) process.kill(p, 'SIGKILL');
  const r = await proc;
  t.equal(r.exitCode, 1, 'the run failed');
  t.match(String(r.stderr), /backup stream failed|connection|closed|reset|did not log "completed OK!"/i);
  t.same(
    existsSync(join(backupDir, 'sb1/tmp'))
      ? (await import('node:fs')).readdirSync(join(backupDir, 'sb1/tmp'))
      : [],
    [],
    'no partial transfer left in tmp/',
  );
  await assertNothingLost(t, before);
  await waitFor('the remote tool to end', () => remoteToolPid('sb1') === undefined || undefined, 60_000);
  const next = await run(file, '--now', nextNow());
  t.equal(next.code, 0, next.stderr);
  await assertNothingLost(t, before);
});

t.test('the DB server down: a clear error; after it is started the next run succeeds', async (t) => {
  const before = await listing();
  sandbox('stop-db', 'sb1');
  try {
    const r = await run(file, '--now', nextNow());
    t.equal(r.code, 1);
    t.match(r.host?.error, /connect|socket|server/i, `says the server cannot be reached: ${r.host?.error}`);
  } finally {
    sandbox('start-db', 'sb1');
  }
  await assertNothingLost(t, before);
  const r = await run(file, '--now', nextNow());
  t.equal(r.code, 0, r.stderr);
});

t.test('the backup grant revoked: a clear error naming the privilege; granted again, it runs', async (t) => {
  const before = await listing();
  sql('sb1', "REVOKE RELOAD ON *.* FROM 'xbbackup'@'localhost'");
  try {
    const r = await run(file, '--now', nextNow());
    t.equal(r.code, 1);
    t.match(r.host?.error, /RELOAD|privilege|denied/i, `names the problem: ${r.host?.error}`);
  } finally {
    sql('sb1', "GRANT RELOAD ON *.* TO 'xbbackup'@'localhost'");
  }
  await assertNothingLost(t, before);
  const r = await run(file, '--now', nextNow());
  t.equal(r.code, 0, r.stderr);
});

t.test(
  'the helper or credentials file deleted or edited on the DB host: reinstalled, the run succeeds',
  async (t) => {
    const helper = join(sandboxDir, 'hosts/sb1/bin/backup_local');
    rmSync(helper, { force: true });
    const r = await run(file, '--now', nextNow(), '--log-level', 'warn');
    t.equal(r.code, 0, r.stderr);
    t.match(
      r.stderr,
      /exit code 127.*reinstalling the helper and the credentials file/,
      'found missing, reinstalled',
    );
    t.ok(existsSync(helper), 'the helper is back');
    // A helper changed behind xb-mgr's back refuses to run (exit 90) and is replaced the same way.
    writeFileSync(helper, readFileSync(helper, 'utf8') + '\n# edited by hand\n');
    const r2 = await run(file, '--now', nextNow(), '--log-level', 'warn');
    t.equal(r2.code, 0, r2.stderr);
    t.match(r2.stderr, /exit code 90.*reinstalling/, 'an edited helper is replaced');
    t.notMatch(readFileSync(helper, 'utf8'), /edited by hand/);
    // The credentials file deleted: exit 91, reinstalled.
    rmSync(join(sandboxDir, 'hosts/sb1/etc/credentials.cnf'));
    const r3 = await run(file, '--now', nextNow(), '--log-level', 'warn');
    t.equal(r3.code, 0, r3.stderr);
    t.match(r3.stderr, /exit code 91.*reinstalling/, 'a deleted credentials file is reinstalled');
    const v = await xbMgr(['--config', file, 'verify', '--host', 'sb1']);
    t.equal(v.exitCode, 0, v.stdout);
  },
);

t.test(
  'backup_dir fills up during the transfer: "no space", older backups intact, next run ok',
  async (t) => {
    const { file: small, dir: sdir } = testConfig();
    const mnt = join(sdir, 'small');
    mkdirSync(mnt);
    await execa('mount', ['-t', 'tmpfs', '-o', 'size=300m', 'tmpfs', mnt]);
    t.teardown(async () => {
      await execa('umount', [mnt], { reject: false });
      sql('sb1', 'DROP TABLE IF EXISTS shop.fill');
    });
    writeFileSync(small, readFileSync(small, 'utf8').replace(/^backup_dir = .*$/m, `backup_dir = ${mnt}`));
    let r = await run(small, '--now', '2026-11-22T01:00:00Z');
    t.equal(r.code, 0, r.stderr);
    const before = await listing(small);
    // Incompressible rows make the next full bigger than the free space the pre-check accepts.
    sql(
      'sb1',
      'USE shop; CREATE TABLE fill (id INT PRIMARY KEY, b BLOB) ENGINE=InnoDB; ' +
        'INSERT INTO fill SELECT seq, RANDOM_BYTES(1024) FROM seq_1_to_8000',
    );
    const lastFull = JSON.parse(
      readFileSync(
        join(mnt, 'sb1/full', [...before.backups.keys()][0]!.split('/')[1]!, 'manifest.json'),
        'utf8',
      ),
    ) as { bytes: number };
    const s = statfsSync(mnt);
    const leave = lastFull.bytes + 1024 * 1024;
    await execa('fallocate', ['-l', String(s.bavail * s.bsize - leave), join(mnt, 'filler')]);
    r = await run(small, '--full', '--now', '2026-11-22T05:00:00Z');
    t.equal(r.code, 1, 'the run failed');
    t.match(r.host?.error, /no space left|disk is full/i, `says the disk is full: ${r.host?.error}`);
    t.same((await import('node:fs')).readdirSync(join(mnt, 'sb1/tmp')), [], 'no partial transfer left');
    await assertNothingLost(t, before, small);
    rmSync(join(mnt, 'filler'));
    r = await run(small, '--full', '--now', '2026-11-22T06:00:00Z');
    t.equal(r.code, 0, r.stderr);
    await assertNothingLost(t, before, small);
  },
);

t.test(
  'an unknown XB_MGR_FAULT_PAUSE point is refused (exit 2), so a typo cannot skip a fault',
  async (t) => {
    const r = await xbMgr(['--config', file, 'run', '--host', 'sb1'], { XB_MGR_FAULT_PAUSE: 'transfr' });
    t.equal(r.exitCode, 2);
    t.match(r.stderr, /XB_MGR_FAULT_PAUSE=transfr is not a fault point/);
    t.equal(r.stderr.trim().split('\n').length, 1, 'one line');
  },
);
