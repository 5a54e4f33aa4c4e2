/**
 * The ready step's cost follows the change (issue 20): the verify runs on an overlay view of the
 * prepared base with a read-only server (the base is never written, and stays appliable), checks
 * only the tables the apply changed between full checks, and a full check due after
 * verify_full_days finds a corrupt page in a table no incremental touched.
 */
import t, { type Test } from 'tap';
import {
  closeSync,
  existsSync,
  mkdirSync,
  openSync,
  readFileSync,
  readdirSync,
  statSync,
  writeSync,
} from 'node:fs';
import { join } from 'node:path';
import { execa } from 'execa';
import { sandboxUp, sql, testConfig, xbMgr } from './sandbox.js';
import { startOnReady } from './restore-helpers.js';

sandboxUp(2);

interface Check {
  ok: boolean;
  tables: number;
  scope?: string;
  reason?: string;
  full_check_at?: string;
  checked?: string[];
}
interface HostResult {
  ok: boolean;
  type?: string;
  id?: string;
  error?: string;
  ready?: {
    id: string;
    file: string;
    check: Check;
    steps: { step: string; method?: string; bytes?: number }[];
  };
}

async function run(file: string, now: string, env: Record<string, string> = {}) {
  const r = await xbMgr(['--config', file, 'run', '--json', '--host', 'sb1', '--now', now], env);
  let h: HostResult = { ok: false, error: `no JSON: ${r.stderr}` };
  try {
    h = (JSON.parse(r.stdout) as { hosts: HostResult[] }).hosts[0]!;
  } catch {
    // h says so
  }
  return { code: r.exitCode, h, stderr: r.stderr };
}

const VS = ['vs.a', 'vs.b', 'vs.c'];
const FP = VS.map((tb) => `CHECKSUM TABLE ${tb}; SELECT '${tb}', COUNT(*) FROM ${tb};`).join(' ');
const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));
// Pages flushed and a checkpoint taken before each backup, so that an incremental carries only
// the pages changed since its parent (not redo the parent's checkpoint had not covered yet).
const settle = () => sleep(4000);

const { file, dir } = testConfig(['verify_full_days = 1']);
const root = join(dir, 'backups/sb1');
const readyFile = (h: HostResult) => join(root, 'ready', h.ready!.file);

async function restoredEqual(t: Test, h: HostResult, atBackup: string, what: string) {
  const srv = await startOnReady(readyFile(h));
  try {
    t.equal(await srv.query(FP), atBackup, `${what}: the ready file restores to the source's data`);
  } finally {
    await srv.stop();
  }
}

t.before(async () => {
  sql(
    'sb1',
    [
      'DROP DATABASE IF EXISTS vs; CREATE DATABASE vs; USE vs',
      ...['a', 'b', 'c'].map(
        (x) =>
          `CREATE TABLE vs.${x} (id INT PRIMARY KEY, v VARCHAR(200)) ENGINE=InnoDB; INSERT INTO vs.${x} SELECT seq, REPEAT('${x}', 150) FROM seq_1_to_4000`,
      ),
      'SET GLOBAL innodb_max_dirty_pages_pct = 0',
      'SET GLOBAL innodb_max_dirty_pages_pct_lwm = 0.001',
    ].join('; '),
  );
  await settle();
});
t.teardown(() => {
  sql(
    'sb1',
    'DROP DATABASE IF EXISTS vs; SET GLOBAL innodb_max_dirty_pages_pct = 90; SET GLOBAL innodb_max_dirty_pages_pct_lwm = 0',
  );
});

let fullCheckAt = '';

t.test('a full checks every table, on an overlay view that copies no tablespace up', async (t) => {
  const r = await run(file, '2026-11-22T01:00:00Z');
  t.equal(r.code, 0, r.h.error ?? '');
  t.equal(r.h.type, 'full');
  const c = r.h.ready!.check;
  t.equal(c.scope, 'all');
  t.ok(c.tables > 30, `every table (${c.tables})`);
  t.equal(c.full_check_at, '2026-11-22T01:00:00.000Z');
  fullCheckAt = c.full_check_at!;
  const view = r.h.ready!.steps.find((s) => s.step === 'copy')!;
  t.equal(view.method, 'overlay');
  // Only the small Aria/MyISAM files a CHECK opens for writing: no InnoDB file.
  t.ok(view.bytes! < 8 << 20, `bytes copied up: ${view.bytes}`);
  const base = JSON.parse(readFileSync(join(root, 'prepare/base.json'), 'utf8')) as {
    full_check_at?: string;
  };
  t.equal(base.full_check_at, fullCheckAt, 'stored with the base');
});

t.test('three incrementals: only the changed table is checked, base appliable, data equal', async (t) => {
  const steps: { change: string; table: string; now: string; env?: Record<string, string> }[] = [
    {
      change: "UPDATE vs.b SET v = REPEAT('B', 150) WHERE id <= 40",
      table: 'vs.b',
      now: '2026-11-22T03:00:00Z',
    },
    // The plain copy still works where overlay cannot mount (forced here).
    {
      change: "UPDATE vs.c SET v = REPEAT('C', 150) WHERE id <= 40",
      table: 'vs.c',
      now: '2026-11-22T05:00:00Z',
      env: { XB_VERIFY_VIEW: 'copy' },
    },
    { change: 'DELETE FROM vs.b WHERE id % 50 = 0', table: 'vs.b', now: '2026-11-22T07:00:00Z' },
  ];
  for (const [i, s] of steps.entries()) {
    if (i === 2) {
      // A leftover mount from a killed run is cleaned at the next run.
      const stale = join(root, 'prepare', 'verify-stale');
      mkdirSync(stale, { recursive: true });
      await execa('mount', ['-t', 'tmpfs', 'tmpfs', stale]);
    }
    sql('sb1', s.change);
    await settle();
    const r = await run(file, s.now, s.env);
    const atBackup = sql('sb1', FP);
    t.equal(r.code, 0, r.h.error ?? '');
    t.equal(r.h.type, 'incremental');
    const c = r.h.ready!.check;
    t.equal(c.scope, 'changed', `${s.table}: changed scope (${c.reason})`);
    t.ok(c.checked?.includes(s.table), `${s.table} checked`);
    for (const other of VS.filter((x) => x !== s.table))
      t.notOk(c.checked?.includes(other), `${other} (unchanged) not checked`);
    t.ok(c.checked?.includes('shop.notes'), 'the Aria table is checked');
    t.ok(c.checked?.includes('mysql.db'), 'the system schema is checked');
    t.equal(c.full_check_at, fullCheckAt, 'the last full check is carried');
    t.equal(r.h.ready!.steps.find((x) => x.step === 'copy')!.method, s.env ? 'copy' : 'overlay');
    await restoredEqual(t, r.h, atBackup, `incremental ${i + 1}`);
    if (i === 2) {
      t.match(r.stderr, /unmounted .*verify-stale/);
      t.notMatch(readFileSync('/proc/self/mountinfo', 'utf8'), /verify-stale/, 'the stale mount is gone');
    }
  }
  const list = await xbMgr(['--config', file, 'list', '--json', '--host', 'sb1']);
  t.match(list.stdout, /"scope":\s*"changed"/, 'list --json shows the check scope');
  t.match(list.stdout, /"full_check_at":\s*"2026-11-22T01:00:00.000Z"/);
});

t.test('a corrupt page in an unchanged table is found by the full check due a day later', async (t) => {
  // vs.a has not changed since the full: overwrite the middle of a leaf page, header kept.
  const f = join(root, 'prepare/base/vs/a.ibd');
  t.ok(statSync(f).size > 6 * 16384);
  const fd = openSync(f, 'r+');
  writeSync(fd, Buffer.alloc(400, 0xde), 0, 400, 4 * 16384 + 8000);
  closeSync(fd);
  sql('sb1', "UPDATE vs.b SET v = REPEAT('D', 150) WHERE id <= 10");
  await settle();
  const r = await run(file, '2026-11-23T02:00:00Z');
  t.equal(r.code, 1, 'the run fails');
  t.match(r.h.error, /full check due/, `the report says which check found it: ${r.h.error}`);
  t.match(r.h.error, /vs\.a/);
  const id = r.h.id!;
  t.notOk(existsSync(join(root, 'ready', `${id}.tar.zst`)), 'no ready file from the corrupt base');
  t.notOk(
    readdirSync(join(root, 'ready')).some((n) => n.startsWith(id)),
    'nor its description',
  );
  // The compress ran beside the failed check: nothing of it is left in tmp/.
  t.same(
    readdirSync(join(root, 'tmp')).filter((n) => n.startsWith(id)),
    [],
    'no partial ready file left in tmp/',
  );
});
