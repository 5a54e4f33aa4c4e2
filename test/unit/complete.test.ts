/** The files every extracted backup has (src/ready/complete.ts): table of layouts and types. */
import { mkdirSync, mkdtempSync, rmSync, symlinkSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import t from 'tap';
import { missingFiles, requiredFiles, systemTablespaceFiles } from '../../src/ready/complete.js';

t.test('requiredFiles: table', async (t) => {
  const cases: [type: 'full' | 'incremental', path: string | undefined, want: string[]][] = [
    ['full', undefined, ['backup-my.cnf', 'xtrabackup_checkpoints', 'ibdata1']],
    ['incremental', undefined, ['backup-my.cnf', 'xtrabackup_checkpoints', 'ibdata1.delta', 'ibdata1.meta']],
    ['full', 'ibdata1:12M:autoextend', ['backup-my.cnf', 'xtrabackup_checkpoints', 'ibdata1']],
    [
      'full',
      'ibdata1:50M;ibdata2:50M:autoextend:max:500M',
      ['backup-my.cnf', 'xtrabackup_checkpoints', 'ibdata1', 'ibdata2'],
    ],
    [
      'incremental',
      'sys1:10M;sys2:10M:autoextend',
      ['backup-my.cnf', 'xtrabackup_checkpoints', 'sys1.delta', 'sys1.meta', 'sys2.delta', 'sys2.meta'],
    ],
  ];
  for (const [type, path, want] of cases) t.strictSame(requiredFiles(type, path), want, `${type} ${path}`);
  t.strictSame(systemTablespaceFiles(''), [], 'an empty path names no file');
});

t.test('missingFiles: regular files only, no link followed', async (t) => {
  const dir = mkdtempSync(join(tmpdir(), 'xb-complete-'));
  t.teardown(() => rmSync(dir, { recursive: true, force: true }));
  writeFileSync(join(dir, 'backup-my.cnf'), '');
  writeFileSync(join(dir, 'real'), '');
  symlinkSync(join(dir, 'real'), join(dir, 'ibdata1'));
  mkdirSync(join(dir, 'xtrabackup_checkpoints'));
  t.strictSame(missingFiles(dir, ['backup-my.cnf', 'xtrabackup_checkpoints', 'ibdata1', 'ibdata2']), [
    'xtrabackup_checkpoints',
    'ibdata1',
    'ibdata2',
  ]);
});
