import t from 'tap';
import { execFileSync } from 'node:child_process';
import {
  chownSync,
  lstatSync,
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
import {
  dropInstallKey,
  helperSha256,
  installDigest,
  installKey,
  KEY_FILE,
  managerKey,
  readInstallKey,
  REINSTALL_CODES,
  writeInstallKey,
} from '../../src/install-record.js';
import { createHash, createHmac } from 'node:crypto';
import { parseConfig, type HostConfig } from '../../src/config/load.js';
import { credentialsFileContent } from '../../src/engine/credentials.js';
import { XbError } from '../../src/errors.js';

t.test('the install record: written 0600, read back, dropped before an install', async (t) => {
  const root = mkdtempSync(join(tmpdir(), 'xb-install-'));
  t.teardown(() => rmSync(root, { recursive: true, force: true }));
  t.equal(readInstallKey(root), undefined, 'no record: install');
  writeInstallKey(root, 'k1');
  t.equal(readInstallKey(root), 'k1');
  t.equal(statSync(join(root, 'installed.json')).mode & 0o777, 0o600);
  dropInstallKey(root);
  t.equal(readInstallKey(root), undefined, 'dropped');
  t.doesNotThrow(() => dropInstallKey(root), 'dropping twice is fine');
  writeFileSync(join(root, 'installed.json'), '{"key": 5}');
  t.equal(readInstallKey(root), undefined, 'a record without a string key counts as none');
  writeFileSync(join(root, 'installed.json'), 'not json');
  t.equal(readInstallKey(root), undefined, 'an unreadable record counts as none');
});

t.test('exit codes a reinstall can fix, and only those', async (t) => {
  const cases: [number, boolean][] = [
    [90, true], // helper not the expected version
    [91, true], // credentials file missing
    [126, true], // helper not executable
    [127, true], // helper not found
    [0, false],
    [1, false], // the tool failed (server down, privilege missing)
    [3, false], // xb_pull could not write (disk full)
    [255, false], // ssh could not connect
  ];
  for (const [code, want] of cases) t.equal(REINSTALL_CODES.has(code), want, `exit ${code}`);
});

t.test("helperSha256 is the sha256 of the helper's bytes", async (t) => {
  const dir = mkdtempSync(join(tmpdir(), 'xb-pb-'));
  t.teardown(() => rmSync(dir, { recursive: true, force: true }));
  mkdirSync(join(dir, 'files'));
  writeFileSync(join(dir, 'files', 'backup_local'), 'print("hi")\n');
  const want = createHash('sha256')
    .update(readFileSync(join(dir, 'files', 'backup_local')))
    .digest('hex');
  t.equal(helperSha256(dir), want);
});

const host = (password: string): HostConfig => {
  const r = parseConfig(
    `[default]\nmysql_user = backup_man\nmysql_password = ${password}\nbackup_dir = /backup\n[db1]\n`,
    'backup.conf',
  );
  return r.config!.hosts[0]!;
};

t.test('installDigest: an HMAC of the install keyed by the manager key, not a plain hash', async (t) => {
  const sha = 'b'.repeat(64);
  const k1 = Buffer.alloc(32, 1);
  const k2 = Buffer.alloc(32, 2);
  const h = host('hunter2');
  const d = installDigest(h, sha, undefined, k1);
  t.match(d, /^[0-9a-f]{64}$/);
  t.equal(installDigest(h, sha, undefined, k1), d, 'stable for the same key');
  t.not(installDigest(h, sha, undefined, k2), d, 'another key, another digest');
  // What an attacker who reads the record could compute without the key: the old plain digest of
  // the same parts, and any unkeyed guess. Neither matches.
  const parts = JSON.stringify([
    sha,
    credentialsFileContent(h),
    h.hostname,
    '',
    h.remoteBackupCmd,
    h.remoteCredentialsFile,
    h.backupTool,
    h.remoteToolPath ?? '',
  ]);
  t.equal(d, createHmac('sha256', k1).update(parts).digest('hex'), 'HMAC-SHA256 of the parts');
  t.not(d, createHash('sha256').update(parts).digest('hex'), 'not the plain sha256 of them');
  const guess = (pw: string) => createHash('sha256').update(parts.replace('hunter2', pw)).digest('hex');
  t.notOk(
    ['hunter2', 'password', '123456'].map(guess).includes(d),
    'a dictionary without the key finds nothing',
  );
});

t.test('managerKey: 32 random bytes in a 0600 file, made once, then read', async (t) => {
  const dir = mkdtempSync(join(tmpdir(), 'xb-key-'));
  t.teardown(() => rmSync(dir, { recursive: true, force: true }));
  const old = process.umask(0);
  let k: Buffer;
  try {
    k = managerKey(dir);
  } finally {
    process.umask(old);
  }
  t.equal(k.length, 32);
  const p = join(dir, KEY_FILE);
  t.equal(lstatSync(p).mode & 0o777, 0o600, '0600 whatever the umask');
  t.match(readFileSync(p, 'utf8'), /^[0-9a-f]{64}\n$/);
  t.strictSame(managerKey(dir), k, 'the same key next time');
  t.strictSame(readdirSync(dir), [KEY_FILE], 'no temporary file left');
  const other = mkdtempSync(join(tmpdir(), 'xb-key-'));
  t.teardown(() => rmSync(other, { recursive: true, force: true }));
  t.not(managerKey(other).toString('hex'), k.toString('hex'), 'another directory, another key');
  // installKey uses the key of the host's backup_dir.
  const h = { ...host('pw'), backupDir: dir };
  t.equal(installKey(h, 'a'.repeat(64), undefined), installDigest(h, 'a'.repeat(64), undefined, k));
});

t.test('managerKey: anything but our own 0600 key file is refused, nothing followed', async (t) => {
  const base = mkdtempSync(join(tmpdir(), 'xb-key-'));
  t.teardown(() => rmSync(base, { recursive: true, force: true }));
  const victim = join(base, 'victim');
  writeFileSync(victim, 'a'.repeat(64) + '\n', { mode: 0o600 });
  const cases: [string, (p: string) => void, RegExp][] = [
    ['a symbolic link to a valid key', (p) => symlinkSync(victim, p), /it is a symbolic link/],
    [
      'mode 0644',
      (p) => writeFileSync(p, 'a'.repeat(64) + '\n', { mode: 0o644 }),
      /mode 644, not uid \d+ with 0600/,
    ],
    [
      'not hex',
      (p) => writeFileSync(p, 'x'.repeat(64) + '\n', { mode: 0o600 }),
      /not a key of 64 hex digits/,
    ],
    ['empty', (p) => writeFileSync(p, '', { mode: 0o600 }), /not a key/],
    ['a directory', (p) => mkdirSync(p), /not a regular file/],
    ['a fifo', (p) => execFileSync('mkfifo', ['-m', '0600', p]), /not a regular file/],
  ];
  if (process.getuid?.() === 0)
    cases.push([
      "another user's file",
      (p) => (writeFileSync(p, 'a'.repeat(64) + '\n', { mode: 0o600 }), chownSync(p, 65534, 65534)),
      /owned by uid 65534 with mode 600, not uid 0/,
    ]);
  for (const [name, make, re] of cases) {
    const dir = join(base, name.replace(/\W+/g, '-'));
    mkdirSync(dir);
    make(join(dir, KEY_FILE));
    t.throws(() => managerKey(dir), re, name);
    t.throws(() => managerKey(dir), XbError, `${name}: a typed error`);
    t.equal(readdirSync(dir).length, 1, `${name}: nothing added`);
  }
  t.equal(readFileSync(victim, 'utf8'), 'a'.repeat(64) + '\n', 'the linked file is unchanged');
});
