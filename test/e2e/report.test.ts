/**
 * Email reports (a real SMTP server in-process), metrics, retention and pins, on sandbox hosts.
 */
import t from 'tap';
import { existsSync, readdirSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import type { AddressInfo } from 'node:net';
import { SMTPServer } from 'smtp-server';
import { simpleParser, type ParsedMail } from 'mailparser';
import { sandbox, sandboxUp, testConfig, xbMgr } from './sandbox.js';

sandboxUp(2);

interface Received {
  rcpt: string[];
  raw: string;
  mail: ParsedMail;
}

async function smtpServer(): Promise<{
  port: number;
  received: Received[];
  auths: string[];
  close: () => Promise<void>;
}> {
  const received: Received[] = [];
  const auths: string[] = [];
  const server = new SMTPServer({
    authOptional: true,
    allowInsecureAuth: true,
    disabledCommands: ['STARTTLS'],
    logger: false,
    onAuth(auth, _s, cb) {
      auths.push(`${auth.username}:${auth.password}`);
      cb(null, { user: auth.username });
    },
    onData(stream, session, cb) {
      const chunks: Buffer[] = [];
      stream.on('data', (c: Buffer) => chunks.push(c));
      stream.on('end', () => {
        const raw = Buffer.concat(chunks).toString('utf8');
        simpleParser(raw).then((mail) => {
          received.push({ rcpt: session.envelope.rcptTo.map((a) => a.address), raw, mail });
          cb();
        }, cb);
      });
    },
  });
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', () => r()));
  const port = (server.server.address() as AddressInfo).port;
  return { port, received, auths, close: () => new Promise((r) => server.close(() => r())) };
}

const password = sandbox('password');
const SMTP_PASSWORD = 'smtp-s3cret-pass';

t.test(
  'email: one report per host, right recipients, subject, summary and log; no password in it',
  async (t) => {
    const smtp = await smtpServer();
    t.teardown(smtp.close);
    const { file } = testConfig(
      [
        'smtp_host = 127.0.0.1',
        `smtp_port = ${smtp.port}`,
        'smtp_tls = none',
        'smtp_allow_plaintext_auth = true', // the in-process server has no TLS
        'smtp_user = xbmailer',
        `smtp_password = ${SMTP_PASSWORD}`,
        'email_from = backups@example.com',
        'error_email_recipient = dba@example.com, ops@example.com',
      ],
      { sb2: ['mysql_password = wrong-password'] },
    );
    const r = await xbMgr(['--config', file, 'run', '--now', '2026-11-22T01:00:00Z']);
    t.equal(r.exitCode, 1);
    t.equal(smtp.received.length, 2, 'one mail per host');
    t.ok(smtp.auths.length > 0, 'authenticated');
    t.same([...new Set(smtp.auths)], [`xbmailer:${SMTP_PASSWORD}`], 'with the configured user and password');
    const bySubject = (re: RegExp) => smtp.received.find((m) => re.test(m.mail.subject ?? ''));
    const ok = bySubject(/^\[xb-mgr\] sb1: OK full backup 20261122T010000Z$/);
    const bad = bySubject(/^\[xb-mgr\] sb2: FAILURE full backup$/);
    t.ok(ok, 'success subject');
    t.ok(bad, 'failure subject');
    for (const m of [ok, bad]) {
      t.same(m?.rcpt.sort(), ['dba@example.com', 'ops@example.com']);
      t.equal(m?.mail.from?.value[0]?.address, 'backups@example.com');
      t.notOk(m?.raw.includes(password), 'no MySQL password in the mail');
      t.notOk(m?.raw.includes(SMTP_PASSWORD), 'no SMTP password in the mail');
      t.notOk(m?.raw.includes('wrong-password'), 'no wrong password either');
    }
    t.match(ok?.mail.text, /Result: {2}OK/);
    t.match(ok?.mail.text, /Ready: {3}ready\/20261122T010000Z\.tar\.zst, .* tables checked OK/);
    t.match(ok?.mail.text, /Retention deleted: nothing/);
    t.match(bad?.mail.text, /Error: .*Access denied for user 'xbbackup'/);
    t.match(bad?.mail.text, /Log tail:/);
    const att = ok?.mail.attachments[0];
    t.match(att?.filename, /^sb1-\d{8}T\d{6}Z-\d+\.log$/);
    const logLines = att!.content
      .toString('utf8')
      .trim()
      .split('\n')
      .map((l) => JSON.parse(l) as { host: string; run: string; step?: string });
    t.ok(logLines.length > 5, 'the host run log is attached');
    t.ok(
      logLines.every((l) => l.host === 'sb1' && l.run),
      'every line carries host and run id',
    );
    t.ok(
      logLines.some((l) => l.step === 'ready:verify'),
      'with the steps',
    );
  },
);

t.test('email_on = failure mails only failed hosts; an unsendable mail changes nothing', async (t) => {
  const smtp = await smtpServer();
  t.teardown(smtp.close);
  const { file } = testConfig(
    [
      'smtp_host = 127.0.0.1',
      `smtp_port = ${smtp.port}`,
      'smtp_tls = none',
      'email_on = failure',
      'error_email_recipient = dba@example.com',
    ],
    { sb2: ['mysql_password = wrong-password'] },
  );
  await xbMgr(['--config', file, 'run', '--now', '2026-11-22T01:00:00Z']);
  t.same(
    smtp.received.map((m) => m.mail.subject),
    ['[xb-mgr] sb2: FAILURE full backup'],
  );
  // Nobody listens on this port: the backup still succeeds and the failure to mail is logged.
  const closed = testConfig([
    'smtp_host = 127.0.0.1',
    'smtp_port = 9',
    'smtp_tls = none',
    'error_email_recipient = dba@example.com',
  ]);
  const r = await xbMgr(['--config', closed.file, 'run', '--host', 'sb1', '--now', '2026-11-22T01:00:00Z']);
  t.equal(r.exitCode, 0, 'the backup outcome is unchanged');
  t.match(r.stderr, /cannot send the report to dba@example\.com/);
  t.ok(existsSync(join(closed.dir, 'sb1.log')), 'the host log is kept');
});

t.test('a run that fails before any host (unparsable inventory) exits 2 and mails an alert', async (t) => {
  const smtp = await smtpServer();
  t.teardown(smtp.close);
  const { file, dir } = testConfig([
    'smtp_host = 127.0.0.1',
    `smtp_port = ${smtp.port}`,
    'smtp_tls = none',
    'error_email_recipient = dba@example.com',
  ]);
  const inv = join(dir, 'broken.ini');
  writeFileSync(inv, '[dbservers\nsb1 ansible_host=\n');
  const r = await xbMgr(['--config', file, '--inventory', inv, 'run']);
  t.equal(r.exitCode, 2);
  t.match(r.stderr, /broken\.ini cannot be parsed/);
  t.equal(smtp.received.length, 1);
  t.equal(smtp.received[0]?.mail.subject, '[xb-mgr] FAILURE: the run did not start');
  t.match(smtp.received[0]?.mail.text, /broken\.ini cannot be parsed/);
});

t.test('smtp_user with a server that offers no STARTTLS: no AUTH, no mail, the run says why', async (t) => {
  const smtp = await smtpServer();
  t.teardown(smtp.close);
  const { file, dir } = testConfig([
    'smtp_host = 127.0.0.1',
    `smtp_port = ${smtp.port}`,
    'smtp_user = xbmailer',
    `smtp_password = ${SMTP_PASSWORD}`,
    'error_email_recipient = dba@example.com',
  ]);
  // A run that fails before any host (fast): it mails an alert, which must not go out in the clear.
  const inv = join(dir, 'broken.ini');
  writeFileSync(inv, '[dbservers\nsb1 ansible_host=\n');
  const r = await xbMgr(['--config', file, '--inventory', inv, 'run']);
  t.equal(r.exitCode, 2, "the outcome is the run's own");
  t.same(smtp.auths, [], 'no AUTH reached the server');
  t.equal(smtp.received.length, 0, 'no mail was sent');
  t.match(
    r.stderr,
    new RegExp(
      `cannot send the report to dba@example\\.com: STARTTLS with 127\\.0\\.0\\.1:${smtp.port} failed \\(.*\\); smtp_user is set, so no password is sent without TLS`,
    ),
    'stderr says why',
  );
  t.match(
    readFileSync(join(dir, 'backup_manager.log'), 'utf8'),
    /"step":"email".*STARTTLS with 127\.0\.0\.1:\d+ failed/,
    'and so does the log',
  );
  t.notOk(r.stderr.includes(SMTP_PASSWORD), 'without the password');
});

interface HostResult {
  ok: boolean;
  id?: string;
  deleted?: { kind: string; id: string; what: string; reason: string }[];
}

async function runJson(
  file: string,
  ...args: string[]
): Promise<{ code: number; h: HostResult; stderr: string }> {
  const r = await xbMgr(['--config', file, 'run', '--json', '--host', 'sb1', ...args]);
  const h = (JSON.parse(r.stdout) as { hosts: HostResult[] }).hosts[0]!;
  return { code: r.exitCode, h, stderr: r.stderr };
}

t.test(
  'retention: keeps what restores the window, deletes the rest after success only; pins; metrics',
  async (t) => {
    const { file, dir } = testConfig([
      'retain_days = 1',
      'retain_num_ready_backups = 1',
      'metrics_file = METRICS',
    ]);
    const metrics = join(dir, 'xb.prom');
    writeFileSync(
      file,
      readFileSync(file, 'utf8').replace('metrics_file = METRICS', `metrics_file = ${metrics}`),
    );
    const root = join(dir, 'backups/sb1');
    const ids = (kind: string) => (existsSync(join(root, kind)) ? readdirSync(join(root, kind)).sort() : []);
    const F1 = (await runJson(file, '--now', '2026-11-22T01:00:00Z')).h.id!;
    const I1 = (await runJson(file, '--now', '2026-11-22T09:00:00Z')).h.id!;
    const F2 = (await runJson(file, '--full', '--now', '2026-11-23T12:00:00Z')).h.id!;
    t.same(ids('full'), [F1, F2]);
    t.same(ids('incremental'), [I1]);
    t.same(ids('ready'), [`${F2}.json`, `${F2}.tar.zst`], 'one ready file kept');

    // The plan shows what retention would delete, and why.
    const plan = await xbMgr(['--config', file, 'plan', '--host', 'sb1', '--now', '2026-11-24T13:00:00Z']);
    t.match(plan.stdout, new RegExp(`retention would delete backup incremental ${I1}: older than 1 day`));
    t.match(plan.stdout, new RegExp(`retention would delete backup full ${F1}`));

    // A pinned incremental keeps its chain.
    const k = await xbMgr(['--config', file, 'keep', '--host', 'sb1', I1]);
    t.equal(k.exitCode, 0, k.stderr);
    let r = await runJson(file, '--now', '2026-11-24T13:00:00Z');
    t.same(
      r.h.deleted?.filter((d) => d.kind === 'backup'),
      [],
      'nothing deleted while pinned',
    );
    t.same(ids('full'), [F1, F2]);

    // A failed run deletes nothing.
    t.equal((await xbMgr(['--config', file, 'keep', '--host', 'sb1', '--release', I1])).exitCode, 0);
    const broken = readFileSync(file, 'utf8').replace(/\[sb1\]\n/, '[sb1]\nmysql_password = wrong\n');
    const brokenFile = join(dir, 'broken.conf');
    writeFileSync(brokenFile, broken, { mode: 0o600 });
    r = await runJson(brokenFile, '--now', '2026-11-24T14:00:00Z');
    t.equal(r.code, 1);
    t.same(ids('full'), [F1, F2], 'a failed run deleted nothing');

    r = await runJson(file, '--now', '2026-11-24T15:00:00Z');
    t.equal(r.code, 0);
    t.same(
      r.h.deleted?.filter((d) => d.kind === 'backup').map((d) => `${d.what} ${d.id}`),
      [`incremental ${I1}`, `full ${F1}`],
      'the old chain goes, incremental first',
    );
    t.same(ids('full'), [F2]);
    t.same(ids('incremental').length, 2, 'the new chain stays');
    t.same(readdirSync(join(root, 'trash')), [], 'the trash is emptied');
    t.same(ids('ready'), [`${r.h.id}.json`, `${r.h.id}.tar.zst`]);

    // Metrics: Prometheus text format, one family each with HELP and TYPE.
    const text = readFileSync(metrics, 'utf8');
    t.match(text, /^# HELP xb_mgr_last_backup_timestamp_seconds /m);
    t.match(text, /^# TYPE xb_mgr_last_run_success gauge$/m);
    t.match(text, /^xb_mgr_last_run_success\{host="sb1"\} 1$/m);
    t.match(text, /^xb_mgr_chain_length\{host="sb1"\} 3$/m);
    t.match(text, /^xb_mgr_last_ready_timestamp_seconds\{host="sb1"\} \d+$/m);
    for (const line of text.trim().split('\n')) {
      t.match(
        line,
        /^(# (HELP|TYPE) [a-zA-Z_:][a-zA-Z0-9_:]* .+|[a-zA-Z_:][a-zA-Z0-9_:]*\{host="(?:[^"\\\n]|\\.)*"\} -?[0-9.e+]+)$/,
        line,
      );
    }
  },
);
