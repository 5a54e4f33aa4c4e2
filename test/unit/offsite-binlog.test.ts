/**
 * Binlog files off-site: the pure decisions (src/offsite/binlog-plan.ts: what to upload, off-site
 * binlog retention, index metadata, gaps) and the index's binlog entries (src/storage/s3-index.ts).
 */
import t from 'tap';
import {
  binlogBacklog,
  binlogMeta,
  gapsForIndex,
  planBinlogUploads,
  planOffsiteBinlogRetention,
} from '../../src/offsite/binlog-plan.js';
import { parseIndex, serializeIndex, type IndexBinlog } from '../../src/storage/s3-index.js';
import type { StoredFile } from '../../src/binlog/store.js';
import { full } from './factory.js';
import { indexedAsStored, offsiteWindow } from '../../src/pitr/offsite-window.js';

const SHA = 'a'.repeat(64);
const entry = (name: string, bytes = 100, extra: Partial<IndexBinlog> = {}): IndexBinlog => ({
  name,
  bytes,
  plain_sha256: SHA,
  object: { bytes: bytes + 200, sha256: 'b'.repeat(64) },
  encrypted: true,
  uploaded_at: '2026-11-29T10:00:00.000Z',
  ...extra,
});
const N = (n: number) => `mysql-bin.${String(n).padStart(6, '0')}`;
const local = (...ns: number[]) => ns.map((n) => ({ name: N(n), bytes: 100 }));
const at = (file: string) => full('20261129T100000Z', 10, { binlog: { file, position: 4, gtid: '0-1-5' } });

t.test('what to upload: closed files the store lacks, not those retention would delete', async (t) => {
  const cases: [string, Parameters<typeof planBinlogUploads>, string[]][] = [
    ['empty store, no backup off-site: all', [local(1, 2, 3), [], new Map(), []], [N(1), N(2), N(3)]],
    ['only what is missing', [local(1, 2, 3), [entry(N(1)), entry(N(2))], new Map(), []], [N(3)]],
    [
      'a file stored with another size is sent again',
      [local(1, 2), [entry(N(1), 50), entry(N(2))], new Map(), []],
      [N(1)],
    ],
    [
      'files before the oldest off-site backup are not sent',
      [local(1, 2, 3, 4), [], new Map(), [at(N(3))]],
      [N(3), N(4)],
    ],
    ['order by sequence number', [local(10, 9, 100), [], new Map(), []], [N(9), N(10), N(100)]],
    ['nothing local', [[], [entry(N(1))], new Map(), [at(N(1))]], []],
  ];
  for (const [name, args, want] of cases) t.same(planBinlogUploads(...args), want, name);
});

t.test('off-site binlog retention: the local rule on the index', async (t) => {
  const cases: [string, Parameters<typeof planOffsiteBinlogRetention>, string[]][] = [
    ['no backup off-site: keep all', [[entry(N(1)), entry(N(2))], []], []],
    [
      "before the oldest backup's file: deleted",
      [[1, 2, 3, 4].map((n) => entry(N(n))), [at(N(3)), at(N(4))]],
      [N(1), N(2)],
    ],
    ['never the newest file', [[entry(N(1)), entry(N(2))], [at(N(9))]], [N(1)]],
    [
      'no position: by time, a minute before the backup started',
      [
        [
          entry(N(1), 100, { last_time: Date.parse('2026-01-01T00:00:00Z') / 1000 - 120 }),
          entry(N(2), 100, { last_time: Date.parse('2026-01-01T00:00:00Z') / 1000 - 30 }),
          entry(N(3)),
        ],
        [full('20260101T000000Z', 1)],
      ],
      [N(1)],
    ],
  ];
  for (const [name, args, want] of cases) t.same(planOffsiteBinlogRetention(...args), want, name);
});

t.test('index metadata and gaps', async (t) => {
  const f: StoredFile = {
    name: N(1),
    bytes: 10,
    events: 3,
    first_time: 5,
    last_time: 9,
    gtid_list: '0-1-4',
    state_end: '0-1-7',
    last_gtid: '0-1-7',
  };
  t.same(binlogMeta(N(1), f), {
    name: N(1),
    first_time: 5,
    last_time: 9,
    gtid_list: '0-1-4',
    state_end: '0-1-7',
    last_gtid: '0-1-7',
  });
  t.same(binlogMeta(N(2), undefined), { name: N(2) });
  const gap = {
    detected_at: '2026-11-29T10:00:00.000Z',
    after_file: N(1),
    after_state: '0-1-7',
    before_file: N(3),
    before_gtid_list: '0-1-9',
    reason: 'purged',
  };
  t.same(gapsForIndex([gap, { ...gap, before_file: '../x' }]), [gap], 'an invalid gap is left out');
});

t.test('the index keeps binlog entries and gaps, validated field by field', async (t) => {
  const gap = {
    detected_at: '2026-11-29T10:00:00.000Z',
    after_state: '0-1-7',
    before_file: N(3),
    before_gtid_list: '0-1-9',
    reason: 'purged',
  };
  const text = serializeIndex({
    format: 1,
    host: 'db1',
    items: [],
    binlogs: [entry(N(2)), entry(N(1), 5, { first_time: 1, gtid_list: '0-1-1' })],
    binlog_gaps: [gap],
  });
  const p = parseIndex(text, 'db1');
  t.ok(p.ok);
  if (!p.ok) return;
  t.same(p.value.problems, []);
  t.same(
    p.value.index.binlogs!.map((b) => b.name),
    [N(1), N(2)],
    'in file order',
  );
  t.equal(p.value.index.binlogs![0]!.first_time, 1);
  t.same(p.value.index.binlog_gaps, [gap]);
  const bad: [string, unknown, RegExp][] = [
    ['a path as name', entry('../etc/passwd.000001'), /invalid name/],
    ['bad sha256', { ...entry(N(1)), plain_sha256: 'x' }, /plain_sha256/],
    ['bad object', { ...entry(N(1)), object: { bytes: -1, sha256: SHA } }, /object/],
    ['no uploaded_at', { ...entry(N(1)), uploaded_at: 'never' }, /uploaded_at/],
  ];
  for (const [name, b, re] of bad) {
    const q = parseIndex(JSON.stringify({ format: 1, host: 'db1', items: [], binlogs: [b] }), 'db1');
    t.ok(q.ok && q.value.problems.some((x) => re.test(x)) && q.value.index.binlogs === undefined, name);
  }
  const twice = parseIndex(
    JSON.stringify({ format: 1, host: 'db1', items: [], binlogs: [entry(N(1)), entry(N(1))] }),
    'db1',
  );
  t.ok(twice.ok && twice.value.problems.some((x) => /listed twice/.test(x)));
  const bogus = { ...entry(N(1)), gtid_list: '$(id)', first_time: 'x' };
  const q = parseIndex(JSON.stringify({ format: 1, host: 'db1', items: [], binlogs: [bogus] }), 'db1');
  t.ok(
    q.ok &&
      q.value.index.binlogs![0]!.gtid_list === undefined &&
      q.value.index.binlogs![0]!.first_time === undefined,
    'optional fields dropped when invalid',
  );
  const old = parseIndex(JSON.stringify({ format: 1, host: 'db1', items: [] }), 'db1');
  t.ok(old.ok && old.value.index.binlogs === undefined, 'an index without binlogs is still read');
});

t.test('the window of a restore from the store: the index, no stream running', async (t) => {
  const b = at(N(2));
  const w = offsiteWindow(
    [b],
    [
      entry(N(2), 100, { first_time: 100, last_time: 150, gtid_list: '0-1-4', state_end: '0-1-9' }),
      entry(N(3), 300, {
        first_time: 160,
        last_time: 200,
        gtid_list: '0-1-9',
        state_end: '0-1-12',
        last_gtid: '0-1-12',
      }),
    ],
    [],
    new Date(250_000),
  );
  t.equal(w.supervisor_running, false);
  t.equal(w.files, 2);
  t.same(w.to, { time: new Date(200_000).toISOString(), gtid: '0-1-12', file: N(3), offset: 300 });
  t.equal(w.age_seconds, 50);
  t.equal(w.from?.backup, b.id);
  t.same(indexedAsStored(entry(N(1))), { name: N(1), bytes: 100, events: 0, gtid_list: '', state_end: '' });
  const empty = offsiteWindow([b], [], [], new Date());
  t.equal(empty.to, undefined, 'no binlogs: no end');
});

t.test('the binlog backlog: closed files newer than the newest off-site', async (t) => {
  const n = (i: number) => `mysql-bin.${String(i).padStart(6, '0')}`;
  const local = [1, 2, 3, 4, 5].map((i) => ({ name: n(i), bytes: i * 100 }));
  const cases: [string, string[], { files: number; bytes: number }][] = [
    ['nothing off-site yet: every closed file', [], { files: 5, bytes: 1500 }],
    ['all off-site', [1, 2, 3, 4, 5].map(n), { files: 0, bytes: 0 }],
    ['two closed since the last sync', [1, 2, 3].map(n), { files: 2, bytes: 900 }],
    ['older files missing off-site (retention) do not count', [3].map(n), { files: 2, bytes: 900 }],
    ['off-site holds newer than local (local retention)', [6, 7].map(n), { files: 0, bytes: 0 }],
    ['a gap off-site below the newest is not backlog', [1, 3, 5].map(n), { files: 0, bytes: 0 }],
    ['the number rolls over 999999', ['mysql-bin.999999'], { files: 0, bytes: 0 }],
  ];
  for (const [name, offsite, want] of cases) t.same(binlogBacklog(local, offsite), want, name);
  t.same(
    binlogBacklog([{ name: 'mysql-bin.1000000', bytes: 7 }], ['mysql-bin.999999']),
    { files: 1, bytes: 7 },
    'past the roll-over',
  );
});
