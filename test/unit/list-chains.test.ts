/**
 * `list`'s chains (commands/list.ts chainsOf, pure): every backup appears exactly once, including
 * those behind a chain broken at an unusable parent (they were left out before), oldest chain first.
 */
import t from 'tap';
import { chainsOf } from '../../src/commands/list.js';
import { full, inc } from './factory.js';

const F1 = full('20261101T010000Z', 100);
const I1 = inc('20261102T010000Z', F1, 200);
const I2 = inc('20261103T010000Z', I1, 300);
const BAD = { ...I1, unusable: { reason: 'prepare failed: sha256 mismatch', at: 'x' } };
const I2b = inc('20261103T010000Z', BAD, 300);
const I3b = inc('20261104T010000Z', I2b, 400);
const F2 = full('20261108T010000Z', 500);
const I4 = inc('20261109T010000Z', F2, 600);
const ORPHAN = inc('20261110T010000Z', full('20261020T010000Z', 50), 60);

t.test('chains: each backup once, oldest chain first', async (t) => {
  const cases: [string, Parameters<typeof chainsOf>[0], string[]][] = [
    ['one chain', [F1, I1, I2], ['20261101T010000Z 20261102T010000Z 20261103T010000Z']],
    [
      'two chains, listed in any order',
      [I4, F2, I1, F1],
      ['20261101T010000Z 20261102T010000Z', '20261108T010000Z 20261109T010000Z'],
    ],
    [
      'broken at an unusable parent: the unusable backup and its ancestors are listed too',
      [F1, BAD, I2b, I3b, F2],
      [
        '20261101T010000Z 20261102T010000Z(unusable)',
        '20261103T010000Z 20261104T010000Z(broken: parent 20261102T010000Z of 20261103T010000Z is unusable)',
        '20261108T010000Z',
      ],
    ],
    [
      'a missing parent',
      [ORPHAN, F2],
      [
        '20261108T010000Z',
        '20261110T010000Z(broken: parent 20261020T010000Z of 20261110T010000Z is missing)',
      ],
    ],
  ];
  for (const [name, backups, want] of cases) {
    const got = chainsOf(backups, new Set()).map(
      (c) =>
        c.backups.map((b) => `${b.id}${b.unusable ? '(unusable)' : ''}`).join(' ') +
        (c.broken ? `(broken: ${c.broken.replace(/: prepare failed.*$/, '')})` : ''),
    );
    t.same(got, want, name);
    t.equal(
      chainsOf(backups, new Set()).flatMap((c) => c.backups).length,
      backups.length,
      `${name}: each backup once`,
    );
  }
});
