import t from 'tap';
import { hostRunOutcome, outcomeLine, TIMEOUT_EXIT, type HostRunOutcome } from '../../src/ansible/outcome.js';
import { parseEvents } from '../../src/ansible/events.js';
import type { PlaybookResult } from '../../src/ansible/playbook.js';

const taskStart = (task: string) =>
  JSON.stringify({ _event: 'v2_playbook_on_task_start', hosts: {}, task: { name: task } });
const ok = (host: string, task: string) =>
  JSON.stringify({ _event: 'v2_runner_on_ok', hosts: { [host]: { changed: true } }, task: { name: task } });
const failed = (host: string, task: string, r: Record<string, unknown> = {}) =>
  JSON.stringify({
    _event: 'v2_runner_on_failed',
    hosts: { [host]: { failed: true, msg: 'non-zero return code', rc: 1, ...r } },
    task: { name: task },
  });
const unreachable = (host: string) =>
  JSON.stringify({
    _event: 'v2_runner_on_unreachable',
    hosts: { [host]: { unreachable: true, msg: 'Failed to connect to the host via ssh: refused\n' } },
    task: { name: 'Install' },
  });
const stats = (s: Record<string, { failures?: number; unreachable?: number }>) =>
  JSON.stringify({
    _event: 'v2_playbook_on_stats',
    stats: Object.fromEntries(
      Object.entries(s).map(([h, v]) => [h, { changed: 1, failures: 0, unreachable: 0, ...v }]),
    ),
  });

function result(lines: string[], exitCode: number, stderr = ''): PlaybookResult {
  return { ...parseEvents(lines), exitCode, stderr };
}

type Want = HostRunOutcome['kind'] | { kind: HostRunOutcome['kind']; [k: string]: unknown };

t.test('hostRunOutcome: table', async (t) => {
  const cases: [string, PlaybookResult, string, Want][] = [
    ['exit 0 with stats', result([taskStart('A'), ok('db1', 'A'), stats({ db1: {} })], 0), 'db1', 'ok'],
    ['exit 0 without a stats line: Ansible says all went through', result([ok('db1', 'A')], 0), 'db1', 'ok'],
    [
      'killed at the timeout after some tasks succeeded (issue 12: was ok)',
      result([taskStart('A'), ok('db1', 'A'), taskStart('Probe')], TIMEOUT_EXIT),
      'db1',
      { kind: 'timeout', task: 'Probe' },
    ],
    ['killed before any event', result([], TIMEOUT_EXIT), 'db1', { kind: 'timeout', task: undefined }],
    [
      'killed during a rescue: the failure that started it is kept',
      result(
        [taskStart('Stop'), failed('db1', 'Stop', { msg: 'boom' }), taskStart('Put back')],
        TIMEOUT_EXIT,
      ),
      'db1',
      { kind: 'timeout', task: 'Put back', failed: { task: 'Stop', msg: 'boom' } },
    ],
    [
      'killed after the stats line: the host went through',
      result([ok('db1', 'A'), stats({ db1: {} })], TIMEOUT_EXIT),
      'db1',
      'ok',
    ],
    [
      'a failed task, exit 2',
      result([failed('db1', 'A'), stats({ db1: { failures: 1 } })], 2),
      'db1',
      { kind: 'failed', failure: { task: 'A', rc: 1 } },
    ],
    [
      "another host's failure: this one went through",
      result([ok('db1', 'A'), failed('db2', 'A'), stats({ db1: {}, db2: { failures: 1 } })], 2),
      'db1',
      'ok',
    ],
    [
      'unreachable, exit 4',
      result([unreachable('db1'), stats({ db1: { unreachable: 1 } })], 4),
      'db1',
      { kind: 'unreachable', message: 'Failed to connect to the host via ssh: refused' },
    ],
    [
      'another host unreachable: this one went through',
      result([unreachable('db2'), ok('db1', 'A'), stats({ db1: {}, db2: { unreachable: 1 } })], 4),
      'db1',
      'ok',
    ],
    ['unreachable beats the timeout', result([unreachable('db1')], TIMEOUT_EXIT), 'db1', 'unreachable'],
    [
      'no event for the host: the reason is stderr',
      result([], 1, 'ERROR! Syntax Error while loading YAML.\n  did not find expected key\n'),
      'db1',
      { kind: 'not-run', reason: 'did not find expected key' },
    ],
    [
      'no event, no stderr: a non-JSON line',
      result(['[WARNING]: Could not match supplied host pattern, ignoring: db1'], 0),
      'db1',
      { kind: 'not-run', reason: '[WARNING]: Could not match supplied host pattern, ignoring: db1' },
    ],
    [
      'no event, nothing printed',
      result([], 127),
      'db1',
      { kind: 'not-run', reason: 'ansible-playbook exited with code 127' },
    ],
    [
      'exit 2 part-way with no failed task and no stats',
      result([taskStart('A'), ok('db1', 'A')], 2, 'ERROR! Unexpected Exception\n'),
      'db1',
      {
        kind: 'incomplete',
        exitCode: 2,
        reason: 'ansible-playbook exited with code 2: ERROR! Unexpected Exception',
      },
    ],
    [
      'killed by a signal part-way',
      result([ok('db1', 'A')], -1),
      'db1',
      { kind: 'incomplete', exitCode: -1, reason: 'ansible-playbook exited with code -1' },
    ],
  ];
  for (const [name, r, host, want] of cases) {
    const got = hostRunOutcome(r, host);
    if (typeof want === 'string') t.equal(got.kind, want, name);
    else t.match(got, want, name);
    if (typeof want === 'object' && 'task' in want && want.task === undefined)
      t.notOk('task' in got, `${name}: no task`);
  }
});

t.test('outcomeLine: one line per kind', async (t) => {
  const w = { action: 'setup', onHost: 'setup on db1', host: 'db1', budget: '20 s (10 x timeout_ssh)' };
  const cases: [Exclude<HostRunOutcome, { kind: 'ok' }>, string][] = [
    [
      { kind: 'unreachable', message: 'Failed to connect: refused' },
      'cannot reach db1 over ssh: Failed to connect: refused',
    ],
    [
      { kind: 'timeout', task: 'Probe' },
      'setup on db1 timed out after 20 s (10 x timeout_ssh) in task "Probe"',
    ],
    [{ kind: 'timeout' }, 'setup on db1 timed out after 20 s (10 x timeout_ssh)'],
    [
      {
        kind: 'timeout',
        task: 'Put back',
        failed: { task: 'Stop', msg: 'non-zero return code', stderr: 'a\nno such service' },
      },
      'setup on db1 timed out after 20 s (10 x timeout_ssh) in task "Put back", after task "Stop" had failed: no such service',
    ],
    [
      { kind: 'failed', failure: { task: 'Install', msg: 'Destination not writable' } },
      'setup on db1 failed in task "Install": Destination not writable',
    ],
    [
      {
        kind: 'failed',
        failure: {
          task: 'Settle',
          msg: "The task includes an option with an undefined variable.\n\nThe error appears to be in 'x.yml'",
        },
      },
      'setup on db1 failed in task "Settle": The task includes an option with an undefined variable.',
    ],
    [
      { kind: 'not-run', reason: 'cannot run /x (ENOENT)' },
      'setup playbook did not run on db1: cannot run /x (ENOENT)',
    ],
    [
      { kind: 'incomplete', exitCode: 2, reason: 'ansible-playbook exited with code 2' },
      'setup on db1 did not finish: ansible-playbook exited with code 2',
    ],
  ];
  for (const [o, want] of cases) t.equal(outcomeLine(o, w), want, o.kind);
});
