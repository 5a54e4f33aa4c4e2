/**
 * Ready backups on sandbox hosts: prepared base, apply only the new backup, verify with a real
 * mysqld and mysqlcheck, compress; and the data in the ready file is the data at backup time.
 */
import t from 'tap';
import {
  existsSync,
  readdirSync,
  readFileSync,
  rmSync,
  openSync,
  readSync,
  writeSync,
  closeSync,
  statSync,
} from 'node:fs';
import { join } from 'node:path';
import { execa } from 'execa';
import { repo, sandbox, sandboxDir, sandboxUp, sql, testConfig, xbMgr } from './sandbox.js';
import { FINGERPRINT_SQL, sourceFingerprint, startOnReady } from './restore-helpers.js';

sandboxUp(2);

interface Step {
  step: string;
  backup?: string;
}
interface HostResult {
  host: string;
  ok: boolean;
  type?: string;
  id?: string;
  error?: string;
  reason?: string;
  log_tail?: string;
  unusable?: { id: string; reason: string };
  ready?: {
    id: string;
    file: string;
    contains: string[];
    steps: Step[];
    rebuilt_base: boolean;
    check: { ok: boolean; tables: number };
  };
}

async function run(
  file: string,
  ...args: string[]
): Promise<{ code: number; h: HostResult; stderr: string }> {
  const r = await xbMgr(['--config', file, 'run', '--json', '--host', 'sb1', ...args]);
  let h: HostResult = { host: 'sb1', ok: false, error: `no JSON: ${r.stderr}` };
  try {
    h = (JSON.parse(r.stdout) as { hosts: HostResult[] }).hosts[0]!;
  } catch {
    // h says so
  }
  return { code: r.exitCode, h, stderr: r.stderr };
}

const readyDir = (dir: string) => join(dir, 'backups/sb1/ready');
const applied = (h: HostResult) =>
  (h.ready?.steps ?? []).filter((s) => s.step === 'apply' || s.step === 'prepare').map((s) => s.backup);

t.test(
  'full + incrementals: each run leaves a ready file holding exactly the data at backup time',
  async (t) => {
    const { file, dir } = testConfig(['retain_num_ready_backups = 5']);
    let r = await run(file, '--now', '2026-11-22T01:00:00Z');
    t.equal(r.code, 0, r.h.error ?? '');
    t.equal(r.h.ready?.file, `${r.h.id}.tar.zst`);
    t.same(r.h.ready?.contains, [r.h.id]);
    t.ok(r.h.ready?.check.ok && r.h.ready.check.tables > 10, 'mysqlcheck checked the tables');
    const full = r.h.id!;

    sql(
      'sb1',
      "UPDATE shop.accounts SET balance = balance + 1 WHERE id <= 10; INSERT INTO shop.orders (account_id, amount, note) VALUES (3, 33, 'after full')",
    );
    r = await run(file, '--now', '2026-11-23T01:00:00Z');
    t.equal(r.code, 0, r.h.error ?? '');
    const inc1 = r.h.id!;
    t.same(applied(r.h), [inc1], 'the first incremental is applied alone');

    sql('sb1', "DELETE FROM shop.orders WHERE id % 7 = 0; REPLACE INTO shop.notes VALUES (2, 'second')");
    r = await run(file, '--now', '2026-11-23T09:00:00Z');
    const atBackup = sourceFingerprint('sb1');
    t.equal(r.code, 0, r.h.error ?? '');
    const inc2 = r.h.id!;
    t.same(applied(r.h), [inc2], 'the second incremental run applies only the new one (no re-apply)');
    t.same(r.h.ready?.contains, [full, inc1, inc2]);
    t.same(
      readdirSync(readyDir(dir)).sort(),
      [
        `${full}.json`,
        `${full}.tar.zst`,
        `${inc1}.json`,
        `${inc1}.tar.zst`,
        `${inc2}.json`,
        `${inc2}.tar.zst`,
      ].sort(),
    );
    const desc = JSON.parse(readFileSync(join(readyDir(dir), `${inc2}.json`), 'utf8')) as {
      bytes: number;
      sha256: string;
      binlog?: unknown;
    };
    t.equal(desc.bytes, statSync(join(readyDir(dir), `${inc2}.tar.zst`)).size, 'bytes in <id>.json');
    const sum = (await execa('sha256sum', [join(readyDir(dir), `${inc2}.tar.zst`)])).stdout.split(' ')[0];
    t.equal(desc.sha256, sum, 'sha256 in <id>.json');
    t.ok(desc.binlog, 'binlog position in <id>.json');

    // Writes after the backup are not in it.
    sql('sb1', "INSERT INTO shop.orders (account_id, amount, note) VALUES (4, 44, 'after the last backup')");
    const srv = await startOnReady(join(readyDir(dir), `${inc2}.tar.zst`));
    t.teardown(() => srv.stop());
    t.equal(
      await srv.query(FINGERPRINT_SQL),
      atBackup,
      'CHECKSUM TABLE and row counts match the source at backup time',
    );

    // A deleted base is rebuilt from the stored streams, and gives the same data.
    rmSync(join(dir, 'backups/sb1/prepare/base'), { recursive: true });
    r = await run(file, '--now', '2026-11-23T17:00:00Z', '--log-level', 'warn');
    const atBackup3 = sourceFingerprint('sb1');
    t.equal(r.code, 0, r.h.error ?? '');
    t.equal(r.h.ready?.rebuilt_base, true);
    t.match(r.stderr, /rebuilding the prepared base from the stored streams/);
    t.same(applied(r.h), [full, inc1, inc2, r.h.id], 'the rebuild applies the whole chain');
    const srv2 = await startOnReady(join(readyDir(dir), `${r.h.id}.tar.zst`));
    t.teardown(() => srv2.stop());
    t.equal(await srv2.query(FINGERPRINT_SQL), atBackup3, 'the rebuilt base has the right data');
  },
);

t.test('hot backup under write load: mysqlcheck passes and a transactional invariant holds', async (t) => {
  const { file, dir } = testConfig([], { sb1: ['throttle = 40'] });
  const total = sql('sb1', 'SELECT SUM(balance) FROM shop.accounts');
  // A writer moving money between accounts in transactions, all through the backup.
  const writer = execa(
    'mariadb',
    [`--defaults-file=${join(sandboxDir, 'hosts/sb1/my.cnf')}`, '-uroot', 'shop'],
    {
      stdin: 'pipe',
      reject: false,
    },
  );
  let stop = false;
  let txns = 0;
  const feed = (async () => {
    while (!stop) {
      const a = 1 + Math.floor(Math.random() * 100);
      const b = 1 + Math.floor(Math.random() * 100);
      const n = 1 + Math.floor(Math.random() * 50);
      const ok = writer.stdin!.write(
        `START TRANSACTION; UPDATE accounts SET balance = balance - ${n} WHERE id = ${a}; UPDATE accounts SET balance = balance + ${n} WHERE id = ${b}; INSERT INTO orders (account_id, amount, note) VALUES (${a}, ${n}, 'transfer'); COMMIT;\n`,
      );
      txns++;
      if (!ok) await new Promise((r) => writer.stdin!.once('drain', r));
      if (txns % 50 === 0) await new Promise((r) => setImmediate(r));
    }
    writer.stdin!.end();
  })();
  const r = await run(file, '--full');
  stop = true;
  await feed;
  await writer;
  t.equal(r.code, 0, r.h.error ?? '');
  t.ok(txns > 100, `${txns} transactions were sent during the backup`);
  t.ok(r.h.ready?.check.ok, 'mysqlcheck passed on the ready backup');
  const srv = await startOnReady(join(readyDir(dir), r.h.ready!.file));
  t.teardown(() => srv.stop());
  t.equal(
    await srv.query('SELECT SUM(balance) FROM shop.accounts'),
    total,
    'the total balance is unchanged in the backup',
  );
  t.equal(sql('sb1', 'SELECT SUM(balance) FROM shop.accounts'), total, 'and in the source');
});

t.test('a corrupted stored incremental is caught by its sha256 before it is applied', async (t) => {
  const { file, dir } = testConfig();
  let r = await run(file, '--now', '2026-11-22T01:00:00Z');
  t.equal(r.code, 0, r.h.error ?? '');
  r = await run(file, '--now', '2026-11-23T01:00:00Z');
  const inc = r.h.id!;
  // Flip bytes in the middle of the stored stream, then force a rebuild of the base.
  const f = join(dir, 'backups/sb1/incremental', inc, 'backup.xbstream.zst');
  const fd = openSync(f, 'r+');
  const buf = Buffer.alloc(16);
  const at = Math.floor(statSync(f).size / 2);
  readSync(fd, buf, 0, 16, at);
  for (let i = 0; i < 16; i++) buf[i] = buf[i]! ^ 0xff;
  writeSync(fd, buf, 0, 16, at);
  closeSync(fd);
  rmSync(join(dir, 'backups/sb1/prepare/base.json'));
  r = await run(file, '--now', '2026-11-23T09:00:00Z');
  t.equal(r.code, 1);
  t.match(
    r.h.error,
    new RegExp(
      `sha256 mismatch: incremental/${inc}/backup\\.xbstream\\.zst is corrupted .*it was not applied`,
    ),
  );
  t.equal(r.h.unusable?.id, inc, 'the corrupted backup is marked unusable');
  const m = JSON.parse(readFileSync(join(dir, 'backups/sb1/incremental', inc, 'manifest.json'), 'utf8')) as {
    unusable?: { reason: string };
  };
  t.match(m.unusable?.reason, /sha256 mismatch/);
  r = await run(file, '--now', '2026-11-23T17:00:00Z');
  t.equal(r.code, 0, r.h.error ?? '');
  t.equal(r.h.type, 'full', 'the next run starts a new chain');
});

t.test(
  'a verification that fails keeps failed-<id>, marks the backup unusable, and the next run is full',
  async (t) => {
    const { file, dir } = testConfig([], { sb1: ['mysqld = /usr/bin/false'] });
    let r = await run(file, '--now', '2026-11-22T01:00:00Z');
    t.equal(r.code, 1);
    t.match(
      r.h.error,
      /ready backup failed: the temporary mysqld exited before it was ready.*kept .*failed-/,
    );
    t.match(r.h.log_tail, /mysqld error log/);
    const prep = join(dir, 'backups/sb1/prepare');
    t.same(
      readdirSync(prep).filter((n) => n.startsWith('failed-')),
      [`failed-${r.h.id}`],
    );
    t.equal(r.h.unusable?.id, r.h.id);
    t.same(readdirSync(join(dir, 'backups/sb1/ready')), [], 'no ready file');
    t.same(readdirSync(join(dir, 'backups/sb1/tmp')), [], 'nothing half-written in tmp/');
    r = await run(file, '--now', '2026-11-22T02:00:00Z');
    t.equal(r.h.type, 'full', 'an unusable newest backup is never a parent');
    t.match(r.h.reason, /unusable/);
    t.same(
      readdirSync(prep).filter((n) => n.startsWith('failed-')),
      [`failed-${r.h.id}`],
      'only the newest failure is kept',
    );
    void existsSync;
    void repo;
    void sandbox;
  },
);
