import t, { type Test } from 'tap';
import { spawn, spawnSync } from 'node:child_process';
import { once } from 'node:events';
import { existsSync, mkdirSync, mkdtempSync, readdirSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import {
  acquireAccess,
  accessWaitMs,
  AccessBusyError,
  busyMessage,
  DEFAULT_WAIT_MS,
  isLive,
  nextPause,
  parseHolder,
  parseReaderName,
  withAccess,
} from '../../src/catalog/access.js';
import { procStart } from '../../src/catalog/lock.js';
import { readPins } from '../../src/catalog/retain.js';
import { UsageError } from '../../src/errors.js';
import { full } from './factory.js';
import { startTs } from './procs-ts.js';

const child = new URL('../fixtures/access-child.ts', import.meta.url).pathname;

function tempRoot(t: Test): string {
  const d = mkdtempSync(join(tmpdir(), 'xb-access-'));
  t.teardown(() => rmSync(d, { recursive: true, force: true }));
  const root = join(d, 'db1');
  mkdirSync(root);
  return root;
}

const deadPid = () => spawnSync('true').pid;
const myStart = procStart(process.pid)!;

t.test('accessWaitMs: XB_MGR_ACCESS_WAIT_MS or 60 s', async (t) => {
  const cases: [value: string | undefined, want: number | 'usage'][] = [
    [undefined, 60_000],
    ['', 60_000],
    ['0', 0],
    ['250', 250],
    [' 250 ', 250],
    ['3600000', 3_600_000],
    ['-1', 'usage'],
    ['1.5', 'usage'],
    ['60s', 'usage'],
    ['1e3', 'usage'],
    ['99999999999999999999', 'usage'],
  ];
  for (const [value, want] of cases) {
    const env = value === undefined ? {} : { XB_MGR_ACCESS_WAIT_MS: value };
    if (want === 'usage')
      t.throws(() => accessWaitMs(env), UsageError, `${JSON.stringify(value)}: a usage error`);
    else t.equal(accessWaitMs(env), want, JSON.stringify(value));
  }
  t.equal(DEFAULT_WAIT_MS, 60_000);
});

t.test('nextPause: 10 ms first, doubling, at most 0.5 s', async (t) => {
  const seq: number[] = [];
  for (let p = 0, i = 0; i < 8; i++) seq.push((p = nextPause(p)));
  t.strictSame(seq, [10, 20, 40, 80, 160, 320, 500, 500]);
});

t.test('parseReaderName', async (t) => {
  const cases: [string, { pid: number; start: string } | undefined][] = [
    ['read-1234-5678-1', { pid: 1234, start: '5678' }],
    ['read-1234-5678-12', { pid: 1234, start: '5678' }],
    ['read-0-5678-1', undefined],
    ['read-1234-5678', undefined],
    ['read--1234-5678-1', undefined],
    ['read-1234-x-1', undefined],
    ['read-1234-5678-1.tmp', undefined],
    ['write', undefined],
    ['write.new-1234', undefined],
  ];
  for (const [name, want] of cases) t.strictSame(parseReaderName(name), want, name);
});

t.test('parseHolder', async (t) => {
  const good = { pid: 1234, start: '5678', since: '2026-11-24T03:00:00.000Z', command: 'restore' };
  const cases: [name: string, text: string, want: unknown][] = [
    ['complete', JSON.stringify(good), good],
    ['no since nor command', '{"pid": 1234, "start": "5678"}', { ...good, since: '?', command: '?' }],
    ['pid 0', JSON.stringify({ ...good, pid: 0 }), undefined],
    ['negative pid', JSON.stringify({ ...good, pid: -5 }), undefined],
    ['pid not an integer', JSON.stringify({ ...good, pid: 12.5 }), undefined],
    ['pid a string', JSON.stringify({ ...good, pid: '1234' }), undefined],
    ['no start', JSON.stringify({ ...good, start: undefined }), undefined],
    ['start not digits', JSON.stringify({ ...good, start: 'x' }), undefined],
    ['empty', '', undefined],
    ['half written', '{"pid": 12', undefined],
    ['null', 'null', undefined],
    ['a number', '1234', undefined],
  ];
  for (const [name, text, want] of cases) t.strictSame(parseHolder(text), want, name);
});

t.test('isLive: the PID runs with the recorded start time', async (t) => {
  const table = new Map([[4321, '777']]);
  const startOf = (pid: number) => table.get(pid);
  const cases: [name: string, h: { pid: number; start: string } | undefined, want: boolean][] = [
    ['same process', { pid: 4321, start: '777' }, true],
    ['PID reused by another process', { pid: 4321, start: '776' }, false],
    ['process gone', { pid: 4322, start: '777' }, false],
    ['no record', undefined, false],
  ];
  for (const [name, h, want] of cases) t.equal(isLive(h, startOf), want, name);
  t.equal(isLive({ pid: process.pid, start: myStart }), true, 'default: /proc, this process');
  t.equal(isLive({ pid: deadPid(), start: myStart }), false, 'default: /proc, a dead one');
});

t.test('busyMessage names the holder: PID, command, since', async (t) => {
  const holder = { pid: 4321, start: '1', since: '2026-11-24T03:00:00.000Z', command: 'restore' };
  t.equal(
    busyMessage({
      root: '/backup/db1',
      mode: 'write',
      command: 'retention',
      waitedMs: 60_012,
      holderMode: 'read',
      holder,
    }),
    'db1: retention waited 60 s for the catalog /backup/db1: PID 4321 (restore) reads it since 2026-11-24T03:00:00.000Z; try again when it is done',
  );
  t.equal(
    busyMessage({
      root: '/backup/db1',
      mode: 'read',
      command: 'verify',
      waitedMs: 250,
      holderMode: 'write',
      holder: { ...holder, command: 'keep 20261124T031500Z' },
    }),
    'db1: verify waited 0.3 s for the catalog /backup/db1: PID 4321 (keep 20261124T031500Z) changes it since 2026-11-24T03:00:00.000Z; try again when it is done',
  );
});

t.test('one process: readers share, a writer is alone, release frees', async (t) => {
  const root = tempRoot(t);
  const dir = join(root, '.access');
  const r1 = await acquireAccess(root, 'read', 'verify', { waitMs: 0 });
  const r2 = await acquireAccess(root, 'read', 'restore', { waitMs: 0 });
  t.equal(readdirSync(dir).filter((n) => n.startsWith('read-')).length, 2, 'two reader files');
  await t.rejects(acquireAccess(root, 'write', 'keep', { waitMs: 0 }), AccessBusyError, 'readers hold it');
  t.notOk(existsSync(join(dir, 'write')), 'a writer that gave up leaves no write file');
  r1.release();
  r2.release();
  r2.release(); // twice is harmless
  t.strictSame(readdirSync(dir), [], 'nothing left');
  const w = await acquireAccess(root, 'write', 'keep', { waitMs: 0 });
  await t.rejects(acquireAccess(root, 'read', 'verify', { waitMs: 0 }), {
    message: new RegExp(
      `^db1: verify waited 0 s for the catalog ${root}: PID ${process.pid} \\(keep\\) changes it since `,
    ),
  });
  t.strictSame(readdirSync(dir), ['write'], 'a reader that gave up leaves no reader file');
  w.release();
  t.strictSame(readdirSync(dir), [], 'released');
  const got = await withAccess(root, 'write', 'keep', () => 42, { waitMs: 0 });
  t.equal(got, 42, 'withAccess returns what fn returns');
  await t.rejects(
    withAccess(root, 'read', 'verify', () => Promise.reject(new Error('boom')), { waitMs: 0 }),
    { message: 'boom' },
  );
  t.strictSame(readdirSync(dir), [], 'released after a failure too');
});

t.test('a reader of a host without a directory takes nothing', async (t) => {
  const root = join(tempRoot(t), 'nothing');
  const a = await acquireAccess(root, 'read', 'verify', { waitMs: 0 });
  a.release();
  t.notOk(existsSync(root), 'no directory created');
});

t.test('stale entries (dead PIDs, reused PIDs, garbage) are ignored and removed', async (t) => {
  const sleeper = spawn('sleep', ['30'], { stdio: 'ignore' });
  await once(sleeper, 'spawn');
  t.teardown(() => void sleeper.kill('SIGKILL'));
  const dead = deadPid();
  const holder = (pid: number, start: string) =>
    JSON.stringify({ pid, start, since: '2026-11-24T03:00:00.000Z', command: 'restore' }) + '\n';
  const writers: [name: string, text: string][] = [
    ['a writer that died', holder(dead, '123')],
    ['a writer whose PID another process has now', holder(sleeper.pid!, `${procStart(sleeper.pid!)}0`)],
    ['garbage', 'not a lock\n'],
    ['empty', ''],
  ];
  for (const [name, text] of writers) {
    const root = tempRoot(t);
    const dir = join(root, '.access');
    mkdirSync(dir);
    writeFileSync(join(dir, 'write'), text);
    writeFileSync(join(dir, `read-${dead}-123-1`), holder(dead, '123'));
    writeFileSync(join(dir, `read-${sleeper.pid}-1-1`), holder(sleeper.pid!, '1'));
    writeFileSync(join(dir, `write.new-${dead}`), 'left by a kill -9');
    const r = await acquireAccess(root, 'read', 'verify', { waitMs: 0 });
    r.release();
    t.notOk(existsSync(join(dir, 'write')), `${name}: a reader goes on, the stale writer file is removed`);
    const w = await acquireAccess(root, 'write', 'keep', { waitMs: 0 });
    t.strictSame(
      readdirSync(dir),
      ['write'],
      `${name}: a writer goes on, stale readers and leftovers removed`,
    );
    w.release();
  }
});

t.test('a writer waits for a reader (another process), then goes on', async (t) => {
  const root = tempRoot(t);
  const reader = startTs(t, child, ['hold', root, 'read', 'restore', '1500']);
  await reader.line(/^held /);
  const told: string[] = [];
  const t0 = Date.now();
  const w = await acquireAccess(root, 'write', 'retention', {
    waitMs: 30_000,
    onWait: (m) => told.push(m),
  });
  const got = Date.now();
  const released = Number((await reader.line(/^released /)).split(' ')[1]);
  t.ok(got >= released, `the writer went on after the reader released (${got - released} ms later)`);
  t.ok(got - t0 >= 500, 'it did wait');
  t.match(told, [new RegExp(`^db1: waiting for PID ${reader.proc.pid} \\(restore, since .*\\) to finish`)]);
  w.release();
  t.equal(await reader.exit, 0);
});

t.test('a writer held longer than the wait: the reader gives up naming it', async (t) => {
  const root = tempRoot(t);
  const writer = startTs(t, child, ['hold', root, 'write', 'keep 20261124T031500Z', '-1']);
  await writer.line(/^held /);
  const t0 = Date.now();
  await t.rejects(acquireAccess(root, 'read', 'restore', { waitMs: 400 }), {
    constructor: AccessBusyError,
    exitCode: 1,
    message: new RegExp(
      `^db1: restore waited 0\\.[45] s for the catalog ${root}: PID ${writer.proc.pid} \\(keep 20261124T031500Z\\) changes it since \\S+; try again when it is done$`,
    ),
  });
  t.ok(Date.now() - t0 >= 400, 'after the wait');
  t.notOk(
    readdirSync(join(root, '.access')).some((n) => n.startsWith('read-')),
    'no reader file left behind',
  );
  writer.proc.kill('SIGKILL');
  await writer.exit;
  const r = await acquireAccess(root, 'read', 'restore', { waitMs: 0 });
  r.release();
  t.pass('the killed writer is stale: a reader goes on at once');
});

t.test('a reader held longer than the wait: the writer gives up naming it, readers go on', async (t) => {
  const root = tempRoot(t);
  const reader = startTs(t, child, ['hold', root, 'read', 'restore', '-1']);
  await reader.line(/^held /);
  await t.rejects(acquireAccess(root, 'write', 'retention', { waitMs: 300 }), {
    message: new RegExp(
      `^db1: retention waited 0\\.[34] s .*: PID ${reader.proc.pid} \\(restore\\) reads it since `,
    ),
  });
  t.notOk(existsSync(join(root, '.access', 'write')), 'the writer file is gone');
  const r = await acquireAccess(root, 'read', 'verify', { waitMs: 0 });
  r.release();
  t.pass('another reader goes on at once');
});

t.test('a reader never waits for the run lock <host>/.lock', async (t) => {
  const root = tempRoot(t);
  const run = spawn('sleep', ['30'], { stdio: 'ignore' });
  await once(run, 'spawn');
  t.teardown(() => void run.kill('SIGKILL'));
  writeFileSync(
    join(root, '.lock'),
    JSON.stringify({
      pid: run.pid,
      start: procStart(run.pid!),
      since: new Date().toISOString(),
      command: 'run',
    }),
  );
  const r = await acquireAccess(root, 'read', 'restore', { waitMs: 0 });
  r.release();
  t.pass('taken at once while a backup holds the host lock');
});

t.test('two concurrent keep processes: every pin survives', async (t) => {
  const backupDir = mkdtempSync(join(tmpdir(), 'xb-keep-'));
  t.teardown(() => rmSync(backupDir, { recursive: true, force: true }));
  const root = join(backupDir, 'db1');
  const ids = Array.from({ length: 40 }, (_, i) => `20261101T01${String(i).padStart(2, '0')}00Z`);
  for (const id of ids) {
    mkdirSync(join(root, 'full', id), { recursive: true });
    writeFileSync(join(root, 'full', id, 'manifest.json'), JSON.stringify(full(id, 1000)) + '\n');
  }
  // Both start pinning at the same moment (when the file go appears), each its own half of the ids.
  const go = join(backupDir, 'go');
  const a = startTs(t, child, ['keep', backupDir, 'db1', go, ...ids.filter((_, i) => i % 2 === 0)]);
  const b = startTs(t, child, ['keep', backupDir, 'db1', go, ...ids.filter((_, i) => i % 2 === 1)]);
  await Promise.all([a.line(/^ready$/), b.line(/^ready$/)]);
  writeFileSync(go, '');
  t.equal(await a.exit, 0, a.err());
  t.equal(await b.exit, 0, b.err());
  t.strictSame([...readPins(root)].sort(), [...ids].sort(), 'all 40 pins are in pins.json');
});
