/**
 * Issue 20: the transfer is judged on the transfer task's result, not at ansible-playbook's exit.
 * transferSucceeded (pure, a table of event lines) and runPlaybook's settleOn against a stand-in
 * ansible-playbook that prints the events, then keeps running for a while before it exits.
 */
import t from 'tap';
import { existsSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { PULL_TASK, PUSH_TASK, transferSucceeded } from '../../src/transfer/outcome.js';
import { runPlaybook, type PlaybookRun } from '../../src/ansible/playbook.js';

const ev = (event: string, task: string, hosts: Record<string, unknown>): string =>
  JSON.stringify({ _event: event, task: { name: task }, hosts });
const role = (task: string): string => `xb_mgr.backup.backup : ${task}`;

t.test('transferSucceeded: only the transfer task that ran and succeeded on the host', async (t) => {
  const cases: [string, string, boolean][] = [
    ['pull ok', ev('v2_runner_on_ok', role(PULL_TASK), { db1: { rc: 0 } }), true],
    ['push ok', ev('v2_runner_on_ok', role(PUSH_TASK), { db1: { rc: 0 } }), true],
    ['pull ok, task named without the role', ev('v2_runner_on_ok', PULL_TASK, { db1: {} }), true],
    ['pull failed', ev('v2_runner_on_failed', role(PULL_TASK), { db1: { rc: 1 } }), false],
    ['pull ok on another host', ev('v2_runner_on_ok', role(PULL_TASK), { db2: { rc: 0 } }), false],
    ['push skipped', ev('v2_runner_on_skipped', role(PUSH_TASK), { db1: { skipped: true } }), false],
    ['ok but marked skipped', ev('v2_runner_on_ok', role(PULL_TASK), { db1: { skipped: true } }), false],
    ['another task ok', ev('v2_runner_on_ok', role('Check the backup variables'), { db1: {} }), false],
    ['the task start', ev('v2_playbook_on_task_start', role(PULL_TASK), {}), false],
    ['not JSON', 'v2_runner_on_ok ' + PULL_TASK, false],
    ['JSON, not an object', '"v2_runner_on_ok"', false],
    ['no hosts', JSON.stringify({ _event: 'v2_runner_on_ok', task: { name: PULL_TASK } }), false],
    ['a host result that is not an object', ev('v2_runner_on_ok', role(PULL_TASK), { db1: 'x' }), false],
  ];
  for (const [name, line, want] of cases) t.equal(transferSucceeded(line, 'db1'), want, name);
});

const dir = mkdtempSync(join(tmpdir(), 'xb-settle-'));
t.teardown(() => rmSync(dir, { recursive: true, force: true }));
const fake = join(dir, 'ansible-playbook');
const okLine = ev('v2_runner_on_ok', role(PULL_TASK), { db1: { rc: 0, stdout: '{}' } });
const failLine = ev('v2_runner_on_failed', role(PULL_TASK), { db1: { rc: 3, msg: 'non-zero return code' } });
// The events, then a second before the stats line and the exit (as the end of a play under load).
writeFileSync(
  fake,
  [
    '#!/bin/sh',
    `cat ${dir}/events`,
    'sleep 1',
    `echo '{"_event": "v2_playbook_on_stats", "stats": {"db1": {"changed": 1, "failures": 0}}}'`,
    `touch ${dir}/exited`,
    `exit "$(cat ${dir}/code)"`,
    '',
  ].join('\n'),
  { mode: 0o755 },
);
const base: PlaybookRun = {
  playbook: join(dir, 'backup.yml'),
  inventory: join(dir, 'hosts.ini'),
  limit: ['db1'],
  vars: {},
  timeoutMs: 30_000,
  ansiblePlaybookBin: fake,
  settleOn: (line) => transferSucceeded(line, 'db1'),
};

t.test('settleOn: the result comes on the pull task success, the exit later', async (t) => {
  writeFileSync(join(dir, 'events'), okLine + '\n');
  writeFileSync(join(dir, 'code'), '0');
  rmSync(join(dir, 'exited'), { force: true });
  const t0 = Date.now();
  const r = await runPlaybook(base);
  t.ok(Date.now() - t0 < 900, 'returned before the play ended');
  t.notOk(existsSync(join(dir, 'exited')), 'ansible-playbook is still running');
  t.equal(r.exitCode, 0);
  t.same(r.hosts.get('db1')?.results.get(PULL_TASK), { rc: 0, stdout: '{}' });
  t.ok(r.exited, 'exited is given');
  await r.exited;
  t.ok(existsSync(join(dir, 'exited')), 'exited resolves once the process has ended');
});

t.test('settleOn: a failed pull waits for the exit and its real code', async (t) => {
  writeFileSync(join(dir, 'events'), failLine + '\n');
  writeFileSync(join(dir, 'code'), '2');
  rmSync(join(dir, 'exited'), { force: true });
  const r = await runPlaybook(base);
  t.ok(existsSync(join(dir, 'exited')), 'returned after the exit');
  t.equal(r.exitCode, 2);
  t.equal(r.hosts.get('db1')?.results.get(PULL_TASK)?.rc, 3);
  t.equal(r.hosts.get('db1')?.done, true, 'the stats line was read');
  t.equal(r.exited, undefined);
});
