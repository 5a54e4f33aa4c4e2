/**
 * What in the verify mysqld's error log fails a verify. Before this, any line matching /crash/i
 * failed it: InnoDB's routine "Starting crash recovery" or a table named crash_reports.
 */
import t from 'tap';
import { serverLogProblems } from '../../src/ready/server-log.js';

t.test('serverLogProblems: table', async (t) => {
  const cases: [line: string, problem: boolean][] = [
    ['2026-11-29  9:12:01 0 [Note] InnoDB: Starting crash recovery from checkpoint LSN=47000', false],
    [
      "2026-11-29  9:12:01 0 [Warning] 'crash_reports' table is marked as crashed and last repair was ok",
      false,
    ],
    ['2026-11-29  9:12:01 0 [Note] mariadbd: ready for connections.', false],
    ['2026-11-29  9:12:01 0 [Note] InnoDB: Buffer pool(s) load completed (crash-safe)', false],
    [
      '2026-11-29  9:12:01 0 [ERROR] InnoDB: Page [page id: space=5, page number=3] log sequence number is in the future',
      true,
    ],
    ['2026-11-29 19:12:01 0 [ERROR] mariadbd: Table ./db/t is marked as crashed', true],
    ['[ERROR] Aborting', true],
    ['2026-11-29  9:12:01 0 [FATAL] InnoDB: fatal', true],
    ['InnoDB: Assertion failure in file ./storage/innobase/x.cc line 12', true],
    ['231129  9:12:01 [ERROR] mysqld got signal 6 ;', true],
    ['This could be because you hit a bug. It is also possible that this binary', true],
    ['', false],
  ];
  for (const [line, problem] of cases)
    t.equal(serverLogProblems(line).length > 0, problem, `${problem ? 'problem' : 'fine'}: ${line}`);
  t.strictSame(serverLogProblems('a [Note] x\nb [ERROR] y\nc [Note] z\n'), ['b [ERROR] y']);
});
