import t from 'tap';
import { spawnSync } from 'node:child_process';
import { existsSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { delimiter, join } from 'node:path';
import { ansibleEnv, playbookArgv, runPlaybook, type PlaybookRun } from '../../src/ansible/playbook.js';
import { parseEvents } from '../../src/ansible/events.js';
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
      'shell metacharacters are data: no quoting, no splitting',
      { inventory: "/etc/ansible/$(id) 'x'.ini", remoteUser: 'a;b' },
      '/tmp/`id`/vars.yml',
      [
        '-i',
        "/etc/ansible/$(id) 'x'.ini",
        '--limit',
        'db1',
        '-e',
        '@/tmp/`id`/vars.yml',
        '-u',
        'a;b',
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
