import t from 'tap';
import { spawnSync } from 'node:child_process';
import { existsSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { delimiter, join } from 'node:path';
import {
  ansibleEnv,
  playbookArgv,
  playVars,
  runPlaybook,
  type PlaybookRun,
} from '../../src/ansible/playbook.js';
import { UnsafeArgError, checkInventory } from '../../src/ansible/safe-args.js';
import { parseEvents, taskName } from '../../src/ansible/events.js';
import { renderExtraVars } from '../../src/ansible/vars.js';

const base: PlaybookRun = {
  playbook: '/usr/local/xb-mgr/playbooks/backup.yml',
  inventory: '/etc/ansible/hosts',
  limit: ['db1'],
  vars: { ignored: 'vars go to the file, never to argv' },
  timeoutMs: 60_000,
  ansiblePlaybookBin: 'ansible-playbook',
};
const VARS = '/run/xb-mgr/pb-abc123/vars.yml';

t.test('playbookArgv: table', async (t) => {
  const cases: [string, Partial<PlaybookRun>, string, string[]][] = [
    [
      'one host',
      {},
      VARS,
      [
        '-i',
        '/etc/ansible/hosts',
        '--limit',
        'db1',
        '-e',
        '@/run/xb-mgr/pb-abc123/vars.yml',
        '/usr/local/xb-mgr/playbooks/backup.yml',
      ],
    ],
    [
      'several hosts joined with commas, in order',
      { limit: ['db2', 'db1', '10.0.0.5'] },
      VARS,
      [
        '-i',
        '/etc/ansible/hosts',
        '--limit',
        'db2,db1,10.0.0.5',
        '-e',
        '@/run/xb-mgr/pb-abc123/vars.yml',
        '/usr/local/xb-mgr/playbooks/backup.yml',
      ],
    ],
    [
      'a remote user adds -u before the playbook',
      { remoteUser: 'backup' },
      VARS,
      [
        '-i',
        '/etc/ansible/hosts',
        '--limit',
        'db1',
        '-e',
        '@/run/xb-mgr/pb-abc123/vars.yml',
        '-u',
        'backup',
        '/usr/local/xb-mgr/playbooks/backup.yml',
      ],
    ],
    [
      'an empty remote user adds nothing',
      { remoteUser: '' },
      VARS,
      [
        '-i',
        '/etc/ansible/hosts',
        '--limit',
        'db1',
        '-e',
        '@/run/xb-mgr/pb-abc123/vars.yml',
        '/usr/local/xb-mgr/playbooks/backup.yml',
      ],
    ],
    [
      'a comma-list inventory and paths with spaces stay single arguments',
      {
        inventory: 'db1,db2,',
        limit: ['db1', 'db2'],
        playbook: '/opt/my playbooks/setup.yml',
        remoteUser: 'root',
      },
      '/tmp/dir with space/vars.yml',
      [
        '-i',
        'db1,db2,',
        '--limit',
        'db1,db2',
        '-e',
        '@/tmp/dir with space/vars.yml',
        '-u',
        'root',
        '/opt/my playbooks/setup.yml',
      ],
    ],
    [
      'shell metacharacters in paths are data: no quoting, no splitting',
      { inventory: "/etc/ansible/$(id) 'x'.ini", remoteUser: 'svc.backup_1-a' },
      '/tmp/`id`/vars.yml',
      [
        '-i',
        "/etc/ansible/$(id) 'x'.ini",
        '--limit',
        'db1',
        '-e',
        '@/tmp/`id`/vars.yml',
        '-u',
        'svc.backup_1-a',
        '/usr/local/xb-mgr/playbooks/backup.yml',
      ],
    ],
    [
      'IP addresses and inventory names with dots, "_" and "-" pass; an inline host list with ports',
      {
        inventory: '127.0.0.2:2222,[::1]:22,db_3.example.com,',
        limit: ['127.0.0.2', '::1', 'db_3.example.com', 'web-01'],
      },
      VARS,
      [
        '-i',
        '127.0.0.2:2222,[::1]:22,db_3.example.com,',
        '--limit',
        '127.0.0.2,::1,db_3.example.com,web-01',
        '-e',
        '@/run/xb-mgr/pb-abc123/vars.yml',
        '/usr/local/xb-mgr/playbooks/backup.yml',
      ],
    ],
  ];
  for (const [name, over, varsFile, want] of cases) {
    t.strictSame(playbookArgv({ ...base, ...over }, varsFile), want, name);
  }
});

t.test('playbookArgv never puts the vars or the env on the command line', async (t) => {
  const argv = playbookArgv({ ...base, vars: { mysql_password: 's3cret' }, env: { X: 'y' } }, VARS);
  t.notOk(
    argv.some((a) => a.includes('s3cret')),
    'no password in argv',
  );
  t.equal(argv.filter((a) => a === '-e').length, 1, 'one -e, the vars file');
});

// Ansible templates -u (FACTS.md: `-u "{{ lookup('pipe','id') }}"` ran id) and reads --limit as
// patterns (`!x`, `&x`, `~regex`, `*`, `@file`, `a:b`): such values are refused, naming the value.
t.test('playbookArgv: values that are not plain names or paths are refused', async (t) => {
  const cases: [string, Partial<PlaybookRun>, string, RegExp][] = [
    [
      'Jinja in ssh_user',
      { remoteUser: "{{ lookup('pipe','id') }}" },
      VARS,
      /^refused ansible-playbook -u "\{\{ lookup\('pipe','id'\) \}\}": not a user name/,
    ],
    ['a Jinja statement as user', { remoteUser: '{% for x in y %}' }, VARS, /^refused ansible-playbook -u /],
    ['shell syntax as user', { remoteUser: 'a;b' }, VARS, /-u "a;b": not a user name/],
    ['an option as user', { remoteUser: '-oProxyCommand=id' }, VARS, /-u "-oProxyCommand=id"/],
    ['user with a space', { remoteUser: 'a b' }, VARS, /-u "a b"/],
    ['user with an at sign', { remoteUser: 'u@realm' }, VARS, /-u "u@realm"/],
    ['user too long', { remoteUser: 'a'.repeat(33) }, VARS, /-u "a{33}"/],
    ['user with a newline', { remoteUser: 'root\nx' }, VARS, /-u "root\\nx"/],
    [
      'Jinja as host',
      { limit: ["{{ lookup('pipe','id') }}"] },
      VARS,
      /^refused ansible-playbook --limit "\{\{ lookup/,
    ],
    ['negation pattern', { limit: ['!db1'] }, VARS, /--limit "!db1": not an inventory host name/],
    ['intersection pattern', { limit: ['&db1'] }, VARS, /--limit "&db1"/],
    ['a comma inside one name', { limit: ['db1,db2'] }, VARS, /--limit "db1,db2"/],
    ['a colon group list', { limit: ['db1:db2'] }, VARS, /--limit "db1:db2"/],
    ['a regex pattern', { limit: ['~db.*'] }, VARS, /--limit "~db\.\*"/],
    ['a wildcard', { limit: ['db*'] }, VARS, /--limit "db\*"/],
    ['a limit file', { limit: ['@hosts.txt'] }, VARS, /--limit "@hosts\.txt"/],
    ['a subscript', { limit: ['webs[0]'] }, VARS, /--limit "webs\[0\]"/],
    ['an empty name', { limit: ['db1', ''] }, VARS, /--limit "":/],
    ['one bad name among good ones', { limit: ['db1', 'db2;id'] }, VARS, /--limit "db2;id"/],
    [
      'Jinja in the inventory path',
      { inventory: '/etc/{{ x }}/hosts' },
      VARS,
      /^refused ansible-playbook -i "\/etc\/\{\{ x \}\}\/hosts": not a plain path/,
    ],
    ['an inventory path starting with -', { inventory: '--become' }, VARS, /-i "--become"/],
    [
      'a host list with Jinja',
      { inventory: 'db1,{{ x }},' },
      VARS,
      /-i "db1,\{\{ x \}\},": not an inventory path or a comma list/,
    ],
    ['a host list with a pattern', { inventory: 'db1,!db2,' }, VARS, /-i "db1,!db2,"/],
    ['Jinja in the vars file path', {}, '/tmp/{% x %}/vars.yml', /-e "\/tmp\/\{% x %\}\/vars\.yml"/],
    [
      'a Jinja comment in the playbook path',
      { playbook: '/p/{# x #}.yml' },
      VARS,
      /playbook "\/p\/\{# x #\}\.yml"/,
    ],
    [
      'a control character in the playbook path',
      { playbook: '/p/a\x1bb.yml' },
      VARS,
      /playbook "\/p\/a\\u001bb\.yml"/,
    ],
  ];
  for (const [name, over, varsFile, msg] of cases) {
    let err: unknown;
    try {
      playbookArgv({ ...base, ...over }, varsFile);
    } catch (e) {
      err = e;
    }
    t.ok(err instanceof UnsafeArgError, `${name}: an UnsafeArgError`);
    t.match((err as Error)?.message, msg, `${name}: names the value`);
    t.notMatch((err as Error)?.message ?? '', /\n/, `${name}: one line`);
  }
});

t.test('an existing inventory path with a comma is a path, as for Ansible', async (t) => {
  t.equal(
    checkInventory('-i', '/etc/ansible/hosts,old', () => true),
    '/etc/ansible/hosts,old',
  );
  t.throws(() => checkInventory('-i', '/etc/ansible/hosts,old', () => false), UnsafeArgError);
});

t.test('runPlaybook: a refused value is a run that did not happen, nothing is started', async (t) => {
  const dir = mkdtempSync(join(tmpdir(), 'xbpb-refuse-'));
  t.teardown(() => rmSync(dir, { recursive: true, force: true }));
  const fake = join(dir, 'ansible-playbook');
  writeFileSync(fake, `#!/bin/sh\ntouch ${dir}/started\n`, { mode: 0o755 });
  const r = await runPlaybook({ ...base, ansiblePlaybookBin: fake, remoteUser: "{{ lookup('pipe','id') }}" });
  t.equal(r.exitCode, 127);
  t.equal(
    r.stderr,
    `refused ansible-playbook -u "{{ lookup('pipe','id') }}": not a user name (letters, digits, ".", "_", "-", not starting with "-", at most 32 characters)`,
  );
  t.equal(r.hosts.size, 0);
  t.notOk(existsSync(join(dir, 'started')), 'ansible-playbook never ran');
});

// `ansible-playbook --limit ''` applies no limit at all: the playbook runs on every host of the
// inventory (checked with ansible-core 2.14). An empty host list must never get that far.
t.test('an empty limit is refused, not turned into "every host"', async (t) => {
  t.throws(() => playbookArgv({ ...base, limit: [] }, VARS), 'throws');
});

t.test('ansibleEnv: the jsonl callback, pipelining and per-run paths', async (t) => {
  const dir = '/run/xb-mgr/pb-abc123';
  const env = ansibleEnv(dir);
  const want: Record<string, string> = {
    ANSIBLE_STDOUT_CALLBACK: 'ansible.posix.jsonl',
    ANSIBLE_LOAD_CALLBACK_PLUGINS: '1',
    ANSIBLE_PIPELINING: 'true',
    ANSIBLE_NOCOLOR: '1',
    ANSIBLE_FORCE_COLOR: '0',
    ANSIBLE_RETRY_FILES_ENABLED: 'false',
    ANSIBLE_INVENTORY_UNPARSED_FAILED: 'true',
    ANSIBLE_LOCAL_TEMP: '/run/xb-mgr/pb-abc123/ansible-local',
    ANSIBLE_SSH_CONTROL_PATH_DIR: '/run/xb-mgr/pb-abc123/cp',
    ANSIBLE_SSH_CONTROL_PATH: '%(directory)s/%%C',
  };
  for (const [k, v] of Object.entries(want)) t.equal(env[k], v, k);
  t.match(env.ANSIBLE_SSH_ARGS, /(^| )-o ControlMaster=auto( |$)/, 'ssh multiplexing on');
  t.ok(
    Object.values(env).every((v) => typeof v === 'string'),
    'every value is a string',
  );
  t.not(
    ansibleEnv('/a').ANSIBLE_SSH_CONTROL_PATH_DIR,
    ansibleEnv('/b').ANSIBLE_SSH_CONTROL_PATH_DIR,
    'per run',
  );
});

const ansiblePlaybookBin = (process.env.PATH ?? '')
  .split(delimiter)
  .map((d) => join(d, 'ansible-playbook'))
  .find((p) => existsSync(p));

t.test(
  'argv + env + vars + events against a real ansible-playbook on localhost',
  { skip: ansiblePlaybookBin ? false : 'ansible-playbook is not on PATH' },
  async (t) => {
    const dir = mkdtempSync(join(tmpdir(), 'xbpb-'));
    t.teardown(() => rmSync(dir, { recursive: true, force: true }));
    const inventory = join(dir, 'hosts.ini');
    writeFileSync(inventory, 'local1 ansible_connection=local\nother ansible_connection=local\n');
    const playbook = join(dir, 'pb.yml');
    writeFileSync(
      playbook,
      [
        '- hosts: all',
        '  gather_facts: false',
        '  tasks:',
        '    - name: Show the value',
        '      ansible.builtin.debug:',
        '        var: xb_value',
        '    - name: Fail on purpose',
        '      ansible.builtin.command: sh -c "echo out; echo err >&2; exit 7"',
        '',
      ].join('\n'),
    );
    const varsFile = join(dir, 'vars.yml');
    const value = '{{ \'templated\' }} $(id) "q"';
    writeFileSync(varsFile, renderExtraVars({ xb_value: value }), { mode: 0o600 });
    const r = spawnSync(
      ansiblePlaybookBin!,
      playbookArgv({ ...base, playbook, inventory, limit: ['local1'] }, varsFile),
      {
        cwd: dir,
        encoding: 'utf8',
        timeout: 120_000,
        env: { ...process.env, ...ansibleEnv(dir), ANSIBLE_PYTHON_INTERPRETER: 'auto_silent' },
      },
    );
    t.equal(r.status, 2, 'ansible-playbook exits 2 when a host failed', { stderr: r.stderr });
    const o = parseEvents(r.stdout.split('\n'));
    t.strictSame([...o.hosts.keys()], ['local1'], 'only the limited host ran');
    t.strictSame(o.otherLines, [], 'every stdout line is a jsonl event');
    const h = o.hosts.get('local1');
    t.equal(h?.results.get('Show the value')?.xb_value, value, 'the value is literal data');
    t.strictSame(JSON.parse(JSON.stringify(h?.failed ?? null)), {
      task: 'Fail on purpose',
      msg: 'non-zero return code',
      rc: 7,
      stderr: 'err',
      stdout: 'out',
    });
    t.equal(h?.changed, 0, 'changed comes from the stats: a failed task is not counted');
  },
);

t.test('runPlaybook: an ansible_playbook that cannot start is a run that did not happen', async (t) => {
  const r = await runPlaybook({ ...base, ansiblePlaybookBin: '/nonexistent/ansible-playbook' });
  t.equal(r.exitCode, 127);
  t.equal(r.stderr, 'cannot run /nonexistent/ansible-playbook (ENOENT)');
  t.equal(r.hosts.size, 0);
});

t.test(
  'ssh_user with Jinja: the bare ansible-playbook runs it (control), runPlaybook refuses it',
  { skip: ansiblePlaybookBin ? false : 'ansible-playbook is not on PATH' },
  async (t) => {
    const dir = mkdtempSync(join(tmpdir(), 'xbpb-jinja-'));
    t.teardown(() => rmSync(dir, { recursive: true, force: true }));
    const inventory = join(dir, 'hosts.ini');
    writeFileSync(inventory, 'local1 ansible_connection=local\n');
    const playbook = join(dir, 'pb.yml');
    writeFileSync(playbook, '- hosts: all\n  gather_facts: false\n  tasks:\n    - ansible.builtin.ping:\n');
    const canary = join(dir, 'canary');
    const user = `{{ lookup('pipe','touch ${canary}') }}`;
    const r = spawnSync(ansiblePlaybookBin!, ['-i', inventory, '-u', user, playbook], {
      cwd: dir,
      encoding: 'utf8',
      timeout: 120_000,
      env: { ...process.env, ANSIBLE_PYTHON_INTERPRETER: 'auto_silent' },
    });
    t.ok(existsSync(canary), 'control: Ansible templated -u and ran the command', { stderr: r.stderr });
    rmSync(canary);
    const res = await runPlaybook({
      ...base,
      ansiblePlaybookBin: ansiblePlaybookBin!,
      playbook,
      inventory,
      limit: ['local1'],
      remoteUser: user,
    });
    t.equal(res.exitCode, 127, 'did not run');
    t.match(res.stderr, /^refused ansible-playbook -u "\{\{ lookup/);
    t.notOk(existsSync(canary), 'the canary was not created');
  },
);

// The playbooks have no default host pattern: xb-mgr names the hosts in xb_hosts, as in --limit.
t.test('playVars: xb_hosts is the --limit list; a caller value wins', async (t) => {
  const cases: [string, Pick<PlaybookRun, 'limit' | 'vars'>, Record<string, unknown>][] = [
    ['one host', { limit: ['db1'], vars: { xb_out_dir: '/o' } }, { xb_hosts: 'db1', xb_out_dir: '/o' }],
    ['several, in order', { limit: ['db2', '10.0.0.5'], vars: {} }, { xb_hosts: 'db2,10.0.0.5' }],
    ['a caller that sets it', { limit: ['db1'], vars: { xb_hosts: 'db1' } }, { xb_hosts: 'db1' }],
  ];
  for (const [name, r, want] of cases) t.strictSame(playVars(r), want, name);
});

t.test('taskName: the role prefix of a task name goes, the task name stays', async (t) => {
  const cases: [string, string][] = [
    [
      "xb_mgr.backup.backup : Pull the backup stream into the manager's catalog",
      "Pull the backup stream into the manager's catalog",
    ],
    ['xb_mgr.backup.restore : Report the failure', 'Report the failure'],
    ['helper : Install the helper script', 'Install the helper script'],
    ['Check the backup variables', 'Check the backup variables'],
    ['Gathering Facts', 'Gathering Facts'],
    ['a name : with a colon', 'a name : with a colon'],
    ['', ''],
  ];
  for (const [raw, want] of cases) t.equal(taskName(raw), want, raw);
});
