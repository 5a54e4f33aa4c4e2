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
import {
  chmodSync,
  existsSync,
  mkdtempSync,
  readdirSync,
  readFileSync,
  renameSync,
  rmSync,
  writeFileSync,
} from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { execa } from 'execa';
import { crc32 } from 'node:zlib';
import {
  e2eTempDir,
  repo,
  sandbox,
  sandboxDir,
  sandboxUp,
  sb2Address,
  sql,
  testConfig,
  xbMgr,
} from './sandbox.js';
import { processes, waitFor } from './procs.js';
import { readStoredPoint } from '../../src/binlog/window.js';
import { readGaps, readIndex } from '../../src/binlog/store.js';
import { compareNames } from '../../src/binlog/names.js';
import { ageKeys, objstoreEnv, offsiteConfig } from './offsite-env.js';
import { openStore as openS3 } from '../../src/offsite/s3.js';
import { deleteObjects, listObjects } from '../../src/offsite/objects.js';

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

// The off-site copy (the sandbox's object store): backups and closed binlogs go there, and the
// point-in-time restore is repeated from the store alone.
const env = objstoreEnv();
const keys = ageKeys();
const prefix = `pitr-${process.pid}`;
const s3 = openS3(offsiteConfig(env, prefix));
t.teardown(async () => {
  const left = await listObjects(s3, `${prefix}/`).catch(() => []);
  await deleteObjects(
    s3,
    left.map((l) => l.key),
  ).catch(() => undefined);
  s3.client.destroy();
});

const metricsDir = e2eTempDir('xb-pitr-metrics-');
const { file: conf, dir } = testConfig([`metrics_file = ${join(metricsDir, 'xb-mgr.prom')}`], {
  [HOST]: [
    `offsite_url = s3://${env.XB_S3_BUCKET}/${prefix}`,
    `s3_endpoint = ${env.XB_S3_ENDPOINT}`,
    `s3_access_key_id = ${env.XB_S3_ACCESS_KEY_ID}`,
    `s3_secret_access_key = ${readFileSync(env.XB_S3_SECRET_FILE!, 'utf8').trim()}`,
    `offsite_recipients = ${keys.recipient}`,
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

  // From the store alone: the closed binlog files go off-site with the backups; the files of A
  // are closed (the server restart in B rotated), the newest one (B's end) is still staged.
  const t0 = Date.now();
  // The stream stopped first: nothing writes into backup_dir while it is moved away below.
  sup.child.kill('SIGTERM');
  await sup.out;
  const later = new Date(Math.floor(Date.now() / 1000) * 1000).toISOString().replace('.000Z', 'Z');
  const fullDir = join(hostRoot, 'full', readdirSync(join(hostRoot, 'full'))[0]!);
  const baseFile = (
    JSON.parse(readFileSync(join(fullDir, 'manifest.json'), 'utf8')) as { binlog: { file: string } }
  ).binlog.file;
  const sync = await xbMgr(['--config', conf, 'offsite', 'sync', '--host', HOST]);
  t.equal(sync.exitCode, 0, `offsite sync: ${sync.stderr}`);
  t.match(sync.stdout, /binlogs: [1-9]\d* uploaded/, 'closed binlog files uploaded');
  const offsiteMetrics = readFileSync(join(metricsDir, 'xb-mgr-offsite.prom'), 'utf8');
  t.match(
    offsiteMetrics,
    new RegExp(`xb_mgr_offsite_binlog_backlog_files\\{host="${HOST}"\\} 0\n`),
    'no binlog backlog once the sync is done',
  );
  t.match(offsiteMetrics, new RegExp(`xb_mgr_offsite_binlog_backlog_bytes\\{host="${HOST}"\\} 0\n`));
  const closed = readIndex(hostRoot).map((f) => f.name);
  const stored = (await listObjects(s3, `${prefix}/${HOST}/binlog/`)).map((l) => l.key.split('/').at(-1));
  t.same(
    stored,
    closed.filter((n) => compareNames(n, baseFile) >= 0).map((n) => `${n}.age`),
    'each closed file from the binlog file of the backup on (and only those) is in the store, encrypted',
  );
  const deep = await xbMgr([
    '--config',
    conf,
    'verify',
    '--offsite',
    '--deep',
    '--identity',
    keys.identity,
    '--host',
    HOST,
  ]);
  t.equal(deep.exitCode, 0, `verify --offsite --deep covers the binlogs: ${deep.stdout}${deep.stderr}`);
  const ls = await xbMgr(['--config', conf, 'list', '--offsite', '--json', '--host', HOST]);
  t.equal(ls.exitCode, 0, `list --offsite: ${ls.stderr}`);
  type Listed = { hosts: { binlog?: { files: number; from?: { backup: string } } }[] };
  const win = (JSON.parse(ls.stdout) as Listed).hosts[0]?.binlog;
  t.equal(win?.files, stored.length, 'list --offsite counts the binlog files off-site');
  t.equal(win?.from?.backup, fullDir.split('/').at(-1), 'and its window starts at the backup');

  // The manager is lost: only backup.conf and the identity remain.
  const backups = join(dir, 'backups');
  renameSync(backups, `${backups}.away`);
  const putBack = () => {
    if (!existsSync(`${backups}.away`)) return;
    rmSync(backups, { recursive: true, force: true });
    renameSync(`${backups}.away`, backups);
  };
  t.teardown(putBack);
  const fromStore = (...a: string[]) =>
    xbMgr(['--config', conf, 'restore', '--host', HOST, '--from-offsite', '--identity', keys.identity, ...a]);
  const offT = join(dir, 'restored-offsite-T');
  const ro = await fromStore('--to-time', tIso, '--target-dir', offT);
  t.equal(ro.exitCode, 0, `--from-offsite --to-time T: ${ro.stderr}`);
  t.same((await inspect(offT, CHECKS)).slice(0, 5), expectA, '--from-offsite --to-time T: exactly batch A');
  t.same(readdirSync(join(backups, HOST, 'prepare')), [], 'the downloaded base and binlogs are removed');
  // After the newest event off-site (B's end is not closed yet) and no stream to wait for: exit 2.
  const late = await fromStore('--to-time', later, '--target-dir', join(dir, 'refused'));
  t.equal(late.exitCode, 2, `after the off-site window: exit 2: ${late.stderr}`);
  t.match(late.stderr, /outside the recoverable window.*recoverable window: from backup .* to 20/);
  putBack();

  // The stream stopped: a target after its newest event is outside the local window too (exit 2).
  const local = await xbMgr([
    '--config',
    conf,
    'restore',
    '--host',
    HOST,
    '--to-time',
    later,
    '--target-dir',
    join(dir, 'refused'),
  ]);
  t.equal(local.exitCode, 2, `after the local window, stream stopped: exit 2: ${local.stderr}`);
  t.match(local.stderr, /after the newest stored event.*recoverable window: from backup/);

  // A gap the local store found (gaps.json) before T: refused locally and from the store (exit 1).
  // The file opened by the rotation inside A: after the base's, started before T.
  const second = closed.find((n) => compareNames(n, baseFile) > 0)!;
  const gapsFile = join(hostRoot, 'binlog', 'gaps.json');
  const gapsBefore = existsSync(gapsFile) ? readFileSync(gapsFile) : undefined;
  t.teardown(() => (gapsBefore ? writeFileSync(gapsFile, gapsBefore) : rmSync(gapsFile, { force: true })));
  writeFileSync(
    join(hostRoot, 'binlog', 'gaps.json'),
    JSON.stringify({
      gaps: [
        ...readGaps(hostRoot),
        {
          detected_at: new Date().toISOString(),
          after_file: baseFile,
          after_state: '0-1-1',
          before_file: second,
          before_gtid_list: '0-1-2',
          reason: 'test: purged before it was streamed',
        },
      ],
    }),
  );
  const resync = await xbMgr(['--config', conf, 'offsite', 'sync', '--host', HOST]);
  t.equal(resync.exitCode, 0, `offsite sync records the gap: ${resync.stderr}`);
  const gapLocal = await xbMgr([
    '--config',
    conf,
    'restore',
    '--host',
    HOST,
    '--to-time',
    tIso,
    '--target-dir',
    join(dir, 'refused'),
  ]);
  t.equal(gapLocal.exitCode, 1, `a gap before T: exit 1: ${gapLocal.stderr}`);
  t.match(
    gapLocal.stderr,
    new RegExp(`gap .*before ${second.replace('.', '\\.')}.*purged before it was streamed`),
  );
  renameSync(backups, `${backups}.away`);
  const gapOff = await fromStore('--to-time', tIso, '--target-dir', join(dir, 'refused'));
  putBack();
  t.equal(gapOff.exitCode, 1, `a gap before T, from the store: exit 1: ${gapOff.stderr}`);
  t.match(
    gapOff.stderr,
    new RegExp(`gap .*before ${second.replace('.', '\\.')}.*purged before it was streamed`),
  );
  t.notOk(existsSync(join(dir, 'refused')), 'nothing restored');
  t.comment(`off-site part: ${((Date.now() - t0) / 1000).toFixed(1)} s`);
});

/**
 * A crafted binlog: a DB host writes whatever events it likes. A statement-format INSERT of a
 * padding string is streamed and stored, then its stored copy is rewritten in place (same
 * length, event checksum recomputed) into what a hostile host would send, one variant per
 * restore: a server-side `LOAD DATA INFILE '/etc/shadow'`, a `SELECT ... INTO OUTFILE` naming a
 * manager path, and a `\!` shell line on a line of its own. mariadb-binlog prints a Query event's
 * text verbatim, so the `\!` line does reach the client's input; the client runs with
 * --binary-mode and --sandbox (no client commands), so it is sent to the server as SQL and fails
 * as a syntax error. Each variant stops the replay with an error: the restore fails with one
 * clear line, nothing is restored, and nothing outside the replay server's directory was read
 * (secure_file_priv is an empty directory; the server runs as the worker) or written.
 */
t.test('a hostile binlog reads and writes nothing outside the replay', async (t) => {
  const pwned = `/tmp/xb-pwned-${process.pid}`;
  const pwned2 = `/tmp/xb-pwned2-${process.pid}`;
  t.teardown(() => {
    rmSync(pwned, { force: true });
    rmSync(pwned2, { force: true });
  });
  const sup = startSupervisor();
  t.teardown(() => void sup.child.kill('SIGTERM'));
  await waitFor('the stream', () => streamPid());
  // Unique: the sandbox server keeps older binlogs (with older pads) that the stream stores too.
  const pad = `XBPAD-${process.pid}-${Date.now()}-${'x'.repeat(120)}`;
  const text = `INSERT INTO pitr.h (v) VALUES ('${pad}')`;
  sql(HOST, `SET SESSION binlog_format = STATEMENT; ${text}`);
  sql(HOST, 'FLUSH BINARY LOGS');
  sql(HOST, transfers('C', 1, 1));
  await caughtUp();
  const bdir = join(hostRoot, 'binlog');
  let file: string | undefined;
  await waitFor('the padded event in a closed stored file', () => {
    file = readdirSync(bdir).find(
      (n) => /\.\d{6}$/.test(n) && readFileSync(join(bdir, n)).includes(Buffer.from(pad)),
    );
    return file;
  });
  await sleep(1200);
  const target = new Date(Math.floor(Date.now() / 1000) * 1000).toISOString().replace('.000Z', 'Z');
  const path = join(bdir, file!);
  const original = readFileSync(path);
  t.teardown(() => writeFileSync(path, original));

  /** The stored file with the padded statement's text replaced (same length, checksum redone). */
  function craft(sqlText: string): Buffer {
    const b = Buffer.from(original);
    const at = b.indexOf(Buffer.from(text));
    // The event holding it: walk the events from the file header.
    let ev = 4;
    while (ev + b.readUInt32LE(ev + 9) <= at) ev += b.readUInt32LE(ev + 9);
    const len = b.readUInt32LE(ev + 9);
    if (sqlText.length > text.length) throw new Error('variant too long');
    Buffer.from(sqlText.padEnd(text.length, ' ')).copy(b, at);
    t.equal(at + text.length, ev + len - 4, 'the text ends where the checksum starts');
    b.writeUInt32LE(crc32(b.subarray(ev, ev + len - 4)), ev + len - 4);
    return b;
  }

  const variants: [string, string, RegExp][] = [
    [
      'LOAD DATA INFILE of a manager file',
      `LOAD DATA INFILE '/etc/shadow' INTO TABLE pitr.h (v)`,
      /secure-file-priv|Access denied|Errcode|not allowed/i,
    ],
    ['SELECT INTO OUTFILE a manager path', `SELECT 'pwned' INTO OUTFILE '${pwned}'`, /secure-file-priv/i],
    // The client in --binary-mode parses no client command but refuses this one as unknown.
    ['a \\! shell line', `SELECT 1\n\\! touch ${pwned2}\n`, /Unknown command|syntax/i],
  ];
  for (const [name, variant, why] of variants) {
    writeFileSync(path, craft(variant));
    const into = join(dir, 'hostile');
    const r = await xbMgr([
      '--config',
      conf,
      'restore',
      '--host',
      HOST,
      '--to-time',
      target,
      '--target-dir',
      into,
    ]);
    t.equal(r.exitCode, 1, `${name}: the replay fails (exit 1)`);
    const lines = r.stderr.trim().split('\n');
    t.equal(lines.length, 1, `${name}: one line says so: ${r.stderr}`);
    t.match(lines[0] ?? '', /point-in-time restore failed: replaying the binlogs failed/);
    t.match(lines[0] ?? '', why, `${name}: the server or client refused it`);
    t.match(lines[0] ?? '', /nothing was restored/);
    t.notMatch(r.stderr, /\n\s+at /, `${name}: no stack trace`);
    t.notOk(existsSync(into), `${name}: nothing restored`);
    t.notOk(existsSync(pwned), `${name}: no OUTFILE written`);
    t.notOk(existsSync(pwned2), `${name}: no shell ran`);
  }
});
