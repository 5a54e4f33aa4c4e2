import t from 'tap';
import { pool } from '../../src/commands/pool.js';

/** One host of a case: how long it works (ms) and whether it throws instead of returning. */
interface Item {
  name: string;
  ms: number;
  throws?: boolean;
}

interface Case {
  name: string;
  limit: number;
  items: Item[];
  /** Most items working at the same time. */
  peak: number;
  /** Items that must have finished before the named one did (a slow item holds one slot only). */
  before?: { slow: string; others: string[] };
}

const h = (name: string, ms: number, throws = false): Item => ({ name, ms, throws });

const cases: Case[] = [
  { name: 'one at a time', limit: 1, items: [h('a', 5), h('b', 5), h('c', 5)], peak: 1 },
  { name: 'limit above the count', limit: 8, items: [h('a', 5), h('b', 5)], peak: 2 },
  {
    name: 'a slow host holds one slot; the others pass through the other one',
    limit: 2,
    items: [h('hung', 300), h('b', 20), h('c', 20), h('d', 20)],
    peak: 2,
    before: { slow: 'hung', others: ['b', 'c', 'd'] },
  },
  {
    name: 'a host that throws frees its slot and stops nothing',
    limit: 2,
    items: [h('a', 5, true), h('b', 20), h('c', 20), h('d', 20)],
    peak: 2,
  },
  {
    name: 'a slow host and a throwing host',
    limit: 2,
    items: [h('hung', 300), h('bad', 5, true), h('c', 20), h('d', 20)],
    peak: 2,
    before: { slow: 'hung', others: ['bad', 'c', 'd'] },
  },
  {
    name: 'every host throws',
    limit: 3,
    items: [h('a', 5, true), h('b', 5, true), h('c', 5, true)],
    peak: 3,
  },
  { name: 'no hosts', limit: 2, items: [], peak: 0 },
];

for (const c of cases) {
  t.test(c.name, async (t) => {
    let working = 0;
    let peak = 0;
    const finished: string[] = [];
    const results = await pool(
      c.items,
      c.limit,
      async (it) => {
        working++;
        peak = Math.max(peak, working);
        try {
          await new Promise((r) => setTimeout(r, it.ms));
          if (it.throws) throw new Error(`${it.name} broke`);
          return `${it.name} ok`;
        } finally {
          working--;
          finished.push(it.name);
        }
      },
      (it, e) => `${it.name} failed: ${(e as Error).message}`,
    );
    // Every host has a result, in the order of the hosts, whatever the others did.
    t.same(
      results,
      c.items.map((it) => (it.throws ? `${it.name} failed: ${it.name} broke` : `${it.name} ok`)),
    );
    t.equal(peak, c.peak, 'hosts at once');
    t.equal(working, 0, 'nothing still working when the pool returns');
    if (c.before) {
      const at = finished.indexOf(c.before.slow);
      for (const o of c.before.others)
        t.ok(finished.indexOf(o) < at, `${o} finished before ${c.before.slow}`);
    }
  });
}
