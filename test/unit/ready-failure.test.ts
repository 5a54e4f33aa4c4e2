/**
 * Ready-step failures are typed. Before, a failing `cp` of the verify copy or XtraBackup's final
 * prepare escaped as a plain ProcessError: the working directory was not kept and a full disk was
 * not recognised (the backup could be marked unusable for the disk's fault).
 */
import t from 'tap';
import { asReadyFailure, ChecksumMismatch, isNoSpace, ReadyFailure } from '../../src/ready/failure.js';
import { ProcessError } from '../../src/errors.js';
import { full } from './factory.js';

const proc = (stderrTail: string, code = 1) =>
  new ProcessError({ command: 'cp', procExitCode: code, timedOut: false, stderrTail });
const errno = (code: string) => Object.assign(new Error(`${code}: failed`), { code });

t.test('isNoSpace: table', async (t) => {
  const cases: [unknown, boolean][] = [
    [proc("cp: error writing '/b/prepare/verify-x/ibdata1': No space left on device"), true],
    [proc('cp: cannot create regular file: Disk quota exceeded'), true],
    [
      proc('[00] 2026-11-29 10:00:00 InnoDB: Error: Write to file ./ibdata1 failed at offset 0; errno 28'),
      true,
    ],
    [errno('ENOSPC'), true],
    [errno('EDQUOT'), true],
    ['tar: ./x: Cannot write: No space left on device', true],
    [proc('cp: cannot stat: No such file or directory'), false],
    [proc('Permission denied'), false],
    [errno('EACCES'), false],
    [new Error('space is fine'), false],
    [undefined, false],
    [42, false],
  ];
  for (const [e, want] of cases) t.equal(isNoSpace(e), want, e instanceof Error ? e.message : String(e));
});

t.test(
  'asReadyFailure: a process error becomes a typed failure that keeps the working directory',
  async (t) => {
    const m = full('20261129T000000Z', 10);
    const f = asReadyFailure(proc('cp: cannot open: Input/output error'), 'copying the base', 'prepare', {
      workDir: '/b/prepare/verify-x',
      unusable: m,
    });
    t.type(f, ReadyFailure);
    t.equal(f.stage, 'prepare');
    t.equal(f.workDir, '/b/prepare/verify-x', 'kept for inspection');
    t.equal(f.unusable, m);
    t.equal(f.message, 'copying the base failed: cp exited with code 1: cp: cannot open: Input/output error');
    t.match(f.details, /Input\/output error/);

    const space = asReadyFailure(proc('No space left on device'), 'copying the base', 'prepare', {
      workDir: '/w',
      unusable: m,
    });
    t.equal(space.stage, 'space', 'a full disk is the space stage');
    t.equal(space.unusable, undefined, 'and never marks the backup unusable');
    t.equal(space.workDir, undefined);
    t.equal(space.message, 'copying the base failed: the disk is full');

    const same = new ChecksumMismatch('full/x/f', 'a', 'b', m);
    t.equal(asReadyFailure(same, 'x', 'prepare'), same, 'a ReadyFailure passes through');
  },
);
