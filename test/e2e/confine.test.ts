/**
 * The confinement of util/confine.ts on this machine, as root, with real processes: the confined
 * process is the worker, has no network, cannot write root's directories, and is killed over its
 * file size and CPU limits. Each denial has a control run without the piece that denies it.
 * Needs no sandbox host; creates the worker user when it is missing (scripts/worker-user).
 */
import { execFileSync } from 'node:child_process';
import {
  chmodSync,
  chownSync,
  existsSync,
  mkdirSync,
  mkdtempSync,
  readdirSync,
  rmSync,
  statSync,
  writeFileSync,
} from 'node:fs';
import { createServer, type Server } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { execa } from 'execa';
import t from 'tap';
import { confine, findConfineBins, lookupWorker, type ConfineLimits } from '../../src/util/confine.js';
import { repo } from './sandbox.js';

if (process.getuid?.() !== 0) {
  t.plan(0, 'needs root');
  process.exit(0);
}

execFileSync('bash', [join(repo, 'scripts', 'worker-user')]);
const worker = lookupWorker();
const bins = findConfineBins();
const LIMITS: ConfineLimits = { cpuSeconds: 30, fsizeBytes: 64 * 1024 * 1024 };
const root = mkdtempSync(join(tmpdir(), 'xb-confine-'));
// The worker may pass through (x) but not list (r) the parent of its working directories.
chmodSync(root, 0o711);
t.teardown(() => rmSync(root, { recursive: true, force: true }));

async function confined(cmd: string, args: string[], limits: ConfineLimits = LIMITS) {
  const c = confine(cmd, args, { worker, limits, bins });
  return execa(c.cmd, c.args, { reject: false, timeout: 60_000, cwd: '/' });
}

t.test('the worker user is a system user of its own', async (t) => {
  t.ok(worker.uid > 0 && worker.uid < 1000, `system uid ${worker.uid}`);
  const entry = execFileSync('getent', ['passwd', 'xb-mgr-worker'], { encoding: 'utf8' });
  t.match(entry, /:\/nonexistent:\/usr\/sbin\/nologin$/m, 'no home, no login shell');
  t.match(
    execFileSync('getent', ['group', 'xb-mgr-worker'], { encoding: 'utf8' }),
    `:${worker.gid}:`,
    'own group',
  );
  execFileSync('bash', [join(repo, 'scripts', 'worker-user')]);
  t.equal(lookupWorker().uid, worker.uid, 'scripts/worker-user again changes nothing');
});

t.test('a confined process runs as the worker, without capabilities or environment', async (t) => {
  const id = await confined('/usr/bin/id', ['-u']);
  t.equal(id.stdout.trim(), String(worker.uid), 'id -u prints the worker uid');
  const groups = await confined('/usr/bin/id', ['-G']);
  t.equal(groups.stdout.trim(), String(worker.gid), 'only its own group');
  const status = await confined('/bin/cat', ['/proc/self/status']);
  for (const k of ['CapInh', 'CapPrm', 'CapEff', 'CapBnd', 'CapAmb']) {
    t.match(status.stdout, new RegExp(`^${k}:\\s+0+$`, 'm'), `${k} empty`);
  }
  t.match(status.stdout, /^NoNewPrivs:\s+1$/m, 'no new privileges');
  const env = await execa(bins.unshare, confine('/usr/bin/env', [], { worker, limits: LIMITS, bins }).args, {
    reject: false,
    env: { XB_SECRET_TEST: 'leak' },
  });
  t.notMatch(env.stdout, /XB_SECRET_TEST/, "the manager's environment does not pass");
  t.match(env.stdout, /^HOME=\/nonexistent$/m, 'HOME is the worker home');
});

t.test('no network: a TCP connection to 127.0.0.1 fails', async (t) => {
  let connections = 0;
  const server: Server = createServer((s) => {
    connections++;
    s.end('hello\n');
  });
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
  t.teardown(() => server.close());
  const port = (server.address() as { port: number }).port;
  const probe = ['-c', `exec 3<>/dev/tcp/127.0.0.1/${port} && head -1 <&3`];

  const control = await execa('/bin/bash', probe, { reject: false });
  t.equal(control.stdout.trim(), 'hello', 'control: unconfined, it connects');
  const c = confine('/bin/bash', probe, { worker, limits: LIMITS, bins });
  // Control: the same command with everything but the network namespace (setpriv ... onwards).
  const noNs = await execa(c.args[2]!, c.args.slice(3), { reject: false });
  t.equal(noNs.stdout.trim(), 'hello', 'control: as the worker but without unshare, it connects');
  const before = connections;
  const r = await confined('/bin/bash', probe);
  t.not(r.exitCode, 0, 'confined: the connection fails');
  t.match(r.stderr, /Network is unreachable|Connection refused/, `confined: ${r.stderr.trim()}`);
  t.equal(connections, before, 'the server saw no connection');
});

t.test("no write into root's 0700 directory, no read of root's 0600 file", async (t) => {
  const dir = join(root, 'private');
  mkdirSync(dir, { mode: 0o700 });
  writeFileSync(join(dir, 'secret'), 'x', { mode: 0o600 });
  const w = await confined('/bin/bash', ['-c', `echo pwned > ${dir}/canary`]);
  t.not(w.exitCode, 0, 'the write fails');
  t.notOk(existsSync(join(dir, 'canary')), 'no file appeared');
  const r = await confined('/bin/cat', [join(dir, 'secret')]);
  t.match(r.stderr, /Permission denied/, 'the read fails');
  // Control: the worker's own working directory is writable.
  const work = join(root, 'work');
  mkdirSync(work, { mode: 0o700 });
  chownSync(work, worker.uid, worker.gid);
  const ok = await confined('/bin/bash', ['-c', `echo data > ${work}/f`]);
  t.equal(ok.exitCode, 0, 'control: its own directory is writable');
  t.equal(statSync(join(work, 'f')).uid, worker.uid, 'and the file is owned by the worker');
  t.strictSame(readdirSync(dir).sort(), ['secret']);
});

t.test('killed over the file size limit', async (t) => {
  const work = join(root, 'fsize');
  mkdirSync(work, { mode: 0o700 });
  chownSync(work, worker.uid, worker.gid);
  const dd = ['if=/dev/zero', `of=${work}/big`, 'bs=1M', 'count=4', 'status=none'];
  const r = await confined('/usr/bin/dd', dd, { cpuSeconds: 30, fsizeBytes: 1024 * 1024 });
  t.equal(r.signal, 'SIGXFSZ', 'dd is killed by SIGXFSZ');
  t.equal(statSync(join(work, 'big')).size, 1024 * 1024, 'the file stops at the limit');
  const ok = await confined('/usr/bin/dd', dd, { cpuSeconds: 30, fsizeBytes: 8 * 1024 * 1024 });
  t.equal(ok.exitCode, 0, 'control: under a larger limit the same write succeeds');
  t.equal(statSync(join(work, 'big')).size, 4 * 1024 * 1024);
});

t.test('killed over the CPU time limit', async (t) => {
  const started = Date.now();
  const r = await confined('/bin/bash', ['-c', 'while :; do :; done'], { cpuSeconds: 1, fsizeBytes: 1024 });
  t.ok(r.signal === 'SIGKILL' || r.signal === 'SIGXCPU', `a busy loop is killed (${r.signal})`);
  t.ok(Date.now() - started < 30_000, 'within seconds');
});
