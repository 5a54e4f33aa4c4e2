/**
 * What a transfer leaves, read with bounds (src/transfer/files.ts), and the helper that leaves it
 * (playbooks/files/xb_pull, run for real with a stand-in for ssh): one result file, written whole,
 * that the manager's parser accepts.
 */
import t, { type Test } from 'tap';
import { spawnSync } from 'node:child_process';
import { createHash, randomBytes } from 'node:crypto';
import {
  chmodSync,
  mkdirSync,
  mkdtempSync,
  readdirSync,
  readFileSync,
  rmSync,
  statSync,
  symlinkSync,
  writeFileSync,
} from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { boundLog, fileBytes, readSmallFile, readToolLog } from '../../src/transfer/files.js';
import { parseHelperResult } from '../../src/transfer/result.js';

const XB_PULL = join(import.meta.dirname, '../../playbooks/files/xb_pull');

function tmp(t: Test): string {
  const d = mkdtempSync(join(tmpdir(), 'xb-transfer-'));
  t.teardown(() => rmSync(d, { recursive: true, force: true }));
  return d;
}

t.test('boundLog: short logs unchanged; long ones keep both ends around a marker', async (t) => {
  t.equal(boundLog('abc', 10), 'abc');
  t.equal(boundLog('0123456789', 10), '0123456789', 'exactly at the bound');
  const long = 'H'.repeat(50) + 'x'.repeat(1000) + 'T'.repeat(50);
  const b = boundLog(long, 100);
  t.ok(b.startsWith('H'.repeat(25)), 'the head');
  t.ok(b.endsWith('T'.repeat(50)), 'the tail');
  t.match(b, /\n\[xb-mgr: 1000 bytes of the log left out\]\n/);
});

t.test('readToolLog: the file, bounded the same way; "" when missing or not a file', async (t) => {
  const d = tmp(t);
  const p = join(d, 'tool.log');
  t.equal(readToolLog(p), '', 'missing');
  t.equal(readToolLog(d), '', 'a directory');
  writeFileSync(p, 'version 10.11\ncompleted OK!\n');
  t.equal(readToolLog(p), 'version 10.11\ncompleted OK!\n');
  const big = 'based on MariaDB server 10.11.19\n' + 'Streaming ./x\n'.repeat(10_000) + 'completed OK!\n';
  writeFileSync(p, big);
  const b = readToolLog(p, 4096);
  t.ok(b.startsWith('based on MariaDB server 10.11.19\n'), 'the version at the start is kept');
  t.ok(b.endsWith('completed OK!\n'), 'the end is kept');
  t.equal(b, boundLog(big, 4096), 'the same cut as boundLog (ASCII)');
});

t.test('readSmallFile: undefined when missing; at most max + 1 bytes', async (t) => {
  const d = tmp(t);
  const p = join(d, 'result.json');
  t.equal(readSmallFile(p, 10), undefined);
  t.equal(readSmallFile(d, 10), undefined, 'a directory is no result');
  writeFileSync(p, '{"a":1}');
  t.equal(readSmallFile(p, 10), '{"a":1}');
  writeFileSync(p, 'x'.repeat(1000));
  t.equal(readSmallFile(p, 10), 'x'.repeat(11), 'an oversized file is seen as such, not read whole');
});

t.test('fileBytes: the size of a regular file only', async (t) => {
  const d = tmp(t);
  const p = join(d, 's.zst');
  t.equal(fileBytes(p), undefined);
  writeFileSync(p, 'abcde');
  t.equal(fileBytes(p), 5);
  symlinkSync(p, join(d, 'link'));
  t.equal(fileBytes(join(d, 'link')), undefined, 'a symlink is not the stream');
  t.equal(fileBytes(d), undefined, 'a directory is not the stream');
});

const sha = (b: Buffer) => createHash('sha256').update(b).digest('hex');

/** A stand-in for ssh: stream STREAM_FILE to stdout, a log to stderr, exit FAKE_RC. */
function fakeSsh(dir: string): string {
  const p = join(dir, 'fake-ssh');
  writeFileSync(p, '#!/bin/sh\ncat "$STREAM_FILE"\necho "[00] completed OK!" >&2\nexit "${FAKE_RC:-0}"\n');
  chmodSync(p, 0o755);
  return p;
}

function pull(dir: string, out: string, env: Record<string, string>) {
  return spawnSync(
    XB_PULL,
    [
      '--out-dir',
      out,
      '--file',
      's.zst',
      '--host',
      'db1',
      '--ssh',
      fakeSsh(dir),
      '--',
      'backup_local',
      'backup',
    ],
    { env: { ...process.env, ...env }, encoding: 'utf8' },
  );
}

function pullCapped(dir: string, out: string, maxBytes: number, env: Record<string, string>) {
  return spawnSync(
    XB_PULL,
    [
      '--out-dir',
      out,
      '--file',
      's.zst',
      '--host',
      'db1',
      '--ssh',
      fakeSsh(dir),
      '--max-bytes',
      String(maxBytes),
      '--',
      'x',
    ],
    { env: { ...process.env, ...env }, encoding: 'utf8' },
  );
}

t.test('xb_pull (pull): stream, tool.log and one result the manager accepts', async (t) => {
  const d = tmp(t);
  const out = join(d, 'out');
  const data = randomBytes(3 * 1024 * 1024 + 17);
  writeFileSync(join(d, 'stream'), data);
  // A stale result from before: the new one replaces it by rename (a new inode), never in place.
  mkdirSync(out, { mode: 0o700 });
  writeFileSync(join(out, 'result.json'), 'stale');
  const staleIno = statSync(join(out, 'result.json')).ino;
  const r = pull(d, out, { STREAM_FILE: join(d, 'stream') });
  t.equal(r.status, 0, r.stderr);
  t.same(readdirSync(out).sort(), ['result.json', 's.zst', 'tool.log'], 'no part file, no temporary result');
  t.not(statSync(join(out, 'result.json')).ino, staleIno, 'result.json was renamed into place');
  t.equal(statSync(join(out, 'result.json')).mode & 0o777, 0o600, 'private');
  const text = readFileSync(join(out, 'result.json'), 'utf8');
  t.strictSame(JSON.parse(r.stdout) as unknown, JSON.parse(text), 'the same result on stdout');
  t.strictSame(parseHelperResult(text), {
    ok: true,
    result: { mode: 'pull', rc: 0, bytes: data.length, sha256: sha(data) },
  });
  t.equal(readFileSync(join(out, 'tool.log'), 'utf8'), '[00] completed OK!\n');
  t.equal(fileBytes(join(out, 's.zst')), data.length);
});

t.test('xb_pull (pull): ssh fails -> its exit code, the part file kept, rc in the result', async (t) => {
  const d = tmp(t);
  const out = join(d, 'out');
  writeFileSync(join(d, 'stream'), 'partial');
  const r = pull(d, out, { STREAM_FILE: join(d, 'stream'), FAKE_RC: '5' });
  t.equal(r.status, 5);
  t.match(r.stderr, /completed OK!/, 'the log tail on stderr');
  t.same(readdirSync(out).sort(), ['result.json', 's.zst.part', 'tool.log']);
  const p = parseHelperResult(readFileSync(join(out, 'result.json'), 'utf8'));
  t.ok(p.ok && p.result.rc === 5 && p.result.bytes === 7, 'rc 5, 7 bytes');
});

t.test('xb_pull (pull) --max-bytes: exactly the cap passes; one byte more stops it', async (t) => {
  const d = tmp(t);
  const data = randomBytes(3 * 1024 * 1024 + 5);
  writeFileSync(join(d, 'stream'), data);
  const at = pullCapped(d, join(d, 'at'), data.length, { STREAM_FILE: join(d, 'stream') });
  t.equal(at.status, 0, at.stderr);
  t.equal(fileBytes(join(d, 'at', 's.zst')), data.length);
  const over = pullCapped(d, join(d, 'over'), data.length - 1, { STREAM_FILE: join(d, 'stream') });
  t.equal(over.status, 4, 'exit 4: over the cap');
  t.equal(
    over.stderr,
    `xb_pull: the stream is over max_stream_bytes (${data.length - 1} bytes); the partial file was removed\n`,
    'one line',
  );
  t.same(readdirSync(join(d, 'over')), ['tool.log'], 'no part file, no result');
  t.equal(over.stdout, '', 'no result printed');
});

t.test('xb_pull (pull) --max-bytes: stops early and in flat memory', async (t) => {
  const d = tmp(t);
  // An endless stream: xb_pull must stop it at the cap, not wait for its end.
  const endless = join(d, 'endless-ssh');
  writeFileSync(endless, '#!/bin/sh\nexec cat /dev/zero\n');
  chmodSync(endless, 0o755);
  const out = join(d, 'out');
  const cap = 400 * 1024 * 1024;
  // 160 MB of address space for python and its child: a buffered stream of 400 MB would not fit.
  const r = spawnSync(
    'prlimit',
    [
      '--as=160000000',
      '--',
      XB_PULL,
      '--out-dir',
      out,
      '--file',
      's.zst',
      '--host',
      'db1',
      '--ssh',
      endless,
      '--max-bytes',
      String(cap),
      '--',
      'x',
    ],
    { encoding: 'utf8', timeout: 60_000 },
  );
  t.equal(r.status, 4, r.stderr);
  t.match(r.stderr, /^xb_pull: the stream is over max_stream_bytes \(419430400 bytes\)/);
  t.same(readdirSync(out), ['tool.log'], 'the partial file was removed');
});
