import t from 'tap';
import { backupId, idToDate, parseNow, uniqueId, weekBoundary, zonedParts } from '../../src/time.js';

const iso = (d: Date | undefined) => d?.toISOString();

t.test('parseNow: explicit offsets ignore the zone', async (t) => {
  const cases: [value: string, tz: string, want: string][] = [
    ['2026-11-24T03:15:00Z', 'Europe/Berlin', '2026-11-24T03:15:00.000Z'],
    ['2026-11-24T03:15:00Z', 'America/New_York', '2026-11-24T03:15:00.000Z'],
    ['2026-11-24T03:15Z', 'UTC', '2026-11-24T03:15:00.000Z'],
    ['2026-11-24T03:15:07.250Z', 'UTC', '2026-11-24T03:15:07.000Z'],
    ['2026-11-24T03:15:00+02:00', 'UTC', '2026-11-24T01:15:00.000Z'],
    ['2026-11-24T03:15:00+02:00', 'America/New_York', '2026-11-24T01:15:00.000Z'],
    ['2026-11-24T00:30:00+02:00', 'UTC', '2026-11-23T22:30:00.000Z'],
    ['2026-11-24T03:15:00-0530', 'UTC', '2026-11-24T08:45:00.000Z'],
    ['2026-11-24T21:00:00-0530', 'Europe/Berlin', '2026-11-25T02:30:00.000Z'],
    ['2026-11-24T03:15+0100', 'UTC', '2026-11-24T02:15:00.000Z'],
    ['2026-11-24T03:15:00+00:00', 'Europe/Berlin', '2026-11-24T03:15:00.000Z'],
    ['2026-11-24 03:15:00Z', 'UTC', '2026-11-24T03:15:00.000Z'],
    ['  2026-11-24T03:15:00Z\n', 'UTC', '2026-11-24T03:15:00.000Z'],
  ];
  for (const [value, tz, want] of cases) t.equal(iso(parseNow(value, tz)), want, `${value} in ${tz}`);
});

t.test('parseNow: no offset is wall-clock time in the zone', async (t) => {
  const cases: [value: string, tz: string, want: string][] = [
    // UTC
    ['2026-11-24T03:15:00', 'UTC', '2026-11-24T03:15:00.000Z'],
    ['2026-11-24T03:15', 'UTC', '2026-11-24T03:15:00.000Z'],
    ['2026-11-24 03:15', 'UTC', '2026-11-24T03:15:00.000Z'],
    ['2026-11-24T03:15:07', 'UTC', '2026-11-24T03:15:07.000Z'],
    ['2026-03-29T02:30', 'UTC', '2026-03-29T02:30:00.000Z'],
    // Europe/Berlin, winter (+01:00) and summer (+02:00)
    ['2026-11-24T03:15', 'Europe/Berlin', '2026-11-24T02:15:00.000Z'],
    ['2026-07-01T12:00:00', 'Europe/Berlin', '2026-07-01T10:00:00.000Z'],
    ['2026-01-01T00:00', 'Europe/Berlin', '2025-12-31T23:00:00.000Z'],
    // Europe/Berlin, 2026-03-29: 02:00 CET jumps to 03:00 CEST (01:00Z)
    ['2026-03-29T00:00', 'Europe/Berlin', '2026-03-28T23:00:00.000Z'],
    ['2026-03-29T01:30', 'Europe/Berlin', '2026-03-29T00:30:00.000Z'],
    ['2026-03-29T01:59:59', 'Europe/Berlin', '2026-03-29T00:59:59.000Z'],
    ['2026-03-29T03:00', 'Europe/Berlin', '2026-03-29T01:00:00.000Z'],
    ['2026-03-29T04:00', 'Europe/Berlin', '2026-03-29T02:00:00.000Z'],
    ['2026-03-29T12:00', 'Europe/Berlin', '2026-03-29T10:00:00.000Z'],
    ['2026-03-29T23:59:59', 'Europe/Berlin', '2026-03-29T21:59:59.000Z'],
    ['2026-03-30T00:00', 'Europe/Berlin', '2026-03-29T22:00:00.000Z'],
    // Europe/Berlin, 2026-10-25: 03:00 CEST falls back to 02:00 CET (01:00Z)
    ['2026-10-25T00:00', 'Europe/Berlin', '2026-10-24T22:00:00.000Z'],
    ['2026-10-25T00:59:59', 'Europe/Berlin', '2026-10-24T22:59:59.000Z'],
    ['2026-10-25T03:00', 'Europe/Berlin', '2026-10-25T02:00:00.000Z'],
    ['2026-10-25T12:00', 'Europe/Berlin', '2026-10-25T11:00:00.000Z'],
    ['2026-10-26T00:00', 'Europe/Berlin', '2026-10-25T23:00:00.000Z'],
    // America/New_York, winter (-05:00) and summer (-04:00)
    ['2026-11-24T03:15', 'America/New_York', '2026-11-24T08:15:00.000Z'],
    ['2026-07-04T12:00', 'America/New_York', '2026-07-04T16:00:00.000Z'],
    ['2026-11-24T23:30', 'America/New_York', '2026-11-25T04:30:00.000Z'],
    // America/New_York, 2026-03-08: 02:00 EST jumps to 03:00 EDT (07:00Z)
    ['2026-03-08T00:00', 'America/New_York', '2026-03-08T05:00:00.000Z'],
    ['2026-03-08T01:30', 'America/New_York', '2026-03-08T06:30:00.000Z'],
    ['2026-03-08T12:00', 'America/New_York', '2026-03-08T16:00:00.000Z'],
    // America/New_York, 2026-11-01: 02:00 EDT falls back to 01:00 EST (06:00Z)
    ['2026-11-01T00:00', 'America/New_York', '2026-11-01T04:00:00.000Z'],
    ['2026-11-01T02:00', 'America/New_York', '2026-11-01T07:00:00.000Z'],
    ['2026-11-01T03:00', 'America/New_York', '2026-11-01T08:00:00.000Z'],
    ['2026-11-01T12:00', 'America/New_York', '2026-11-01T17:00:00.000Z'],
  ];
  for (const [value, tz, want] of cases) t.equal(iso(parseNow(value, tz)), want, `${value} in ${tz}`);
});

t.test('parseNow: unambiguous wall-clock times next to a DST change', async (t) => {
  // These local times exist exactly once; the first guess of zonedTimeToInstant lands on the other
  // side of the change and the "later mapping" tie-break then picks the wrong instant (one hour late).
  const cases: [value: string, tz: string, want: string][] = [
    ['2026-10-25T01:30', 'Europe/Berlin', '2026-10-24T23:30:00.000Z'],
    ['2026-10-25T01:00', 'Europe/Berlin', '2026-10-24T23:00:00.000Z'],
    ['2026-03-08T03:00', 'America/New_York', '2026-03-08T07:00:00.000Z'],
    ['2026-03-08T03:30', 'America/New_York', '2026-03-08T07:30:00.000Z'],
    ['2026-03-08T06:00', 'America/New_York', '2026-03-08T10:00:00.000Z'],
  ];
  for (const [value, tz, want] of cases) {
    t.equal(iso(parseNow(value, tz)), want, `${value} in ${tz}`);
  }
});

t.test('parseNow: wall-clock times skipped by DST take the later mapping', async (t) => {
  const cases: [value: string, tz: string, want: string][] = [
    // 02:30 does not exist: 02:30 CET = 01:30Z, shown as 03:30 CEST
    ['2026-03-29T02:00', 'Europe/Berlin', '2026-03-29T01:00:00.000Z'],
    ['2026-03-29T02:30', 'Europe/Berlin', '2026-03-29T01:30:00.000Z'],
    ['2026-03-08T02:30', 'America/New_York', '2026-03-08T07:30:00.000Z'],
  ];
  for (const [value, tz, want] of cases) t.equal(iso(parseNow(value, tz)), want, `${value} in ${tz}`);
});

t.test('parseNow: wall-clock times repeated by DST map to one of their two instants', async (t) => {
  const cases: [value: string, tz: string, candidates: string[]][] = [
    ['2026-10-25T02:00', 'Europe/Berlin', ['2026-10-25T00:00:00.000Z', '2026-10-25T01:00:00.000Z']],
    ['2026-10-25T02:30', 'Europe/Berlin', ['2026-10-25T00:30:00.000Z', '2026-10-25T01:30:00.000Z']],
    ['2026-11-01T01:30', 'America/New_York', ['2026-11-01T05:30:00.000Z', '2026-11-01T06:30:00.000Z']],
  ];
  for (const [value, tz, candidates] of cases) {
    const got = iso(parseNow(value, tz));
    t.ok(got !== undefined && candidates.includes(got), `${value} in ${tz}: ${got} is one of ${candidates}`);
  }
});

t.test('parseNow: every quarter hour of the DST change days reads back as the same wall clock', async (t) => {
  const days: [date: string, tz: string, skipped: string[]][] = [
    ['2026-03-29', 'Europe/Berlin', ['02:00', '02:15', '02:30', '02:45']],
    ['2026-10-25', 'Europe/Berlin', []],
    ['2026-03-08', 'America/New_York', ['02:00', '02:15', '02:30', '02:45']],
    ['2026-11-01', 'America/New_York', []],
    ['2026-03-29', 'UTC', []],
  ];
  for (const [date, tz, skipped] of days) {
    const wrong: string[] = [];
    let checked = 0;
    for (let q = 0; q < 96; q++) {
      const hhmm = `${String(Math.floor(q / 4)).padStart(2, '0')}:${String((q % 4) * 15).padStart(2, '0')}`;
      if (skipped.includes(hhmm)) continue;
      checked++;
      const d = parseNow(`${date}T${hhmm}`, tz);
      if (!d) {
        wrong.push(`${hhmm} -> undefined`);
        continue;
      }
      const p = zonedParts(d, tz);
      const back = `${p.year}-${String(p.month).padStart(2, '0')}-${String(p.day).padStart(2, '0')}T${String(p.hour).padStart(2, '0')}:${String(p.minute).padStart(2, '0')}`;
      if (back !== `${date}T${hhmm}`) wrong.push(`${hhmm} -> ${d.toISOString()} (${back})`);
    }
    t.equal(checked, 96 - skipped.length, `${date} ${tz}: quarter hours checked`);
    t.same(wrong, [], `${date} in ${tz}: no wall-clock time is shifted`);
  }
});

t.test('parseNow: date only is 00:00 in the zone', async (t) => {
  const cases: [value: string, tz: string, want: string][] = [
    ['2026-11-24', 'UTC', '2026-11-24T00:00:00.000Z'],
    ['2026-11-24', 'Europe/Berlin', '2026-11-23T23:00:00.000Z'],
    ['2026-07-01', 'Europe/Berlin', '2026-06-30T22:00:00.000Z'],
    ['2026-11-24', 'America/New_York', '2026-11-24T05:00:00.000Z'],
    ['2026-07-01', 'America/New_York', '2026-07-01T04:00:00.000Z'],
    ['2026-03-29', 'Europe/Berlin', '2026-03-28T23:00:00.000Z'],
    ['2026-10-25', 'Europe/Berlin', '2026-10-24T22:00:00.000Z'],
    ['2028-02-29', 'UTC', '2028-02-29T00:00:00.000Z'],
  ];
  for (const [value, tz, want] of cases) t.equal(iso(parseNow(value, tz)), want, `${value} in ${tz}`);
});

t.test('parseNow: invalid strings are undefined', async (t) => {
  const cases: string[] = [
    '',
    '   ',
    'now',
    'yesterday',
    '2026',
    '2026-11',
    '2026/11/24',
    '24.11.2026',
    '20261124T031500Z',
    '2026-1-24',
    '2026-11-24T3:15',
    '2026-11-24T03',
    '2026-11-24T',
    '2026-13-01',
    '2026-00-10',
    '2026-11-00',
    '2026-11-32',
    '2026-11-24T24:00',
    '2026-11-24T12:60',
    '2026-11-24T12:00:60',
    '2026-11-24T03:15:00+2',
    '2026-11-24T03:15:00 UTC',
    '2026-11-24T03:15:00+02:00Z',
    '2026-11-24T03:15:00z',
    '2026-11-24T03:15:00.Z',
    'x2026-11-24',
    '2026-11-24x',
  ];
  for (const value of cases) t.equal(parseNow(value, 'UTC'), undefined, JSON.stringify(value));
});

t.test('parseNow: dates that do not exist are undefined', async (t) => {
  const cases: string[] = [
    '2026-02-29',
    '2026-02-30',
    '2026-04-31',
    '2026-06-31T12:00',
    '2026-11-24T03:15+02:75',
  ];
  for (const value of cases) {
    t.equal(iso(parseNow(value, 'UTC')), undefined, JSON.stringify(value));
  }
});

t.test('weekBoundary: every full_backup_day from a Tuesday', async (t) => {
  // Tuesday 2026-11-24 12:00 UTC (13:00 in Berlin, 07:00 in New York).
  const now = new Date('2026-11-24T12:00:00Z');
  const cases: [day: number, tz: string, want: string][] = [
    [0, 'UTC', '2026-11-22T00:00:00.000Z'],
    [1, 'UTC', '2026-11-23T00:00:00.000Z'],
    [2, 'UTC', '2026-11-24T00:00:00.000Z'],
    [3, 'UTC', '2026-11-18T00:00:00.000Z'],
    [4, 'UTC', '2026-11-19T00:00:00.000Z'],
    [5, 'UTC', '2026-11-20T00:00:00.000Z'],
    [6, 'UTC', '2026-11-21T00:00:00.000Z'],
    [0, 'Europe/Berlin', '2026-11-21T23:00:00.000Z'],
    [1, 'Europe/Berlin', '2026-11-22T23:00:00.000Z'],
    [2, 'Europe/Berlin', '2026-11-23T23:00:00.000Z'],
    [3, 'Europe/Berlin', '2026-11-17T23:00:00.000Z'],
    [4, 'Europe/Berlin', '2026-11-18T23:00:00.000Z'],
    [5, 'Europe/Berlin', '2026-11-19T23:00:00.000Z'],
    [6, 'Europe/Berlin', '2026-11-20T23:00:00.000Z'],
    [0, 'America/New_York', '2026-11-22T05:00:00.000Z'],
    [1, 'America/New_York', '2026-11-23T05:00:00.000Z'],
    [2, 'America/New_York', '2026-11-24T05:00:00.000Z'],
    [3, 'America/New_York', '2026-11-18T05:00:00.000Z'],
    [4, 'America/New_York', '2026-11-19T05:00:00.000Z'],
    [5, 'America/New_York', '2026-11-20T05:00:00.000Z'],
    [6, 'America/New_York', '2026-11-21T05:00:00.000Z'],
  ];
  for (const [day, tz, want] of cases) t.equal(iso(weekBoundary(now, day, tz)), want, `day ${day} in ${tz}`);
});

t.test('weekBoundary: at 00:00:00 of the day itself and one second before', async (t) => {
  const cases: [now: string, day: number, tz: string, want: string][] = [
    // Sunday 00:00:00 is the boundary itself; Saturday 23:59:59 still belongs to the week before.
    ['2026-11-22T00:00:00Z', 0, 'UTC', '2026-11-22T00:00:00.000Z'],
    ['2026-11-21T23:59:59Z', 0, 'UTC', '2026-11-15T00:00:00.000Z'],
    ['2026-11-21T23:59:59.999Z', 0, 'UTC', '2026-11-15T00:00:00.000Z'],
    ['2026-11-22T00:00:01Z', 0, 'UTC', '2026-11-22T00:00:00.000Z'],
    ['2026-11-28T23:59:59Z', 0, 'UTC', '2026-11-22T00:00:00.000Z'],
    ['2026-11-25T00:00:00Z', 3, 'UTC', '2026-11-25T00:00:00.000Z'],
    ['2026-11-24T23:59:59Z', 3, 'UTC', '2026-11-18T00:00:00.000Z'],
    // Berlin: Sunday 00:00 CET is Saturday 23:00Z.
    ['2026-11-21T23:00:00Z', 0, 'Europe/Berlin', '2026-11-21T23:00:00.000Z'],
    ['2026-11-21T22:59:59Z', 0, 'Europe/Berlin', '2026-11-14T23:00:00.000Z'],
    ['2026-11-22T00:00:00Z', 0, 'Europe/Berlin', '2026-11-21T23:00:00.000Z'],
    // New York: Sunday 00:00 EST is Sunday 05:00Z.
    ['2026-11-22T05:00:00Z', 0, 'America/New_York', '2026-11-22T05:00:00.000Z'],
    ['2026-11-22T04:59:59Z', 0, 'America/New_York', '2026-11-15T05:00:00.000Z'],
  ];
  for (const [now, day, tz, want] of cases) {
    t.equal(iso(weekBoundary(new Date(now), day, tz)), want, `${now} day ${day} in ${tz}`);
  }
});

t.test('weekBoundary: Europe/Berlin across the DST changes', async (t) => {
  const B = 'Europe/Berlin';
  const cases: [now: string, day: number, want: string, why: string][] = [
    // Spring: Sunday 2026-03-29 00:00 is still CET (+01:00).
    ['2026-03-28T23:00:00Z', 0, '2026-03-28T23:00:00.000Z', 'Sun 29 Mar 00:00 CET itself'],
    ['2026-03-28T22:59:59Z', 0, '2026-03-21T23:00:00.000Z', 'Sat 28 Mar 23:59:59 CET'],
    ['2026-03-29T00:59:59Z', 0, '2026-03-28T23:00:00.000Z', 'Sun 01:59:59 CET, just before the jump'],
    ['2026-03-29T01:00:00Z', 0, '2026-03-28T23:00:00.000Z', 'Sun 03:00 CEST, just after the jump'],
    ['2026-03-29T10:00:00Z', 0, '2026-03-28T23:00:00.000Z', 'Sun 12:00 CEST'],
    ['2026-03-29T21:59:59Z', 0, '2026-03-28T23:00:00.000Z', 'Sun 23:59:59 CEST'],
    ['2026-04-04T21:59:59Z', 0, '2026-03-28T23:00:00.000Z', 'Sat 4 Apr 23:59:59 CEST'],
    ['2026-04-04T22:00:00Z', 0, '2026-04-04T22:00:00.000Z', 'Sun 5 Apr 00:00 CEST itself'],
    ['2026-03-29T22:00:00Z', 1, '2026-03-29T22:00:00.000Z', 'Mon 30 Mar 00:00 CEST itself'],
    ['2026-03-29T21:59:59Z', 1, '2026-03-22T23:00:00.000Z', 'Sun 29 Mar 23:59:59 CEST, full day Monday'],
    ['2026-03-29T10:00:00Z', 6, '2026-03-27T23:00:00.000Z', 'Sun 29 Mar, full day Saturday'],
    // Autumn: Sunday 2026-10-25 00:00 is still CEST (+02:00).
    ['2026-10-24T22:00:00Z', 0, '2026-10-24T22:00:00.000Z', 'Sun 25 Oct 00:00 CEST itself'],
    ['2026-10-24T21:59:59Z', 0, '2026-10-17T22:00:00.000Z', 'Sat 24 Oct 23:59:59 CEST'],
    ['2026-10-25T00:30:00Z', 0, '2026-10-24T22:00:00.000Z', 'Sun 02:30 CEST (first)'],
    ['2026-10-25T01:30:00Z', 0, '2026-10-24T22:00:00.000Z', 'Sun 02:30 CET (second)'],
    ['2026-10-25T22:59:59Z', 0, '2026-10-24T22:00:00.000Z', 'Sun 23:59:59 CET'],
    ['2026-10-31T22:59:59Z', 0, '2026-10-24T22:00:00.000Z', 'Sat 31 Oct 23:59:59 CET'],
    ['2026-10-31T23:00:00Z', 0, '2026-10-31T23:00:00.000Z', 'Sun 1 Nov 00:00 CET itself'],
    ['2026-10-25T23:00:00Z', 1, '2026-10-25T23:00:00.000Z', 'Mon 26 Oct 00:00 CET itself'],
    ['2026-10-25T22:59:59Z', 1, '2026-10-18T22:00:00.000Z', 'Sun 25 Oct 23:59:59 CET, full day Monday'],
    ['2026-10-25T12:00:00Z', 6, '2026-10-23T22:00:00.000Z', 'Sun 25 Oct, full day Saturday'],
  ];
  for (const [now, day, want, why] of cases) t.equal(iso(weekBoundary(new Date(now), day, B)), want, why);
});

t.test('weekBoundary: Sunday midnight before an early-morning DST change east of UTC', async (t) => {
  // Sydney and Auckland fall back at 03:00 on Sunday 2026-04-05; midnight before is still daylight time.
  const cases: [now: string, day: number, tz: string, want: string, why: string][] = [
    ['2026-04-05T06:00:00Z', 0, 'Australia/Sydney', '2026-04-04T13:00:00.000Z', 'Sun 5 Apr 16:00 AEST'],
    ['2026-04-04T13:30:00Z', 0, 'Australia/Sydney', '2026-04-04T13:00:00.000Z', 'Sun 5 Apr 00:30 AEDT'],
    ['2026-04-05T06:00:00Z', 0, 'Pacific/Auckland', '2026-04-04T11:00:00.000Z', 'Sun 5 Apr 18:00 NZST'],
  ];
  for (const [now, day, tz, want, why] of cases) {
    const b = weekBoundary(new Date(now), day, tz);
    t.equal(iso(b), want, `${tz} ${why}`);
    const late = b.getTime() > Date.parse(now);
    t.ok(!late, `${tz} ${why}: the boundary is not after now`);
  }
  // The spring change there (first Sunday of October, 02:00 -> 03:00) leaves midnight alone.
  t.equal(
    iso(weekBoundary(new Date('2026-10-04T06:00:00Z'), 0, 'Australia/Sydney')),
    '2026-10-03T14:00:00.000Z',
  );
});

t.test('weekBoundary: every weekday of the DST week in Europe/Berlin', async (t) => {
  // Tuesday 2026-03-31 12:00 CEST; the days before 29 March are CET.
  const now = new Date('2026-03-31T10:00:00Z');
  const want = [
    '2026-03-28T23:00:00.000Z', // Sun 29 (CET midnight)
    '2026-03-29T22:00:00.000Z', // Mon 30 (CEST)
    '2026-03-30T22:00:00.000Z', // Tue 31 (CEST)
    '2026-03-24T23:00:00.000Z', // Wed 25 (CET)
    '2026-03-25T23:00:00.000Z', // Thu 26
    '2026-03-26T23:00:00.000Z', // Fri 27
    '2026-03-27T23:00:00.000Z', // Sat 28
  ];
  for (let day = 0; day < 7; day++)
    t.equal(iso(weekBoundary(now, day, 'Europe/Berlin')), want[day], `day ${day}`);
});

t.test(
  'weekBoundary: around the DST changes, a local midnight of that weekday within the last week',
  async (t) => {
    // A week holding a 25-hour day is 7 days + 1 hour long.
    const maxAge = 7 * 86_400_000 + 3_600_000;
    const spans: [from: string, days: number][] = [
      ['2026-03-01T00:00:59Z', 45],
      ['2026-10-10T00:00:59Z', 30],
    ];
    for (const tz of ['UTC', 'Europe/Berlin', 'America/New_York']) {
      const bad: string[] = [];
      let checked = 0;
      for (const [from, days] of spans) {
        for (let h = 0; h < days * 24; h += 5) {
          const now = new Date(Date.parse(from) + h * 3_600_000);
          for (let day = 0; day < 7; day++) {
            checked++;
            const b = weekBoundary(now, day, tz);
            const p = zonedParts(b, tz);
            const age = now.getTime() - b.getTime();
            if (
              p.weekday !== day ||
              p.hour !== 0 ||
              p.minute !== 0 ||
              p.second !== 0 ||
              age < 0 ||
              age >= maxAge
            )
              bad.push(`${now.toISOString()} day ${day}: ${b.toISOString()}`);
          }
        }
      }
      t.equal(checked, 2520, `${tz}: instants x days checked`);
      t.same(bad.slice(0, 5), [], `${tz}: every boundary is a past local midnight of the day`);
    }
  },
);

t.test('backupId and idToDate', async (t) => {
  const cases: [instant: string, id: string][] = [
    ['2026-11-24T03:15:00.000Z', '20261124T031500Z'],
    ['2026-11-24T03:15:00.999Z', '20261124T031500Z'],
    ['2026-01-01T00:00:00.000Z', '20260101T000000Z'],
    ['2026-12-31T23:59:59.000Z', '20261231T235959Z'],
    ['2028-02-29T12:34:56.000Z', '20280229T123456Z'],
  ];
  for (const [instant, id] of cases) {
    t.equal(backupId(new Date(instant)), id, `backupId ${instant}`);
    t.equal(iso(idToDate(id)), instant.replace(/\.\d+Z$/, '.000Z'), `idToDate ${id}`);
    t.equal(backupId(idToDate(id)!), id, `round trip ${id}`);
  }
  // An id of a time with an offset is the UTC time.
  t.equal(backupId(parseNow('2026-11-24T04:15:00+01:00', 'UTC')!), '20261124T031500Z');
  t.equal(backupId(parseNow('2026-11-24T04:15', 'Europe/Berlin')!), '20261124T031500Z');
  // Ids sort by time.
  const ids = [
    '2026-11-24T03:15:00Z',
    '2026-11-24T03:15:01Z',
    '2026-11-25T00:00:00Z',
    '2027-01-01T00:00:00Z',
  ].map((s) => backupId(new Date(s)));
  t.same([...ids].reverse().sort(), ids, 'lexical order is time order');
});

t.test('idToDate: not an id', async (t) => {
  const cases = [
    '',
    'x',
    '20261124T0315Z',
    '20261124T031500',
    '20261124 031500Z',
    '2026-11-24T03:15:00Z',
    '20261124t031500z',
    ' 20261124T031500Z',
    '20261124T031500Z.tar.zst',
  ];
  for (const id of cases) t.equal(idToDate(id), undefined, JSON.stringify(id));
});

t.test('uniqueId adds one second per collision', async (t) => {
  const at = new Date('2026-11-24T03:15:00.600Z');
  const cases: [taken: string[], want: string][] = [
    [[], '20261124T031500Z'],
    [['20261124T031459Z'], '20261124T031500Z'],
    [['20261124T031501Z'], '20261124T031500Z'],
    [['20261124T031500Z'], '20261124T031501Z'],
    [['20261124T031500Z', '20261124T031501Z'], '20261124T031502Z'],
    [['20261124T031500Z', '20261124T031501Z', '20261124T031503Z'], '20261124T031502Z'],
    [['20261124T031500Z', '20261124T031501Z', '20261124T031502Z', '20261124T031503Z'], '20261124T031504Z'],
  ];
  for (const [taken, want] of cases)
    t.equal(uniqueId(at, new Set(taken)), want, `taken: ${taken.join(', ')}`);
  // Across a minute and a day.
  t.equal(uniqueId(new Date('2026-12-31T23:59:59Z'), new Set(['20261231T235959Z'])), '20270101T000000Z');
});
