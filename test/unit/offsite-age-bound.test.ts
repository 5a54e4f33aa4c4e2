/** cipherBound against real age output (when age is installed), and the part size it picks. */
import t from 'tap';
import { execFileSync } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { cipherBound } from '../../src/offsite/age.js';
import { planParts } from '../../src/offsite/multipart.js';
import { which } from '../../src/engine/binaries.js';

const MiB = 1 << 20;

t.test(
  'the bound holds for real age output',
  { skip: which(['age']) ? false : 'age not installed' },
  async (t) => {
    const dir = mkdtempSync(join(tmpdir(), 'xb-age-bound-'));
    t.teardown(() => rmSync(dir, { recursive: true, force: true }));
    const keys = [1, 2, 3].map((i) => {
      const f = join(dir, `id${i}`);
      execFileSync('age-keygen', ['-o', f], { stdio: 'ignore' });
      return execFileSync('age-keygen', ['-y', f], { encoding: 'utf8' }).trim();
    });
    for (const [plain, nRecipients] of [
      [0, 1],
      [1, 1],
      [65535, 1],
      [65536, 1],
      [65537, 3],
      [3 * 65536 + 7, 2],
      [1_000_000, 3],
    ] as const) {
      const args = ['--encrypt', ...keys.slice(0, nRecipients).flatMap((k) => ['-r', k])];
      const out = execFileSync('age', args, { input: Buffer.alloc(plain, 7), maxBuffer: 4 * MiB });
      const bound = cipherBound(plain, nRecipients);
      t.ok(out.length <= bound, `${plain} bytes to ${nRecipients}: ${out.length} <= ${bound}`);
      t.ok(bound - out.length < 8192, 'and close to it');
    }
  },
);

t.test('the bound picks the part size the final size does (so a resume matches)', async (t) => {
  for (const [plain, part] of [
    [200e6, 16 * MiB],
    [5 * MiB, 5 * MiB],
    [60 * MiB, 5 * MiB],
    [100e9, 8 * MiB],
  ] as const) {
    const cipher = plain + 16 * Math.ceil(plain / 65536) + 200;
    t.equal(
      planParts(cipherBound(plain, 1), part).partSize,
      planParts(cipher, part).partSize,
      `${plain} bytes, parts of ${part}`,
    );
  }
});
