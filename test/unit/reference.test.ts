import t from 'tap';
import { readFileSync } from 'node:fs';
import { parse } from 'yaml';
import { configReference, playbookDefaults, PLAYBOOK_KEYS } from '../../src/config/reference.js';
import { parseConfig } from '../../src/config/load.js';
import { KINDS, key } from '../../src/config/keys.js';

t.test('the README configuration reference is the one generated from the key table', async (t) => {
  const readme = readFileSync(new URL('../../README.md', import.meta.url), 'utf8');
  const m = /<!-- config-reference:start -->\n([\s\S]*?)\n<!-- config-reference:end -->/.exec(readme);
  t.ok(m, 'README has the config-reference markers');
  t.equal(m?.[1], configReference(), 'run: node scripts/config-reference.mjs --write');
});

t.test('the helper role config.yml is the one generated from the key table', async (t) => {
  const committed = readFileSync(
    new URL(
      '../../playbooks/collections/ansible_collections/xb_mgr/backup/roles/helper/defaults/main/config.yml',
      import.meta.url,
    ),
    'utf8',
  );
  t.equal(committed, playbookDefaults(), 'run: node scripts/config-reference.mjs --write');
});

t.test('the playbook defaults are the values a config without those keys gets', async (t) => {
  const vars: Record<string, unknown> = parse(playbookDefaults());
  const { config } = parseConfig(
    '[default]\nmysql_user = u\nmysql_password = p\nbackup_dir = /b\n[h]\n',
    'f.conf',
  );
  const h = config!.hosts[0]!;
  t.same(
    Object.keys(vars),
    PLAYBOOK_KEYS.map((k) => `xb_default_${k}`),
  );
  t.same(vars, {
    xb_default_remote_backup_cmd: h.remoteBackupCmd,
    xb_default_remote_credentials_file: '/etc/xb-mgr/credentials-{host}.cnf',
    xb_default_backup_tool: h.backupTool,
    xb_default_transfer: h.transfer,
    xb_default_compress: h.compress,
    xb_default_compress_level: h.compressLevel,
    xb_default_parallel: h.parallel,
    xb_default_remote_nice: h.remoteNice,
    xb_default_remote_ionice: h.remoteIonice,
    xb_default_timeout_ssh: h.timeouts.ssh,
  });
  t.equal(h.remoteCredentialsFile, '/etc/xb-mgr/credentials-h.cnf', '{host} is the host name');
});

t.test('a derived default, a range and the meaning of empty are shown as such', async (t) => {
  const table = configReference({
    retain_days: key(KINDS.int(0, 3650), { scope: 'host', default: '7', doc: 'Local.' }),
    offsite_retain_days: key(KINDS.int(0, 3650), {
      scope: 'host',
      defaultFrom: 'retain_days',
      doc: 'Off-site.',
    }),
    offsite_url: key(KINDS.textOrNone, { scope: 'global', doc: 'Where.' }),
    part: key(KINDS.bytes(5 * 2 ** 20, 2 ** 30), { scope: 'host', default: '16M', doc: 'Parts.' }),
  });
  t.equal(
    table.split('\n').slice(2).join('\n'),
    [
      '| `retain_days` | int 0-3650 | `7` | any |  | Local. |',
      '| `offsite_retain_days` | int 0-3650 | same as `retain_days` | any |  | Off-site. |',
      '| `offsite_url` | string |  | [default] |  | Where. Empty or unset: none. |',
      '| `part` | size 5M-1G | `16M` | any |  | Parts. |',
    ].join('\n'),
  );
});
