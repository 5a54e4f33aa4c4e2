/**
 * Local retention with items not off-site yet (catalog/retain.ts `hold`, from offsite/plan.ts
 * localHold): held backups are kept with their ancestors, held ready files are kept; without a
 * hold (under the free-space reserve) the usual plan applies.
 */
import t from 'tap';
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { hostRetentionPlan } from '../../src/catalog/retain.js';
import type { HostConfig } from '../../src/config/load.js';
import { LocalStore } from '../../src/storage/local.js';
import { binlogHold, localHold, parseRecord, type OffsiteRecord } from '../../src/offsite/plan.js';
import { full, inc } from './factory.js';

const F1 = full('20261101T010000Z', 100);
const I1 = inc('20261102T010000Z', F1, 200);
const F2 = full('20261120T010000Z', 300);
const h = { retainDays: 7, retainNumReadyBackups: 1 } as HostConfig;

t.test('held items survive local retention', async (t) => {
  const root = mkdtempSync(join(tmpdir(), 'xbhold-'));
  t.teardown(() => rmSync(root, { recursive: true, force: true }));
  for (const m of [F1, I1, F2]) {
    const dir = join(root, m.type, m.id);
    mkdirSync(dir, { recursive: true });
    writeFileSync(join(dir, 'manifest.json'), JSON.stringify(m));
    writeFileSync(join(dir, m.file), 'x');
  }
  mkdirSync(join(root, 'ready'));
  for (const id of [I1.id, F2.id]) {
    writeFileSync(join(root, 'ready', `${id}.tar.zst`), 'r');
    writeFileSync(
      join(root, 'ready', `${id}.json`),
      JSON.stringify({ id, file: `${id}.tar.zst`, sha256: 'a'.repeat(64), compress: 'zstd' }),
    );
  }
  const store = new LocalStore(root);
  const now = new Date('2026-11-29T00:00:00Z');
  const ids = async (hold?: Parameters<typeof hostRetentionPlan>[4]) =>
    (await hostRetentionPlan(h, root, now, store, hold)).delete.map((d) => `${d.kind}:${d.id}`);
  t.same(await ids(), [`backup:${I1.id}`, `backup:${F1.id}`, `ready:${I1.id}`], 'without a hold');
  const l = await store.list();
  const offsite = new Set([`full/${F2.id}`, `ready/${F2.id}`]);
  const hold = localHold(l, offsite, 1000, 10);
  t.same(await ids(hold), [], 'the not-off-site chain (incremental and its parent) and ready file are held');
  const partly = localHold(l, new Set([...offsite, `incremental/${I1.id}`, `ready/${I1.id}`]), 1000, 10);
  t.same(
    await ids(partly),
    [`backup:${I1.id}`, `ready:${I1.id}`],
    'the full not off-site is held; the incremental that is off-site goes (its parent stays)',
  );
  const low = localHold(l, offsite, 5, 10);
  t.ok(low.overridden);
  t.same(
    await ids(low.overridden ? undefined : low),
    [`backup:${I1.id}`, `backup:${F1.id}`, `ready:${I1.id}`],
    'under the reserve',
  );
});

t.test('binlogHold: closed binlogs the off-site tier wants and lacks are held', async (t) => {
  const n = (i: number) => `mysql-bin.${String(i).padStart(6, '0')}`;
  const local = [1, 2, 3, 4, 5].map(n);
  const rec = (binlogs?: string[], from?: string): OffsiteRecord => ({
    format: 1,
    at: 'x',
    ok: true,
    offsite: [],
    backlog_items: 0,
    backlog_bytes: 0,
    ...(binlogs ? { binlogs } : {}),
    ...(from ? { binlog_from: from } : {}),
  });
  const cases: [string, Parameters<typeof binlogHold>[1], string[]][] = [
    ['no record (never synced): all', undefined, local],
    ['nothing off-site yet: all', rec([]), local],
    ['some off-site: the rest from the oldest off-site on', rec([n(2), n(3)], n(2)), [n(4), n(5)]],
    ['older than what the store keeps: never sent, not held', rec([n(4)], n(4)), [n(5)]],
    ['all off-site: none', rec(local, n(1)), []],
  ];
  for (const [name, r, want] of cases) t.same([...binlogHold(local, r)].sort(), want, name);
  const parsed = parseRecord(JSON.stringify(rec([n(2)], n(2))));
  t.same([parsed?.binlogs, parsed?.binlog_from], [[n(2)], n(2)], 'the record keeps the binlog fields');
  t.equal(parseRecord(JSON.stringify(rec(['../x'], n(2))))?.binlogs, undefined, 'a bad name drops the list');
});
