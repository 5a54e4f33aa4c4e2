/** The spool against a fake stream writing into staging sessions as mariadb-binlog does. */
import t from 'tap';
import {
  existsSync,
  mkdtempSync,
  readdirSync,
  readFileSync,
  rmSync,
  writeFileSync,
  appendFileSync,
  symlinkSync,
} from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Spool } from '../../src/binlog/spool.js';
import { readGaps, readIndex } from '../../src/binlog/store.js';
import { readStoredPoint } from '../../src/binlog/window.js';
import { binlogFile, rotate, type G } from './binlog-fixture.js';

const g = (seq: number): G => ({ domain: 0, server: 1, seq });
const range = (a: number, b: number) => Array.from({ length: b - a + 1 }, (_, i) => g(a + i));

/** The server's files: 1 holds GTIDs 1-5, 2 holds 6-8, 3 holds 9-12 (being written). */
const F1 = binlogFile({ list: [], gtids: range(1, 5), end: rotate('mysql-bin.000002') });
const F2 = binlogFile({ list: [g(5)], gtids: range(6, 8), end: rotate('mysql-bin.000003') });
const F3 = binlogFile({ list: [g(8)], gtids: range(9, 12) });

const roots: string[] = [];
t.teardown(() => roots.forEach((r) => rmSync(r, { recursive: true, force: true })));

function setup() {
  const root = mkdtempSync(join(tmpdir(), 'xb-spool-'));
  roots.push(root);
  const spool = new Spool(root, { maxBinlogBytes: 1 << 20 });
  return { root, spool, staged: (s: string, n: string) => join(spool.sessionPath(s), n) };
}

t.test('a stream across rotations: files swapped in, the newest staged, the point follows', async (t) => {
  const { root, spool, staged } = setup();
  t.equal(spool.startFile(['mysql-bin.000001', 'mysql-bin.000002']).start, 'mysql-bin.000001');
  const s = spool.newSession();
  writeFileSync(staged(s, 'mysql-bin.000001'), F1.subarray(0, 200));
  spool.tick(s);
  t.same(readIndex(root), []);
  writeFileSync(staged(s, 'mysql-bin.000001'), F1);
  writeFileSync(staged(s, 'mysql-bin.000002'), F2);
  writeFileSync(staged(s, 'mysql-bin.000003'), F3.subarray(0, F3.length - 10));
  spool.tick(s);
  t.same(
    readIndex(root).map((f) => [f.name, f.state_end, f.next]),
    [
      ['mysql-bin.000001', '0-1-5', 'mysql-bin.000002'],
      ['mysql-bin.000002', '0-1-8', 'mysql-bin.000003'],
    ],
  );
  t.same(readFileSync(join(root, 'binlog', 'mysql-bin.000001')), F1);
  t.equal(spool.point()?.file, 'mysql-bin.000003');
  t.equal(spool.point()?.gtid, '0-1-11', 'the cut last transaction is not stored yet');
  appendFileSync(staged(s, 'mysql-bin.000003'), F3.subarray(F3.length - 10));
  spool.tick(s);
  t.equal(spool.point()?.gtid, '0-1-12');
  t.equal(readStoredPoint(root)?.gtid, '0-1-12', 'list reads the same point');
  t.same(readGaps(root), []);
  spool.close();
});

t.test('a restart resumes from the partial into a new session: no loss, no duplicate', async (t) => {
  const { root, spool, staged } = setup();
  const s1 = spool.newSession();
  writeFileSync(staged(s1, 'mysql-bin.000001'), F1);
  writeFileSync(staged(s1, 'mysql-bin.000002'), F2.subarray(0, F2.length - 57));
  spool.tick(s1);
  spool.close();
  // The supervisor restarts (kill -9): a new spool recovers from disk.
  const again = new Spool(root, { maxBinlogBytes: 1 << 20 });
  again.recover();
  t.equal(again.point()?.gtid, '0-1-7');
  t.same(again.startFile(['mysql-bin.000001', 'mysql-bin.000002']), { start: 'mysql-bin.000002' });
  const s2 = again.newSession();
  // The new stream rewrites 000002 from its start: while it is shorter, the old copy stays.
  writeFileSync(staged(s2, 'mysql-bin.000002'), F2.subarray(0, 300));
  again.tick(s2);
  t.equal(again.point()?.gtid, '0-1-7', 'the recovery point does not go back');
  t.ok(existsSync(staged(s1, 'mysql-bin.000002')), 'the old copy is kept meanwhile');
  writeFileSync(staged(s2, 'mysql-bin.000002'), F2);
  writeFileSync(staged(s2, 'mysql-bin.000003'), F3);
  again.tick(s2);
  t.notOk(existsSync(again.sessionPath(s1)), 'the old session is gone');
  t.same(
    readIndex(root).map((f) => f.name),
    ['mysql-bin.000001', 'mysql-bin.000002'],
  );
  t.same(readFileSync(join(root, 'binlog', 'mysql-bin.000002')), F2);
  t.equal(again.point()?.gtid, '0-1-12');
  t.same(readGaps(root), []);
  // Next start after a clean stop: the partial 000003.
  t.same(again.startFile(['mysql-bin.000003']), { start: 'mysql-bin.000003' });
  again.close();
});

t.test('a purged binlog: the partial is stored as it is and the gap recorded once', async (t) => {
  const { root, spool, staged } = setup();
  const s1 = spool.newSession();
  writeFileSync(staged(s1, 'mysql-bin.000001'), F1);
  writeFileSync(staged(s1, 'mysql-bin.000002'), F2.subarray(0, F2.length - 57));
  spool.tick(s1);
  const gaps: unknown[] = [];
  const again = new Spool(root, { maxBinlogBytes: 1 << 20, onGap: (x) => gaps.push(x) });
  again.recover();
  t.same(again.startFile(['mysql-bin.000003']), { start: 'mysql-bin.000003', purged: 'mysql-bin.000002' });
  const idx = readIndex(root);
  t.equal(idx.at(-1)?.name, 'mysql-bin.000002');
  t.equal(idx.at(-1)?.incomplete, true);
  t.equal(idx.at(-1)?.state_end, '0-1-7');
  const s2 = again.newSession();
  writeFileSync(staged(s2, 'mysql-bin.000003'), F3);
  again.tick(s2);
  again.tick(s2);
  t.equal(gaps.length, 1);
  t.match(readGaps(root), [
    {
      after_file: 'mysql-bin.000002',
      after_state: '0-1-7',
      before_file: 'mysql-bin.000003',
      before_gtid_list: '0-1-8',
      reason: /purged/,
    },
  ]);
  again.close();
});

t.test('a stream starting after the stored end without its Gtid_list matching: a gap', async (t) => {
  const { root, spool, staged } = setup();
  const s1 = spool.newSession();
  writeFileSync(staged(s1, 'mysql-bin.000001'), F1);
  writeFileSync(staged(s1, 'mysql-bin.000003'), F3);
  spool.tick(s1);
  t.match(readGaps(root), [
    { after_file: 'mysql-bin.000001', before_file: 'mysql-bin.000003', reason: /does not continue/ },
  ]);
  spool.close();
});

t.test('untrusted stream output is refused', async (t) => {
  {
    const { spool, staged } = setup();
    const s = spool.newSession();
    writeFileSync(staged(s, 'evil.sh'), 'x');
    t.throws(() => spool.tick(s), /invalid name/);
  }
  {
    const { root } = setup();
    const small = new Spool(root, { maxBinlogBytes: 500 });
    const s = small.newSession();
    writeFileSync(join(small.sessionPath(s), 'mysql-bin.000001'), F1);
    t.throws(() => small.tick(s), /over max_binlog_bytes/);
  }
  {
    const { spool, staged } = setup();
    const s = spool.newSession();
    symlinkSync('/etc/passwd', staged(s, 'mysql-bin.000001'));
    t.throws(() => spool.tick(s), /cannot open/);
  }
  {
    const { spool, staged } = setup();
    const s = spool.newSession();
    writeFileSync(staged(s, 'mysql-bin.000001'), Buffer.concat([F1.subarray(0, 100), Buffer.alloc(100)]));
    t.throws(() => spool.tick(s), /impossible size/);
  }
  {
    const { spool } = setup();
    t.throws(() => spool.startFile([]), /no binary logs/);
    t.throws(() => spool.startFile(['../x.000001']), /no binary logs/);
  }
});

t.test('sessions left by a killed supervisor are swapped in by recover()', async (t) => {
  const { root, spool, staged } = setup();
  const s = spool.newSession();
  writeFileSync(staged(s, 'mysql-bin.000001'), F1);
  writeFileSync(staged(s, 'mysql-bin.000002'), F2.subarray(0, 100));
  spool.close();
  const again = new Spool(root, { maxBinlogBytes: 1 << 20 });
  again.recover();
  t.same(
    readIndex(root).map((f) => f.name),
    ['mysql-bin.000001'],
  );
  t.same(readdirSync(again.sessionPath(s)), ['mysql-bin.000002']);
  again.close();
});

t.test('a stored name streamed again with another history (RESET MASTER) is refused', async (t) => {
  const { spool, staged } = setup();
  const s1 = spool.newSession();
  writeFileSync(staged(s1, 'mysql-bin.000001'), F1);
  writeFileSync(staged(s1, 'mysql-bin.000002'), F2);
  spool.tick(s1);
  const s2 = spool.newSession();
  writeFileSync(staged(s2, 'mysql-bin.000001'), binlogFile({ list: [g(99)], gtids: [g(100)] }));
  writeFileSync(staged(s2, 'mysql-bin.000002'), F2);
  t.throws(() => spool.tick(s2), /RESET MASTER/);
  // The same file streamed again is simply dropped.
  const s3 = spool.newSession();
  writeFileSync(staged(s3, 'mysql-bin.000001'), F1);
  writeFileSync(staged(s3, 'mysql-bin.000002'), F2);
  t.doesNotThrow(() => spool.tick(s3));
  spool.close();
});
