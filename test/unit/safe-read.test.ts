/**
 * Bounded reads of files someone less trusted controls (the worker's mysqld log, a backup's
 * backup-my.cnf, what a transfer left): a planted symlink to a secret or a fifo is never read, and
 * no more than asked is read.
 */
import t from 'tap';
import { execFileSync } from 'node:child_process';
import { mkdtempSync, rmSync, symlinkSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { readHead, readTail } from '../../src/util/safe-read.js';
import { readBackupCnf } from '../../src/ready/data-options.js';
import { readSmallFile } from '../../src/transfer/files.js';

const dir = mkdtempSync(join(tmpdir(), 'xb-safe-read-'));
t.teardown(() => rmSync(dir, { recursive: true, force: true }));
const secret = join(dir, 'secret');
writeFileSync(secret, 'root-only secret\n');
const file = join(dir, 'log');
writeFileSync(file, 'a'.repeat(1000) + 'END');
const link = join(dir, 'link');
symlinkSync(secret, link);
const fifo = join(dir, 'fifo');
execFileSync('mkfifo', [fifo]);

t.test('readTail and readHead: bounded, regular files only, no link followed', async (t) => {
  t.equal(readTail(file, 3), 'END');
  t.equal(readTail(file, 10_000)?.length, 1003);
  t.equal(readHead(file, 4)?.toString(), 'aaaa');
  t.equal(readHead(file, 10_000)?.length, 1003);
  t.equal(readTail(link, 100), undefined, 'a symlink (to a secret) is not read');
  t.equal(readHead(link, 100), undefined);
  t.equal(readHead(link, 100, true)?.toString(), 'root-only secret\n', 'control: followed on request');
  t.equal(readTail(fifo, 100), undefined, 'a fifo is not read (and does not block)');
  t.equal(readHead(join(dir, 'missing'), 100), undefined);
  t.equal(readTail(dir, 100), undefined, 'a directory is not a file');
});

t.test('readBackupCnf: a planted link named backup-my.cnf is not read', async (t) => {
  const d = mkdtempSync(join(dir, 'cnf-'));
  symlinkSync(secret, join(d, 'backup-my.cnf'));
  t.equal(readBackupCnf(d), undefined);
  const d2 = mkdtempSync(join(dir, 'cnf-'));
  writeFileSync(join(d2, 'backup-my.cnf'), 'x'.repeat(200_000));
  t.equal(readBackupCnf(d2)?.length, 64 * 1024 + 1, 'at most CNF_MAX_BYTES + 1 bytes');
});

t.test('readSmallFile: at most max + 1 bytes', async (t) => {
  t.equal(readSmallFile(file, 10)?.length, 11);
  t.equal(readSmallFile(join(dir, 'missing'), 10), undefined);
});
