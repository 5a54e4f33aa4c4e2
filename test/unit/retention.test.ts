import t from 'tap';
import {
  planRetention,
  type ReadyEntry,
  type RetentionInput,
  type RetentionPlan,
} from '../../src/retention.js';
import type { Manifest } from '../../src/catalog/manifest.js';
import { backupId } from '../../src/time.js';
import { full, inc } from './factory.js';

const UNUSABLE = { reason: 'verify failed', at: '2026-11-20T05:00:00.000Z' };

/** Id of a November 2026 day at hh:mm:ss UTC. */
const nov = (day: number, hh = 1, mm = 0, ss = 0) =>
  `202611${String(day).padStart(2, '0')}T${String(hh).padStart(2, '0')}${String(mm).padStart(2, '0')}${String(ss).padStart(2, '0')}Z`;

/** Ids of November days `last` down to `first` at 01:00 (descending: the deletion order). */
const daysDesc = (first: number, last: number) => {
  const out: string[] = [];
  for (let d = last; d >= first; d--) out.push(nov(d));
  return out;
};

/** A daily chain at 01:00: a full on day `first`, an incremental every following day up to `last`. */
function dailyChain(first: number, last: number, lsn0: number): Manifest[] {
  const out = [full(nov(first), lsn0)];
  for (let d = first + 1; d <= last; d++)
    out.push(inc(nov(d), out[out.length - 1]!, lsn0 + (d - first) * 100));
  return out;
}

const WEEK08 = dailyChain(8, 14, 1000); // Sunday 8 .. Saturday 14
const WEEK15 = dailyChain(15, 21, 5000); // Sunday 15 .. Saturday 21
const WEEK22 = dailyChain(22, 24, 9000); // Sunday 22 .. Tuesday 24
const DAYS_8_24 = [...WEEK08, ...WEEK15, ...WEEK22];
const byDay = (d: number) => DAYS_8_24.find((m) => m.id === nov(d))!;

function plan(
  p: Partial<Omit<RetentionInput, 'now'>> & { backups: readonly Manifest[]; now: string },
): RetentionPlan {
  return planRetention({
    readies: [],
    retainDays: 7,
    retainReady: 1,
    pins: new Set(),
    ...p,
    now: new Date(p.now),
  });
}

/** The instant of a backup id (parsed here, independently of src/time.ts). */
const idTime = (id: string) =>
  Date.parse(id.replace(/^(\d{4})(\d\d)(\d\d)T(\d\d)(\d\d)(\d\d)Z$/, '$1-$2-$3T$4:$5:$6Z'));

const backupDeletions = (p: RetentionPlan) => p.delete.filter((d) => d.kind === 'backup').map((d) => d.id);
const keptIds = (p: RetentionPlan) => p.keep.map((k) => k.id).sort();

interface Case {
  name: string;
  backups: Manifest[];
  now: string;
  days: number;
  pins?: string[];
  /** Backup ids to delete, in order. */
  del: string[];
}

const OLDER = 'older than %d day(s) and not needed to restore a point in the window';

const cases: Case[] = [
  // Chains across the window's start
  {
    name: "the window starts inside this week's chain: last week is not needed",
    backups: DAYS_8_24,
    now: '2026-11-24T02:00:00Z',
    days: 7,
    del: daysDesc(8, 14),
  },
  {
    name: 'the window starts inside last week: all kept',
    backups: DAYS_8_24,
    now: '2026-11-21T02:00:00Z',
    days: 7,
    del: [],
  },
  {
    name: 'the window starts one second after a full: the full alone suffices for the start',
    backups: DAYS_8_24,
    now: '2026-11-22T01:00:01Z',
    days: 7,
    del: daysDesc(8, 14),
  },
  // Boundaries: "at or before now - N days" is inclusive
  {
    name: 'window start exactly on a full (01:00:00): that full is the state at the start',
    backups: DAYS_8_24.filter((m) => m.id <= nov(22)),
    now: '2026-11-22T01:00:00Z',
    days: 7,
    del: daysDesc(8, 14),
  },
  {
    name: 'window start one second before the full: the previous chain is still needed',
    backups: DAYS_8_24.filter((m) => m.id <= nov(21)),
    now: '2026-11-22T00:59:59Z',
    days: 7,
    del: [],
  },
  {
    name: 'window start exactly on an incremental: its chain back to the full is kept, older chains go',
    backups: DAYS_8_24,
    now: '2026-11-24T01:00:00Z',
    days: 6,
    del: daysDesc(8, 14),
  },
  {
    name: 'window start exactly on an incremental, one day: that incremental and its chain are kept',
    backups: DAYS_8_24,
    now: '2026-11-17T01:00:00Z',
    days: 1,
    del: daysDesc(8, 14),
  },
  {
    name: 'clock exactly at midnight: the window starts at midnight, the previous 01:00 backup is the start',
    backups: DAYS_8_24.filter((m) => m.id <= nov(21)),
    now: '2026-11-22T00:00:00Z',
    days: 7,
    del: [],
  },
  {
    name: 'a full taken exactly at midnight is the state at a midnight window start',
    backups: [
      ...WEEK08,
      ...dailyChain(15, 21, 5000).map((m) => (m.id === nov(15) ? { ...m, id: nov(15, 0) } : m)),
    ].map((m) => (m.parent === nov(15) ? { ...m, parent: nov(15, 0) } : m)),
    now: '2026-11-22T00:00:00Z',
    days: 7,
    del: daysDesc(8, 14),
  },
  {
    name: 'a full taken one second after midnight is not: the previous chain stays',
    backups: [
      ...WEEK08,
      ...dailyChain(15, 21, 5000).map((m) => (m.id === nov(15) ? { ...m, id: nov(15, 0, 0, 1) } : m)),
    ].map((m) => (m.parent === nov(15) ? { ...m, parent: nov(15, 0, 0, 1) } : m)),
    now: '2026-11-22T00:00:00Z',
    days: 7,
    del: [],
  },
  // retain_days 0 and 1
  {
    name: 'retain_days 1: only the current chain',
    backups: DAYS_8_24,
    now: '2026-11-24T02:00:00Z',
    days: 1,
    del: [...daysDesc(15, 21), ...daysDesc(8, 14)],
  },
  {
    name: 'retain_days 1 on Monday: the Sunday full and Monday',
    backups: DAYS_8_24.filter((m) => m.id <= nov(23)),
    now: '2026-11-23T02:00:00Z',
    days: 1,
    del: [...daysDesc(15, 21), ...daysDesc(8, 14)],
  },
  {
    name: 'retain_days 1 on Sunday after the full: the state a day ago needs last week',
    backups: DAYS_8_24.filter((m) => m.id <= nov(22)),
    now: '2026-11-22T02:00:00Z',
    days: 1,
    del: daysDesc(8, 14),
  },
  {
    name: 'retain_days 0: the newest complete chain only',
    backups: DAYS_8_24,
    now: '2026-11-24T02:00:00Z',
    days: 0,
    del: [...daysDesc(15, 21), ...daysDesc(8, 14)],
  },
  {
    name: 'retain_days 0, now exactly the newest backup',
    backups: DAYS_8_24,
    now: '2026-11-24T01:00:00Z',
    days: 0,
    del: [...daysDesc(15, 21), ...daysDesc(8, 14)],
  },
  {
    name: 'retain_days 0 right after a full: the old chain goes at once',
    backups: DAYS_8_24.filter((m) => m.id <= nov(22)),
    now: '2026-11-22T01:00:00Z',
    days: 0,
    del: [...daysDesc(15, 21), ...daysDesc(8, 14)],
  },
  {
    name: 'retain_days 0 with a backup in the future of now: it is kept, and so is the chain at now',
    backups: DAYS_8_24,
    now: '2026-11-24T00:59:59Z',
    days: 0,
    del: [...daysDesc(15, 21), ...daysDesc(8, 14)],
  },
  // Several fulls, long windows
  {
    name: 'three fulls, window of 3 days: the middle chain is needed at the start',
    backups: DAYS_8_24,
    now: '2026-11-24T02:00:00Z',
    days: 3,
    del: daysDesc(8, 14),
  },
  {
    name: 'three fulls, window of 10 days: everything',
    backups: DAYS_8_24,
    now: '2026-11-24T02:00:00Z',
    days: 10,
    del: [],
  },
  {
    name: 'three fulls, window of 365 days: everything',
    backups: DAYS_8_24,
    now: '2026-11-24T02:00:00Z',
    days: 365,
    del: [],
  },
  {
    name: 'all backups long past: the newest complete chain is kept',
    backups: DAYS_8_24,
    now: '2027-03-01T00:00:00Z',
    days: 7,
    del: [...daysDesc(15, 21), ...daysDesc(8, 14)],
  },
  {
    name: 'the catalog order does not matter',
    backups: [...DAYS_8_24].reverse(),
    now: '2026-11-24T02:00:00Z',
    days: 1,
    del: [...daysDesc(15, 21), ...daysDesc(8, 14)],
  },
  {
    name: 'an empty catalog',
    backups: [],
    now: '2026-11-24T02:00:00Z',
    days: 7,
    del: [],
  },
  // Missing days: the state at the window's start is the last backup before the gap
  {
    name: 'missing days: the window starts in a gap, the chain before it is kept',
    backups: [...dailyChain(8, 10, 1000), ...dailyChain(17, 24, 5000)],
    now: '2026-11-24T02:00:00Z',
    days: 9,
    del: [],
  },
  {
    name: 'missing days: the window starts on the made-up full after the gap',
    backups: [...dailyChain(8, 10, 1000), ...dailyChain(17, 24, 5000)],
    now: '2026-11-24T01:00:00Z',
    days: 7,
    del: daysDesc(8, 10),
  },
  {
    name: 'missing days: the window starts in the gap, one second before the made-up full',
    backups: [...dailyChain(8, 10, 1000), ...dailyChain(17, 24, 5000)],
    now: '2026-11-24T00:59:59Z',
    days: 7,
    del: [],
  },
  {
    name: 'missing days inside a chain (no runs Wednesday to Friday)',
    backups: [
      full(nov(15), 5000),
      inc(nov(16), full(nov(15), 5000), 5100),
      inc(nov(17), inc(nov(16), full(nov(15), 5000), 5100), 5200),
      inc(nov(21), inc(nov(17), inc(nov(16), full(nov(15), 5000), 5100), 5200), 5300),
      ...WEEK22,
    ],
    now: '2026-11-22T02:00:00Z',
    days: 3,
    del: [],
  },
  // Unusable backups
  {
    name: 'an unusable incremental older than the window start is deleted, its usable parent kept for the start',
    backups: [
      ...WEEK08,
      byDay(15),
      byDay(16),
      { ...byDay(17), unusable: UNUSABLE },
      full(nov(18), 6000),
      inc(nov(19), full(nov(18), 6000), 6100),
    ],
    now: '2026-11-20T02:00:00Z',
    days: 3,
    del: [nov(17), ...daysDesc(8, 14)],
  },
  {
    name: 'a chain wholly behind the window start with an unusable tip goes once a newer full starts the window',
    backups: [
      byDay(15),
      byDay(16),
      { ...byDay(17), unusable: UNUSABLE },
      full(nov(18), 6000),
      inc(nov(19), full(nov(18), 6000), 6100),
      inc(nov(20), inc(nov(19), full(nov(18), 6000), 6100), 6200),
      inc(nov(21), inc(nov(20), inc(nov(19), full(nov(18), 6000), 6100), 6200), 6300),
    ],
    now: '2026-11-21T02:00:00Z',
    days: 2,
    del: [nov(17), nov(16), nov(15)],
  },
  {
    name: 'an unusable backup inside the window is kept with its ancestors',
    backups: [
      ...WEEK08,
      byDay(15),
      byDay(16),
      { ...byDay(17), unusable: UNUSABLE },
      full(nov(18), 6000),
      inc(nov(19), full(nov(18), 6000), 6100),
    ],
    now: '2026-11-20T02:00:00Z',
    days: 5,
    del: daysDesc(8, 14),
  },
  {
    name: 'an unusable backup exactly at the window start is not in the window: deleted, its usable parent is the start',
    backups: [...WEEK15.slice(0, 3), { ...byDay(18), unusable: UNUSABLE }, full(nov(18, 12), 9000)],
    now: '2026-11-20T01:00:00Z',
    days: 2,
    del: [nov(18)],
  },
  {
    name: 'an unusable backup one second after the window start is in it: kept with its chain',
    backups: [...WEEK15.slice(0, 3), { ...byDay(18), unusable: UNUSABLE }, full(nov(18, 12), 9000)],
    now: '2026-11-20T00:59:59Z',
    days: 2,
    del: [],
  },
  {
    name: 'an unusable full outside the window is deleted with its incrementals',
    backups: [{ ...byDay(8), unusable: UNUSABLE }, byDay(9), byDay(10), ...WEEK15],
    now: '2026-11-21T02:00:00Z',
    days: 3,
    del: [nov(10), nov(9), nov(8)],
  },
  {
    name: 'the newest backups are unusable: the newest complete chain is still kept',
    backups: [
      ...WEEK15,
      full(nov(22), 9000, { unusable: UNUSABLE }),
      full(nov(23), 9100, { unusable: UNUSABLE }),
    ],
    now: '2026-11-23T02:00:00Z',
    days: 0,
    del: [nov(23), nov(22)],
  },
  {
    name: 'only unusable backups, all old: all deleted',
    backups: [full(nov(8), 1000, { unusable: UNUSABLE }), full(nov(15), 2000, { unusable: UNUSABLE })],
    now: '2026-11-24T02:00:00Z',
    days: 7,
    del: [nov(15), nov(8)],
  },
  // Orphans (parent missing)
  {
    name: 'orphan incrementals (their full is gone) outside the window are deleted',
    backups: [byDay(16), byDay(17), ...WEEK22],
    now: '2026-11-24T02:00:00Z',
    days: 2,
    del: [nov(17), nov(16)],
  },
  {
    name: 'orphans after a gap in the middle of a chain: the part before the gap is the start state',
    backups: [byDay(15), byDay(16), byDay(18), byDay(19), ...WEEK22],
    now: '2026-11-24T02:00:00Z',
    days: 3,
    del: [nov(19), nov(18)],
  },
  {
    name: 'orphan incrementals inside the window are kept, with what exists of their chain',
    backups: [byDay(16), byDay(17), ...WEEK22],
    now: '2026-11-24T02:00:00Z',
    days: 8,
    del: [],
  },
  // Pins
  {
    name: 'pinning an old incremental keeps its whole chain and nothing after it',
    backups: DAYS_8_24,
    now: '2026-11-24T02:00:00Z',
    days: 1,
    pins: [nov(10)],
    del: [...daysDesc(15, 21), ...daysDesc(11, 14)],
  },
  {
    name: 'pinning the last incremental of a week keeps the whole week',
    backups: DAYS_8_24,
    now: '2026-11-24T02:00:00Z',
    days: 1,
    pins: [nov(14)],
    del: daysDesc(15, 21),
  },
  {
    name: 'pinning a full keeps the full alone',
    backups: DAYS_8_24,
    now: '2026-11-24T02:00:00Z',
    days: 1,
    pins: [nov(15)],
    del: [...daysDesc(16, 21), ...daysDesc(8, 14)],
  },
  {
    name: 'two pins in two chains',
    backups: DAYS_8_24,
    now: '2026-11-24T02:00:00Z',
    days: 0,
    pins: [nov(9), nov(17)],
    del: [...daysDesc(18, 21), ...daysDesc(10, 14)],
  },
  {
    name: 'a pin of an id not in the catalog changes nothing',
    backups: DAYS_8_24,
    now: '2026-11-24T02:00:00Z',
    days: 1,
    pins: ['20261101T010000Z', 'not-an-id'],
    del: [...daysDesc(15, 21), ...daysDesc(8, 14)],
  },
  {
    name: 'a pin of a backup inside the window changes nothing',
    backups: DAYS_8_24,
    now: '2026-11-24T02:00:00Z',
    days: 1,
    pins: [nov(24)],
    del: [...daysDesc(15, 21), ...daysDesc(8, 14)],
  },
];

t.test('planRetention: which backups are deleted, in order', async (t) => {
  for (const c of cases) {
    const p = plan({ backups: c.backups, now: c.now, retainDays: c.days, pins: new Set(c.pins ?? []) });
    t.strictSame(backupDeletions(p), c.del, c.name);
    // Every backup is either kept or deleted, never both.
    const kept = new Set(p.keep.map((k) => k.id));
    const all = c.backups.map((m) => m.id).sort();
    t.strictSame([...kept, ...backupDeletions(p)].sort(), all, `${c.name}: keep + delete = the catalog`);
  }
});

t.test('deletions carry what and why', async (t) => {
  const p = plan({
    backups: [
      byDay(15),
      byDay(16),
      { ...byDay(17), unusable: UNUSABLE },
      full(nov(18), 6000),
      inc(nov(19), full(nov(18), 6000), 6100),
    ],
    now: '2026-11-20T02:00:00Z',
    retainDays: 1,
  });
  t.strictSame(p.delete, [
    {
      kind: 'backup',
      id: nov(17),
      what: 'incremental',
      reason: 'unusable (verify failed) and older than 1 day(s)',
    },
    { kind: 'backup', id: nov(16), what: 'incremental', reason: OLDER.replace('%d', '1') },
    { kind: 'backup', id: nov(15), what: 'full', reason: OLDER.replace('%d', '1') },
  ]);
});

t.test('keep carries why', async (t) => {
  // The window (3 days) starts in the gap: day 10 is the state at its start.
  const p = plan({
    backups: [...dailyChain(8, 10, 1000), ...dailyChain(17, 18, 5000)],
    now: '2026-11-18T02:00:00Z',
    retainDays: 3,
  });
  const reasons = Object.fromEntries(p.keep.map((k) => [k.id, k.reason]));
  t.strictSame(reasons, {
    [nov(8)]: `ancestor of ${nov(10)}`,
    [nov(9)]: `ancestor of ${nov(10)}`,
    [nov(10)]: "the state at the window's start (2026-11-15T02:00:00.000Z)",
    [nov(17)]: 'newer than 3 day(s)',
    [nov(18)]: 'newer than 3 day(s)',
  });
  const pinned = plan({
    backups: DAYS_8_24,
    now: '2026-11-24T02:00:00Z',
    retainDays: 0,
    pins: new Set([nov(15)]),
  });
  t.equal(pinned.keep.find((k) => k.id === nov(15))?.reason, 'pinned (xb-mgr keep)', 'a pinned full');
  t.equal(
    pinned.keep.find((k) => k.id === nov(24))?.reason.startsWith("the state at the window's start"),
    true,
    'newest',
  );
  t.strictSame(keptIds(pinned), [nov(15), nov(22), nov(23), nov(24)], 'kept ids');
});

t.test('deletion order: ids strictly descending, every incremental before its full', async (t) => {
  for (const c of cases) {
    const p = plan({ backups: c.backups, now: c.now, retainDays: c.days, pins: new Set(c.pins ?? []) });
    const ids = backupDeletions(p);
    t.ok(
      ids.every((id, i) => i === 0 || ids[i - 1]! > id),
      `${c.name}: strictly descending`,
    );
    const pos = new Map(ids.map((id, i) => [id, i]));
    const byId = new Map(c.backups.map((m) => [m.id, m]));
    let ok = true;
    for (const id of ids) {
      const m = byId.get(id)!;
      if (m.parent && pos.has(m.parent) && pos.get(m.parent)! < pos.get(id)!) ok = false;
    }
    t.ok(ok, `${c.name}: no parent is deleted before its child`);
  }
});

// ---------------------------------------------------------------------------------------------
// Eight-hourly runs (01:00, 09:00, 17:00 UTC) with a full at the first run of each Sunday.

const H = 3_600_000;
const SERIES_START = Date.parse('2026-10-25T01:00:00Z'); // a Sunday

/** The backups a schedule of runs every 8 h from Sunday 25 Oct 01:00 would have taken up to `until`. */
function eightHourly(until: string): Manifest[] {
  const out: Manifest[] = [];
  let lsn = 1000;
  for (let ms = SERIES_START; ms <= Date.parse(until); ms += 8 * H) {
    const d = new Date(ms);
    lsn += 100;
    const id = backupId(d);
    if (d.getUTCDay() === 0 && d.getUTCHours() === 1) out.push(full(id, lsn));
    else out.push(inc(id, out[out.length - 1]!, lsn));
  }
  return out;
}

/** Ids of the runs from `from` to `to` (inclusive), newest first. */
function runsDesc(from: string, to: string): string[] {
  const out: string[] = [];
  for (let ms = Date.parse(to); ms >= Date.parse(from); ms -= 8 * H) out.push(backupId(new Date(ms)));
  return out;
}

const WEEK_OCT25 = runsDesc('2026-10-25T01:00:00Z', '2026-10-31T17:00:00Z');
const WEEK_NOV01 = runsDesc('2026-11-01T01:00:00Z', '2026-11-07T17:00:00Z');
const WEEK_NOV08 = runsDesc('2026-11-08T01:00:00Z', '2026-11-14T17:00:00Z');
const WEEK_NOV15 = runsDesc('2026-11-15T01:00:00Z', '2026-11-21T17:00:00Z');

t.test('eight-hourly runs: the helpers', async (t) => {
  const s = eightHourly('2026-11-08T01:00:00Z');
  t.equal(s.length, 43, 'two weeks of three runs a day, plus the third Sunday full');
  t.equal(WEEK_OCT25.length, 21, 'a week is 21 runs');
  t.equal(WEEK_OCT25[0], '20261031T170000Z', 'newest first');
  t.equal(WEEK_OCT25[20], '20261025T010000Z', 'the Sunday full last');
  t.strictSame(
    s.filter((m) => m.type === 'full').map((m) => m.id),
    ['20261025T010000Z', '20261101T010000Z', '20261108T010000Z'],
    'fulls on Sundays 01:00',
  );
  t.equal(s[1]!.parent, '20261025T010000Z', 'the 09:00 run is an incremental of the full');
  t.equal(s[21]!.parent, null, 'Sunday 1 Nov 01:00 is a full');
  t.equal(s[22]!.parent, '20261101T010000Z', 'and 09:00 follows it');
});

t.test('eight-hourly runs: a week and two weeks of retention', async (t) => {
  const cases: { name: string; until: string; now: string; days: number; del: string[] }[] = [
    {
      name: 'week 2 ends: the start of the window is in week 1, all kept',
      until: '2026-11-07T17:00:00Z',
      now: '2026-11-07T17:30:00Z',
      days: 7,
      del: [],
    },
    {
      name: 'Saturday 23:59:59 before the third full: all kept',
      until: '2026-11-07T17:00:00Z',
      now: '2026-11-07T23:59:59Z',
      days: 7,
      del: [],
    },
    {
      name: 'Sunday midnight: the window starts at the previous Sunday midnight, before its full',
      until: '2026-11-07T17:00:00Z',
      now: '2026-11-08T00:00:00Z',
      days: 7,
      del: [],
    },
    {
      name: 'Sunday 00:59:59: still before the full a week ago',
      until: '2026-11-07T17:00:00Z',
      now: '2026-11-08T00:59:59Z',
      days: 7,
      del: [],
    },
    {
      name: 'Sunday 01:00:00 exactly, after the full: the window starts on last Sunday full',
      until: '2026-11-08T01:00:00Z',
      now: '2026-11-08T01:00:00Z',
      days: 7,
      del: WEEK_OCT25,
    },
    {
      name: 'Sunday 09:30: window start just after the 09:00 incremental of last week',
      until: '2026-11-08T09:00:00Z',
      now: '2026-11-08T09:30:00Z',
      days: 7,
      del: WEEK_OCT25,
    },
    {
      name: 'Wednesday 09:00:00 exactly: the window starts on a backup',
      until: '2026-11-11T09:00:00Z',
      now: '2026-11-11T09:00:00Z',
      days: 7,
      del: WEEK_OCT25,
    },
    {
      name: 'Saturday 17:30 of week 3',
      until: '2026-11-14T17:00:00Z',
      now: '2026-11-14T17:30:00Z',
      days: 7,
      del: WEEK_OCT25,
    },
    {
      name: 'Sunday midnight of week 4',
      until: '2026-11-14T17:00:00Z',
      now: '2026-11-15T00:00:00Z',
      days: 7,
      del: WEEK_OCT25,
    },
    {
      name: 'Sunday 01:00 of week 4: the two oldest weeks go',
      until: '2026-11-15T01:00:00Z',
      now: '2026-11-15T01:00:00Z',
      days: 7,
      del: [...WEEK_NOV01, ...WEEK_OCT25],
    },
    {
      name: 'Sunday 09:30 of week 4',
      until: '2026-11-15T09:00:00Z',
      now: '2026-11-15T09:30:00Z',
      days: 7,
      del: [...WEEK_NOV01, ...WEEK_OCT25],
    },
    // Two weeks
    {
      name: 'two weeks, Saturday of week 4: the window starts in week 2',
      until: '2026-11-21T17:00:00Z',
      now: '2026-11-21T17:30:00Z',
      days: 14,
      del: WEEK_OCT25,
    },
    {
      name: 'two weeks, Sunday midnight of week 5',
      until: '2026-11-21T17:00:00Z',
      now: '2026-11-22T00:00:00Z',
      days: 14,
      del: WEEK_OCT25,
    },
    {
      name: 'two weeks, Sunday 01:00 of week 5: the window starts on the week-3 full',
      until: '2026-11-22T01:00:00Z',
      now: '2026-11-22T01:00:00Z',
      days: 14,
      del: [...WEEK_NOV01, ...WEEK_OCT25],
    },
    {
      name: 'two weeks, Tuesday 17:00 of week 5',
      until: '2026-11-24T17:00:00Z',
      now: '2026-11-24T17:00:00Z',
      days: 14,
      del: [...WEEK_NOV01, ...WEEK_OCT25],
    },
    // One day and none
    {
      name: 'one day, Wednesday 09:30 of week 4',
      until: '2026-11-18T09:00:00Z',
      now: '2026-11-18T09:30:00Z',
      days: 1,
      del: [...WEEK_NOV08, ...WEEK_NOV01, ...WEEK_OCT25],
    },
    {
      name: 'one day, Monday 00:30 of week 5: the window starts in week 4, after its Saturday 17:00 run',
      until: '2026-11-23T00:00:00Z',
      now: '2026-11-23T00:30:00Z',
      days: 1,
      del: [...WEEK_NOV08, ...WEEK_NOV01, ...WEEK_OCT25],
    },
    {
      name: 'one day, Monday 01:00 of week 5: the window starts on the full',
      until: '2026-11-23T01:00:00Z',
      now: '2026-11-23T01:00:00Z',
      days: 1,
      del: [...WEEK_NOV15, ...WEEK_NOV08, ...WEEK_NOV01, ...WEEK_OCT25],
    },
    {
      name: 'no days, Wednesday 09:30 of week 4',
      until: '2026-11-18T09:00:00Z',
      now: '2026-11-18T09:30:00Z',
      days: 0,
      del: [...WEEK_NOV08, ...WEEK_NOV01, ...WEEK_OCT25],
    },
  ];
  for (const c of cases) {
    const p = plan({ backups: eightHourly(c.until), now: c.now, retainDays: c.days });
    t.strictSame(backupDeletions(p), c.del, `${c.name} (${c.del.length} deleted)`);
  }
});

t.test('eight-hourly runs: retention after every run for five weeks', async (t) => {
  // Each run takes its backup at `now` and then applies the plan; record when anything is deleted.
  const all = eightHourly('2026-11-29T17:00:00Z');
  let catalog: Manifest[] = [];
  const deletedAt: Record<string, number> = {};
  let maxSize = 0;
  for (const m of all) {
    catalog.push(m);
    maxSize = Math.max(maxSize, catalog.length);
    const p = plan({ backups: catalog, now: new Date(idTime(m.id)).toISOString(), retainDays: 7 });
    const gone = new Set(backupDeletions(p));
    if (gone.size > 0) deletedAt[m.id] = gone.size;
    catalog = catalog.filter((b) => !gone.has(b.id));
    // After every run, each remaining incremental has its parent.
    const ids = new Set(catalog.map((b) => b.id));
    t.ok(
      catalog.every((b) => b.parent === null || ids.has(b.parent)),
      `${m.id}: every remaining incremental has its parent`,
    );
  }
  t.strictSame(
    deletedAt,
    {
      '20261108T010000Z': 21,
      '20261115T010000Z': 21,
      '20261122T010000Z': 21,
      '20261129T010000Z': 21,
    },
    'a whole week goes at each Sunday full, nothing at other runs',
  );
  t.equal(maxSize, 43, 'at most two weeks and a full');
  t.strictSame(
    catalog.map((b) => b.id),
    runsDesc('2026-11-22T01:00:00Z', '2026-11-29T17:00:00Z').reverse(),
    'left: the last week and a day (24 runs)',
  );
  t.equal(catalog.length, 24, '24 left');
});

// ---------------------------------------------------------------------------------------------
// Ready files

t.test('ready files: keep the newest N', async (t) => {
  const R = (d: number): ReadyEntry => ({ id: nov(d), file: `${nov(d)}.tar.zst` });
  const readyDel = (p: RetentionPlan) => p.delete.filter((d) => d.kind === 'ready').map((d) => d.id);
  const cases: { name: string; readies: ReadyEntry[]; n: number; del: string[] }[] = [
    { name: 'N=1 of 3', readies: [R(15), R(16), R(17)], n: 1, del: [nov(16), nov(15)] },
    { name: 'N=2 of 3', readies: [R(15), R(16), R(17)], n: 2, del: [nov(15)] },
    {
      name: 'N=5 of 7',
      readies: [R(15), R(16), R(17), R(18), R(19), R(20), R(21)],
      n: 5,
      del: [nov(16), nov(15)],
    },
    { name: 'N=5 of 5', readies: [R(15), R(16), R(17), R(18), R(19)], n: 5, del: [] },
    { name: 'N=5 of 3: fewer files than N', readies: [R(15), R(16), R(17)], n: 5, del: [] },
    { name: 'N=1 of 1', readies: [R(15)], n: 1, del: [] },
    { name: 'N=1 of none', readies: [], n: 1, del: [] },
    {
      name: 'N=0: the newest is never deleted',
      readies: [R(15), R(16), R(17)],
      n: 0,
      del: [nov(16), nov(15)],
    },
    { name: 'N=-3: the newest is never deleted', readies: [R(15), R(16)], n: -3, del: [nov(15)] },
    { name: 'unsorted input', readies: [R(17), R(15), R(21), R(16)], n: 2, del: [nov(16), nov(15)] },
  ];
  for (const c of cases) {
    const p = plan({ backups: [], now: '2026-11-24T02:00:00Z', readies: c.readies, retainReady: c.n });
    t.strictSame(readyDel(p), c.del, c.name);
  }
  // The deletion entries: the file name as what, the reason with the effective N.
  const p = plan({
    backups: DAYS_8_24,
    now: '2026-11-24T02:00:00Z',
    retainDays: 0,
    readies: [R(22), { id: nov(23), file: `${nov(23)}.tar.gz` }, R(24)],
    retainReady: 0,
  });
  t.strictSame(
    p.delete.filter((d) => d.kind === 'ready'),
    [
      {
        kind: 'ready',
        id: nov(23),
        what: `${nov(23)}.tar.gz`,
        reason: 'beyond the newest 1 ready backup(s)',
      },
      {
        kind: 'ready',
        id: nov(22),
        what: `${nov(22)}.tar.zst`,
        reason: 'beyond the newest 1 ready backup(s)',
      },
    ],
    'ready deletions: file and reason',
  );
  t.strictSame(
    p.delete.map((d) => d.kind),
    [...Array(14).fill('backup'), 'ready', 'ready'],
    'backups first, then ready files',
  );
  t.notOk(
    p.delete.some((d) => d.kind === 'ready' && d.id === nov(24)),
    'the newest ready file is not deleted',
  );
});

// ---------------------------------------------------------------------------------------------
// Properties over random catalogs

/** Deterministic PRNG (mulberry32). */
function rng(seed: number): () => number {
  let a = seed >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let x = a;
    x = Math.imul(x ^ (x >>> 15), x | 1);
    x ^= x + Math.imul(x ^ (x >>> 7), x | 61);
    return ((x ^ (x >>> 14)) >>> 0) / 4294967296;
  };
}

interface Random {
  backups: Manifest[];
  now: Date;
  days: number;
  pins: Set<string>;
}

function randomCatalog(seed: number, unusable: boolean): Random {
  const r = rng(seed);
  const n = 1 + Math.floor(r() * 40);
  const out: Manifest[] = [];
  let ms = Date.parse('2026-11-01T00:00:00Z');
  let lsn = 1000;
  for (let i = 0; i < n; i++) {
    ms += (1 + Math.floor(r() * 30)) * H + Math.floor(r() * 3) * 1000;
    lsn += 1 + Math.floor(r() * 50);
    const id = backupId(new Date(ms));
    const usableSoFar = out.filter((m) => !m.unusable);
    const bad = unusable && r() < 0.12 ? { unusable: UNUSABLE } : {};
    if (usableSoFar.length === 0 || r() < 0.15) {
      out.push(full(id, lsn, bad));
    } else {
      // Mostly the newest usable backup; sometimes an older one (a branch).
      const parent =
        r() < 0.85
          ? usableSoFar[usableSoFar.length - 1]!
          : usableSoFar[Math.floor(r() * usableSoFar.length)]!;
      out.push(inc(id, parent, parent.to_lsn + 1 + Math.floor(r() * 50), bad));
    }
  }
  // Some backups are marked unusable later (after children were taken from them); some are lost
  // (orphans); the order is shuffled.
  const marked = out.map((m) => (unusable && !m.unusable && r() < 0.05 ? { ...m, unusable: UNUSABLE } : m));
  const backups = marked.filter(() => r() >= 0.08);
  for (let i = backups.length - 1; i > 0; i--) {
    const j = Math.floor(r() * (i + 1));
    [backups[i], backups[j]] = [backups[j]!, backups[i]!];
  }
  const now = new Date(ms + Math.floor(r() * 48) * H - Math.floor(r() * 4) * 3_600_000 * 24);
  const days = Math.floor(r() * 8);
  const pins = new Set<string>();
  for (const m of backups) if (r() < 0.05) pins.add(m.id);
  return { backups, now, days, pins };
}

/** Independent of the code under test: ancestors present in the catalog, and whether the chain restores. */
function ancestors(m: Manifest, byId: Map<string, Manifest>): Manifest[] {
  const out: Manifest[] = [];
  let cur = m;
  while (cur.parent && byId.has(cur.parent) && out.length < 1000) {
    cur = byId.get(cur.parent)!;
    out.push(cur);
  }
  return out;
}

function restorable(m: Manifest, byId: Map<string, Manifest>): boolean {
  let cur = m;
  if (cur.unusable) return false;
  while (cur.type === 'incremental') {
    const p = byId.get(cur.parent ?? '');
    if (!p || p.unusable || p.to_lsn !== cur.from_lsn) return false;
    cur = p;
  }
  return true;
}

interface Violations {
  ancestorMissing: string[];
  newestCompleteLost: string[];
  windowStartLost: string[];
  windowMemberLost: string[];
  pinLost: string[];
  order: string[];
  crashOrphan: string[];
  keptWithoutReason: string[];
}

function check(seed: number, x: Random): Violations {
  const v: Violations = {
    ancestorMissing: [],
    newestCompleteLost: [],
    windowStartLost: [],
    windowMemberLost: [],
    pinLost: [],
    order: [],
    crashOrphan: [],
    keptWithoutReason: [],
  };
  const p = planRetention({
    backups: x.backups,
    readies: [],
    now: x.now,
    retainDays: x.days,
    retainReady: 1,
    pins: x.pins,
  });
  const byId = new Map(x.backups.map((m) => [m.id, m]));
  const del = backupDeletions(p);
  const gone = new Set(del);
  const kept = x.backups.filter((m) => !gone.has(m.id));
  const keptIds = new Set(kept.map((m) => m.id));
  const ws = x.now.getTime() - x.days * 86_400_000;
  const tag = `seed ${seed}`;

  for (const m of kept) {
    for (const a of ancestors(m, byId))
      if (!keptIds.has(a.id)) v.ancestorMissing.push(`${tag}: ${m.id} kept, ancestor ${a.id} deleted`);
  }
  const complete = x.backups.filter((m) => restorable(m, byId)).sort((a, b) => (a.id < b.id ? 1 : -1));
  const newestComplete = complete[0];
  if (newestComplete) {
    for (const m of [newestComplete, ...ancestors(newestComplete, byId)])
      if (!keptIds.has(m.id))
        v.newestCompleteLost.push(`${tag}: ${m.id} of the newest complete chain deleted`);
  }
  const atStart = complete.find((m) => idTime(m.id) <= ws);
  if (atStart) {
    for (const m of [atStart, ...ancestors(atStart, byId)])
      if (!keptIds.has(m.id)) v.windowStartLost.push(`${tag}: ${m.id} of the window-start chain deleted`);
  }
  for (const m of x.backups)
    if (idTime(m.id) > ws && !keptIds.has(m.id))
      v.windowMemberLost.push(`${tag}: ${m.id} in the window deleted`);
  for (const id of x.pins) if (!keptIds.has(id)) v.pinLost.push(`${tag}: pinned ${id} deleted`);
  if (!del.every((id, i) => i === 0 || del[i - 1]! > id)) v.order.push(`${tag}: not strictly descending`);

  // A crash after any prefix of the deletions leaves no incremental without the parent it had.
  const remaining = new Map(byId);
  for (const id of del) {
    remaining.delete(id);
    for (const m of remaining.values()) {
      if (m.parent && byId.has(m.parent) && !remaining.has(m.parent)) {
        v.crashOrphan.push(`${tag}: after deleting ${id}, ${m.id} lacks ${m.parent}`);
      }
    }
  }

  // Nothing is kept without a reason: in the window, pinned, a start or newest chain, or their ancestor.
  const roots = new Set<string>([...x.pins].filter((id) => byId.has(id)));
  for (const m of x.backups) if (idTime(m.id) > ws) roots.add(m.id);
  if (atStart) roots.add(atStart.id);
  if (newestComplete) roots.add(newestComplete.id);
  const needed = new Set<string>();
  for (const id of roots) {
    needed.add(id);
    for (const a of ancestors(byId.get(id)!, byId)) needed.add(a.id);
  }
  for (const id of keptIds)
    if (!needed.has(id)) v.keptWithoutReason.push(`${tag}: ${id} kept without a reason`);
  return v;
}

const SEEDS = 400;

t.test('random catalogs without unusable backups: every property holds', async (t) => {
  const total: Record<string, string[]> = {};
  let nonTrivial = 0;
  for (let seed = 1; seed <= SEEDS; seed++) {
    const x = randomCatalog(seed, false);
    const v = check(seed, x);
    for (const [k, list] of Object.entries(v)) (total[k] ??= []).push(...(list as string[]));
    const p = planRetention({
      backups: x.backups,
      readies: [],
      now: x.now,
      retainDays: x.days,
      retainReady: 1,
      pins: x.pins,
    });
    if (p.delete.length > 0 && p.keep.length > 1) nonTrivial++;
  }
  t.ok(nonTrivial > SEEDS / 4, `the catalogs exercise deletion (${nonTrivial} of ${SEEDS} delete and keep)`);
  for (const [k, list] of Object.entries(total)) t.strictSame(list.slice(0, 5), [], `${k}: none`);
});

t.test('random catalogs with unusable backups', async (t) => {
  const total: Record<string, string[]> = {};
  for (let seed = 1001; seed <= 1000 + SEEDS; seed++) {
    const v = check(seed, randomCatalog(seed, true));
    for (const [k, list] of Object.entries(v)) (total[k] ??= []).push(...(list as string[]));
  }
  for (const [k, list] of Object.entries(total)) {
    t.strictSame(list.slice(0, 5), [], `${k}: none`);
  }
});

t.test('ancestors behind an unusable or discontinuous parent', async (t) => {
  // Tuesday's incremental was marked unusable after Wednesday's was taken from it; a full followed.
  const F = full(nov(15), 1000);
  const I16 = inc(nov(16), F, 1100);
  const I17u = inc(nov(17), I16, 1200, { unusable: UNUSABLE });
  const F17b = full(nov(17, 12), 1500);
  const I18 = inc(nov(18, 12), I17u, 1300);
  const F22 = full(nov(22), 2000);
  // The window (2 days from Friday 02:00) starts after F17b and before I18.
  const p = plan({ backups: [F, I16, I17u, F17b, I18], now: '2026-11-20T02:00:00Z', retainDays: 2 });
  t.notOk(backupDeletions(p).includes(I18.id), 'the incremental in the window is kept');
  t.notOk(backupDeletions(p).includes(F17b.id), 'the window-start full is kept');
  t.strictSame(backupDeletions(p), [], 'the kept incremental keeps its parent and ancestors');

  const G16 = inc(nov(16), F, 1100);
  const G18 = inc(nov(18, 12), G16, 1250, { from_lsn: 1150 });
  const q = plan({ backups: [F, G16, F17b, G18], now: '2026-11-20T02:00:00Z', retainDays: 2 });
  t.notOk(backupDeletions(q).includes(G18.id), 'the incremental with an LSN gap in the window is kept');
  t.strictSame(backupDeletions(q), [], 'and so is what exists of its chain');

  // A pinned backup behind an unusable parent.
  const r = plan({
    backups: [F, I16, I17u, F17b, I18, F22],
    now: '2026-11-23T02:00:00Z',
    retainDays: 0,
    pins: new Set([I18.id]),
  });
  t.notOk(backupDeletions(r).includes(I18.id), 'the pinned backup is kept');
  t.strictSame(backupDeletions(r), [F17b.id], 'a pin keeps its ancestors');
});
