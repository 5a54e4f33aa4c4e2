import t from 'tap';
import {
  continues,
  formatGtidState,
  newScanState,
  parseGtidState,
  scanEvents,
  type ScanState,
} from '../../src/binlog/events.js';
import { compareNames, nextName, validBinlogName } from '../../src/binlog/names.js';
import { binlogFile, fde, gtid, query, rotate, stop, xid } from './binlog-fixture.js';
import { MAGIC } from '../../src/binlog/events.js';

const reader = (b: Buffer) => (pos: number, len: number) => b.subarray(pos, pos + len);
const scan = (b: Buffer, size = b.length, st: ScanState = newScanState(), max = 1 << 20) =>
  scanEvents(reader(b), size, st, { maxEventBytes: max });

t.test('names: valid, ordered, next', async (t) => {
  const cases: [string, boolean][] = [
    ['mysql-bin.000001', true],
    ['host-bin.1234567', true],
    ['a.000001', true],
    ['../etc.000001', false],
    ['.hidden.000001', false],
    ['bin/x.000001', false],
    ['mysql-bin.index', false],
    ['mysql-bin.00001', false],
    ['x'.repeat(101) + '.000001', false],
    ['', false],
    ['mysql-bin.000001\n', false],
  ];
  for (const [n, ok] of cases) t.equal(validBinlogName(n), ok, JSON.stringify(n));
  t.ok(compareNames('b.000010', 'b.000009') > 0);
  t.ok(compareNames('b.1000000', 'b.999999') > 0);
  t.equal(compareNames('b.000003', 'b.000003'), 0);
  t.equal(nextName('mysql-bin.000009'), 'mysql-bin.000010');
  t.equal(nextName('mysql-bin.999999'), 'mysql-bin.1000000');
  t.equal(nextName('bad'), undefined);
});

t.test('scan: a complete file', async (t) => {
  const f = binlogFile({
    list: [{ domain: 0, server: 1, seq: 10 }],
    gtids: [
      { domain: 0, server: 1, seq: 11 },
      { domain: 0, server: 1, seq: 13 },
      { domain: 1, server: 2, seq: 5 },
    ],
    end: rotate('mysql-bin.000002', 1_800_000_100),
  });
  const st = scan(f);
  t.equal(st.error, undefined);
  t.equal(st.offset, f.length);
  t.equal(st.checksum, true);
  t.equal(formatGtidState(st.gtidListAtStart!), '0-1-10');
  t.equal(formatGtidState(st.state), '0-1-13,1-2-5');
  t.same(st.lastGtid, { domain: 1, server: 2, seq: 5n });
  t.equal(st.rotateTo, 'mysql-bin.000002');
  t.equal(st.lastEventTime, 1_800_000_100);
  t.equal(st.firstEventTime, 1_800_000_000);
});

t.test('scan: incremental, a cut event waits for the rest', async (t) => {
  const f = binlogFile({
    list: [],
    gtids: [
      { domain: 0, server: 1, seq: 1 },
      { domain: 0, server: 1, seq: 2 },
    ],
  });
  const st = newScanState();
  for (const size of [0, 3, 4, 20, 100, f.length - 1]) {
    scan(f, size, st);
    t.equal(st.error, undefined, `size ${size}`);
    t.ok(st.offset <= size || size < 4);
  }
  t.ok(st.offset < f.length, 'the cut last event is not counted');
  scan(f, f.length, st);
  t.equal(st.offset, f.length);
  t.equal(st.lastGtid?.seq, 2n);
});

t.test('scan: hostile or broken input stops with a reason', async (t) => {
  const cases: [string, Buffer, RegExp][] = [
    ['bad magic', Buffer.concat([Buffer.from('GIF8'), fde()]), /bad magic/],
    ['zero size', Buffer.concat([MAGIC, Buffer.alloc(19)]), /impossible size 0/],
    [
      'oversized event',
      (() => {
        const e = query();
        e.writeUInt32LE(2 ** 31, 9);
        return Buffer.concat([MAGIC, fde(), e, Buffer.alloc(100)]);
      })(),
      /impossible size/,
    ],
    [
      'event after the rotate',
      Buffer.concat([MAGIC, fde(), rotate('mysql-bin.000002'), query()]),
      /after the end/,
    ],
    ['event after a stop', Buffer.concat([MAGIC, fde(), stop(), query()]), /after the end/],
    ['rotate to a path', Buffer.concat([MAGIC, fde(), rotate('../../etc/passwd.000001')]), /invalid binlog/],
    [
      'Gtid_list claiming more entries than it holds',
      (() => {
        const e = Buffer.concat([Buffer.alloc(19), Buffer.alloc(4), Buffer.alloc(4)]);
        e.writeUInt8(163, 4);
        e.writeUInt32LE(e.length, 9);
        e.writeUInt32LE(1000, 19);
        return Buffer.concat([MAGIC, fde(), e]);
      })(),
      /claims 1000 entries/,
    ],
    [
      'short GTID event',
      (() => {
        const e = Buffer.alloc(19 + 4 + 4);
        e.writeUInt8(162, 4);
        e.writeUInt32LE(e.length, 9);
        return Buffer.concat([MAGIC, fde(), e]);
      })(),
      /GTID event too short/,
    ],
  ];
  for (const [what, buf, re] of cases) {
    const st = scan(buf);
    t.match(st.error ?? '', re, what);
  }
  t.match(
    scan(Buffer.concat([MAGIC, fde(), query(undefined, 2000)]), undefined, undefined, 500).error,
    /impossible size/,
  );
  // A scan that stopped stays stopped.
  const st = scan(Buffer.concat([MAGIC, Buffer.alloc(19)]));
  const off = st.offset;
  scan(Buffer.concat([MAGIC, fde()]), undefined, st);
  t.equal(st.offset, off);
});

t.test(
  'transactions: counted at their XID, COMMIT or standalone statement; a stop ends a file',
  async (t) => {
    const f = Buffer.concat([
      MAGIC,
      fde(),
      gtid({ domain: 0, server: 3, seq: 7 }, undefined, 1),
      query(undefined, 10, 'CREATE TABLE t (a INT)'),
      gtid({ domain: 0, server: 3, seq: 8 }),
      query(undefined, 10, 'BEGIN'),
      query(undefined, 10, 'INSERT INTO t VALUES (1)'),
    ]);
    const st = scan(f);
    t.equal(st.error, undefined);
    t.equal(st.lastGtid?.seq, 7n, 'a standalone statement ends its transaction');
    t.equal(formatGtidState(st.state), '0-3-7', 'an open transaction is not in the state');
    // A non-transactional table's transaction (Aria, MyISAM) ends with a COMMIT query event, as
    // the server writes it: with status vars and the db name before the statement.
    const committed = Buffer.concat([f, query(undefined, 10, 'COMMIT', 'shop', 26)]);
    scan(committed, committed.length, st);
    t.equal(st.error, undefined);
    t.equal(formatGtidState(st.state), '0-3-8', 'a COMMIT query ends its transaction');
    t.equal(st.lastGtid?.seq, 8n);
    const more = Buffer.concat([committed, gtid({ domain: 0, server: 3, seq: 9 }), xid(), stop()]);
    scan(more, more.length, st);
    t.equal(st.error, undefined);
    t.equal(st.lastGtid?.seq, 9n);
    t.equal(st.stopped, true);
    t.equal(formatGtidState(st.state), '0-3-9');
  },
);

t.test('continuity: a Gtid_list against the previous state', async (t) => {
  const cases: [string, string, string, boolean][] = [
    ['same', '0-1-10', '0-1-10', true],
    ['two domains', '0-1-10,1-1-3', '1-1-3,0-1-10', true],
    ['two servers in a domain', '0-1-10,0-2-4', '0-1-10,0-2-4', true],
    ['missing events', '0-1-10', '0-1-12', false],
    ['a domain is new', '0-1-10', '0-1-10,1-1-1', false],
    ['a domain vanished', '0-1-10,1-1-1', '0-1-10', false],
    ['server changed', '0-1-10', '0-2-10', false],
    ['empty to empty', '', '', true],
    ['from nothing to something', '', '0-1-5', false],
  ];
  for (const [what, prev, next, ok] of cases)
    t.equal(continues(parseGtidState(prev), [...parseGtidState(next).values()]), ok, what);
});
