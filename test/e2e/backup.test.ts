/**
 * xb-mgr run on sandbox hosts: real sshd, MariaDB, mariabackup and ansible-playbook. sb1 is reached
 * by name on port 22, sb2 by IP address on port 2202.
 */
import t, { type Test } from 'tap';
import { cpSync, existsSync, readdirSync, readFileSync, rmSync } from 'node:fs';
import { join } from 'node:path';
import { execa } from 'execa';
import { repo, sandbox, sandboxDir, sandboxUp, sql, testConfig, xbMgr } from './sandbox.js';
import { cmdlines, remoteToolPid, waitFor } from './procs.js';

sandboxUp(2);

interface HostResult {
  host: string;
  ok: boolean;
  type?: string;
  id?: string;
  parent?: string | null;
  error?: string;
  reason?: string;
}

interface Manifest {
  id: string;
  type: string;
  parent: string | null;
  from_lsn: number;
  to_lsn: number;
  sha256: string;
  bytes: number;
  binlog?: { file: string; position: number; gtid?: string };
}

async function run(
  file: string,
  ...args: string[]
): Promise<{ code: number; hosts: Map<string, HostResult>; stderr: string }> {
  const r = await xbMgr(['--config', file, 'run', '--json', ...args]);
  let hosts = new Map<string, HostResult>();
  try {
    const doc = JSON.parse(r.stdout) as { hosts: HostResult[] };
    hosts = new Map(doc.hosts.map((h) => [h.host, h]));
  } catch {
    // Left empty: the assertions on hosts will say what is missing; stderr has the reason.
  }
  return { code: r.exitCode, hosts, stderr: r.stderr };
}

function manifests(dir: string, host: string): Manifest[] {
  const out: Manifest[] = [];
  for (const kind of ['full', 'incremental']) {
    const d = join(dir, 'backups', host, kind);
    if (!existsSync(d)) continue;
    for (const id of readdirSync(d))
      out.push(JSON.parse(readFileSync(join(d, id, 'manifest.json'), 'utf8')) as Manifest);
  }
  return out.sort((a, b) => (a.id < b.id ? -1 : 1));
}

function tmpEntries(dir: string, host: string): string[] {
  const d = join(dir, 'backups', host, 'tmp');
  return existsSync(d) ? readdirSync(d) : [];
}

/** Every incremental links to its parent's to_lsn; every chain starts at a full with from_lsn 0. */
function assertChains(t: Test, ms: Manifest[]): void {
  const byId = new Map(ms.map((m) => [m.id, m]));
  for (const m of ms) {
    if (m.type === 'full') {
      t.equal(m.from_lsn, 0, `${m.id} full starts at LSN 0`);
      continue;
    }
    const p = byId.get(m.parent ?? '');
    if (!p) continue; // parent deleted on purpose in one case
    t.equal(m.from_lsn, p.to_lsn, `${m.id}.from_lsn == parent ${p.id}.to_lsn`);
    t.ok(m.from_lsn <= m.to_lsn, `${m.id} from_lsn <= to_lsn`);
  }
}

// 2026-11-22 is a Sunday.
const SUN = '2026-11-22T01:00:00Z';

t.test(
  'schedule and chain on two hosts: Sunday full, Monday incrementals, --full, a deleted full',
  async (t) => {
    const { file, dir } = testConfig();
    let r = await run(file, '--now', SUN);
    t.equal(r.code, 0, r.stderr);
    for (const h of ['sb1', 'sb2']) t.equal(r.hosts.get(h)?.type, 'full', `${h}: Sunday full`);
    const sundayFull = r.hosts.get('sb1')?.id;
    t.equal(sundayFull, '20261122T010000Z', 'the id is --now in UTC');

    sql('sb1', "INSERT INTO shop.orders (account_id, amount, note) VALUES (1, 5, 'monday')");
    r = await run(file, '--now', '2026-11-23T01:00:00Z');
    t.equal(r.code, 0, r.stderr);
    for (const h of ['sb1', 'sb2']) {
      t.equal(r.hosts.get(h)?.type, 'incremental', `${h}: Monday incremental`);
      t.equal(r.hosts.get(h)?.parent, '20261122T010000Z', `${h}: parent is the Sunday full`);
    }
    r = await run(file, '--now', '2026-11-23T09:00:00Z');
    t.equal(r.hosts.get('sb1')?.type, 'incremental');
    t.equal(r.hosts.get('sb1')?.parent, '20261123T010000Z', 'chains from the previous incremental');
    t.equal(r.hosts.get('sb2')?.parent, '20261123T010000Z');

    // The same --now again: the id collides and moves one second on.
    r = await run(file, '--host', 'sb2', '--now', '2026-11-23T09:00:00Z');
    t.equal(r.hosts.get('sb2')?.id, '20261123T090001Z', 'collision: one second later');
    t.notOk(r.hosts.has('sb1'), '--host limits the run');

    // plan says what run would do, and changes nothing.
    const before = manifests(dir, 'sb1').length;
    const plan = await xbMgr(['--config', file, 'plan', '--json', '--now', '2026-11-23T17:00:00Z']);
    const p = JSON.parse(plan.stdout) as {
      hosts: { host: string; type: string; parent?: { id: string; to_lsn: number } }[];
    };
    t.equal(p.hosts.find((h) => h.host === 'sb1')?.type, 'incremental');
    t.equal(p.hosts.find((h) => h.host === 'sb1')?.parent?.id, '20261123T090000Z');
    t.equal(manifests(dir, 'sb1').length, before, 'plan changed nothing');

    r = await run(file, '--host', 'sb1', '--full', '--now', '2026-11-23T10:00:00Z');
    t.equal(r.hosts.get('sb1')?.type, 'full', '--full forces a full');
    t.match(r.hosts.get('sb1')?.reason, /--full/);
    r = await run(file, '--host', 'sb1', '--now', '2026-11-23T11:00:00Z');
    t.equal(r.hosts.get('sb1')?.parent, '20261123T100000Z', 'incremental from the forced full');

    // Delete that full by hand: its incremental is orphaned, the next run takes a full and says why.
    rmSync(join(dir, 'backups/sb1/full/20261123T100000Z'), { recursive: true });
    r = await run(file, '--host', 'sb1', '--now', '2026-11-23T12:00:00Z');
    t.equal(r.hosts.get('sb1')?.type, 'full', 'a broken chain leads to a full');
    t.match(r.hosts.get('sb1')?.reason, /chain is broken .*20261123T100000Z.* is missing/);

    // Next Sunday: one full, the later run that day is incremental. A missed Sunday is made up Monday.
    r = await run(file, '--host', 'sb1', '--now', '2026-11-29T01:00:00Z');
    t.equal(r.hosts.get('sb1')?.type, 'full', 'weekly full');
    t.match(r.hosts.get('sb1')?.reason, /weekly full/);
    r = await run(file, '--host', 'sb1', '--now', '2026-11-29T09:00:00Z');
    t.equal(r.hosts.get('sb1')?.type, 'incremental', 'second run on Sunday is incremental');
    r = await run(file, '--host', 'sb2', '--now', '2026-11-30T01:00:00Z');
    t.equal(r.hosts.get('sb2')?.type, 'full', 'sb2 missed Sunday: Monday makes it up');

    for (const h of ['sb1', 'sb2']) {
      const ms = manifests(dir, h);
      assertChains(t, ms);
      t.same(tmpEntries(dir, h), [], `${h}: tmp/ is empty`);
      for (const m of ms) {
        t.match(m.sha256, /^[0-9a-f]{64}$/);
        t.ok(m.bytes > 0);
        t.match(m.binlog?.file, /^mysql-bin\.\d+$/, 'binlog position recorded');
      }
    }
    // The backup password is full of shell and Jinja syntax; none of it ran.
    for (const f of ['pwned-shell', 'pwned-tick', 'pwned-jinja'])
      t.notOk(existsSync(join(sandboxDir, f)), `${f} absent`);
  },
);

t.test("a wrong password fails that host with the tool's error; the other host succeeds", async (t) => {
  const { file } = testConfig([], { sb2: ['mysql_password = not-the-password'] });
  const r = await run(file, '--now', SUN);
  t.equal(r.code, 1);
  t.equal(r.hosts.get('sb1')?.ok, true, 'sb1 backed up');
  t.equal(r.hosts.get('sb2')?.ok, false);
  t.match(r.hosts.get('sb2')?.error, /Access denied for user 'xbbackup'/);
  t.notMatch(JSON.stringify([...r.hosts.values()]), /not-the-password/, 'the password is not in the report');
});

const password = sandbox('password');

t.test('during a backup: no password in any process arguments; a second run exits 75', async (t) => {
  const { file, dir } = testConfig([], { sb1: ['throttle = 40'] });
  const a = execa('node', [join(repo, 'dist/cli.js'), '--config', file, 'run', '--host', 'sb1', '--json'], {
    reject: false,
  });
  await waitFor('the remote tool', () => remoteToolPid('sb1'));
  let scans = 0;
  const seen: string[] = [];
  while (remoteToolPid('sb1') && scans < 50) {
    for (const c of cmdlines()) if (c.includes(password) || c.includes('pwned')) seen.push(c);
    scans++;
    await new Promise((r) => setTimeout(r, 50));
  }
  t.ok(scans > 3, `scanned ${scans} times while the backup ran`);
  t.same(seen, [], 'no process shows the password');
  const b = await xbMgr(['--config', file, 'run', '--host', 'sb1']);
  t.equal(b.exitCode, 75, 'second run exits 75');
  t.match(b.stderr, new RegExp(`another run holds the lock .*xb-mgr\\.pid: PID ${a.pid}`));
  const ra = await a;
  t.equal(ra.exitCode, 0, String(ra.stderr));
  t.equal(manifests(dir, 'sb1').length, 1, 'the first run committed its backup, nothing else');
});

t.test(
  'killing the remote tool midway: exit 1, nothing partial, next run chains from the last good backup',
  async (t) => {
    const { file, dir } = testConfig();
    let r = await run(file, '--host', 'sb1', '--now', SUN);
    t.equal(r.code, 0, r.stderr);
    const good = r.hosts.get('sb1')?.id;
    const slow = testConfig([], { sb1: ['throttle = 40'] });
    // Same catalog, slowed down: point the slow config at the first one's backup_dir.
    const slowFile = slow.file;
    const text = readFileSync(slowFile, 'utf8').replace(/^backup_dir = .*$/m, `backup_dir = ${dir}/backups`);
    (await import('node:fs')).writeFileSync(slowFile, text);
    const a = execa(
      'node',
      [
        join(repo, 'dist/cli.js'),
        '--config',
        slowFile,
        'run',
        '--host',
        'sb1',
        '--json',
        '--now',
        '2026-11-23T01:00:00Z',
      ],
      {
        reject: false,
      },
    );
    const pid = await waitFor('the remote tool', () => remoteToolPid('sb1'));
    await waitFor('some bytes', () => {
      const d = join(dir, 'backups/sb1/tmp');
      return existsSync(d) && readdirSync(d).length > 0 ? true : undefined;
    });
    process.kill(pid, 'SIGKILL');
    const ra = await a;
    t.equal(ra.exitCode, 1, 'the run failed');
    const rep = JSON.parse(String(ra.stdout)) as { hosts: HostResult[] };
    t.match(rep.hosts[0]?.error, /the backup stream failed|did not log "completed OK!"/);
    t.same(tmpEntries(dir, 'sb1'), [], 'no partial transfer left in tmp/');
    t.same(
      manifests(dir, 'sb1').map((m) => m.id),
      [good],
      'the catalog holds only the good backup',
    );
    r = await run(file, '--host', 'sb1', '--now', '2026-11-23T02:00:00Z');
    t.equal(r.code, 0, r.stderr);
    t.equal(r.hosts.get('sb1')?.type, 'incremental');
    t.equal(r.hosts.get('sb1')?.parent, good, 'chains from the last good backup');
  },
);

t.test('a server restored to an older state: the LSN rule makes the next run a full backup', async (t) => {
  const { file } = testConfig();
  const data = join(sandboxDir, 'hosts/sb1/data');
  const old = join(sandboxDir, 'hosts/sb1/data.old');
  sandbox('stop-db', 'sb1');
  rmSync(old, { recursive: true, force: true });
  cpSync(data, old, { recursive: true });
  sandbox('start-db', 'sb1');
  t.teardown(() => rmSync(old, { recursive: true, force: true }));
  // Move the LSN well on, and make a clean shutdown write a checkpoint past it.
  sql(
    'sb1',
    'INSERT INTO shop.orders (account_id, amount, note) SELECT 1 + seq % 100, seq % 13, REPEAT("x", 90) FROM shop.seq_1_to_20000',
  );
  sandbox('stop-db', 'sb1');
  sandbox('start-db', 'sb1');
  let r = await run(file, '--host', 'sb1', '--now', SUN);
  t.equal(r.hosts.get('sb1')?.type, 'full');
  // "Restore" the server: put the old datadir back.
  sandbox('stop-db', 'sb1');
  rmSync(data, { recursive: true });
  cpSync(old, data, { recursive: true });
  sandbox('start-db', 'sb1');
  r = await run(file, '--host', 'sb1', '--now', '2026-11-23T01:00:00Z', '--log-level', 'warn');
  t.equal(r.code, 0, r.stderr);
  t.equal(r.hosts.get('sb1')?.type, 'full', 'a full, not an incremental against another history');
  t.match(r.hosts.get('sb1')?.reason, /lower than the parent .* to_lsn .*restored or rebuilt/);
  t.match(r.stderr, /discarding the incremental and taking a full backup/);
});

t.test(
  "push mode (the DB host pipes to the manager's sshd) on the host reached by IP on port 2202",
  async (t) => {
    const { file, dir } = testConfig(['transfer = push']);
    let r = await run(file, '--host', 'sb2', '--now', SUN);
    t.equal(r.code, 0, r.stderr);
    t.equal(r.hosts.get('sb2')?.type, 'full');
    sql('sb2', "INSERT INTO shop.orders (account_id, amount, note) VALUES (2, 7, 'pushed')");
    r = await run(file, '--host', 'sb2', '--now', '2026-11-23T01:00:00Z');
    t.equal(r.code, 0, r.stderr);
    t.equal(r.hosts.get('sb2')?.type, 'incremental');
    const ms = manifests(dir, 'sb2');
    assertChains(t, ms);
    const { createHash } = await import('node:crypto');
    for (const m of ms) {
      const f = join(dir, 'backups/sb2', m.type, m.id, 'backup.xbstream.zst');
      t.equal(
        createHash('sha256').update(readFileSync(f)).digest('hex'),
        m.sha256,
        `${m.id}: sha256 matches the stored stream`,
      );
    }
  },
);

t.test('a held host lock fails that host (exit 1); the other host runs', async (t) => {
  const { file, dir } = testConfig();
  const { mkdirSync, writeFileSync } = await import('node:fs');
  mkdirSync(join(dir, 'backups/sb1'), { recursive: true });
  const start = readFileSync(`/proc/${process.pid}/stat`, 'utf8').split(') ')[1]!.split(' ')[19];
  writeFileSync(
    join(dir, 'backups/sb1/.lock'),
    JSON.stringify({ pid: process.pid, start, since: new Date().toISOString() }),
  );
  const r = await run(file, '--now', SUN);
  t.equal(r.code, 1);
  t.match(
    r.hosts.get('sb1')?.error,
    new RegExp(`host sb1: another process holds the lock .*PID ${process.pid}`),
  );
  t.equal(r.hosts.get('sb2')?.ok, true);
});

t.test('not enough free space for another full: refused with a clear error, nothing written', async (t) => {
  const { file, dir } = testConfig();
  const mnt = join(dir, 'small');
  const { mkdirSync } = await import('node:fs');
  mkdirSync(mnt);
  await execa('mount', ['-t', 'tmpfs', '-o', 'size=400m', 'tmpfs', mnt]);
  t.teardown(() => execa('umount', [mnt]));
  const text = readFileSync(file, 'utf8').replace(/^backup_dir = .*$/m, `backup_dir = ${mnt}`);
  (await import('node:fs')).writeFileSync(file, text);
  let r = await run(file, '--host', 'sb1', '--now', SUN);
  t.equal(r.code, 0, r.stderr);
  // Fill the disk up to less than the size of that full backup.
  const { statfsSync } = await import('node:fs');
  const s = statfsSync(mnt);
  await execa('fallocate', ['-l', String(s.bavail * s.bsize - 200 * 1024), join(mnt, 'filler')]);
  r = await run(file, '--host', 'sb1', '--now', '2026-11-23T01:00:00Z');
  t.equal(r.code, 1);
  t.match(
    r.hosts.get('sb1')?.error,
    /not enough free space in .*small: \d+ bytes free, the last full backup took \d+ bytes/,
  );
  t.same(readdirSync(join(mnt, 'sb1/tmp')), []);
});
