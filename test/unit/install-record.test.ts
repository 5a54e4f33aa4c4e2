import t from 'tap';
import { mkdirSync, mkdtempSync, readFileSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import {
  dropInstallKey,
  helperSha256,
  readInstallKey,
  REINSTALL_CODES,
  writeInstallKey,
} from '../../src/install-record.js';
import { createHash } from 'node:crypto';

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
