import t from 'tap';
import { parseConfig } from '../../src/config/load.js';
import { alertMail, hostMail } from '../../src/report/email.js';
import type { HostRunResult } from '../../src/backup.js';

const conf = parseConfig(
  `[default]
mysql_user = u
mysql_password = p4ss
backup_dir = /b
error_email_recipient = a@example.com, b@example.com
[db1]
hostname = 10.0.0.1
[db2]
error_email_recipient = c@example.com
`,
  'f.conf',
).config!;
const [db1, db2] = conf.hosts;

const OK: HostRunResult = {
  host: 'db1',
  ok: true,
  type: 'incremental',
  id: '20261123T010000Z',
  parent: '20261122T010000Z',
  bytes: 1536,
  seconds: 9.4,
  reason: 'incremental from 20261122T010000Z (full, to_lsn 44554)',
  ready: {
    id: '20261123T010000Z',
    host: 'db1',
    file: '20261123T010000Z.tar.zst',
    contains: ['20261122T010000Z', '20261123T010000Z'],
    to_lsn: 44554,
    bytes: 3 * 1024 * 1024,
    sha256: 'ab',
    compress: 'zstd',
    check: { tool: 'mysqlcheck', tables: 32, ok: true },
    rebuilt_base: false,
    steps: [
      { step: 'extract', seconds: 0.1, backup: '20261123T010000Z' },
      { step: 'verify', seconds: 1.3 },
    ],
    created_at: 'x',
  },
  deleted: [{ kind: 'backup', id: '20261115T010000Z', what: 'full', reason: 'older than 7 day(s)' }],
};

t.test('hostMail: a success', async (t) => {
  const m = hostMail(db1!, OK, 'RUN1', '{"a":1}\n');
  t.same(m.to, ['a@example.com', 'b@example.com']);
  t.equal(m.subject, '[xb-mgr] db1: OK incremental backup 20261123T010000Z');
  t.equal(
    m.text,
    [
      'Host:    db1 (10.0.0.1)',
      'Result:  OK',
      'Run:     RUN1, 9.4 s',
      'Backup:  incremental 20261123T010000Z (parent 20261122T010000Z), 1.5 KiB',
      'Why:     incremental from 20261122T010000Z (full, to_lsn 44554)',
      'Ready:   ready/20261123T010000Z.tar.zst, 3.0 MiB, 32 tables checked OK by mysqlcheck',
      'Steps:   extract 20261123T010000Z 0.1 s, verify 1.3 s',
      'Retention deleted:',
      '  backup full 20261115T010000Z: older than 7 day(s)',
      '',
    ].join('\n'),
  );
  t.same(m.attachments, [{ filename: 'db1-RUN1.log', content: '{"a":1}\n' }]);
});

t.test('hostMail: a failure says FAILURE, the error and the log tail', async (t) => {
  const r: HostRunResult = {
    host: 'db2',
    ok: false,
    type: 'full',
    seconds: 3,
    reason: 'no usable backup yet',
    error: "the backup stream failed (exit code 1): Access denied for user 'u'@'localhost'",
    log_tail: 'line 1\nline 2',
  };
  const m = hostMail(db2!, r, 'RUN2', '');
  t.same(m.to, ['c@example.com'], 'the host section overrides the recipients');
  t.equal(m.subject, '[xb-mgr] db2: FAILURE full backup');
  t.match(m.text, /\nError: the backup stream failed \(exit code 1\): Access denied/);
  t.match(m.text, /\nLog tail:\nline 1\nline 2\n$/);
  t.notMatch(m.text, /p4ss/);
});

t.test('alertMail goes to every recipient once', async (t) => {
  const m = alertMail(conf.hosts, 'inventory x cannot be parsed');
  t.same(m.to, ['a@example.com', 'b@example.com', 'c@example.com']);
  t.equal(m.subject, '[xb-mgr] FAILURE: the run did not start');
  t.match(m.text, /inventory x cannot be parsed/);
});
