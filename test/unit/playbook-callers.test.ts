/**
 * setup and `restore --to-host` against a stand-in ansible-playbook named by the `ansible_playbook`
 * key: it records its argv and prints canned jsonl events with a chosen exit code (124 is what
 * runPlaybook reports for a run it killed at its timeout). Checks that the key reaches the runs and
 * that every exit code other than 0 is a failure with one line naming the host.
 */
import t from 'tap';
import { mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { loadContext } from '../../src/context.js';
import { setupHosts } from '../../src/setup.js';
import { restoreToHost } from '../../src/commands/restore.js';
import type { Inventory } from '../../src/inventory.js';

const dir = mkdtempSync(join(tmpdir(), 'xb-fakepb-'));
t.teardown(() => rmSync(dir, { recursive: true, force: true }));
const fake = join(dir, 'fake-ansible-playbook');
writeFileSync(
  fake,
  [
    '#!/bin/sh',
    `printf '%s\\n' "$@" > ${dir}/argv`,
    // Each run's vars file and the credentials file it sends, kept for the assertions.
    'for a in "$@"; do case "$a" in @*) vars="${a#@}";; esac; done',
    `cat "$vars" >> ${dir}/vars.log; echo '#END' >> ${dir}/vars.log`,
    `src=$(sed -n 's/^ *credentials_src: !unsafe "\\(.*\\)"$/\\1/p' "$vars")`,
    `[ -n "$src" ] && cat "$src" >> ${dir}/creds.log`,
    // A run that only cleans up answers with its own canned response when there is one.
    `r=${dir}/; grep -q '^xb_cleanup_only: true' "$vars" && [ -f ${dir}/cleanup/code ] && r=${dir}/cleanup/`,
    'cat "${r}events"',
    'cat "${r}stderr" >&2',
    'exit "$(cat "${r}code")"',
    '',
  ].join('\n'),
  { mode: 0o755 },
);
const inventoryFile = join(dir, 'hosts.ini');
writeFileSync(inventoryFile, 'db1 ansible_host=127.0.0.9\ndb2 ansible_host=127.0.0.10\n');
const backupDir = join(dir, 'backups');
const configFile = join(dir, 'backup.conf');
writeFileSync(
  configFile,
  [
    '[default]',
    'mysql_user = backup_man',
    'mysql_password = p',
    `backup_dir = ${backupDir}`,
    `log = ${dir}/xb.log`,
    `ansible_inventory = ${inventoryFile}`,
    `ansible_playbook = ${fake}`,
    'timeout_ssh = 3',
    'timeout_prepare = 100',
    'timeout_verify = 20',
    '[db1]',
    '',
  ].join('\n'),
  { mode: 0o600 },
);

function respond(
  events: string[],
  code: number,
  stderr = '',
  cleanup?: { events: string[]; code: number },
): void {
  writeFileSync(join(dir, 'events'), events.map((e) => e + '\n').join(''));
  writeFileSync(join(dir, 'stderr'), stderr);
  writeFileSync(join(dir, 'code'), String(code));
  rmSync(join(dir, 'cleanup'), { recursive: true, force: true });
  if (cleanup) {
    mkdirSync(join(dir, 'cleanup'));
    writeFileSync(join(dir, 'cleanup', 'events'), cleanup.events.map((e) => e + '\n').join(''));
    writeFileSync(join(dir, 'cleanup', 'stderr'), '');
    writeFileSync(join(dir, 'cleanup', 'code'), String(cleanup.code));
  }
  for (const f of ['argv', 'vars.log', 'creds.log']) rmSync(join(dir, f), { force: true });
}
/** The vars file of each ansible-playbook run since the last respond(). */
const varsRuns = (): string[] =>
  readFileSync(join(dir, 'vars.log'), 'utf8')
    .split('#END\n')
    .filter((v) => v !== '');
const argv = (): string[] => readFileSync(join(dir, 'argv'), 'utf8').trimEnd().split('\n');

const taskStart = (task: string) =>
  JSON.stringify({ _event: 'v2_playbook_on_task_start', hosts: {}, task: { name: task } });
const ok = (host: string, task: string, result: Record<string, unknown> = {}) =>
  JSON.stringify({
    _event: 'v2_runner_on_ok',
    hosts: { [host]: { changed: false, ...result } },
    task: { name: task },
  });
const failed = (host: string, task: string, msg: string) =>
  JSON.stringify({
    _event: 'v2_runner_on_failed',
    hosts: { [host]: { failed: true, msg } },
    task: { name: task },
  });
const unreachable = (host: string, task: string) =>
  JSON.stringify({
    _event: 'v2_runner_on_unreachable',
    hosts: {
      [host]: { unreachable: true, msg: 'Failed to connect to the host via ssh: Connection refused' },
    },
    task: { name: task },
  });
const stats = (host: string, failures = 0) =>
  JSON.stringify({
    _event: 'v2_playbook_on_stats',
    stats: { [host]: { changed: 1, failures, unreachable: 0 } },
  });

const INSTALL = 'Install the helper script';
const PROBE = "Probe the backup tool, the server and the backup user's privileges";
const PROBE_JSON = JSON.stringify({ helper_version: '1', tools: {}, login: true });

t.test('setup: the ansible_playbook key runs the playbook; every outcome is one line', async (t) => {
  const ctx = loadContext({ config: configFile }, ['db1']);
  const inventory: Inventory = {
    path: inventoryFile,
    hosts: new Map([['db1', { name: 'db1', address: '127.0.0.9', port: 22, sshArgs: [], vars: {} }]]),
  };
  const cases: [
    string,
    string[],
    number,
    string,
    { error?: RegExp; probe?: unknown; unreachable?: boolean },
  ][] = [
    [
      'all tasks ok',
      [
        taskStart(INSTALL),
        ok('db1', INSTALL),
        taskStart(PROBE),
        ok('db1', PROBE, { stdout: PROBE_JSON }),
        stats('db1'),
      ],
      0,
      '',
      { probe: JSON.parse(PROBE_JSON) },
    ],
    [
      'killed at its timeout after the install succeeded',
      [taskStart(INSTALL), ok('db1', INSTALL), taskStart(PROBE)],
      124,
      '',
      { error: /^setup on db1 timed out after 30 s \(10 x timeout_ssh\) in task "Probe the backup tool/ },
    ],
    [
      'a failed task',
      [taskStart(INSTALL), failed('db1', INSTALL, 'Destination not writable'), stats('db1', 1)],
      2,
      '',
      { error: /^setup on db1 failed in task "Install the helper script": Destination not writable$/ },
    ],
    [
      'unreachable',
      [taskStart(INSTALL), unreachable('db1', INSTALL)],
      4,
      '',
      { error: /^cannot reach db1 over ssh: Failed to connect .*refused$/, unreachable: true },
    ],
    [
      'ansible-playbook stopped with no event',
      [],
      1,
      'ERROR! the playbook: nope could not be found\n',
      { error: /^setup playbook did not run on db1: ERROR! the playbook: nope could not be found$/ },
    ],
    [
      'exit code 2 after some tasks, with no failed task',
      [taskStart(INSTALL), ok('db1', INSTALL)],
      2,
      'ERROR! Unexpected Exception\n',
      {
        error:
          /^setup on db1 did not finish: ansible-playbook exited with code 2: ERROR! Unexpected Exception$/,
      },
    ],
    [
      'exit 0 but no probe result',
      [taskStart(INSTALL), ok('db1', INSTALL), stats('db1')],
      0,
      '',
      { error: /^the helper's probe printed nothing on db1/ },
    ],
  ];
  for (const [name, events, code, stderr, want] of cases) {
    respond(events, code, stderr);
    const r = (await setupHosts(ctx, inventory, ctx.hosts, { probe: true })).get('db1');
    t.ok(r, name);
    t.ok(
      argv().includes('--limit') && argv().at(-1)?.endsWith('/setup.yml'),
      `${name}: the fake ran setup.yml`,
    );
    if (want.error) {
      t.match(r?.error, want.error, name);
      t.notOk(r?.error?.includes('\n'), `${name}: one line`);
    } else t.notOk(r?.error, name);
    if (want.probe) t.same(r?.probe, want.probe, name);
    t.equal(r?.unreachable === true, want.unreachable === true, `${name}: unreachable flag`);
  }
});

t.test('restore --to-host: the ansible_playbook key runs restore.yml; exit codes != 0 fail', async (t) => {
  // A ready file for db1 to restore.
  const ready = join(backupDir, 'db1', 'ready');
  mkdirSync(ready, { recursive: true });
  writeFileSync(join(ready, '20261124T031500Z.tar.zst'), 'x');
  writeFileSync(
    join(ready, '20261124T031500Z.json'),
    JSON.stringify({
      id: '20261124T031500Z',
      file: '20261124T031500Z.tar.zst',
      sha256: 'a'.repeat(64),
      compress: 'zstd',
    }),
  );
  const ctx = loadContext({ config: configFile }, ['db1']);
  const STOP = 'Stop the server';
  const cases: [string, string[], number, RegExp | undefined][] = [
    [
      'ok',
      [taskStart(INSTALL), ok('db2', INSTALL), taskStart(STOP), ok('db2', STOP), stats('db2')],
      0,
      undefined,
    ],
    [
      'killed at its timeout',
      [taskStart(INSTALL), ok('db2', INSTALL), taskStart(STOP)],
      124,
      /^restore onto db2 timed out after 120 s \(timeout_prepare \+ timeout_verify\) in task "Stop the server"; its rollback did not run: check the server on db2$/,
    ],
    [
      'a failed task',
      [
        taskStart(STOP),
        failed('db2', 'Report the failure', "restore failed at 'Stop the server': boom"),
        stats('db2', 1),
      ],
      2,
      /^restore onto db2 failed: restore failed at 'Stop the server': boom$/,
    ],
    ['unreachable', [taskStart(INSTALL), unreachable('db2', INSTALL)], 4, /^cannot reach db2 over ssh: /],
    ['no event', [], 1, /^restore playbook did not run on db2: ERROR! oops$/],
    [
      'exit code 2 with no failed task',
      [taskStart(INSTALL), ok('db2', INSTALL)],
      2,
      /^restore onto db2 did not finish: ansible-playbook exited with code 2: ERROR! oops/,
    ],
  ];
  for (const [name, events, code, want] of cases) {
    // db2 has no section: a run stopped before its end is followed by a cleanup run, which works.
    respond(events, code, 'ERROR! oops\n', { events: [stats('db2')], code: 0 });
    let err: unknown;
    let res: Awaited<ReturnType<typeof restoreToHost>> | undefined;
    try {
      res = await restoreToHost(ctx, { toHost: 'db2', force: false });
    } catch (e) {
      err = e;
    }
    const a = argv();
    t.ok(
      a.at(-1)?.endsWith('/restore.yml') && a[a.indexOf('--limit') + 1] === 'db2',
      `${name}: the fake ran`,
    );
    if (want) {
      t.match((err as Error | undefined)?.message, want, name);
      t.notOk((err as Error | undefined)?.message.includes('\n'), `${name}: one line`);
    } else {
      t.equal(err, undefined, name);
      t.equal(res?.started, true, name);
    }
  }
});

t.test(
  'restore --to-host a host without a section: its settings come from [default], its credentials file goes',
  async (t) => {
    const conf = join(dir, 'unconfigured.conf');
    writeFileSync(
      conf,
      [
        '[default]',
        'mysql_user = backup_man',
        'mysql_password = default-pw',
        `backup_dir = ${backupDir}`,
        `log = ${dir}/xb.log`,
        `ansible_inventory = ${inventoryFile}`,
        `ansible_playbook = ${fake}`,
        'remote_credentials_file = /etc/xb-mgr/creds/{host}.cnf',
        'timeout_ssh = 3',
        'timeout_prepare = 100',
        'timeout_verify = 20',
        // The source's own settings, with its name inside its paths: none of it is the target's.
        '[db1]',
        'mysql_password = db1-only-pw',
        'remote_credentials_file = /srv/db1/db1-creds.cnf',
        'remote_backup_cmd = /opt/db1/bin/backup_local',
        'mysql_datadir = /srv/db1/data',
        '',
      ].join('\n'),
      { mode: 0o600 },
    );
    const ctx = loadContext({ config: conf }, ['db1']);
    const STOP = 'Stop the server';
    const okRun = [taskStart(INSTALL), ok('db2', INSTALL), taskStart(STOP), ok('db2', STOP), stats('db2')];

    respond(okRun, 0);
    const res = await restoreToHost(ctx, { toHost: 'db2', force: false });
    t.equal(res.started, true);
    let runs = varsRuns();
    t.equal(runs.length, 1, 'one run');
    const v = runs[0]!;
    t.match(v, /^ {2}db2:\n/m, 'settings for db2');
    t.match(
      v,
      /credentials_file: !unsafe "\/etc\/xb-mgr\/creds\/db2\.cnf"/,
      'the credentials path from [default], {host} = db2',
    );
    t.match(
      v,
      /remote_backup_cmd: !unsafe "\/usr\/local\/xb-mgr\/bin\/backup_local"/,
      "the helper path is the key's default",
    );
    t.notMatch(
      v,
      /\/srv\/db1|\/opt\/db1|db1-creds/,
      "nothing of db1's section (paths, datadir) reaches the target",
    );
    t.notMatch(v, /xb_datadir/, 'no datadir: the server says where its data is');
    t.match(v, /^xb_remove_credentials: true$/m, 'the credentials file is removed at the end');
    t.notMatch(v, /xb_cleanup_only/, 'no cleanup run after a run that finished');
    const creds = readFileSync(join(dir, 'creds.log'), 'utf8');
    t.match(creds, /default-pw/, "the target's credentials are [default]'s");
    t.notMatch(creds, /db1-only-pw/, "never the source section's password");

    // Killed before its always: a short second run removes only the credentials file.
    respond([taskStart(INSTALL), ok('db2', INSTALL), taskStart(STOP)], 124, '', {
      events: [taskStart('Remove the credentials file a stopped restore left'), stats('db2')],
      code: 0,
    });
    let err = await restoreToHost(ctx, { toHost: 'db2', force: false }).catch((e: unknown) => e);
    runs = varsRuns();
    t.equal(runs.length, 2, 'killed: a cleanup run follows');
    t.match(runs[1], /^xb_cleanup_only: true$/m, 'which only cleans up');
    t.match(runs[1], /^xb_remove_credentials: true$/m);
    t.match(
      (err as Error).message,
      /^restore onto db2 timed out after 120 s \(timeout_prepare \+ timeout_verify\) in task "Stop the server"; its rollback did not run: check the server on db2$/,
      'the cleanup worked: the message is the timeout alone',
    );
    t.equal(argv()[argv().indexOf('--limit') + 1], 'db2');

    // The cleanup cannot reach the host either: the message says what may be left.
    respond([taskStart(INSTALL), ok('db2', INSTALL), taskStart(STOP)], 124, '', {
      events: [unreachable('db2', 'Remove the credentials file a stopped restore left')],
      code: 4,
    });
    err = await restoreToHost(ctx, { toHost: 'db2', force: false }).catch((e: unknown) => e);
    t.match(
      (err as Error).message,
      /; the credentials file \/etc\/xb-mgr\/creds\/db2\.cnf may be left on db2$/,
      'a leftover is named',
    );
    t.notOk((err as Error).message.includes('\n'), 'one line');

    // A failure the playbook handled itself (its always removed the file): no second run.
    respond(
      [
        taskStart(STOP),
        failed('db2', 'Report the failure', "restore failed at 'Stop the server': boom"),
        stats('db2', 1),
      ],
      2,
    );
    err = await restoreToHost(ctx, { toHost: 'db2', force: false }).catch((e: unknown) => e);
    t.match((err as Error).message, /^restore onto db2 failed: /);
    t.equal(varsRuns().length, 1, 'a handled failure: no cleanup run');

    // A configured target keeps its credentials file (its backups need it): no removal asked.
    const both = join(dir, 'both.conf');
    writeFileSync(both, readFileSync(conf, 'utf8') + '[db2]\n', { mode: 0o600 });
    respond(okRun, 0);
    await restoreToHost(loadContext({ config: both }, ['db1']), { toHost: 'db2', force: true });
    t.notMatch(varsRuns()[0], /xb_remove_credentials/, 'a configured host keeps its file');
  },
);
