/**
 * The install layout and the cron wrapper as cron runs it (env -i), and the systemd units.
 */
import t from 'tap';
import { existsSync, readdirSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { execa } from 'execa';
import { e2eTempDir, repo, sandboxUp, setKeys, testConfig } from './sandbox.js';

sandboxUp(2);

const root = e2eTempDir('xb-install-');
const prefix = join(root, 'usr/local/xb-mgr');
const bin = join(root, 'usr/local/bin');
const etc = join(root, 'etc/xb-mgr');
const units = join(root, 'etc/systemd/system');
const install = () =>
  execa('bash', [
    join(repo, 'scripts/install'),
    '--prefix',
    prefix,
    '--bin-dir',
    bin,
    '--etc-dir',
    etc,
    '--systemd-dir',
    units,
    '--logrotate-dir',
    join(root, 'etc/logrotate.d'),
  ]);

t.test(
  'install, then the cron wrapper in an empty environment: silent on success, a summary on failure',
  async (t) => {
    await install();
    t.ok(existsSync(join(prefix, 'playbooks/backup.yml')), 'playbooks installed');
    t.ok(existsSync(join(prefix, 'monitoring/rules/xb-mgr.rules.yml')), 'alert rules installed');
    t.ok(existsSync(join(etc, 'backup.conf.example')));
    const v = await execa('env', ['-i', join(bin, 'xb-mgr'), '--version'], { reject: false });
    t.equal(
      v.stdout.trim(),
      JSON.parse(readFileSync(join(repo, 'package.json'), 'utf8')).version,
      'xb-mgr on PATH works',
    );

    // The site's config, as a DBA would write it; an upgrade (install again) leaves it alone.
    const { file, dir } = testConfig();
    const conf = join(etc, 'backup.conf');
    writeFileSync(conf, readFileSync(file, 'utf8'), { mode: 0o600 });
    await install();
    t.equal(
      readFileSync(conf, 'utf8'),
      readFileSync(file, 'utf8'),
      'an upgrade does not overwrite the config',
    );

    const cron = await execa('env', ['-i', join(bin, 'backup_manager'), '--config', conf, '--host', 'sb1'], {
      reject: false,
    });
    t.equal(cron.exitCode, 0, cron.stdout + cron.stderr);
    t.equal(cron.stdout + cron.stderr, '', 'nothing printed: cron stays quiet');
    t.equal(readdirSync(join(dir, 'backups/sb1/full')).length, 1, 'a backup was taken');
    t.ok(existsSync(join(dir, 'sb1.log')), 'the output went to the log file');

    writeFileSync(conf, setKeys(readFileSync(conf, 'utf8'), 'sb2', ['mysql_password = wrong']), {
      mode: 0o600,
    });
    const bad = await execa('env', ['-i', join(bin, 'backup_manager'), '--config', conf], { reject: false });
    t.equal(bad.exitCode, 1, 'the exit code is passed through');
    t.match(bad.stdout, /^xb-mgr run failed \(exit code 1\)/);
    t.match(bad.stdout, /^sb2: FAILED: .*Access denied/m);
    t.match(bad.stdout, /^sb1: OK$/m);
    t.ok(bad.stdout.split('\n').length < 15, 'a short summary');
  },
);

t.test('the systemd units pass systemd-analyze verify', async (t) => {
  if (!existsSync(join(units, 'xb-mgr.service'))) await install();
  const r = await execa(
    'systemd-analyze',
    [
      'verify',
      join(units, 'xb-mgr.service'),
      join(units, 'xb-mgr.timer'),
      join(units, 'xb-mgr-binlog.service'),
    ],
    {
      reject: false,
    },
  );
  t.equal(r.exitCode, 0, r.stderr);
  t.match(readFileSync(join(units, 'xb-mgr.timer'), 'utf8'), /^Persistent=true$/m);
  const binlog = readFileSync(join(units, 'xb-mgr-binlog.service'), 'utf8');
  t.match(binlog, /^Restart=always$/m);
  t.match(binlog, /^ExecStart=\/\S*node \S+\/dist\/cli\.js binlog$/m);
});
