#!/usr/bin/env node
// node bench/binlog-lag.mjs [--rate 100] [--seconds 60] [--fsync-ms 200] [--out bench/binlog-lag.json]
//
// Recovery-point lag of `xb-mgr binlog`: a writer commits single-row transactions at --rate per
// second on sandbox host sb1 and records each commit's GTID and time; the supervisor (with
// XB_MGR_BINLOG_TRACE) records when each stored point was fsynced on the manager. The lag of a
// commit is the time from the commit to the first stored point at or past its GTID. Uses the
// sandbox of XB_SANDBOX_DIR/XB_SANDBOX_NET (default: a bench sandbox of its own), after `npm run build`.
import { spawn, execFileSync } from 'node:child_process';
import { mkdtempSync, readFileSync, writeFileSync, rmSync, existsSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { parseArgs } from 'node:util';
import { setTimeout as sleep } from 'node:timers/promises';

const repo = resolve(dirname(fileURLToPath(import.meta.url)), '..');
const { values: a } = parseArgs({
  options: {
    rate: { type: 'string', default: '100' },
    seconds: { type: 'string', default: '60' },
    'fsync-ms': { type: 'string', default: '200' },
    out: { type: 'string', default: join(repo, 'bench', 'binlog-lag.json') },
  },
});
const rate = Number(a.rate);
const seconds = Number(a.seconds);
process.env.XB_SANDBOX_DIR ??= '/tmp/xb-bench-binlog-sandbox';
process.env.XB_SANDBOX_NET ??= '127.0.4';
const sb = process.env.XB_SANDBOX_DIR;
const sandbox = (...args) =>
  execFileSync('bash', [join(repo, 'scripts', 'sandbox'), ...args], { encoding: 'utf8' });

sandbox('up', '1');
const pw = sandbox('password').replace(/\\/g, '\\\\').replace(/'/g, "\\'");
sandbox(
  'sql',
  'sb1',
  `CREATE OR REPLACE USER 'xbbinlog'@'localhost' IDENTIFIED BY '${pw}'; GRANT REPLICATION SLAVE, BINLOG MONITOR ON *.* TO 'xbbinlog'@'localhost'; CREATE TABLE IF NOT EXISTS shop.bl (id INT AUTO_INCREMENT PRIMARY KEY, tag VARCHAR(40), at DATETIME(6)) ENGINE=InnoDB; FLUSH BINARY LOGS`,
);
const dir = mkdtempSync(join(tmpdir(), 'xb-binlog-bench-'));
const conf = readFileSync(join(sb, 'backup.conf'), 'utf8')
  .replace(/^backup_dir = .*$/m, `backup_dir = ${dir}/backups`)
  .replace(/^log = (.*)\/logs\/(\S+)$/gm, `log = ${dir}/$2`)
  .replace(/^pid = .*$/m, `pid = ${dir}/xb-mgr.pid`)
  .replace(
    /^\[sb1\]$/m,
    `[sb1]\nbinlog_stream = true\nbinlog_user = xbbinlog\nbinlog_fsync_ms = ${a['fsync-ms']}`,
  );
writeFileSync(join(dir, 'backup.conf'), conf, { mode: 0o600 });
const trace = join(dir, 'trace');

const sup = spawn('node', [join(repo, 'dist', 'cli.js'), '--config', join(dir, 'backup.conf'), 'binlog'], {
  env: { ...process.env, XB_MGR_BINLOG_TRACE: trace },
  stdio: ['ignore', 'ignore', 'inherit'],
});
// Caught up with the history first: the figures are about new commits only.
for (let i = 0; i < 600 && !(existsSync(trace) && readFileSync(trace, 'utf8').length > 0); i++)
  await sleep(100);
await sleep(2000);

// One client session; each commit is followed by its GTID and the server's clock (same machine).
const client = spawn(
  'mariadb',
  [`--defaults-file=${join(sb, 'hosts', 'sb1', 'my.cnf')}`, '-uroot', '--batch', '--skip-column-names', '-n'],
  { stdio: ['pipe', 'pipe', 'inherit'] },
);
const commits = [];
let buf = '';
client.stdout.on('data', (b) => {
  buf += b.toString();
  let nl;
  while ((nl = buf.indexOf('\n')) >= 0) {
    const [gtid, at] = buf.slice(0, nl).split('\t');
    buf = buf.slice(nl + 1);
    commits.push({ seq: Number(gtid.split('-')[2]), at: Number(at) * 1000 });
  }
});
const start = Date.now();
let sent = 0;
while (Date.now() - start < seconds * 1000) {
  const due = Math.floor(((Date.now() - start) / 1000) * rate);
  for (; sent < due; sent++)
    client.stdin.write(
      "INSERT INTO shop.bl (tag, at) VALUES ('bench', NOW(6)); SELECT @@last_gtid, UNIX_TIMESTAMP(NOW(6));\n",
    );
  await sleep(5);
}
client.stdin.end();
await new Promise((r) => client.on('close', r));
await sleep(3000);
sup.kill('SIGTERM');
await new Promise((r) => sup.on('close', r));

const stored = readFileSync(trace, 'utf8')
  .trim()
  .split('\n')
  .map((l) => l.split(' '))
  .map(([t, , g]) => ({ t: Number(t), seq: Number(String(g).split('-')[2]) }));
const lags = [];
let j = 0;
for (const c of commits) {
  while (j < stored.length && stored[j].seq < c.seq) j++;
  if (j < stored.length) lags.push((stored[j].t - c.at) / 1000);
}
lags.sort((x, y) => x - y);
const q = (p) => lags[Math.min(lags.length - 1, Math.floor(p * lags.length))];
const elapsed = (commits.at(-1).at - commits[0].at) / 1000;
const result = {
  date: new Date().toISOString(),
  rate_asked: rate,
  commits: commits.length,
  commits_per_s: Math.round(commits.length / elapsed),
  fsync_ms: Number(a['fsync-ms']),
  measured: lags.length,
  p50_s: Number(q(0.5).toFixed(3)),
  p99_s: Number(q(0.99).toFixed(3)),
  max_s: Number(lags.at(-1).toFixed(3)),
};
writeFileSync(a.out, JSON.stringify(result, null, 2) + '\n');
console.log(JSON.stringify(result));
rmSync(dir, { recursive: true, force: true });
if (process.env.XB_SANDBOX_DIR === '/tmp/xb-bench-binlog-sandbox') sandbox('down');
