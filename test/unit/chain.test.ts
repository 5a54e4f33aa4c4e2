import t from 'tap';
import { byIdMap, chainOf, newest, restoreChain } from '../../src/catalog/chain.js';
import type { Manifest } from '../../src/catalog/manifest.js';
import { full, inc } from './factory.js';

const UNUSABLE = { reason: 'prepare failed', at: '2026-11-20T05:00:00.000Z' };

const F = full('20261115T010000Z', 1000);
const I1 = inc('20261116T010000Z', F, 2000);
const I2 = inc('20261117T010000Z', I1, 3000);
const I3 = inc('20261118T010000Z', I2, 3000); // nothing changed: from == to

interface Case {
  name: string;
  leaf: Manifest;
  catalog: Manifest[];
  ids: string[];
  broken?: string;
}

const cases: Case[] = [
  { name: 'a full alone', leaf: F, catalog: [F], ids: [F.id] },
  { name: 'a full among other backups', leaf: F, catalog: [F, I1, I2], ids: [F.id] },
  { name: 'a full not in the catalog map', leaf: F, catalog: [], ids: [F.id] },
  { name: 'one incremental', leaf: I1, catalog: [F, I1], ids: [F.id, I1.id] },
  { name: 'two incrementals', leaf: I2, catalog: [F, I1, I2], ids: [F.id, I1.id, I2.id] },
  {
    name: 'an empty incremental (from_lsn == to_lsn)',
    leaf: I3,
    catalog: [I3, I2, I1, F],
    ids: [F.id, I1.id, I2.id, I3.id],
  },
  { name: 'an older leaf ignores newer backups', leaf: I1, catalog: [F, I1, I2, I3], ids: [F.id, I1.id] },
  {
    name: 'an unusable leaf is not checked by chainOf (decide filters leaves)',
    leaf: inc(I1.id, F, 2000, { unusable: UNUSABLE }),
    catalog: [F],
    ids: [F.id, I1.id],
  },
  {
    name: 'the full is missing',
    leaf: I2,
    catalog: [I1, I2],
    ids: [I1.id, I2.id],
    broken: 'parent 20261115T010000Z of 20261116T010000Z is missing',
  },
  {
    name: 'the direct parent is missing',
    leaf: I2,
    catalog: [F, I2],
    ids: [I2.id],
    broken: 'parent 20261116T010000Z of 20261117T010000Z is missing',
  },
  {
    name: 'the full is unusable',
    leaf: I2,
    catalog: [full(F.id, 1000, { unusable: UNUSABLE }), I1, I2],
    ids: [I1.id, I2.id],
    broken: 'parent 20261115T010000Z of 20261116T010000Z is unusable: prepare failed',
  },
  {
    name: 'an incremental in the middle is unusable',
    leaf: I2,
    catalog: [F, inc(I1.id, F, 2000, { unusable: UNUSABLE }), I2],
    ids: [I2.id],
    broken: 'parent 20261116T010000Z of 20261117T010000Z is unusable: prepare failed',
  },
  {
    name: 'an LSN gap at the leaf',
    leaf: inc(I2.id, I1, 3000, { from_lsn: 2001 }),
    catalog: [F, I1],
    ids: [I2.id],
    broken: 'LSN gap: 20261117T010000Z starts at 2001 but its parent 20261116T010000Z ends at 2000',
  },
  {
    name: 'an LSN gap further down',
    leaf: I2,
    catalog: [F, inc(I1.id, F, 2000, { from_lsn: 999 }), I2],
    ids: [I1.id, I2.id],
    broken: 'LSN gap: 20261116T010000Z starts at 999 but its parent 20261115T010000Z ends at 1000',
  },
  {
    name: 'a full with from_lsn > to_lsn',
    leaf: I1,
    catalog: [full(F.id, 1000, { from_lsn: 1500 }), I1],
    ids: [F.id, I1.id],
    broken: '20261115T010000Z has from_lsn 1500 > to_lsn 1000',
  },
  {
    name: 'an incremental with from_lsn > to_lsn',
    leaf: inc(I2.id, inc(I1.id, F, 500), 3000),
    catalog: [F, inc(I1.id, F, 500)],
    ids: [F.id, I1.id, I2.id],
    broken: '20261116T010000Z has from_lsn 1000 > to_lsn 500',
  },
  {
    name: 'a leaf with from_lsn > to_lsn',
    leaf: inc(I1.id, F, 900),
    catalog: [F],
    ids: [F.id, I1.id],
    broken: '20261116T010000Z has from_lsn 1000 > to_lsn 900',
  },
];

t.test('chainOf: table', async (t) => {
  for (const c of cases) {
    const chain = chainOf(c.leaf, byIdMap(c.catalog));
    t.strictSame(
      chain.backups.map((b) => b.id),
      c.ids,
      `${c.name}: backups`,
    );
    t.equal(chain.broken, c.broken, `${c.name}: broken`);
  }
});

t.test('chainOf: parent loops end', async (t) => {
  const a = full('20261116T010000Z', 5, { type: 'incremental', parent: '20261117T010000Z', from_lsn: 5 });
  const b = full('20261117T010000Z', 5, { type: 'incremental', parent: '20261116T010000Z', from_lsn: 5 });
  const two = chainOf(b, byIdMap([a, b]));
  t.equal(two.broken, 'parent loop at 20261117T010000Z');
  t.strictSame(
    two.backups.map((m) => m.id),
    [a.id, b.id],
  );
  const self = full('20261116T010000Z', 5, { type: 'incremental', parent: '20261116T010000Z', from_lsn: 5 });
  const one = chainOf(self, byIdMap([self]));
  t.equal(one.broken, 'parent loop at 20261116T010000Z');
  t.strictSame(
    one.backups.map((m) => m.id),
    [self.id],
  );
});

t.test('chainOf: an incremental naming no parent is broken', async (t) => {
  const orphan = full('20261116T010000Z', 2000, { type: 'incremental', parent: null, from_lsn: 1000 });
  const c = chainOf(orphan, byIdMap([F]));
  t.match(c.broken, /is missing/);
  t.strictSame(
    c.backups.map((m) => m.id),
    [orphan.id],
  );
});

t.test('chainOf: the chain holds the manifest objects of the catalog, full first', async (t) => {
  const c = chainOf(I2, byIdMap([I2, F, I1]));
  t.equal(c.backups[0], F);
  t.equal(c.backups[1], I1);
  t.equal(c.backups[2], I2);
  t.notOk('broken' in c && c.broken !== undefined);
});

t.test('byIdMap', async (t) => {
  const m = byIdMap([F, I1, I2]);
  t.equal(m.size, 3);
  t.equal(m.get(I1.id), I1);
  t.equal(m.get('nope'), undefined);
  const dup = inc(I1.id, F, 2500);
  t.equal(byIdMap([I1, dup]).get(I1.id), dup, 'the last one with an id wins');
});

t.test('newest: the greatest id', async (t) => {
  const cases: [ids: string[], want: string | undefined][] = [
    [[], undefined],
    [['20261115T010000Z'], '20261115T010000Z'],
    [['20261115T010000Z', '20261116T010000Z'], '20261116T010000Z'],
    [['20261116T010000Z', '20261115T010000Z'], '20261116T010000Z'],
    [['20261117T010000Z', '20261231T235959Z', '20270101T000000Z', '20261116T010000Z'], '20270101T000000Z'],
    [['20261115T010001Z', '20261115T010000Z', '20261115T005959Z'], '20261115T010001Z'],
  ];
  for (const [ids, want] of cases) {
    t.equal(newest(ids.map((id) => ({ id })))?.id, want, ids.join(', ') || 'none');
  }
  const a = { id: '20261115T010000Z', n: 1 };
  const b = { id: '20261115T010000Z', n: 2 };
  t.equal(newest([a, b]), a, 'on equal ids the first wins');
  t.equal(newest([F, I2, I1]), I2, 'returns the item itself');
});

t.test('restoreChain: what restore --backup may apply, locally and from the store', async (t) => {
  const badLeaf = inc('20261119T010000Z', I2, 3500, { unusable: UNUSABLE });
  const badMid = inc(I1.id, F, 2000, { unusable: UNUSABLE });
  const cases: [name: string, id: string, catalog: Manifest[], want: string[] | RegExp][] = [
    ['a full', F.id, [F, I1], [F.id]],
    ['an incremental with its chain', I2.id, [F, I1, I2], [F.id, I1.id, I2.id]],
    ['an unknown id', 'nope', [F], /^no backup nope in HERE \(see xb-mgr list\)$/],
    [
      'an unusable leaf is refused',
      badLeaf.id,
      [F, I1, I2, badLeaf],
      /^cannot restore 20261119T010000Z: it is unusable: prepare failed$/,
    ],
    ['a leaf behind an unusable parent', I2.id, [F, badMid, I2], /unusable: prepare failed$/],
    ['a missing parent', I2.id, [F, I2], /parent 20261116T010000Z of 20261117T010000Z is missing/],
  ];
  for (const [name, id, catalog, want] of cases) {
    const r = restoreChain(id, catalog, 'HERE', 'xb-mgr list');
    if (Array.isArray(want)) {
      t.ok(r.ok, name);
      if (r.ok) {
        t.same(
          r.chain.map((m) => m.id),
          want,
          `${name}: chain`,
        );
        t.equal(r.leaf.id, id, `${name}: leaf`);
      }
    } else {
      t.notOk(r.ok, name);
      if (!r.ok) t.match(r.error, want, `${name}: error`);
    }
  }
});
