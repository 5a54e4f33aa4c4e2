#!/usr/bin/env node
// node bench/pitr-replay.mjs [--transactions 20000] [--out bench/pitr-replay.json]
//
// Replay throughput of point-in-time recovery against the raw tools on the same binlogs: a full
// backup of sandbox host sb1, the binlog supervisor storing --transactions transfer transactions,
// then (1) `xb-mgr restore --to-time <after them>` (its replay: a confined mysqld with grant
// tables, mariadb-binlog | mariadb as the worker, gtid_slave_pos, shutdown) and (2) the same base
// restored with `xb-mgr restore`, a plain mariadbd started on it as root and
// `mariadb-binlog --start-position=GTID FILES | mariadb`, then shut down. Both are timed from the
// server's start to its end. Uses the sandbox of XB_SANDBOX_DIR/XB_SANDBOX_NET, after `npm run build`.
import { spawn, execFileSync } from 'node:child_process';
import {
  mkdtempSync,
  readFileSync,
  writeFileSync,
  readdirSync,
  existsSync,
  copyFileSync,
  mkdirSync,
} from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { parseArgs } from 'node:util';
import { setTimeout as sleep } from 'node:timers/promises';

const repo = resolve(dirname(fileURLToPath(import.meta.url)), '..');
const { values: a } = parseArgs({
  options: {
    transactions: { type: 'string', default: '20000' },
    out: { type: 'string', default: join(repo, 'bench', 'pitr-replay.json') },
  },
});
const N = Number(a.transactions);
process.env.XB_SANDBOX_DIR ??= '/tmp/xb-bench-pitr-sandbox';
process.env.XB_SANDBOX_NET ??= '127.0.5';
const sb = process.env.XB_SANDBOX_DIR;
const sandbox = (...args) =>
  execFileSync('bash', [join(repo, 'scripts', 'sandbox'), ...args], { encoding: 'utf8', maxBuffer: 1 << 28 });
const cli = (...args) =>
  execFileSync('node', [join(repo, 'dist', 'cli.js'), '--config', conf, ...args], { encoding: 'utf8' });

sandbox('up', '1');
const pw = sandbox('password').replace(/\\/g, '\\\\').replace(/'/g, "\\'");
sandbox(
  'sql',
  'sb1',
  `CREATE OR REPLACE USER 'xbbinlog'@'localhost' IDENTIFIED BY '${pw}'; GRANT REPLICATION SLAVE, BINLOG MONITOR ON *.* TO 'xbbinlog'@'localhost';
   DROP DATABASE IF EXISTS pitrbench; CREATE DATABASE pitrbench;
   CREATE TABLE pitrbench.acct (id INT PRIMARY KEY, balance INT NOT NULL) ENGINE=InnoDB;
   CREATE TABLE pitrbench.log (id INT AUTO_INCREMENT PRIMARY KEY, a INT, b INT, x INT, at DATETIME(6)) ENGINE=InnoDB;
   INSERT INTO pitrbench.acct SELECT seq, 100000 FROM pitrbench.seq_1_to_1000; FLUSH BINARY LOGS`,
);
const dir = mkdtempSync(join(tmpdir(), 'xb-pitr-bench-'));
execFileSync('chmod', ['711', dir]);
const conf = join(dir, 'backup.conf');
writeFileSync(
  conf,
  readFileSync(join(sb, 'backup.conf'), 'utf8')
    .replace(/^backup_dir = .*$/m, `backup_dir = ${dir}/backups`)
    .replace(/^log = (.*)\/logs\/(\S+)$/gm, `log = ${dir}/$2`)
    .replace(/^pid = .*$/m, `pid = ${dir}/xb-mgr.pid`)
    .replace(/^\[sb1\]$/m, '[sb1]\nbinlog_stream = true\nbinlog_user = xbbinlog'),
  { mode: 0o600 },
);
cli('run', '--host', 'sb1');
const sup = spawn('node', [join(repo, 'dist', 'cli.js'), '--config', conf, 'binlog'], { stdio: 'ignore' });
// One transaction per transfer (each its own GTID in the binlog), from a procedure: no huge argv.
sandbox(
  'sql',
  'sb1',
  `DELIMITER $$
CREATE PROCEDURE pitrbench.transfers(n INT) BEGIN DECLARE i INT DEFAULT 0; DECLARE p INT; DECLARE r INT; DECLARE x INT;
   WHILE i < n DO SET p = (i * 7) % 1000 + 1; SET r = (i * 13 + 1) % 1000 + 1; SET x = i % 97 + 1;
   START TRANSACTION; UPDATE pitrbench.acct SET balance = balance - x WHERE id = p; UPDATE pitrbench.acct SET balance = balance + x WHERE id = r;
   INSERT INTO pitrbench.log (a, b, x, at) VALUES (p, r, x, NOW(6)); COMMIT; SET i = i + 1; END WHILE; END$$`,
);
sandbox('sql', 'sb1', `CALL pitrbench.transfers(${N})`);
const want = sandbox('sql', 'sb1', 'SELECT @@gtid_binlog_pos').trim();
for (let i = 0; i < 600; i++) {
  if (cli('list', '--host', 'sb1').includes(want)) break;
  await sleep(200);
}
await sleep(2000);
sup.kill('SIGTERM');
await new Promise((r) => sup.on('close', r));

// (1) xb-mgr's replay
const t0 = Date.now();
const r1 = JSON.parse(
  cli('restore', '--host', 'sb1', '--to-gtid', want, '--target-dir', join(dir, 'pitr'), '--json'),
);
const xbTotal = (Date.now() - t0) / 1000;

// (2) the raw tools on the same base and the same stored files
cli('restore', '--host', 'sb1', '--backup', r1.base, '--target-dir', join(dir, 'raw'));
const files = [];
const bdir = join(dir, 'backups', 'sb1', 'binlog');
mkdirSync(join(dir, 'rawbin'));
const names = readdirSync(bdir).filter((n) => /^mysql-bin\.\d+$/.test(n));
for (const n of names) files.push(join(bdir, n));
for (const s of existsSync(join(bdir, 'staging')) ? readdirSync(join(bdir, 'staging')).sort() : [])
  for (const n of readdirSync(join(bdir, 'staging', s)))
    if (!names.includes(n)) {
      copyFileSync(join(bdir, 'staging', s, n), join(dir, 'rawbin', n));
      if (!files.includes(join(dir, 'rawbin', n))) files.push(join(dir, 'rawbin', n));
    }
const sock = join(dir, 'raw.sock');
const t1 = Date.now();
const srv = spawn(
  'mariadbd',
  [
    '--no-defaults',
    `--datadir=${join(dir, 'raw')}`,
    `--socket=${sock}`,
    '--skip-networking',
    '--skip-grant-tables',
    '--skip-log-bin',
    '--user=root',
    '--innodb-buffer-pool-size=256M',
    `--log-error=${dir}/raw.err`,
  ],
  { stdio: 'ignore' },
);
for (let i = 0; i < 600; i++) {
  try {
    execFileSync('mariadb-admin', ['--no-defaults', '-S', sock, 'ping'], { stdio: 'ignore' });
    break;
  } catch {
    await sleep(100);
  }
}
const t2 = Date.now();
execFileSync('bash', [
  '-o',
  'pipefail',
  '-c',
  'TZ=UTC mariadb-binlog --no-defaults --start-position="$1" "${@:3}" | mariadb --no-defaults -S "$2"',
  'x',
  r1.binlog.gtid,
  sock,
  ...files.sort(),
]);
const t3 = Date.now();
execFileSync('mariadb-admin', ['--no-defaults', '-S', sock, 'shutdown']);
await new Promise((r) => (srv.exitCode !== null ? r() : srv.on('close', r)));
const rawServer = (Date.now() - t1) / 1000;
const res = {
  transactions: r1.transactions,
  xb_mgr_replay_seconds: r1.replay_seconds,
  xb_mgr_restore_total_seconds: xbTotal,
  raw_server_start_to_end_seconds: rawServer,
  raw_pipe_only_seconds: (t3 - t2) / 1000,
  ratio_xb_mgr_to_raw: Math.round((r1.replay_seconds / rawServer) * 100) / 100,
  xb_mgr_tx_per_second: Math.round(r1.transactions / r1.replay_seconds),
  raw_tx_per_second: Math.round(r1.transactions / rawServer),
};
writeFileSync(a.out, JSON.stringify(res, null, 1) + '\n');
process.stdout.write(JSON.stringify(res, null, 1) + '\n');
