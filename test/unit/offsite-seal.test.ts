/** The seal of an off-site ready file and age's failure line: pure, tables of cases. */
import t from 'tap';
import { SEAL_FIELD, sealedText, sealOf } from '../../src/offsite/seal.js';
import { decryptFailure } from '../../src/offsite/age.js';
import { parseReadyInfo } from '../../src/catalog/ready-info.js';

const SHA = 'a'.repeat(64);
const info = {
  id: '20261129T010000Z',
  file: '20261129T010000Z.tar.zst',
  sha256: 'b'.repeat(64),
  compress: 'zstd',
};

t.test('a sealed description reads back with its seal, through the description parser', async (t) => {
  const text = sealedText(info, { bytes: 1234, sha256: SHA });
  const parsed = parseReadyInfo(text, info.id);
  if (typeof parsed === 'string') throw new Error(parsed);
  t.same(sealOf(parsed), { bytes: 1234, sha256: SHA });
  t.equal(parsed.sha256, info.sha256, 'the plaintext sha256 stays');
});

t.test('only a well-formed seal counts: anything else restores the old way', async (t) => {
  const cases: [string, unknown, boolean][] = [
    ['no seal', undefined, false],
    ['null', null, false],
    ['a string', SHA, false],
    ['an array', [1, SHA], false],
    ['sha256 upper case', { bytes: 1, sha256: SHA.toUpperCase() }, false],
    ['sha256 short', { bytes: 1, sha256: 'a'.repeat(63) }, false],
    ['sha256 not hex', { bytes: 1, sha256: 'g'.repeat(64) }, false],
    ['bytes negative', { bytes: -1, sha256: SHA }, false],
    ['bytes fractional', { bytes: 1.5, sha256: SHA }, false],
    ['bytes a string', { bytes: '1', sha256: SHA }, false],
    ['bytes huge', { bytes: 2 ** 60, sha256: SHA }, false],
    ['zero bytes', { bytes: 0, sha256: SHA }, true],
    ['good', { bytes: 99, sha256: SHA }, true],
  ];
  for (const [name, seal, ok] of cases) {
    const o = seal === undefined ? { ...info } : { ...info, [SEAL_FIELD]: seal };
    t.equal(sealOf(o) !== undefined, ok, name);
  }
});

t.test("age's failure line", async (t) => {
  const cases: [string, number | null, string][] = [
    [
      'age: error: no identity matched any of the recipients\n',
      1,
      'age could not decrypt: the identity does not match the recipients the object was encrypted to',
    ],
    [
      'age: error: failed to decrypt and authenticate payload chunk\n',
      1,
      'age could not decrypt: age: error: failed to decrypt and authenticate payload chunk',
    ],
    ['', 2, 'age could not decrypt: age exited with 2'],
    ['x'.repeat(500), 1, `age could not decrypt: ${'x'.repeat(200)}`],
  ];
  for (const [stderr, code, want] of cases) t.equal(decryptFailure(stderr, code), want);
});
