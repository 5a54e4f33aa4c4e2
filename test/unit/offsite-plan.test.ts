/**
 * The pure decisions of `offsite sync` (src/offsite/plan.ts): what to upload and in which order,
 * off-site retention over the store's listing, what local retention holds back, the record; and
 * the off-site metrics text and progress line.
 */
import t from 'tap';
import {
  dropDoomed,
  localHold,
  parseRecord,
  planOffsiteRetention,
  planUnusable,
  planUploads,
  uploadKey,
} from '../../src/offsite/plan.js';
import { renderOffsiteMetrics } from '../../src/offsite/metrics.js';
import { progressLine, progressTimes } from '../../src/offsite/progress.js';
import { full, inc } from './factory.js';

const F1 = full('20261101T010000Z', 100);
const I1 = inc('20261102T010000Z', F1, 200);
const I2 = inc('20261103T010000Z', I1, 300);
const F2 = full('20261108T010000Z', 400);
const BAD = inc('20261104T010000Z', I2, 350, { unusable: { reason: 'verify failed', at: 'x' } });
const R = (id: string) => ({ id, file: `${id}.xbstream.zst` });
const none = { backups: [], readies: [] };

t.test('unusable markings copied to the store', async (t) => {
  const BADI1 = { ...I1, unusable: { reason: 'prepare failed', at: 'x' } };
  const cases: [string, Parameters<typeof planUnusable>, string[]][] = [
    [
      'nothing unusable',
      [
        { backups: [F1, I1], readies: [] },
        { backups: [F1, I1], readies: [] },
      ],
      [],
    ],
    [
      'marked locally, usable in the store: marked there',
      [
        { backups: [F1, BADI1, I2], readies: [] },
        { backups: [F1, I1, I2], readies: [] },
      ],
      ['incremental/20261102T010000Z'],
    ],
    [
      'already marked in the store',
      [
        { backups: [F1, BADI1], readies: [] },
        { backups: [F1, BADI1], readies: [] },
      ],
      [],
    ],
    [
      'not in the store (never uploaded)',
      [
        { backups: [F1, BAD], readies: [] },
        { backups: [F1], readies: [] },
      ],
      [],
    ],
    [
      'marked in the store only: never undone',
      [
        { backups: [F1, I1], readies: [] },
        { backups: [F1, BADI1], readies: [] },
      ],
      [],
    ],
    [
      'same id, other type: not the same item',
      [
        {
          backups: [{ ...F2, type: 'incremental' as const, unusable: { reason: 'r', at: 'x' } }],
          readies: [],
        },
        { backups: [F2], readies: [] },
      ],
      [],
    ],
  ];
  for (const [name, args, want] of cases)
    t.same(
      planUnusable(...args).map((m) => `${m.type}/${m.id}`),
      want,
      name,
    );
});

t.test('what to upload: what the store lacks, oldest first, parents before children', async (t) => {
  const cases: [string, Parameters<typeof planUploads>, string[]][] = [
    [
      'empty store: everything, a ready file after its backup',
      [{ backups: [F1, I1], readies: [R(I1.id)] }, none],
      ['full/20261101T010000Z', 'incremental/20261102T010000Z', 'ready/20261102T010000Z'],
    ],
    [
      'only what is missing',
      [
        { backups: [F1, I1, I2], readies: [R(I1.id), R(I2.id)] },
        { backups: [F1, I1], readies: [R(I1.id)] },
      ],
      ['incremental/20261103T010000Z', 'ready/20261103T010000Z'],
    ],
    [
      'nothing missing',
      [
        { backups: [F1], readies: [] },
        { backups: [F1], readies: [] },
      ],
      [],
    ],
    [
      'an unusable backup is not uploaded',
      [{ backups: [F1, BAD], readies: [] }, none],
      ['full/20261101T010000Z'],
    ],
    [
      'listed in any order, planned by time',
      [{ backups: [F2, I1, F1], readies: [R(F2.id), R(F1.id)] }, none],
      [
        'full/20261101T010000Z',
        'ready/20261101T010000Z',
        'incremental/20261102T010000Z',
        'full/20261108T010000Z',
        'ready/20261108T010000Z',
      ],
    ],
    [
      'run: its new ready file first, then the backlog',
      [{ backups: [F1, I1], readies: [R(I1.id)] }, none, new Map(), new Set(['ready/20261102T010000Z'])],
      ['ready/20261102T010000Z', 'full/20261101T010000Z', 'incremental/20261102T010000Z'],
    ],
  ];
  for (const [name, args, want] of cases) t.same(planUploads(...args).map(uploadKey), want, name);
  const sized = planUploads(
    { backups: [], readies: [R(F1.id)] },
    none,
    new Map([['ready/20261101T010000Z', 77]]),
  );
  t.equal(sized[0]!.bytes, 77, 'a ready file counts its size');
});

t.test('off-site retention: the local rules with the off-site keys', async (t) => {
  const now = new Date('2026-12-10T00:00:00Z');
  const remote = { backups: [F1, I1, I2, F2], readies: [R(I2.id), R(F2.id)] };
  const cases: [string, number, number, Set<string>, string[]][] = [
    ['7 days: the old chain goes, the newest chain stays', 7, 1, new Set(), [I2.id, I1.id, F1.id, I2.id]],
    ['60 days: everything stays but the extra ready file', 60, 1, new Set(), [I2.id]],
    ['2 ready files kept', 60, 2, new Set(), []],
    ['a local pin holds off-site too (with ancestors)', 7, 1, new Set([I1.id]), [I2.id, I2.id]],
    ['0 days still keeps the newest chain and ready file', 0, 1, new Set(), [I2.id, I1.id, F1.id, I2.id]],
  ];
  for (const [name, days, ready, pins, want] of cases) {
    const p = planOffsiteRetention(remote, { retainDays: days, retainReady: ready }, now, pins);
    t.same(
      p.delete.map((d) => d.id),
      want,
      name,
    );
    t.notOk(
      p.delete.some((d) => d.id === F2.id),
      `${name}: never the newest chain or ready file`,
    );
  }
});

t.test('what off-site retention would delete at once is not uploaded', async (t) => {
  const now = new Date('2026-12-10T00:00:00Z');
  const ups = planUploads({ backups: [F1, I1, I2, F2], readies: [R(I2.id), R(F2.id)] }, none);
  t.same(
    dropDoomed(ups, none, { retainDays: 7, retainReady: 1 }, now, new Set()).map(uploadKey),
    ['full/20261108T010000Z', 'ready/20261108T010000Z'],
    'only the newest chain and ready file',
  );
  t.equal(
    dropDoomed(ups, none, { retainDays: 60, retainReady: 2 }, now, new Set()).length,
    6,
    'all within 60 days',
  );
});

t.test('local retention holds back what is not off-site, unless under the reserve', async (t) => {
  const local = { backups: [F1, I1, I2, BAD], readies: [R(I1.id), R(I2.id)] };
  const off = new Set(['full/20261101T010000Z', 'ready/20261102T010000Z']);
  const h = localHold(local, off, 1000, 100);
  t.same([...h.backups], [I1.id, I2.id], 'backups not off-site (an unusable one never goes)');
  t.same([...h.readies], [I2.id]);
  t.notOk(h.overridden);
  const low = localHold(local, off, 50, 100);
  t.ok(low.overridden, 'under the reserve');
  t.same([...low.backups], []);
  const allOff = localHold({ backups: [F1], readies: [] }, new Set(['full/20261101T010000Z']), 0, 100);
  t.notOk(allOff.overridden, 'nothing to hold: no override reported');
});

t.test('the record is parsed defensively', async (t) => {
  const good = {
    format: 1,
    at: 'x',
    ok: true,
    offsite: ['full/20261101T010000Z'],
    backlog_items: 0,
    backlog_bytes: 0,
  };
  t.same(parseRecord(JSON.stringify(good))?.offsite, good.offsite);
  const cases: [string, string][] = [
    ['not JSON', '{'],
    ['unknown format', JSON.stringify({ ...good, format: 2 })],
    ['a walking name', JSON.stringify({ ...good, offsite: ['full/../../x'] })],
    ['not a list', JSON.stringify({ ...good, offsite: 'x' })],
  ];
  for (const [name, text] of cases) t.equal(parseRecord(text), undefined, name);
  t.equal(
    parseRecord(JSON.stringify({ ...good, backlog_bytes: -5 }))?.backlog_bytes,
    0,
    'a bad number reads as 0',
  );
});

t.test('metrics and progress', async (t) => {
  const text = renderOffsiteMetrics([
    {
      host: 'db1',
      r: {
        format: 1,
        at: 'x',
        ok: false,
        last_success: '2026-11-29T00:00:00.000Z',
        offsite: [],
        backlog_items: 2,
        backlog_bytes: 300,
      },
    },
    { host: 'db2', r: undefined },
    {
      host: 'db3',
      r: { format: 1, at: 'x', ok: true, offsite: [], backlog_items: 0, backlog_bytes: 0 },
      binlog: { files: 3, bytes: 4096 },
    },
  ]);
  t.match(text, /xb_mgr_offsite_binlog_backlog_files\{host="db3"\} 3/);
  t.match(text, /xb_mgr_offsite_binlog_backlog_bytes\{host="db3"\} 4096/);
  t.notMatch(text, /binlog_backlog_files\{host="db1"\}/, 'no binlog samples without binlog files');
  t.match(text, /xb_mgr_offsite_last_success_timestamp_seconds\{host="db1"\} 1795910400/);
  t.match(text, /xb_mgr_offsite_last_sync_success\{host="db1"\} 0/);
  t.match(text, /xb_mgr_offsite_backlog_items\{host="db1"\} 2/);
  t.match(text, /xb_mgr_offsite_backlog_bytes\{host="db1"\} 300/);
  t.notMatch(text, /db2/, 'a host never synced has no samples');
  t.equal(progressLine(12 * 1048576, 48 * 1048576, 2000), '12.0/48.0 MiB 25% 6.0 MiB/s ETA 6 s');
  t.equal(progressLine(0, 10, 0), '0.0/0.0 MiB 0% 0.0 MiB/s ETA ?');
  for (const [env, want] of [
    [undefined, { quiet: 3000, period: 10_000 }],
    ['', { quiet: 3000, period: 10_000 }],
    ['200', { quiet: 200, period: 200 }],
    ['200,1000', { quiet: 200, period: 1000 }],
    ['-1', { quiet: 3000, period: 10_000 }],
    ['1,x', { quiet: 3000, period: 10_000 }],
  ] as const)
    t.same(progressTimes(env), want, `XB_MGR_PROGRESS_MS=${env}`);
});
