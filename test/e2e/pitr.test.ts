/**
 * e2e of point-in-time recovery on a sandbox host: a full backup through `xb-mgr run`, the binlog
 * supervisor running, batch A (money transfers, marker rows, a GRANT, hostile statements), a
 * pause, a recorded time T, another pause, batch B during which the stream is killed with -9 and
 * restarts. `restore --to-time T` and `--to-gtid <last of A>` give exactly A (markers, the money
 * invariant, the grant, gtid_slave_pos); a restore to after B gives all of B; targets before the
 * oldest backup, in the future or with fractions are refused (exit 2). The hostile statements
 * (LOAD_FILE of a manager file, a `\!` shell line inside a string, logged as statements) read
 * and write nothing outside the replay server's directory.
 */
import t from 'tap';
import { spawn, type ChildProcess } from 'node:child_process';
import { chmodSync, existsSync, mkdtempSync, readdirSync, renameSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { execa } from 'execa';
import { repo, sandbox, sandboxDir, sandboxUp, sb2Address, sql, testConfig, xbMgr } from './sandbox.js';
import { processes, waitFor } from './procs.js';
import { readStoredPoint } from '../../src/binlog/window.js';

const HOST = 'sb1';
const ACCOUNTS = 10;

sandboxUp();
const pw = sandbox('password').replace(/\\/g, '\\\\').replace(/'/g, "\\'");
sql(
  HOST,
  `CREATE OR REPLACE USER 'xbbinlog'@'localhost' IDENTIFIED BY '${pw}'; GRANT REPLICATION SLAVE, BINLOG MONITOR ON *.* TO 'xbbinlog'@'localhost';
   DROP USER IF EXISTS 'pitr_u'@'localhost';
   DROP DATABASE IF EXISTS pitr; CREATE DATABASE pitr;
   CREATE TABLE pitr.acct (id INT PRIMARY KEY, balance INT NOT NULL) ENGINE=InnoDB;
   CREATE TABLE pitr.marker (id INT AUTO_INCREMENT PRIMARY KEY, batch CHAR(1)) ENGINE=InnoDB;
   CREATE TABLE pitr.h (id INT AUTO_INCREMENT PRIMARY KEY, v TEXT) ENGINE=InnoDB;
   INSERT INTO pitr.acct SELECT seq, 1000 FROM pitr.seq_1_to_${ACCOUNTS};`,
);

const { file: conf, dir } = testConfig([], {
  [HOST]: [
    'binlog_stream = true',
    'binlog_user = xbbinlog',
    'binlog_retry_max_seconds = 2',
    'binlog_fsync_ms = 100',
  ],
});
const hostRoot = join(dir, 'backups', HOST);
// A manager file the hostile statements name: world-readable, so only secure_file_priv guards it.
const canaryDir = mkdtempSync(join(tmpdir(), 'xb-pitr-canary-'));
chmodSync(canaryDir, 0o755);
const secret = join(canaryDir, 'secret');
writeFileSync(secret, 'manager-secret\n', { mode: 0o644 });
const shellCanary = join(canaryDir, 'shell-ran');

function startSupervisor(): { child: ChildProcess; out: Promise<number | null> } {
  const child = spawn('node', [join(repo, 'dist', 'cli.js'), '--config', conf, 'binlog'], {
    stdio: ['ignore', 'ignore', 'ignore'],
  });
  return { child, out: new Promise((r) => child.on('close', (c) => r(c))) };
}

function streamPid(): number | undefined {
  for (const [pid, argv] of processes())
    if (argv.some((a) => a.startsWith(`--result-file=${hostRoot}/`))) return pid;
  return undefined;
}

/** One transfer per transaction, with its marker row. */
function transfers(batch: string, n: number, seed: number): string {
  const q: string[] = [];
  for (let i = 0; i < n; i++) {
    const a = ((seed + i * 7) % ACCOUNTS) + 1;
    const b = ((seed + i * 3 + 1) % ACCOUNTS) + 1;
    const x = (i % 50) + 1;
    q.push(
      `BEGIN; UPDATE pitr.acct SET balance = balance - ${x} WHERE id = ${a}; UPDATE pitr.acct SET balance = balance + ${x} WHERE id = ${b}; INSERT INTO pitr.marker (batch) VALUES ('${batch}'); COMMIT;`,
    );
  }
  return q.join('\n');
}

async function waitForAsync(what: string, fn: () => Promise<boolean | undefined>, ms: number): Promise<void> {
  const end = Date.now() + ms;
  while (!(await fn())) {
    if (Date.now() > end) throw new Error(`timed out waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 200));
  }
}

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));
const serverGtid = () => sql(HOST, 'SELECT @@gtid_binlog_pos');
const caughtUp = () =>
  waitFor(
    'the stored point at the server GTID',
    () => readStoredPoint(hostRoot)?.gtid === serverGtid().split(',').at(-1),
    60_000,
  );

/** Start a throwaway server on a restored datadir, run queries, stop it. */
async function inspect(datadir: string, queries: string[]): Promise<string[]> {
  const sock = join(datadir, 'inspect.sock');
  const srv = spawn(
    'mariadbd',
    [
      '--no-defaults',
      `--datadir=${datadir}`,
      `--socket=${sock}`,
      '--skip-networking',
      '--skip-grant-tables',
      '--user=root',
      `--log-error=${datadir}/inspect.err`,
      '--innodb-buffer-pool-size=64M',
    ],
    { stdio: 'ignore' },
  );
  try {
    await waitForAsync(
      'the inspect server',
      async () =>
        (await execa('mariadb-admin', ['--no-defaults', '-S', sock, 'ping'], { reject: false })).exitCode ===
          0 || undefined,
      60_000,
    );
    const out: string[] = [];
    for (const q of queries)
      out.push(
        String((await execa('mariadb', ['--no-defaults', '-S', sock, '-N', '-B', '-e', q])).stdout).trim(),
      );
    return out;
  } finally {
    await execa('mariadb-admin', ['--no-defaults', '-S', sock, 'shutdown'], { reject: false });
    await new Promise((r) => (srv.exitCode !== null ? r(null) : srv.on('close', r)));
  }
}

const CHECKS = [
  "SELECT COUNT(*) FROM pitr.marker WHERE batch = 'A'",
  "SELECT COUNT(*) FROM pitr.marker WHERE batch = 'B'",
  'SELECT SUM(balance) FROM pitr.acct',
  "SELECT COUNT(*) FROM mysql.db WHERE User = 'pitr_u' AND Db = 'pitr' AND Select_priv = 'Y'",
  'SELECT @@gtid_slave_pos',
  "SELECT COUNT(*), COUNT(v), SUM(v LIKE '%touch%') FROM pitr.h",
];

t.teardown(() => rmSync(canaryDir, { recursive: true, force: true }));

t.test('point-in-time restore to a time, a GTID, after batch B; refused targets', async (t) => {
  const full = await xbMgr(['--config', conf, 'run', '--host', HOST]);
  t.equal(full.exitCode, 0, `full backup: ${full.stderr}`);
  const sup = startSupervisor();
  t.teardown(() => void sup.child.kill('SIGTERM'));
  await waitFor('the stream', () => streamPid());

  const nA = 40;
  sql(HOST, transfers('A', nA / 2, 1));
  // A rotation inside A: the replay to T crosses files (and checks their continuity).
  sql(HOST, 'FLUSH BINARY LOGS');
  sql(HOST, transfers('A', nA / 2, 2));
  sql(HOST, "CREATE USER 'pitr_u'@'localhost'; GRANT SELECT ON pitr.* TO 'pitr_u'@'localhost'");
  // Hostile statements logged as statements: a manager file read at replay, a shell line in a string.
  sql(
    HOST,
    `SET SESSION binlog_format = STATEMENT; INSERT INTO pitr.h (v) VALUES (LOAD_FILE('${secret}')); INSERT INTO pitr.h (v) VALUES ('x\n\\! touch ${shellCanary}\n');`,
  );
  sql(HOST, transfers('A', 5, 3));
  const lastA = serverGtid();
  await caughtUp();
  await sleep(2200);
  const T = Math.ceil(Date.now() / 1000);
  await sleep(Math.max(0, T * 1000 - Date.now()) + 1200);

  const nB = 60;
  sql(HOST, transfers('B', nB / 2, 5));
  const mb = streamPid()!;
  process.kill(mb, 'SIGKILL');
  sql(HOST, transfers('B', nB / 4, 9));
  await waitFor('a new stream after kill -9', () => {
    const p = streamPid();
    return p !== undefined && p !== mb ? p : undefined;
  });
  // A server restart (a new binlog file) in B: the stream reconnects, the replay crosses it.
  const before = streamPid();
  sandbox('stop-db', HOST);
  sandbox('start-db', HOST);
  await waitFor('the stream after a server restart', () => {
    const p = streamPid();
    return p !== undefined && p !== before ? p : undefined;
  });
  sql(HOST, transfers('B', nB / 4, 11));
  await caughtUp();
  await sleep(1500);

  const tIso = new Date(T * 1000).toISOString().replace('.000Z', 'Z');
  const expectA = [String(nA + 5), '0', String(ACCOUNTS * 1000), '1', lastA];
  for (const [name, args] of [
    ['--to-time T', ['--to-time', tIso]],
    ['--to-gtid <last of A>', ['--to-gtid', lastA]],
  ] as const) {
    const target = join(dir, `restored-${name.replace(/\W+/g, '')}`);
    const r = await xbMgr(['--config', conf, 'restore', '--host', HOST, ...args, '--target-dir', target]);
    t.equal(r.exitCode, 0, `${name}: ${r.stderr}`);
    t.match(r.stdout, /replayed \d+ transaction/, `${name}: says what it replayed`);
    const got = await inspect(target, CHECKS);
    t.same(
      got.slice(0, 5),
      expectA,
      `${name}: exactly batch A, the money invariant, the grant, gtid_slave_pos`,
    );
    t.equal(got[5], '2\t1\t1', `${name}: LOAD_FILE read nothing (NULL), the shell line is data`);
  }
  t.notOk(existsSync(shellCanary), 'the \\! line ran no shell');

  const afterB = join(dir, 'restored-after-b');
  const now = new Date(Math.floor(Date.now() / 1000) * 1000).toISOString().replace('.000Z', 'Z');
  const rb = await xbMgr([
    '--config',
    conf,
    'restore',
    '--host',
    HOST,
    '--to-time',
    now,
    '--target-dir',
    afterB,
  ]);
  t.equal(rb.exitCode, 0, `after B: ${rb.stderr}`);
  const gb = await inspect(afterB, CHECKS);
  t.same(
    gb.slice(0, 5),
    [String(nA + 5), String(nB), String(ACCOUNTS * 1000), '1', serverGtid()],
    'after B: all of B',
  );

  // --to-host: the point in time onto sb2 through restore.yml; its server runs on the recovered data.
  const d2 = join(sandboxDir, 'hosts', 'sb2');
  t.teardown(() => {
    const aside = readdirSync(d2)
      .filter((n) => n.startsWith('data.old-'))
      .sort()[0];
    if (!aside) return;
    sandbox('stop-db', 'sb2');
    rmSync(join(d2, 'data'), { recursive: true, force: true });
    renameSync(join(d2, aside), join(d2, 'data'));
    for (const n of readdirSync(d2).filter((x) => /^data\.(old|failed|xb-new|xb-restore)-/.test(x)))
      rmSync(join(d2, n), { recursive: true, force: true });
    sandbox('start-db', 'sb2');
  });
  const rh = await xbMgr([
    '--config',
    conf,
    'restore',
    '--host',
    HOST,
    '--to-gtid',
    lastA,
    '--to-host',
    sb2Address,
    '--force',
  ]);
  t.equal(rh.exitCode, 0, `--to-host: ${rh.stderr}`);
  t.match(rh.stdout, /the server was started on the recovered data and answers/);
  t.same(
    CHECKS.slice(0, 5).map((q) => sql('sb2', q)),
    expectA,
    '--to-host: sb2 runs on exactly batch A, with gtid_slave_pos at the last GTID of A',
  );

  for (const [why, time, re] of [
    [
      'before the oldest backup',
      '2001-01-01T00:00:00Z',
      /outside the recoverable window.*recoverable window: from backup/,
    ],
    [
      'in the future',
      new Date(Date.now() + 3_600_000).toISOString().replace(/\.\d+Z$/, 'Z'),
      /in the future/,
    ],
    ['with fractions', '2026-01-01T00:00:00.5Z', /fractions/],
  ] as const) {
    const r = await xbMgr([
      '--config',
      conf,
      'restore',
      '--host',
      HOST,
      '--to-time',
      time,
      '--target-dir',
      join(dir, 'refused'),
    ]);
    t.equal(r.exitCode, 2, `${why}: exit 2`);
    t.match(r.stderr, re, `${why}: says why`);
    t.notOk(existsSync(join(dir, 'refused')), `${why}: nothing restored`);
  }
});
