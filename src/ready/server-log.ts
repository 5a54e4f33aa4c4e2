/**
 * Pure: what in a temporary mysqld's error log means the verify failed. Only the server's own
 * markers of trouble count: a line that merely contains "crash" (a table named crash_reports,
 * InnoDB's routine "Starting crash recovery") is not a failure.
 */
const PROBLEM = [
  /(^|\s)\[(ERROR|FATAL)\]\s/, // 2026-11-29  9:12:01 0 [ERROR] InnoDB: ...
  /\bAssertion failure\b|\bassertion\b.*\bfailed\b/i,
  /\bgot signal \d+\b/,
  /^This could be because you hit a bug\./,
];

/** The lines of a mysqld error log that mean it failed (empty: it looks healthy). */
export function serverLogProblems(log: string): string[] {
  return log
    .split('\n')
    .map((l) => l.trimEnd())
    .filter((l) => PROBLEM.some((re) => re.test(l)));
}
