/** Point-in-time recovery, pure parts: target parsing, base choice and window, the cut, the replay argv. */
import t from 'tap';
import { UsageError } from '../../src/errors.js';
import { parseTarget, parseToGtid, parseToTime, type PitrTarget } from '../../src/pitr/target.js';
import { chooseBase, endsBefore } from '../../src/pitr/choose.js';
import { findCut, type CutFile } from '../../src/pitr/cut.js';
import {
  binlogReaderArgs,
  finishSql,
  replayClientArgs,
  replayInitSql,
  replayServerArgs,
  sqlAccount,
} from '../../src/pitr/replay-args.js';
import type { Manifest } from '../../src/catalog/manifest.js';
import type { BinlogWindow } from '../../src/binlog/window.js';
import { binlogFile, fde, gtid, gtidList, query, rotate, xid, type G } from './binlog-fixture.js';

const T0 = 1_800_000_000;

t.test('--to-time: offsets, the config zone, fractions and non-times refused', async (t) => {
  const cases: [string, string, number | 'usage'][] = [
    ['2026-11-29T12:00:00Z', 'UTC', Date.UTC(2026, 10, 29, 12) / 1000],
    ['2026-11-29T12:00:00+02:00', 'UTC', Date.UTC(2026, 10, 29, 10) / 1000],
    ['2026-11-29 12:00:05', 'Europe/Berlin', Date.UTC(2026, 10, 29, 11, 0, 5) / 1000],
    ['2026-07-01T12:00', 'Europe/Berlin', Date.UTC(2026, 6, 1, 10) / 1000],
    ['2026-11-29T12:00:00', 'America/New_York', Date.UTC(2026, 10, 29, 17) / 1000],
    ['2026-11-29T12:00:00.5Z', 'UTC', 'usage'],
    ['2026-11-29T12:00:00.000', 'UTC', 'usage'],
    ['2026-11-29T12:00:00,25+01:00', 'UTC', 'usage'],
    ['2026-11-29', 'UTC', 'usage'],
    ['yesterday', 'UTC', 'usage'],
    ['2026-02-30T00:00:00Z', 'UTC', 'usage'],
    ['2026-11-29T25:00:00Z', 'UTC', 'usage'],
  ];
  for (const [v, tz, want] of cases) {
    if (want === 'usage') t.throws(() => parseToTime(v, tz), UsageError, `${v} refused`);
    else t.same(parseToTime(v, tz), { kind: 'time', at: want }, `${v} in ${tz}`);
  }
  try {
    parseToTime('2026-11-29T12:00:00.5Z', 'UTC');
  } catch (e) {
    t.match((e as Error).message, /fractions of a second are refused/);
  }
});

t.test('--to-gtid: one GTID', async (t) => {
  t.same(parseToGtid('0-1-42'), { kind: 'gtid', gtid: { domain: 0, server: 1, seq: 42n } });
  t.same(parseToGtid(' 3-100-18446744073709551615 '), {
    kind: 'gtid',
    gtid: { domain: 3, server: 100, seq: 18446744073709551615n },
  });
  for (const bad of ['0-1', '0-1-0', '0-1-42,1-1-3', 'a-b-c', '0-1-18446744073709551616', '0-1-42;', ''])
    t.throws(() => parseToGtid(bad), UsageError, `${JSON.stringify(bad)} refused`);
  t.throws(() => parseTarget({ toTime: '2026-11-29T12:00:00Z', toGtid: '0-1-1' }, 'UTC'), UsageError);
  t.throws(() => parseTarget({}, 'UTC'), UsageError);
});

const m = (
  id: string,
  finished: string,
  gtid: string | undefined,
  file = 'mysql-bin.000002',
  extra: Partial<Manifest> = {},
): Manifest => ({
  format: 1,
  id,
  type: 'full',
  host: 'db1',
  parent: null,
  from_lsn: 0,
  to_lsn: 1,
  file: 'backup.xbstream.zst',
  bytes: 1,
  sha256: 'x',
  compress: 'zstd',
  tool: 'mariabackup',
  reason: 'r',
  started_at: finished,
  finished_at: finished,
  seconds: 1,
  ...(gtid !== undefined ? { binlog: { file, position: 4, gtid } } : {}),
  ...extra,
});

const win = (o: Partial<BinlogWindow> = {}): BinlogWindow => ({
  files: 1,
  bytes: 1,
  gaps: [],
  supervisor_running: false,
  to: { time: '2026-11-29T12:00:00.000Z', gtid: '0-1-100', file: 'mysql-bin.000003', offset: 9 },
  ...o,
});

const at = (iso: string): PitrTarget => ({ kind: 'time', at: Date.parse(iso) / 1000 });
const g = (s: string): PitrTarget => parseToGtid(s);

t.test('the base: newest usable backup ending before the target with its binlog stored', async (t) => {
  const backups = [
    m('20261129T080000Z', '2026-11-29T08:00:10Z', '0-1-10', 'mysql-bin.000001'),
    m('20261129T090000Z', '2026-11-29T09:00:10Z', '0-1-20'),
    m('20261129T100000Z', '2026-11-29T10:00:10Z', '0-1-30', 'mysql-bin.000002', {
      unusable: { reason: 'x', at: 'y' },
    }),
    m('20261129T103000Z', '2026-11-29T10:30:10Z', undefined),
    m('20261129T110000Z', '2026-11-29T11:00:10Z', '0-1-40', 'mysql-bin.000003'),
  ];
  const stored = [
    { name: 'mysql-bin.000002' },
    { name: 'mysql-bin.000003', first_time: Date.parse('2026-11-29T10:00:00Z') / 1000 },
  ];
  const now = new Date('2026-11-29T12:30:00Z');
  const cases: [string, PitrTarget, Partial<BinlogWindow>, string][] = [
    ['after the newest', at('2026-11-29T11:30:00Z'), {}, 'ok 20261129T110000Z'],
    [
      'between: the unusable and the binlog-less ones skipped',
      at('2026-11-29T10:45:00Z'),
      {},
      'ok 20261129T090000Z',
    ],
    ['a backup ending exactly at T', at('2026-11-29T09:00:10Z'), {}, 'ok 20261129T090000Z'],
    ['before the oldest whose binlog is stored', at('2026-11-29T08:30:00Z'), {}, 'outside'],
    ['in the future', at('2026-11-29T13:00:00Z'), { supervisor_running: true }, 'outside'],
    ['after the last event, stream down', at('2026-11-29T12:00:02Z'), {}, 'outside'],
    ['one second after the last event', at('2026-11-29T12:00:01Z'), {}, 'ok 20261129T110000Z'],
    [
      'after the last event, stream running',
      at('2026-11-29T12:20:00Z'),
      { supervisor_running: true },
      'ok 20261129T110000Z',
    ],
    ['GTID after the newest', g('0-1-45'), {}, 'ok 20261129T110000Z'],
    ['GTID equal to a backup', g('0-1-40'), {}, 'ok 20261129T110000Z'],
    ['GTID between', g('0-1-39'), {}, 'ok 20261129T090000Z'],
    ['GTID before the oldest stored', g('0-1-15'), {}, 'outside'],
    ['GTID of another domain', g('1-1-5'), {}, 'ok 20261129T110000Z'],
  ];
  for (const [name, target, w, want] of cases) {
    const c = chooseBase({
      backups,
      readyIds: new Set(['20261129T090000Z']),
      stored,
      gaps: [],
      window: win(w),
      target,
      now,
    });
    t.equal(c.kind === 'ok' ? `ok ${c.base.id}` : c.kind, want, name);
    if (c.kind === 'outside')
      t.match(
        c.message,
        /outside the recoverable window .*recoverable window: from backup 20261129T090000Z/,
        `${name}: the window`,
      );
    if (c.kind === 'ok') t.equal(c.ready, c.base.id === '20261129T090000Z', `${name}: ready file or chain`);
  }
  t.ok(endsBefore(backups[1]!, g('0-1-20')));
  t.notOk(endsBefore(backups[1]!, g('0-1-19')));
});

t.test('a gap between the base and the target fails; one before the base does not', async (t) => {
  const backups = [m('20261129T090000Z', '2026-11-29T09:00:10Z', '0-1-20', 'mysql-bin.000002')];
  const stored = [
    { name: 'mysql-bin.000002', first_time: Date.parse('2026-11-29T08:00:00Z') / 1000 },
    { name: 'mysql-bin.000004', first_time: Date.parse('2026-11-29T11:00:00Z') / 1000 },
  ];
  const gap = (before: string, list: string) => ({
    detected_at: 'x',
    after_file: 'mysql-bin.000001',
    after_state: '0-1-5',
    before_file: before,
    before_gtid_list: list,
    reason: 'purged',
  });
  const cases: [string, PitrTarget, string, string][] = [
    ['time after the gap', at('2026-11-29T11:30:00Z'), 'mysql-bin.000004', 'gap'],
    ['time before the gap', at('2026-11-29T10:30:00Z'), 'mysql-bin.000004', 'ok'],
    ['gap before the base', at('2026-11-29T11:30:00Z'), 'mysql-bin.000002', 'ok'],
    ['GTID after the gap', g('0-1-60'), 'mysql-bin.000004', 'gap'],
    ['GTID before the gap', g('0-1-45'), 'mysql-bin.000004', 'ok'],
  ];
  for (const [name, target, before, want] of cases) {
    const c = chooseBase({
      backups,
      readyIds: new Set(),
      stored,
      gaps: [gap(before, '0-1-50')],
      window: win(),
      target,
      now: new Date('2026-11-29T12:30:00Z'),
    });
    t.equal(c.kind, want, name);
    if (c.kind === 'gap')
      t.match(c.message, /gap between backup 20261129T090000Z and .* before mysql-bin.000004/);
  }
});

const file = (name: string, b: Buffer): CutFile => ({
  name,
  size: b.length,
  read: (p, l) => b.subarray(p, p + l),
});
const G1 = (seq: number): G => ({ domain: 0, server: 1, seq });

t.test('the cut: commit time < T, GTID included, the backup skipped, gaps, a partial tail', async (t) => {
  // File 1: transactions 0-1-1..5 at T0..T0+4; rotates to file 2: 0-1-6..8 at T0+10..T0+12.
  const f1 = binlogFile({
    list: [],
    gtids: [1, 2, 3, 4, 5].map(G1),
    end: rotate('mysql-bin.000002', T0 + 5),
  });
  const f2 = binlogFile({ list: [G1(5)], gtids: [6, 7, 8].map(G1), time: T0 + 10 });
  const files = [file('mysql-bin.000001', f1), file('mysql-bin.000002', f2)];
  const tx = gtid(G1(1)).length + query().length + xid().length;
  const head1 = 4 + fde().length + gtidList([]).length;
  const head2 = 4 + fde().length + gtidList([G1(5)]).length;
  type Want = { last?: string; n: number; state: string; reached: boolean; bytes: number[] };
  const cases: [string, string, PitrTarget, Want][] = [
    [
      'T inside file 1',
      '0-1-2',
      { kind: 'time', at: T0 + 3 },
      { last: '0-1-3', n: 1, state: '0-1-3', reached: true, bytes: [head1 + 3 * tx] },
    ],
    [
      'T at the first replayed commit: nothing',
      '0-1-2',
      { kind: 'time', at: T0 + 2 },
      { n: 0, state: '0-1-2', reached: true, bytes: [head1 + 2 * tx] },
    ],
    [
      'T in file 2',
      '0-1-2',
      { kind: 'time', at: T0 + 11 },
      { last: '0-1-6', n: 4, state: '0-1-6', reached: true, bytes: [f1.length, head2 + tx] },
    ],
    [
      'T after everything',
      '0-1-2',
      { kind: 'time', at: T0 + 100 },
      { last: '0-1-8', n: 6, state: '0-1-8', reached: false, bytes: [f1.length, f2.length] },
    ],
    [
      'GTID included',
      '0-1-2',
      g('0-1-7'),
      { last: '0-1-7', n: 5, state: '0-1-7', reached: true, bytes: [f1.length, head2 + 2 * tx] },
    ],
    [
      'GTID the backup ends at: nothing',
      '0-1-4',
      g('0-1-4'),
      { n: 0, state: '0-1-4', reached: true, bytes: [] },
    ],
  ];
  for (const [name, start, target, want] of cases) {
    const c = findCut(files, start, target);
    if (c.kind !== 'ok') {
      t.fail(`${name}: ${c.kind}`);
      continue;
    }
    t.same(
      { last: c.lastGtid, n: c.transactions, state: c.state, reached: c.reached },
      { last: want.last, n: want.n, state: want.state, reached: want.reached },
      name,
    );
    t.same(
      c.files.map((f) => f.bytes),
      want.bytes,
      `${name}: the bytes copied`,
    );
  }
  // A file whose Gtid_list does not continue the previous file: a gap.
  const f2gap = binlogFile({ list: [G1(9)], gtids: [10].map(G1), time: T0 + 10 });
  const gap = findCut([files[0]!, file('mysql-bin.000003', f2gap)], '0-1-2', { kind: 'time', at: T0 + 100 });
  t.equal(gap.kind, 'gap');
  if (gap.kind === 'gap') t.match(gap.message, /gap before mysql-bin.000003/);
  // A GTID that was never logged (skipped over).
  const skipped = findCut(files, '0-1-2', g('0-2-7'));
  t.equal(skipped.kind, 'unreadable');
  // A staged file cut mid-transaction: the open transaction is not replayed.
  const partial = findCut([file('mysql-bin.000002', f2.subarray(0, f2.length - 10))], '0-1-5', {
    kind: 'time',
    at: T0 + 100,
  });
  t.same(partial.kind === 'ok' && [partial.lastGtid, partial.files[0]!.bytes], ['0-1-7', head2 + 2 * tx]);
  // Garbage: unreadable, not a throw.
  const bad = findCut([file('mysql-bin.000001', Buffer.from('not a binlog at all'))], '', {
    kind: 'time',
    at: T0,
  });
  t.equal(bad.kind, 'unreadable');
});

t.test('the replay argv: no network, no defaults, no files, grant tables, sandboxed client', async (t) => {
  const p = { datadir: '/w/data', run: '/w/run' };
  const srv = replayServerArgs(p, [
    '--no-defaults',
    '--innodb-page-size=16384',
    '--plugin-dir=/usr/lib/mysql/plugin',
  ]);
  t.equal(srv[0], '--no-defaults', '--no-defaults first');
  for (const a of [
    '--skip-networking',
    '--secure-file-priv=/w/run/no-files',
    '--skip-log-bin',
    '--skip-slave-start',
    '--event-scheduler=DISABLED',
    '--local-infile=0',
    '--init-file=/w/run/init.sql',
    '--socket=/w/run/mysqld.sock',
    '--datadir=/w/data',
    '--innodb-flush-log-at-trx-commit=0',
  ])
    t.ok(srv.includes(a), a);
  t.notOk(srv.includes('--skip-grant-tables'), 'grant tables on: GRANT and CREATE USER replay as they were');
  t.same(binlogReaderArgs(p, '0-1-5,1-2-3', ['mysql-bin.000001', 'mysql-bin.000002']), [
    '--no-defaults',
    '--start-position=0-1-5,1-2-3',
    '--local-load=/w/run/tmp',
    '/w/run/binlog/mysql-bin.000001',
    '/w/run/binlog/mysql-bin.000002',
  ]);
  t.same(binlogReaderArgs(p, '', ['f'])[1], '--local-load=/w/run/tmp', 'no GTID yet: from the start');
  t.throws(() => binlogReaderArgs(p, "0-1-5' --x", []));
  const cli = replayClientArgs(p, 'xb-mgr-worker');
  for (const a of ['--no-defaults', '--binary-mode', '--sandbox', '--local-infile=0', '--user=xb-mgr-worker'])
    t.ok(cli.includes(a), a);
  t.equal(sqlAccount('xb-mgr-worker'), "'xb-mgr-worker'@'localhost'");
  t.throws(() => sqlAccount("x'@'%"));
  t.match(
    replayInitSql('xb-mgr-worker'),
    /IDENTIFIED VIA unix_socket;\nGRANT ALL PRIVILEGES ON \*\.\* TO 'xb-mgr-worker'@'localhost' WITH GRANT OPTION;/,
  );
  t.equal(
    finishSql('w', '0-1-9'),
    "SET GLOBAL gtid_slave_pos = '0-1-9';\nDROP USER 'w'@'localhost';\nSHUTDOWN;\n",
  );
  t.throws(() => finishSql('w', "0'; DROP"));
});
