/**
 * Config values are data (issue 14): a value that reaches Ansible's command line is a strict user
 * name (Ansible templates `-u`: `{{ lookup('pipe','id') }}` ran `id` as root before this); an SMTP
 * password never crosses the network in the clear unless the config says so in words.
 */
import t from 'tap';
import { parseConfig } from '../../src/config/load.js';
import { formatConfigIssue } from '../../src/errors.js';

const base = (defaults: string[], host: string[] = []) =>
  [
    '[default]',
    'mysql_user = u',
    'mysql_password = p',
    'backup_dir = /b',
    ...defaults,
    '',
    '[db1]',
    ...host,
  ].join('\n') + '\n';

const USER_MSG = 'must be a user name (letters, digits, ".", "_", "-"; at most 32)';

t.test('ssh_user: a user name or nothing', async (t) => {
  const cases: [value: string, want: string | undefined | null][] = [
    ['root', 'root'],
    ['backup_man', 'backup_man'],
    ['svc.backup-1', 'svc.backup-1'],
    ['_svc', '_svc'],
    ['', undefined],
    ["{{ lookup('pipe','id') }}", null],
    ['{% raw %}x{% endraw %}', null],
    ['$(id)', null],
    ['`id`', null],
    ['x;id', null],
    ['-oProxyCommand=id', null],
    ['root@host', null],
    ['a b', null],
    ['x'.repeat(33), null],
    ['élodie', null],
  ];
  for (const [v, want] of cases) {
    const r = parseConfig(base([], [`ssh_user = ${v}`]), '/etc/b.conf');
    if (want === null) {
      t.equal(r.issues.length, 1, `${JSON.stringify(v)}: one issue`);
      t.match(formatConfigIssue(r.issues[0]!), `[db1] ssh_user = `, 'names section and key');
      t.equal(r.issues[0]!.message, USER_MSG, JSON.stringify(v));
    } else {
      t.same(r.issues, [], JSON.stringify(v));
      t.equal(r.config?.hosts[0]?.sshUser, want, JSON.stringify(v));
    }
  }
});

t.test('smtp_tls = none with smtp_user is an error unless plaintext auth is allowed in words', async (t) => {
  const cases: [lines: string[], ok: boolean][] = [
    [['smtp_user = me', 'smtp_tls = none'], false],
    [['smtp_user = me', 'smtp_tls = none', 'smtp_allow_plaintext_auth = true'], true],
    [['smtp_user = me', 'smtp_tls = starttls'], true],
    [['smtp_user = me', 'smtp_tls = tls'], true],
    [['smtp_user = me'], true],
    [['smtp_tls = none'], true],
    [['smtp_user = me', 'smtp_tls = none', 'smtp_allow_plaintext_auth = false'], false],
  ];
  for (const [lines, ok] of cases) {
    const r = parseConfig(base(lines), '/etc/b.conf');
    if (ok) t.same(r.issues, [], lines.join(', '));
    else {
      t.equal(r.issues.length, 1, lines.join(', '));
      t.equal(
        formatConfigIssue(r.issues[0]!),
        '/etc/b.conf:1 [default] smtp_tls = "none": would send the SMTP password in the clear (smtp_user is set): use starttls or tls, or set smtp_allow_plaintext_auth = true',
      );
    }
  }
});
