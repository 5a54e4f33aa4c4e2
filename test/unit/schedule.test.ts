import t from 'tap';
import { decide, type Decision, type ScheduleInput } from '../../src/schedule.js';
import type { Manifest } from '../../src/catalog/manifest.js';
import { backupId } from '../../src/time.js';
import { full, inc } from './factory.js';

const UNUSABLE = { reason: 'verify failed', at: '2026-11-20T05:00:00.000Z' };
const unusableNewest = (id: string) => `the newest backup ${id} is unusable (verify failed)`;

// The week of Sunday 2026-11-15 (UTC): a full on Sunday 01:00, an incremental every day at 01:00.
const F15 = full('20261115T010000Z', 1000);
const I16 = inc('20261116T010000Z', F15, 2000);
const I17 = inc('20261117T010000Z', I16, 3000);
const I18 = inc('20261118T010000Z', I17, 4000);
const I19 = inc('20261119T010000Z', I18, 5000);
const I20 = inc('20261120T010000Z', I19, 6000);
const I21 = inc('20261121T010000Z', I20, 7000);
const WEEK = [F15, I16, I17, I18, I19, I20, I21];
// Sunday 2026-11-22's full and the Monday after.
const F22 = full('20261122T010000Z', 8000);
const I23 = inc('20261123T010000Z', F22, 9000);

/** What a decision says, in a comparable shape. */
const shape = (d: Decision) =>
  d.type === 'full'
    ? { type: d.type, reason: d.reason }
    : { type: d.type, parent: d.parent.id, reason: d.reason };

interface Case {
  name: string;
  backups: Manifest[];
  now: string;
  day?: number;
  tz?: string;
  forceFull?: boolean;
  want: { type: 'full'; reason: string } | { type: 'incremental'; parent: string; reason: string };
}

const weekly = (fullId: string, dayName: string, tz: string, boundary: string) =>
  `weekly full: the newest full ${fullId} is older than ${dayName} 00:00 ${tz} (${boundary})`;
const incFrom = (m: Manifest) => `incremental from ${m.id} (${m.type}, to_lsn ${m.to_lsn})`;

const cases: Case[] = [
  // --full
  {
    name: '--full with a healthy chain',
    backups: WEEK,
    now: '2026-11-21T09:00:00Z',
    forceFull: true,
    want: { type: 'full', reason: '--full was given' },
  },
  {
    name: '--full with no backups',
    backups: [],
    now: '2026-11-21T09:00:00Z',
    forceFull: true,
    want: { type: 'full', reason: '--full was given' },
  },
  {
    name: 'forceFull false is the normal schedule',
    backups: WEEK,
    now: '2026-11-21T09:00:00Z',
    forceFull: false,
    want: { type: 'incremental', parent: I21.id, reason: incFrom(I21) },
  },
  // No usable backup
  {
    name: 'an empty catalog',
    backups: [],
    now: '2026-11-24T01:00:00Z',
    want: { type: 'full', reason: 'no usable backup yet' },
  },
  {
    name: 'only unusable backups',
    backups: [full(F15.id, 1000, { unusable: UNUSABLE }), inc(I16.id, F15, 2000, { unusable: UNUSABLE })],
    now: '2026-11-17T01:00:00Z',
    want: { type: 'full', reason: unusableNewest(I16.id) },
  },
  // Broken newest chain
  {
    name: 'the newest chain misses its full',
    backups: [I16, I17],
    now: '2026-11-18T01:00:00Z',
    want: {
      type: 'full',
      reason: 'the newest chain is broken (parent 20261115T010000Z of 20261116T010000Z is missing)',
    },
  },
  {
    name: 'the newest chain misses an incremental in the middle',
    backups: [F15, I16, I18],
    now: '2026-11-19T01:00:00Z',
    want: {
      type: 'full',
      reason: 'the newest chain is broken (parent 20261117T010000Z of 20261118T010000Z is missing)',
    },
  },
  {
    name: 'the newest chain has an unusable full',
    backups: [full(F15.id, 1000, { unusable: UNUSABLE }), I16, I17],
    now: '2026-11-18T01:00:00Z',
    want: {
      type: 'full',
      reason:
        'the newest chain is broken (parent 20261115T010000Z of 20261116T010000Z is unusable: verify failed)',
    },
  },
  {
    name: 'the newest usable backup hangs off an unusable incremental',
    backups: [F15, inc(I16.id, F15, 2000, { unusable: UNUSABLE }), I17],
    now: '2026-11-18T01:00:00Z',
    want: {
      type: 'full',
      reason:
        'the newest chain is broken (parent 20261116T010000Z of 20261117T010000Z is unusable: verify failed)',
    },
  },
  {
    name: 'an LSN gap in the newest chain',
    backups: [F15, I16, inc(I17.id, I16, 3000, { from_lsn: 1999 })],
    now: '2026-11-18T01:00:00Z',
    want: {
      type: 'full',
      reason:
        'the newest chain is broken (LSN gap: 20261117T010000Z starts at 1999 but its parent 20261116T010000Z ends at 2000)',
    },
  },
  {
    name: 'an LSN overlap in the newest chain is a gap too',
    backups: [F15, inc(I16.id, F15, 2000, { from_lsn: 1001 })],
    now: '2026-11-17T01:00:00Z',
    want: {
      type: 'full',
      reason:
        'the newest chain is broken (LSN gap: 20261116T010000Z starts at 1001 but its parent 20261115T010000Z ends at 1000)',
    },
  },
  {
    name: 'a broken older chain does not matter when the newest is whole',
    backups: [I16, I17, F22, I23],
    now: '2026-11-24T01:00:00Z',
    want: { type: 'incremental', parent: I23.id, reason: incFrom(I23) },
  },
  // Weekly full, full_backup_day Sunday, UTC
  {
    name: "Sunday 01:00 after last Sunday's full",
    backups: WEEK,
    now: '2026-11-22T01:00:00Z',
    want: { type: 'full', reason: weekly(F15.id, 'Sunday', 'UTC', '2026-11-22T00:00:00.000Z') },
  },
  {
    name: 'Sunday 00:00:00 exactly',
    backups: WEEK,
    now: '2026-11-22T00:00:00Z',
    want: { type: 'full', reason: weekly(F15.id, 'Sunday', 'UTC', '2026-11-22T00:00:00.000Z') },
  },
  {
    name: 'Saturday 23:59:59 is still the old week',
    backups: WEEK,
    now: '2026-11-21T23:59:59Z',
    want: { type: 'incremental', parent: I21.id, reason: incFrom(I21) },
  },
  {
    name: "a later run the same Sunday, after that Sunday's full",
    backups: [...WEEK, F22],
    now: '2026-11-22T09:00:00Z',
    want: { type: 'incremental', parent: F22.id, reason: incFrom(F22) },
  },
  {
    name: 'a full taken at Sunday 00:00:00 exactly counts for that Sunday',
    backups: [...WEEK, full('20261122T000000Z', 8000)],
    now: '2026-11-22T23:59:59Z',
    want: {
      type: 'incremental',
      parent: '20261122T000000Z',
      reason: 'incremental from 20261122T000000Z (full, to_lsn 8000)',
    },
  },
  {
    name: 'a full taken at Saturday 23:59:59 does not count for Sunday',
    backups: [...WEEK, full('20261121T235959Z', 8000)],
    now: '2026-11-22T01:00:00Z',
    want: {
      type: 'full',
      reason: weekly('20261121T235959Z', 'Sunday', 'UTC', '2026-11-22T00:00:00.000Z'),
    },
  },
  {
    name: 'a missed Sunday is made up on Monday',
    backups: WEEK,
    now: '2026-11-23T01:00:00Z',
    want: { type: 'full', reason: weekly(F15.id, 'Sunday', 'UTC', '2026-11-22T00:00:00.000Z') },
  },
  {
    name: 'after the made-up Monday full, Tuesday is incremental',
    backups: [...WEEK, full('20261123T010000Z', 8000)],
    now: '2026-11-24T01:00:00Z',
    want: {
      type: 'incremental',
      parent: '20261123T010000Z',
      reason: 'incremental from 20261123T010000Z (full, to_lsn 8000)',
    },
  },
  {
    name: 'the made-up Monday full is still replaced on the next Sunday',
    backups: [...WEEK, full('20261123T010000Z', 8000)],
    now: '2026-11-29T01:00:00Z',
    want: {
      type: 'full',
      reason: weekly('20261123T010000Z', 'Sunday', 'UTC', '2026-11-29T00:00:00.000Z'),
    },
  },
  {
    name: 'a missed whole week: a full',
    backups: WEEK,
    now: '2026-12-01T01:00:00Z',
    want: { type: 'full', reason: weekly(F15.id, 'Sunday', 'UTC', '2026-11-29T00:00:00.000Z') },
  },
  // full_backup_day Wednesday
  {
    name: 'Wednesday: Tuesday after a Wednesday full',
    backups: [full('20261118T010000Z', 1000)],
    now: '2026-11-24T23:59:59Z',
    day: 3,
    want: {
      type: 'incremental',
      parent: '20261118T010000Z',
      reason: 'incremental from 20261118T010000Z (full, to_lsn 1000)',
    },
  },
  {
    name: 'Wednesday: the next Wednesday 00:00:00',
    backups: [full('20261118T010000Z', 1000)],
    now: '2026-11-25T00:00:00Z',
    day: 3,
    want: {
      type: 'full',
      reason: weekly('20261118T010000Z', 'Wednesday', 'UTC', '2026-11-25T00:00:00.000Z'),
    },
  },
  {
    name: 'Wednesday: Sunday is not special',
    backups: [full('20261118T010000Z', 1000)],
    now: '2026-11-22T01:00:00Z',
    day: 3,
    want: {
      type: 'incremental',
      parent: '20261118T010000Z',
      reason: 'incremental from 20261118T010000Z (full, to_lsn 1000)',
    },
  },
  {
    name: 'Wednesday: a Sunday full from before the last Wednesday is replaced on Monday',
    backups: WEEK,
    now: '2026-11-23T01:00:00Z',
    day: 3,
    want: { type: 'full', reason: weekly(F15.id, 'Wednesday', 'UTC', '2026-11-18T00:00:00.000Z') },
  },
  // Time zones
  {
    name: 'Berlin: a full at Sunday 00:30 CET counts for that Sunday',
    backups: [full('20261121T233000Z', 1000)],
    now: '2026-11-22T10:00:00Z',
    tz: 'Europe/Berlin',
    want: {
      type: 'incremental',
      parent: '20261121T233000Z',
      reason: 'incremental from 20261121T233000Z (full, to_lsn 1000)',
    },
  },
  {
    name: 'UTC: the same full was on Saturday',
    backups: [full('20261121T233000Z', 1000)],
    now: '2026-11-22T10:00:00Z',
    want: {
      type: 'full',
      reason: weekly('20261121T233000Z', 'Sunday', 'UTC', '2026-11-22T00:00:00.000Z'),
    },
  },
  {
    name: 'Berlin: Sunday 00:00 CET is Saturday 23:00Z',
    backups: WEEK,
    now: '2026-11-21T23:00:00Z',
    tz: 'Europe/Berlin',
    want: {
      type: 'full',
      reason: weekly(F15.id, 'Sunday', 'Europe/Berlin', '2026-11-21T23:00:00.000Z'),
    },
  },
  {
    name: "New York: a full at Sunday 01:00Z was on Saturday evening there, so it is last week's",
    backups: WEEK,
    now: '2026-11-22T01:00:00Z',
    tz: 'America/New_York',
    want: {
      type: 'full',
      reason: weekly(F15.id, 'Sunday', 'America/New_York', '2026-11-15T05:00:00.000Z'),
    },
  },
  {
    name: 'New York: Sunday 01:00Z is still Saturday after a Sunday full there',
    backups: [full('20261115T060000Z', 1000)],
    now: '2026-11-22T01:00:00Z',
    tz: 'America/New_York',
    want: {
      type: 'incremental',
      parent: '20261115T060000Z',
      reason: 'incremental from 20261115T060000Z (full, to_lsn 1000)',
    },
  },
  {
    name: 'New York: Sunday 05:00Z is Sunday 00:00 there',
    backups: [full('20261115T060000Z', 1000)],
    now: '2026-11-22T05:00:00Z',
    tz: 'America/New_York',
    want: {
      type: 'full',
      reason: weekly('20261115T060000Z', 'Sunday', 'America/New_York', '2026-11-22T05:00:00.000Z'),
    },
  },
  {
    name: 'Berlin: the Sunday of the spring DST change',
    backups: [full('20260322T010000Z', 1000)],
    now: '2026-03-29T01:30:00Z',
    tz: 'Europe/Berlin',
    want: {
      type: 'full',
      reason: weekly('20260322T010000Z', 'Sunday', 'Europe/Berlin', '2026-03-28T23:00:00.000Z'),
    },
  },
  {
    name: 'Berlin: the Sunday of the autumn DST change',
    backups: [full('20261018T010000Z', 1000)],
    now: '2026-10-25T01:30:00Z',
    tz: 'Europe/Berlin',
    want: {
      type: 'full',
      reason: weekly('20261018T010000Z', 'Sunday', 'Europe/Berlin', '2026-10-24T22:00:00.000Z'),
    },
  },
  // Incremental parents
  {
    name: 'the first incremental after a full',
    backups: [F15],
    now: '2026-11-16T01:00:00Z',
    want: { type: 'incremental', parent: F15.id, reason: incFrom(F15) },
  },
  {
    name: 'incrementals chain: the parent is the newest incremental',
    backups: [F15, I16, I17],
    now: '2026-11-18T01:00:00Z',
    want: {
      type: 'incremental',
      parent: I17.id,
      reason: 'incremental from 20261117T010000Z (incremental, to_lsn 3000)',
    },
  },
  {
    name: 'the order of the catalog does not matter',
    backups: [I19, F15, I17, I21, I16, I20, I18],
    now: '2026-11-21T09:00:00Z',
    want: { type: 'incremental', parent: I21.id, reason: incFrom(I21) },
  },
  {
    name: 'an incremental that adds nothing (from_lsn == to_lsn) is still the parent',
    backups: [F15, inc(I16.id, F15, 1000)],
    now: '2026-11-17T01:00:00Z',
    want: {
      type: 'incremental',
      parent: I16.id,
      reason: 'incremental from 20261116T010000Z (incremental, to_lsn 1000)',
    },
  },
  // An unusable newest backup is never a parent, and casts doubt on its chain: a new full.
  {
    name: 'an unusable newest incremental: a new full',
    backups: [F15, I16, I17, inc(I18.id, I17, 4000, { unusable: UNUSABLE })],
    now: '2026-11-19T01:00:00Z',
    want: { type: 'full', reason: unusableNewest(I18.id) },
  },
  {
    name: 'two unusable newest incrementals',
    backups: [
      F15,
      I16,
      inc(I17.id, I16, 3000, { unusable: UNUSABLE }),
      inc(I18.id, I17, 4000, { unusable: UNUSABLE }),
    ],
    now: '2026-11-19T01:00:00Z',
    want: { type: 'full', reason: unusableNewest(I18.id) },
  },
  {
    name: 'an unusable newest incremental right after the full: a new full',
    backups: [F15, inc(I16.id, F15, 2000, { unusable: UNUSABLE })],
    now: '2026-11-17T01:00:00Z',
    want: { type: 'full', reason: unusableNewest(I16.id) },
  },
  {
    name: 'an unusable Sunday full: another full',
    backups: [...WEEK, full(F22.id, 8000, { unusable: UNUSABLE })],
    now: '2026-11-22T09:00:00Z',
    want: { type: 'full', reason: unusableNewest(F22.id) },
  },
  {
    name: 'an unusable newest incremental of this week, on a fine chain of this week',
    backups: [...WEEK, F22, inc(I23.id, F22, 9000, { unusable: UNUSABLE })],
    now: '2026-11-24T01:00:00Z',
    want: { type: 'full', reason: unusableNewest(I23.id) },
  },
  {
    name: 'an unusable older backup below a usable newest one: the chain decides',
    backups: [F15, inc(I16.id, F15, 2000, { unusable: UNUSABLE }), inc(I17.id, I16, 3000)],
    now: '2026-11-18T01:00:00Z',
    want: {
      type: 'full',
      reason: `the newest chain is broken (parent ${I16.id} of ${I17.id} is unusable: verify failed)`,
    },
  },
];

t.test('decide: table', async (t) => {
  for (const c of cases) {
    const input: ScheduleInput = {
      backups: c.backups,
      now: new Date(c.now),
      fullBackupDay: c.day ?? 0,
      timezone: c.tz ?? 'UTC',
      ...(c.forceFull !== undefined ? { forceFull: c.forceFull } : {}),
    };
    t.strictSame(shape(decide(input)), c.want, c.name);
  }
});

t.test('decide: the parent is the manifest object itself', async (t) => {
  const d = decide({
    backups: WEEK,
    now: new Date('2026-11-21T09:00:00Z'),
    fullBackupDay: 0,
    timezone: 'UTC',
  });
  t.equal(d.type, 'incremental');
  if (d.type === 'incremental') t.equal(d.parent, I21);
});

t.test('decide: one full on the Sunday Sydney leaves daylight time', async (t) => {
  // 2026-04-05: Sunday 00:00 AEDT is 2026-04-04T13:00Z. A full at 00:30 AEDT is that Sunday's full.
  const sundayFull = full('20260404T133000Z', 2000);
  const d = decide({
    backups: [full('20260328T133000Z', 1000), sundayFull],
    now: new Date('2026-04-04T21:30:00Z'), // Sunday 07:30 AEST
    fullBackupDay: 0,
    timezone: 'Australia/Sydney',
  });
  t.equal(d.type, 'incremental', 'a later run that Sunday is incremental');
});

/** Runs every `stepHours` from `start`, each decision committed as the next manifest. */
function simulate(start: string, runs: number, stepHours: number, day: number, tz: string): Manifest[] {
  const backups: Manifest[] = [];
  let lsn = 0;
  for (let i = 0; i < runs; i++) {
    const now = new Date(Date.parse(start) + i * stepHours * 3_600_000);
    const d = decide({ backups, now, fullBackupDay: day, timezone: tz });
    lsn += 100;
    const id = backupId(now);
    backups.push(
      d.type === 'full' ? full(id, lsn, { reason: d.reason }) : inc(id, d.parent, lsn, { reason: d.reason }),
    );
  }
  return backups;
}

t.test('decide: a week and a day of 8-hourly runs from Sunday 00:00 UTC', async (t) => {
  const got = simulate('2026-11-22T00:00:00Z', 24, 8, 0, 'UTC');
  const want: [id: string, type: 'full' | 'incremental', parent: string | null][] = [
    ['20261122T000000Z', 'full', null], // Sunday
    ['20261122T080000Z', 'incremental', '20261122T000000Z'],
    ['20261122T160000Z', 'incremental', '20261122T080000Z'],
    ['20261123T000000Z', 'incremental', '20261122T160000Z'], // Monday
    ['20261123T080000Z', 'incremental', '20261123T000000Z'],
    ['20261123T160000Z', 'incremental', '20261123T080000Z'],
    ['20261124T000000Z', 'incremental', '20261123T160000Z'], // Tuesday
    ['20261124T080000Z', 'incremental', '20261124T000000Z'],
    ['20261124T160000Z', 'incremental', '20261124T080000Z'],
    ['20261125T000000Z', 'incremental', '20261124T160000Z'], // Wednesday
    ['20261125T080000Z', 'incremental', '20261125T000000Z'],
    ['20261125T160000Z', 'incremental', '20261125T080000Z'],
    ['20261126T000000Z', 'incremental', '20261125T160000Z'], // Thursday
    ['20261126T080000Z', 'incremental', '20261126T000000Z'],
    ['20261126T160000Z', 'incremental', '20261126T080000Z'],
    ['20261127T000000Z', 'incremental', '20261126T160000Z'], // Friday
    ['20261127T080000Z', 'incremental', '20261127T000000Z'],
    ['20261127T160000Z', 'incremental', '20261127T080000Z'],
    ['20261128T000000Z', 'incremental', '20261127T160000Z'], // Saturday
    ['20261128T080000Z', 'incremental', '20261128T000000Z'],
    ['20261128T160000Z', 'incremental', '20261128T080000Z'],
    ['20261129T000000Z', 'full', null], // Sunday
    ['20261129T080000Z', 'incremental', '20261129T000000Z'],
    ['20261129T160000Z', 'incremental', '20261129T080000Z'],
  ];
  t.strictSame(
    got.map((b) => [b.id, b.type, b.parent]),
    want,
    'types and parents of every run',
  );
  // One full per Sunday, and every incremental starts exactly where its parent ended.
  const fulls = got.filter((b) => b.type === 'full').map((b) => b.id);
  t.strictSame(fulls, ['20261122T000000Z', '20261129T000000Z'], 'exactly one full per Sunday');
  const byId = new Map(got.map((b) => [b.id, b]));
  const gaps = got.filter((b) => b.type === 'incremental' && byId.get(b.parent!)?.to_lsn !== b.from_lsn);
  t.strictSame(
    gaps.map((b) => b.id),
    [],
    'a continuous chain',
  );
  t.equal(got[21]!.reason, weekly('20261122T000000Z', 'Sunday', 'UTC', '2026-11-29T00:00:00.000Z'));
});

t.test('decide: 8-hourly runs from Sunday 00:00 UTC, full_backup_day Sunday in New York', async (t) => {
  // Sunday 00:00 in New York is 05:00Z: the first run (Saturday evening there) starts the catalog,
  // the next one is New York's Sunday full; then nothing until New York's next Sunday.
  const got = simulate('2026-11-22T00:00:00Z', 24, 8, 0, 'America/New_York');
  const fulls = got.filter((b) => b.type === 'full').map((b) => b.id);
  t.strictSame(fulls, ['20261122T000000Z', '20261122T080000Z', '20261129T080000Z']);
  const parents = got.slice(1).map((b, i) => (b.type === 'incremental' ? b.parent === got[i]!.id : true));
  t.strictSame(
    parents.filter((ok) => !ok),
    [],
    'every incremental hangs off the run before it',
  );
});

t.test('decide: a run that failed leaves nothing, the next run picks up', async (t) => {
  // Runs every 8 hours from Sunday 2026-11-22 00:00 UTC; the Sunday runs of the 29th fail.
  const backups: Manifest[] = [];
  let lsn = 0;
  const types: string[] = [];
  for (let i = 0; i < 27; i++) {
    const now = new Date(Date.parse('2026-11-22T00:00:00Z') + i * 8 * 3_600_000);
    const d = decide({ backups, now, fullBackupDay: 0, timezone: 'UTC' });
    const id = backupId(now);
    if (id.startsWith('20261129')) continue; // failed
    types.push(`${id.slice(0, 11)} ${d.type}`);
    lsn += 100;
    backups.push(d.type === 'full' ? full(id, lsn) : inc(id, d.parent, lsn));
  }
  t.strictSame(types.slice(-6), [
    '20261128T00 incremental',
    '20261128T08 incremental',
    '20261128T16 incremental',
    '20261130T00 full',
    '20261130T08 incremental',
    '20261130T16 incremental',
  ]);
});
