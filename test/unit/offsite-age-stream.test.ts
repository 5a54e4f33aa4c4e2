/** encryptChunks / encryptBuffer against real age (when installed): round trips, failures. */
import t from 'tap';
import { execFileSync } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { AgeError, encryptBuffer, encryptChunks } from '../../src/offsite/age.js';
import { which } from '../../src/engine/binaries.js';

t.test('age streams', { skip: which(['age']) ? false : 'age not installed' }, async (t) => {
  const dir = mkdtempSync(join(tmpdir(), 'xb-age-stream-'));
  t.teardown(() => rmSync(dir, { recursive: true, force: true }));
  const id = join(dir, 'id');
  execFileSync('age-keygen', ['-o', id], { stdio: 'ignore' });
  const key = execFileSync('age-keygen', ['-y', id], { encoding: 'utf8' }).trim();
  const decrypt = (b: Buffer) => execFileSync('age', ['-d', '-i', id], { input: b, maxBuffer: 64 << 20 });

  const plain = randomBytes(3 * 65536 + 11);
  const file = join(dir, 'plain.bin');
  writeFileSync(file, plain);
  const out: Buffer[] = [];
  for await (const c of encryptChunks(file, [key])) out.push(c);
  t.ok(decrypt(Buffer.concat(out)).equals(plain), 'the file, read by age itself, round-trips');

  await t.rejects(
    (async () => {
      for await (const _ of encryptChunks(join(dir, 'missing'), [key])) void _;
    })(),
    AgeError,
    'a missing input fails the iteration',
  );
  await t.rejects(
    (async () => {
      for await (const _ of encryptChunks('relative/path', [key])) void _;
    })(),
    /not an absolute path/,
  );
  // Leaving early (a failed upload) ends age; nothing hangs.
  const big = join(dir, 'big');
  writeFileSync(big, Buffer.alloc(8 << 20));
  for await (const _ of encryptChunks(big, [key])) break;

  const small = Buffer.from('{"id":"x"}\n');
  t.ok(decrypt(await encryptBuffer(small, [key])).equals(small), 'a small buffer round-trips');
  t.ok(decrypt(await encryptBuffer(Buffer.alloc(0), [key])).equals(Buffer.alloc(0)), 'even empty');
});
