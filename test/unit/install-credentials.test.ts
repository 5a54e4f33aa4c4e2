/**
 * The helper role's tasks/install.yml never leaves the MySQL credentials file readable by other users of
 * the DB host, not even for a moment. ansible-playbook runs the tasks on localhost under strace
 * (umask 022, as on a default system); the trace is replayed: from the rename that brings the
 * secret into place on, every mode the file has must be private. Control: the same tasks without
 * the step that creates the file 0600 first (the copy module alone) are caught by the replay.
 */
import t from 'tap';
import { spawnSync } from 'node:child_process';
import {
  chmodSync,
  copyFileSync,
  existsSync,
  mkdirSync,
  mkdtempSync,
  readFileSync,
  rmSync,
  statSync,
  writeFileSync,
} from 'node:fs';
import { tmpdir } from 'node:os';
import { delimiter, join } from 'node:path';
import { fileURLToPath } from 'node:url';

const repo = fileURLToPath(new URL('../..', import.meta.url));
const helperRole = join(repo, 'playbooks/collections/ansible_collections/xb_mgr/backup/roles/helper');
const onPath = (b: string) =>
  (process.env.PATH ?? '')
    .split(delimiter)
    .map((d) => join(d, b))
    .find((p) => existsSync(p));
const ansiblePlaybook = onPath('ansible-playbook');
const strace = onPath('strace');
const UMASK = 0o022;

/**
 * Pure: replay an strace -f log of chmod/fchmodat/openat/rename and list every moment `file` held
 * the secret (it arrives by a rename onto it) with group or other permission bits.
 */
function exposures(trace: string, file: string, umask: number): string[] {
  // Join "<unfinished ...>" calls with their "<... resumed>" ends, per PID.
  const pending = new Map<string, string>();
  const calls: string[] = [];
  for (const line of trace.split('\n')) {
    const m = /^(\d+)\s+(.*)$/.exec(line);
    if (!m) continue;
    const [, pid, rest] = m as unknown as [string, string, string];
    if (rest.endsWith('<unfinished ...>')) {
      pending.set(pid, rest.slice(0, -'<unfinished ...>'.length).trimEnd());
      continue;
    }
    const resumed = /^<\.\.\. \w+ resumed>(.*)$/.exec(rest);
    if (resumed) {
      calls.push((pending.get(pid) ?? '') + resumed[1]);
      pending.delete(pid);
      continue;
    }
    calls.push(rest);
  }
  const mode = new Map<string, number>();
  const bad: string[] = [];
  let secret = false;
  const set = (p: string, m: number, call: string) => {
    mode.set(p, m);
    if (p === file && secret && (m & 0o077) !== 0) bad.push(`${m.toString(8)} after: ${call}`);
  };
  for (const c of calls) {
    if (!/= 0$|= \d+$/.test(c)) continue; // failed calls change nothing
    let m: RegExpExecArray | null;
    if ((m = /^(?:chmod\(|fchmodat\(AT_FDCWD, )"([^"]+)", (0\d+)/.exec(c))) set(m[1]!, parseInt(m[2]!, 8), c);
    else if ((m = /^openat\(AT_FDCWD, "([^"]+)", [^,]*O_CREAT[^,]*, (0\d+)\)/.exec(c))) {
      if (!mode.has(m[1]!)) set(m[1]!, parseInt(m[2]!, 8) & ~umask, c);
    } else if ((m = /^rename(?:at2?)?\((?:AT_FDCWD, )?"([^"]+)", (?:AT_FDCWD, )?"([^"]+)"/.exec(c))) {
      const [, from, to] = m as unknown as [string, string, string];
      if (to === file) secret = true;
      set(to, mode.get(from) ?? 0o666 & ~umask, c);
      mode.delete(from);
    }
  }
  if (!secret) bad.push('the secret never arrived by a rename: the trace does not show the install');
  return bad;
}

t.test('exposures: the replay of a trace', async (t) => {
  const F = '/etc/x/cred.cnf';
  const S = '/root/.ansible/tmp/a/source';
  const trace = (...l: string[]) => l.map((x) => `100 ${x}`).join('\n');
  t.strictSame(
    exposures(
      trace(
        `openat(AT_FDCWD, "${F}", O_WRONLY|O_CREAT|O_TRUNC|O_CLOEXEC, 0666) = 3`,
        `chmod("${F}", 0600) = 0`,
        `openat(AT_FDCWD, "${S}", O_WRONLY|O_CREAT|O_TRUNC|O_CLOEXEC, 0666) = 12`,
        `fchmodat(AT_FDCWD, "${S}", 0744) = 0`,
        `chmod("${S}", 0600) = 0`,
        `rename("${S}", "${F}") = 0`,
      ),
      F,
      UMASK,
    ),
    [],
    'empty file 0644 first, the secret arrives 0600: fine',
  );
  t.strictSame(
    exposures(
      trace(
        `openat(AT_FDCWD, "${S}", O_WRONLY|O_CREAT|O_TRUNC|O_CLOEXEC, 0666) = 12`,
        `fchmodat(AT_FDCWD, "${S}", 0744) = 0`,
        `rename("${S}", "${F}") = 0`,
        `chmod("${F}", 0644) = 0`,
        `chmod("${F}", 0600) = 0`,
      ),
      F,
      UMASK,
    ).length,
    2,
    'the copy module alone: 0744 at the rename, then 0644',
  );
  t.strictSame(
    exposures(
      '100 rename("/a", "/etc/x/cred.cnf" <unfinished ...>\n200 chmod("/b", 0600) = 0\n100 <... rename resumed>) = 0',
      F,
      UMASK,
    ),
    ['644 after: rename("/a", "/etc/x/cred.cnf") = 0'],
    'unfinished calls are joined; an unknown file is taken as created with the umask',
  );
  t.match(exposures('', F, UMASK), [/never arrived/], 'a trace without the install is no proof');
});

t.test(
  'install.yml: the credentials file is never readable by others, first install or not',
  { skip: ansiblePlaybook && strace ? false : 'needs ansible-playbook and strace' },
  async (t) => {
    const dir = mkdtempSync(join(tmpdir(), 'xb-install-cred-'));
    t.teardown(() => rmSync(dir, { recursive: true, force: true }));
    mkdirSync(join(dir, 'files'));
    copyFileSync(join(helperRole, 'files', 'backup_local'), join(dir, 'files', 'backup_local'));
    writeFileSync(
      join(dir, 'hosts'),
      'local1 ansible_connection=local ansible_python_interpreter=/usr/bin/python3\n',
    );
    const tasks = readFileSync(join(helperRole, 'tasks', 'install.yml'), 'utf8');
    // The control: install.yml without the step under test (the copy module on its own).
    const step = /^- name: Create the credentials file empty and private[^]*?\n\n/m;
    t.match(tasks, step, 'install.yml has the step');
    writeFileSync(join(dir, 'control.yml'), tasks.replace(step, ''));
    const pb = (tasksFile: string) => {
      const p = join(dir, `pb-${tasksFile.split('/').pop()}`);
      writeFileSync(
        p,
        `- hosts: all\n  gather_facts: false\n  tasks:\n    - ansible.builtin.import_tasks: ${tasksFile}\n`,
      );
      return p;
    };
    const shared = join(dir, 'shared'); // an existing directory, 0755, as /etc/mysql would be
    mkdirSync(shared);
    chmodSync(shared, 0o755);
    const cred = join(shared, 'credentials.cnf');
    const src = join(dir, 'src.cnf');
    const install = (playbook: string, secret: string) => {
      writeFileSync(src, `[client]\npassword=${secret}\n`, { mode: 0o600 });
      const log = join(dir, 'trace');
      const old = process.umask(UMASK);
      try {
        const r = spawnSync(
          strace!,
          [
            '-f',
            '-qq',
            '-e',
            'trace=chmod,fchmodat,openat,rename,renameat,renameat2',
            '-o',
            log,
            ansiblePlaybook!,
            '-i',
            join(dir, 'hosts'),
            playbook,
            '-e',
            `xb_cmd=${join(dir, 'bin', 'backup_local')}`,
            '-e',
            `xb_cred_file=${cred}`,
            '-e',
            `xb_cred_src=${src}`,
            '-e',
            'xb_probe_tool=mariabackup',
          ],
          {
            cwd: dir,
            encoding: 'utf8',
            timeout: 180_000,
            env: {
              ...process.env,
              ANSIBLE_LOCAL_TEMP: join(dir, 'local-tmp'),
              ANSIBLE_REMOTE_TMP: join(dir, 'remote-tmp'),
              ANSIBLE_NOCOLOR: '1',
            },
          },
        );
        t.equal(r.status, 0, 'the install ran', {
          stdout: r.stdout.slice(-2000),
          stderr: r.stderr.slice(-2000),
        });
      } finally {
        process.umask(old);
      }
      t.equal(readFileSync(cred, 'utf8'), `[client]\npassword=${secret}\n`, 'the file holds the secret');
      t.equal(statSync(cred).mode & 0o777, 0o600, 'and ends 0600');
      return exposures(readFileSync(log, 'utf8'), cred, UMASK);
    };
    t.strictSame(
      install(pb(join(helperRole, 'tasks', 'install.yml')), 'first'),
      [],
      'first install: private',
    );
    chmodSync(cred, 0o644); // changed behind our back
    t.strictSame(install(pb(join(helperRole, 'tasks', 'install.yml')), 'second'), [], 'a 0644 file replaced');
    rmSync(cred);
    const control = install(pb(join(dir, 'control.yml')), 'control');
    t.ok(control.length > 0, 'control: the copy module alone exposes a new file', { exposures: control });
  },
);
