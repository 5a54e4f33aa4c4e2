/**
 * SMTP with a user (src/report/email.ts) against a real in-process server that offers no STARTTLS
 * (as a man in the middle stripping it would): no AUTH reaches the server, the mail is not sent and
 * the one-line error says why. Controls: the same server gets the AUTH when TLS is off on purpose
 * (smtp_tls = none with smtp_allow_plaintext_auth), and a mail without a user still goes (STARTTLS stays opportunistic).
 */
import t from 'tap';
import type { AddressInfo, Socket } from 'node:net';
import { SMTPServer } from 'smtp-server';
import { parseConfig } from '../../src/config/load.js';
import { sendFailure, sendMail, smtpOptions, type Mail } from '../../src/report/email.js';

interface Server {
  port: number;
  auths: string[];
  commands: string[];
  mails: number;
  close: () => Promise<void>;
}

async function noStarttlsServer(): Promise<Server> {
  const s: Server = { port: 0, auths: [], commands: [], mails: 0, close: async () => undefined };
  const server = new SMTPServer({
    authOptional: true,
    allowInsecureAuth: true,
    disabledCommands: ['STARTTLS'],
    logger: false,
    onAuth(auth, _session, cb) {
      s.auths.push(`${auth.method} ${auth.username}`);
      cb(null, { user: auth.username });
    },
    onData(stream, _session, cb) {
      stream.resume();
      stream.on('end', () => {
        s.mails++;
        cb();
      });
    },
  });
  // Every command line the client sends, as it reaches the server's socket.
  server.server.on('connection', (socket: Socket) =>
    socket.on('data', (d: Buffer) =>
      s.commands.push(
        ...d
          .toString('latin1')
          .split('\r\n')
          .filter((l) => l),
      ),
    ),
  );
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', () => r()));
  s.port = (server.server.address() as AddressInfo).port;
  s.close = () => new Promise((r) => server.close(() => r()));
  return s;
}

function config(port: number, extra: string[]) {
  return parseConfig(
    [
      '[default]',
      'mysql_user = u',
      'mysql_password = p',
      'backup_dir = /b',
      'smtp_host = 127.0.0.1',
      `smtp_port = ${port}`,
      ...extra,
      '[db1]',
      '',
    ].join('\n'),
    'f.conf',
  ).config!.global;
}

const mail: Mail = { to: ['dba@example.com'], subject: 's', text: 't\n', attachments: [] };

t.test(
  'smtpOptions: STARTTLS is required exactly when there is a user and smtp_tls = starttls',
  async (t) => {
    const cases: [string, string[], boolean, boolean, boolean][] = [
      // name, keys, requireTLS, ignoreTLS, secure
      ['user, starttls (the default)', ['smtp_user = u', 'smtp_password = p'], true, false, false],
      ['user, starttls', ['smtp_user = u', 'smtp_tls = starttls'], true, false, false],
      ['user, tls from the start', ['smtp_user = u', 'smtp_tls = tls'], false, false, true],
      [
        'user, none (allowed explicitly)',
        ['smtp_user = u', 'smtp_tls = none', 'smtp_allow_plaintext_auth = true'],
        false,
        true,
        false,
      ],
      ['no user, starttls: opportunistic', [], false, false, false],
      ['no user, none', ['smtp_tls = none'], false, true, false],
    ];
    for (const [name, keys, requireTLS, ignoreTLS, secure] of cases) {
      const o = smtpOptions(config(25, keys));
      t.strictSame([o.requireTLS, o.ignoreTLS, o.secure], [requireTLS, ignoreTLS, secure], name);
    }
  },
);

t.test('a server without STARTTLS gets no AUTH from a client with a user; the error says why', async (t) => {
  const s = await noStarttlsServer();
  t.teardown(s.close);
  const g = config(s.port, ['smtp_user = xbmailer', 'smtp_password = s3cret-smtp']);
  const err = await sendMail(g, mail);
  t.equal(
    err,
    `cannot send the report to dba@example.com: STARTTLS with 127.0.0.1:${s.port} failed (Error upgrading connection with STARTTLS: 500 Error: command not recognized); smtp_user is set, so no password is sent without TLS`,
  );
  t.ok(
    s.commands.some((c) => /^EHLO /.test(c)),
    'the server saw the client',
  );
  t.ok(s.commands.includes('STARTTLS'), 'which asked for STARTTLS');
  t.strictSame(s.auths, [], 'no AUTH reached the server');
  t.notOk(
    s.commands.some(
      (c) => /^AUTH\b/i.test(c) || c.includes(Buffer.from('s3cret-smtp').toString('base64').slice(0, 8)),
    ),
    'no AUTH command, no password, on the wire',
  );
  t.equal(s.mails, 0, 'nothing was sent');
});

t.test('controls: the same server gets AUTH with smtp_tls = none; no user sends in the clear', async (t) => {
  const s = await noStarttlsServer();
  t.teardown(s.close);
  t.equal(
    await sendMail(
      config(s.port, [
        'smtp_user = xbmailer',
        'smtp_password = pw',
        'smtp_tls = none',
        'smtp_allow_plaintext_auth = true',
      ]),
      mail,
    ),
    undefined,
  );
  t.strictSame(s.auths, ['PLAIN xbmailer'], 'AUTH is seen when it is sent');
  t.equal(await sendMail(config(s.port, []), mail), undefined, 'without a user STARTTLS is opportunistic');
  t.equal(s.mails, 2);
});

t.test('sendFailure: one line; other errors are passed through', async (t) => {
  const g = config(25, ['smtp_user = u']);
  t.equal(
    sendFailure(
      g,
      ['a@x', 'b@x'],
      Object.assign(new Error('connect ECONNREFUSED\n127.0.0.1:25'), { code: 'ESOCKET' }),
    ),
    'cannot send the report to a@x, b@x: connect ECONNREFUSED 127.0.0.1:25',
  );
  t.match(
    sendFailure(
      g,
      ['a@x'],
      Object.assign(new Error('Error initiating TLS - self-signed certificate'), { code: 'ETLS' }),
    ),
    /STARTTLS with 127\.0\.0\.1:25 failed \(Error initiating TLS - self-signed certificate\); smtp_user is set/,
  );
  t.equal(
    sendFailure(config(25, []), ['a@x'], Object.assign(new Error('boom'), { code: 'ETLS' })),
    'cannot send the report to a@x: boom',
    'no user: no word about a password',
  );
});
