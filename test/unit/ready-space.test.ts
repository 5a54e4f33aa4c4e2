import t from 'tap';
import { readySpaceNeed, STREAM_EXPANSION as X } from '../../src/ready/space.js';

const G = 1e9;

t.test('readySpaceNeed: what the ready step writes beside what is on disk', async (t) => {
  const cases: [name: string, input: Parameters<typeof readySpaceNeed>[0], want: number][] = [
    // A full of 1 GB stored: base 4 GB, ready file 2 GB, and the copy only when it may be made.
    [
      'full, overlay possible',
      { rebuild: true, baseBytes: 0, applyBytes: G, viewMayCopy: false },
      X * G * 1.5,
    ],
    [
      'full, a copy may be needed',
      { rebuild: true, baseBytes: 0, applyBytes: G, viewMayCopy: true },
      X * G * 2.5,
    ],
    // An incremental of 10 MB onto a 100 GB base: the base is already on disk.
    [
      'incremental, overlay possible',
      { rebuild: false, baseBytes: 100 * G, applyBytes: 0.01 * G, viewMayCopy: false },
      0.04 * G + Math.ceil((100.04 * G) / 2),
    ],
    [
      'incremental, a copy may be needed',
      { rebuild: false, baseBytes: 100 * G, applyBytes: 0.01 * G, viewMayCopy: true },
      0.04 * G + 100.04 * G + Math.ceil((100.04 * G) / 2),
    ],
    // A rebuild of a chain (the base was missing): every stream of the chain is applied.
    [
      'rebuild of a chain',
      { rebuild: true, baseBytes: 7 * G, applyBytes: 1.2 * G, viewMayCopy: false },
      X * 1.2 * G * 1.5,
    ],
    ['nothing to apply', { rebuild: false, baseBytes: 2 * G, applyBytes: 0, viewMayCopy: false }, G],
  ];
  for (const [name, input, want] of cases) t.equal(readySpaceNeed(input), Math.ceil(want), name);
});

t.test('a copy-free view never asks for more than the old rule (datadir x 2.5)', async (t) => {
  for (const baseBytes of [0, G, 50 * G])
    for (const applyBytes of [0, 1e6, G])
      for (const rebuild of [true, false]) {
        const datadir = rebuild ? applyBytes * X : baseBytes;
        const old = datadir * 2 + Math.ceil(datadir / 2);
        const now = readySpaceNeed({ rebuild, baseBytes, applyBytes, viewMayCopy: false });
        if (rebuild) t.ok(now <= old, `rebuild ${applyBytes}: ${now} <= ${old}`);
        else t.ok(now <= old + applyBytes * X * 1.5 + 1, `incremental ${baseBytes}+${applyBytes}`);
      }
});
