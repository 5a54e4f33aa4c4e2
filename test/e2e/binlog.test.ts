/**
 * e2e of `xb-mgr binlog` on a sandbox host: a writer commits while the supervisor streams; the
 * stream is killed (-9), the server restarted, SSH cut, binlogs flushed, the supervisor itself
 * killed (-9) and restarted. Afterwards the stored binlogs hold exactly the server's events (the
 * GTIDs of `mariadb-binlog` over both, in order, and the bytes), with no gap and no duplicate. Then
 * binlogs purged while the supervisor is down give a reported gap (gaps.json, list, metrics, log).
 */
import t from 'tap';
import { spawn, type ChildProcess } from 'node:child_process';
import { existsSync, readdirSync, readFileSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { execa } from 'execa';
import { repo, sandbox, sandboxDir, sandboxUp, sql, testConfig, xbMgr } from './sandbox.js';
import { alive, processes, waitFor } from './procs.js';
import { readStoredPoint } from '../../src/binlog/window.js';
import { compareNames, validBinlogName } from '../../src/binlog/names.js';

const HOST = 'sb1';
const datadir = join(sandboxDir, 'hosts', HOST, 'data');

sandboxUp();
// The binlog user with the sandbox's hazardous password (a sandbox made before it existed lacks it).
const pw = sandbox('password').replace(/\\/g, '\\\\').replace(/'/g, "\\'");
sql(
  HOST,
  `CREATE OR REPLACE USER 'xbbinlog'@'localhost' IDENTIFIED BY '${pw}'; GRANT REPLICATION SLAVE, BINLOG MONITOR ON *.* TO 'xbbinlog'@'localhost'; CREATE TABLE IF NOT EXISTS shop.bl (id INT AUTO_INCREMENT PRIMARY KEY, tag VARCHAR(40), at DATETIME(6)) ENGINE=InnoDB`,
);

const { file: conf, dir } = testConfig([`metrics_file = ${'/tmp'}/xb-binlog-e2e-${process.pid}.prom`], {
  [HOST]: [
    'binlog_stream = true',
    'binlog_user = xbbinlog',
    'binlog_retry_max_seconds = 2',
    'binlog_fsync_ms = 100',
  ],
});
const runMetricsFile = `/tmp/xb-binlog-e2e-${process.pid}.prom`;
const metricsFile = `/tmp/xb-binlog-e2e-${process.pid}-binlog.prom`;
const hostRoot = join(dir, 'backups', HOST);

const live = new Set<ChildProcess>();

function startSupervisor(): {
  child: ChildProcess;
  out: Promise<{ code: number | null; stdout: string; stderr: string }>;
} {
  const child = spawn(
    'node',
    [join(repo, 'dist', 'cli.js'), '--config', conf, 'binlog', '--json', '--log-level', 'info'],
    {
      stdio: ['ignore', 'pipe', 'pipe'],
    },
  );
  // A failed assertion must not leave a supervisor streaming (the file would never end).
  live.add(child);
  child.on('exit', () => live.delete(child));
  let stdout = '';
  let stderr = '';
  child.stdout!.on('data', (b: Buffer) => (stdout += b.toString()));
  child.stderr!.on('data', (b: Buffer) => (stderr += b.toString()));
  const out = new Promise<{ code: number | null; stdout: string; stderr: string }>((r) =>
    child.on('close', (code) => r({ code, stdout, stderr })),
  );
  return { child, out };
}

/** Commits single-row transactions until stopped; errors (server down) are retried. */
function writer(tag: string): { stop: () => Promise<number> } {
  let run = true;
  let n = 0;
  const loop = (async () => {
    while (run) {
      const q = Array.from(
        { length: 10 },
        () => `INSERT INTO shop.bl (tag, at) VALUES ('${tag}', NOW(6))`,
      ).join(';');
      const r = await execa('bash', [join(repo, 'scripts', 'sandbox'), 'sql', HOST, q], { reject: false });
      if (r.exitCode === 0) n += 10;
      await new Promise((res) => setTimeout(res, 50));
    }
  })();
  return {
    stop: async () => {
      run = false;
      await loop;
      return n;
    },
  };
}

const serverGtid = () => sql(HOST, 'SELECT @@gtid_binlog_pos');
const caughtUp = (what: string) =>
  waitFor(what, () => readStoredPoint(hostRoot)?.gtid === serverGtid(), 60_000);

/** The stream's mariadb-binlog and its ssh forward (found by the private directory they share). */
function streamPids(): { mb?: number; ssh?: number } {
  const all = processes();
  let mb: number | undefined;
  let linkDir: string | undefined;
  for (const [pid, argv] of all) {
    if (argv.some((a) => a.startsWith(`--result-file=${hostRoot}/`))) {
      mb = pid;
      linkDir = argv
        .find((a) => a.startsWith('--defaults-extra-file='))
        ?.split('=')[1]
        ?.replace(/\/client\.cnf$/, '');
    }
  }
  let ssh: number | undefined;
  for (const [pid, argv] of all)
    if (linkDir && argv[0] === 'ssh' && argv.some((a) => a.startsWith(`${linkDir}/s:`))) ssh = pid;
  return { ...(mb !== undefined ? { mb } : {}), ...(ssh !== undefined ? { ssh } : {}) };
}

/** GTIDs in order as `mariadb-binlog` decodes them. */
async function gtidsOf(files: string[]): Promise<string[]> {
  if (files.length === 0) return [];
  const r = await execa('mariadb-binlog', files, { reject: false });
  return [...String(r.stdout).matchAll(/\tGTID (\d+-\d+-\d+)/g)].map((m) => m[1]!);
}

/** Stored files: complete ones, and for names not complete yet the longest staged copy. */
function storedFiles(): Map<string, string> {
  const out = new Map<string, string>();
  const bdir = join(hostRoot, 'binlog');
  for (const n of readdirSync(bdir).filter(validBinlogName)) out.set(n, join(bdir, n));
  const staging = join(bdir, 'staging');
  for (const s of existsSync(staging) ? readdirSync(staging).sort() : []) {
    for (const n of readdirSync(join(staging, s)).filter(validBinlogName)) {
      const p = join(staging, s, n);
      const cur = out.get(n);
      if (!cur || (cur.includes('/staging/') && statSync(p).size > statSync(cur).size)) out.set(n, p);
    }
  }
  return out;
}

/** Same bytes, but for the format description's "in use" flag the server clears on closing a file. */
function sameBinlog(a: Buffer, b: Buffer): boolean {
  if (a.length !== b.length) return false;
  const x = Buffer.from(a);
  const y = Buffer.from(b);
  x[21] = y[21] = 0;
  return x.equals(y);
}

t.test(
  'stream through kill -9, server restart, SSH cut, rotation, supervisor kill: exact copy',
  async (t) => {
    let sup = startSupervisor();
    await waitFor('the stream', () => streamPids().mb);
    const w = writer('a');

    // A second supervisor on the same backup_dir exits 75.
    const second = await xbMgr(['--config', conf, 'binlog']);
    t.equal(second.exitCode, 75, 'a second supervisor exits 75');
    t.match(second.stderr, /another binlog supervisor/);

    await new Promise((r) => setTimeout(r, 1500));
    const mb = streamPids().mb!;
    process.kill(mb, 'SIGKILL');
    await waitFor('a new stream after kill -9', () => {
      const p = streamPids().mb;
      return p !== undefined && p !== mb;
    });
    sql(HOST, 'FLUSH BINARY LOGS');
    await new Promise((r) => setTimeout(r, 1000));
    sql(HOST, 'FLUSH BINARY LOGS');

    sandbox('stop-db', HOST);
    await new Promise((r) => setTimeout(r, 1000));
    sandbox('start-db', HOST);
    await waitFor('the stream after a server restart', () => streamPids().mb, 60_000);

    const before = streamPids();
    sandbox('stop-ssh', HOST);
    // Stopping sshd leaves open sessions alone: the cut itself is the forward's end.
    if (before.ssh) process.kill(before.ssh, 'SIGKILL');
    await new Promise((r) => setTimeout(r, 2500));
    sandbox('start-ssh', HOST);
    await waitFor('the stream after an SSH cut', () => {
      const p = streamPids().mb;
      return p !== undefined && p !== before.mb;
    });

    // The supervisor itself killed: its successor stops the orphans and resumes.
    const orphan = streamPids().mb!;
    sup.child.kill('SIGKILL');
    await sup.out;
    await new Promise((r) => setTimeout(r, 1000));
    sup = startSupervisor();
    await waitFor('the orphaned stream stopped', () => !alive(orphan), 30_000);
    await waitFor('a stream of the new supervisor', () => {
      const p = streamPids().mb;
      return p !== undefined && p !== orphan;
    });
    await new Promise((r) => setTimeout(r, 1000));
    const rows = await w.stop();
    t.ok(rows > 100, `the writer committed ${rows} rows`);
    await caughtUp('the stored point at the server GTID');

    sup.child.kill('SIGTERM');
    const res = await sup.out;
    t.equal(res.code, 0, 'SIGTERM: exit 0');
    const doc = JSON.parse(res.stdout) as { hosts: { host: string; gaps_found: number; sessions: number }[] };
    t.equal(doc.hosts[0]!.host, HOST);
    t.equal(doc.hosts[0]!.gaps_found, 0, 'no gap');
    t.ok(doc.hosts[0]!.sessions >= 1);
    t.notOk(existsSync(join(dir, 'backups', '.binlog.lock')), 'the lock is released');

    const stored = storedFiles();
    const names = [...stored.keys()].sort(compareNames);
    const server = readdirSync(datadir)
      .filter((n) => validBinlogName(n) && compareNames(n, names[0]!) >= 0)
      .sort(compareNames);
    t.same(names, server, 'every server binlog from the first stored one is stored');
    const storedG = await gtidsOf(names.map((n) => stored.get(n)!));
    const serverG = await gtidsOf(server.map((n) => join(datadir, n)));
    t.ok(serverG.length > rows, `${serverG.length} GTIDs on the server`);
    t.same(storedG, serverG, 'the stored binlogs hold exactly the server GTIDs, in order');
    t.equal(new Set(storedG).size, storedG.length, 'no duplicate');
    for (const n of names)
      t.ok(
        sameBinlog(readFileSync(stored.get(n)!), readFileSync(join(datadir, n))),
        `${n}: same bytes as the server's`,
      );
    t.notOk(existsSync(join(sandboxDir, 'pwned-shell')) || existsSync(join(sandboxDir, 'pwned-jinja')));

    const list = await xbMgr(['--config', conf, 'list', '--host', HOST, '--json']);
    const l = JSON.parse(list.stdout) as {
      hosts: { binlog?: { to?: { gtid?: string }; gaps: unknown[] } }[];
    };
    t.equal(l.hosts[0]!.binlog?.to?.gtid, serverGtid(), 'list: the last stored GTID');
    t.same(l.hosts[0]!.binlog?.gaps, []);
  },
);

t.test('binlogs purged while the supervisor was down: a reported gap', async (t) => {
  const last = readStoredPoint(hostRoot)!;
  sql(
    HOST,
    "INSERT INTO shop.bl (tag, at) VALUES ('gap', NOW(6)); FLUSH BINARY LOGS; INSERT INTO shop.bl (tag, at) VALUES ('gap', NOW(6)); FLUSH BINARY LOGS",
  );
  const newest = sql(HOST, 'SHOW BINARY LOGS').split('\n').at(-1)!.split('\t')[0]!;
  sql(HOST, `PURGE BINARY LOGS TO '${newest}'`);
  // The server may keep a file it still needs for crash recovery: the gap ends at its oldest.
  const oldest = sql(HOST, 'SHOW BINARY LOGS').split('\n')[0]!.split('\t')[0]!;
  t.ok(compareNames(oldest, last.file) > 0, `the server purged ${last.file}`);
  const sup = startSupervisor();
  await waitFor('the gap', () => existsSync(join(hostRoot, 'binlog', 'gaps.json')), 60_000);
  await caughtUp('the stream after the gap');
  const list = await xbMgr(['--config', conf, 'list', '--host', HOST, '--json']);
  const gaps = (
    JSON.parse(list.stdout) as {
      hosts: { binlog: { gaps: { after_file: string; before_file: string }[] } }[];
    }
  ).hosts[0]!.binlog.gaps;
  t.equal(gaps.length, 1, 'one gap in list --json');
  t.equal(gaps[0]!.before_file, oldest, 'before the first file the server still had');
  t.ok(compareNames(gaps[0]!.after_file, last.file) >= 0);
  const text = await xbMgr(['--config', conf, 'list', '--host', HOST]);
  t.match(text.stdout, /binlog GAP after/);
  await waitFor(
    'metrics with the gap',
    () =>
      existsSync(metricsFile) && /xb_mgr_binlog_gaps\{host="sb1"\} 1/.test(readFileSync(metricsFile, 'utf8')),
    15_000,
  );
  sup.child.kill('SIGTERM');
  const res = await sup.out;
  t.equal(res.code, 0);
  t.match(res.stderr, /binlog gap/, 'the gap is logged');
  t.equal((JSON.parse(res.stdout) as { hosts: { gaps_found: number }[] }).hosts[0]!.gaps_found, 1);
});

t.test(
  'backups beside the supervisor; the window starts at a retained backup; retention drops older binlogs',
  async (t) => {
    const sup = startSupervisor();
    await caughtUp('the stream');
    const r1 = await xbMgr(['--config', conf, 'run', '--host', HOST, '--full', '--json']);
    t.equal(r1.exitCode, 0, `a backup runs beside the supervisor: ${r1.stderr}`);
    sql(
      HOST,
      "INSERT INTO shop.bl (tag, at) VALUES ('r', NOW(6)); FLUSH BINARY LOGS; INSERT INTO shop.bl (tag, at) VALUES ('r', NOW(6))",
    );
    // The same catalog with retain_days = 0: the first backup goes, and the binlogs before the second.
    await caughtUp('the stream after the first backup');
    const before = readdirSync(join(hostRoot, 'binlog')).filter(validBinlogName).sort(compareNames);
    const conf0 = join(dir, 'backup0.conf');
    writeFileSync(conf0, readFileSync(conf, 'utf8').replace(/^retain_days = .*$/m, 'retain_days = 0'), {
      mode: 0o600,
    });
    const r2 = await xbMgr(['--config', conf0, 'run', '--host', HOST, '--full', '--json']);
    t.equal(r2.exitCode, 0, r2.stderr);
    await caughtUp('the stream after the backups');
    const l = JSON.parse((await xbMgr(['--config', conf, 'list', '--host', HOST, '--json'])).stdout) as {
      hosts: {
        chains: { backups: { id: string }[] }[];
        binlog: {
          from?: { backup: string; binlog_file?: string };
          to?: { gtid?: string };
          supervisor_running: boolean;
        };
      }[];
    };
    const h = l.hosts[0]!;
    const ids = h.chains.flatMap((c) => c.backups.map((b) => b.id));
    t.equal(ids.length, 1, 'retention kept one backup');
    t.equal(h.binlog.from?.backup, ids[0], 'the window starts at the retained backup');
    t.ok(h.binlog.from?.binlog_file, 'which has a binlog position');
    t.equal(h.binlog.to?.gtid, serverGtid(), 'and ends at the last commit');
    t.equal(h.binlog.supervisor_running, true);
    const stored = readdirSync(join(hostRoot, 'binlog')).filter(validBinlogName).sort(compareNames);
    t.ok(stored.length >= 1);
    const pos = h.binlog.from!.binlog_file!;
    t.same(
      before.filter((n) => stored.includes(n)),
      before.filter((n) => compareNames(n, pos) >= 0 || n === stored.at(-1)),
      `exactly the binlogs before ${pos} went, but the newest stored one: ${stored.join(' ')}`,
    );
    sup.child.kill('SIGTERM');
    t.equal((await sup.out).code, 0);
  },
);

t.teardown(() => {
  for (const c of live) c.kill('SIGTERM'); // its own handler stops its streams
  for (const f of [metricsFile, runMetricsFile]) if (existsSync(f)) rmSync(f);
});

t.test('check: the binlog lines', async (t) => {
  const r = await xbMgr(['--config', conf, 'check', '--host', HOST, '--json']);
  const lines = (
    JSON.parse(r.stdout) as { checks: { host: string; check: string; ok: boolean; detail: string }[] }
  ).checks;
  for (const c of [
    'binlog connect',
    'binlog grants',
    'log_bin',
    'binlog_format',
    'server_id',
    'binlog retention',
  ])
    t.ok(lines.find((l) => l.check === c)?.ok, `${c} OK`);
});
