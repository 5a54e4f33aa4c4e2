/**
 * The Python helpers' own unit tests (test/python: argument handling, result files, atomic
 * writes), run with the python3 on PATH so that they are part of `npm test`.
 */
import t from 'tap';
import { spawnSync } from 'node:child_process';
import { fileURLToPath } from 'node:url';

const repo = fileURLToPath(new URL('../..', import.meta.url));

t.test('python3 -m unittest test/python', async (t) => {
  const r = spawnSync('python3', ['-m', 'unittest', 'discover', '-v', '-s', 'test/python'], {
    cwd: repo,
    encoding: 'utf8',
    timeout: 300_000,
    env: { ...process.env, PYTHONDONTWRITEBYTECODE: '1' },
  });
  t.equal(r.status, 0, 'the Python unit tests pass', { output: r.stderr.slice(-4000) });
  t.match(r.stderr, /^Ran (\d+) tests/m, 'they ran');
  const ran = Number(/^Ran (\d+) tests/m.exec(r.stderr)?.[1] ?? 0);
  t.ok(ran >= 9, `${ran} tests`);
});
