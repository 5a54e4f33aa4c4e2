import t from 'tap';
import { spawnSync } from 'node:child_process';
import { existsSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { delimiter, join } from 'node:path';
import { credentialsFileContent, quoteOptionValue } from '../../src/engine/credentials.js';

const HEADER = '# Written by xb-mgr. Read by the backup tool and the client with --defaults-extra-file.';

t.test('quoteOptionValue: table', async (t) => {
  const cases: [string, string][] = [
    ['plain', '"plain"'],
    ['', '""'],
    ['with space', '"with space"'],
    ['  both ends  ', '"  both ends  "'],
    ['say "hi"', '"say \\"hi\\""'],
    ["it's", '"it\'s"'],
    ['back\\slash', '"back\\\\slash"'],
    ['ends with \\', '"ends with \\\\"'],
    ['\\"', '"\\\\\\""'],
    ['\\n is two characters', '"\\\\n is two characters"'],
    ['#not a comment', '"#not a comment"'],
    ['a;b', '"a;b"'],
    ['$(id) `id` ${HOME}', '"$(id) `id` ${HOME}"'],
    ['pässwörd', '"pässwörd"'],
    ['"', '"\\""'],
  ];
  for (const [v, want] of cases) t.equal(quoteOptionValue(v), want, JSON.stringify(v));
});

type Creds = Parameters<typeof credentialsFileContent>[0];

t.test('credentialsFileContent: table', async (t) => {
  const cases: [string, Creds, string[]][] = [
    [
      'user and password only',
      { mysqlUser: 'backup_man', mysqlPassword: 'some_pass' },
      ['[client]', 'user="backup_man"', 'password="some_pass"'],
    ],
    [
      'socket',
      { mysqlUser: 'u', mysqlPassword: 'p', mysqlSocket: '/run/mysqld/mysqld.sock' },
      ['[client]', 'user="u"', 'password="p"', 'socket="/run/mysqld/mysqld.sock"'],
    ],
    [
      'port only: TCP to 127.0.0.1',
      { mysqlUser: 'u', mysqlPassword: 'p', mysqlPort: 3307 },
      ['[client]', 'user="u"', 'password="p"', 'port=3307', 'host=127.0.0.1'],
    ],
    [
      'socket and port: the socket is used, no host',
      { mysqlUser: 'u', mysqlPassword: 'p', mysqlSocket: '/tmp/my.sock', mysqlPort: 3307 },
      ['[client]', 'user="u"', 'password="p"', 'socket="/tmp/my.sock"', 'port=3307'],
    ],
    [
      'empty socket counts as none',
      { mysqlUser: 'u', mysqlPassword: 'p', mysqlSocket: '' },
      ['[client]', 'user="u"', 'password="p"'],
    ],
    [
      'a nasty password and user are quoted',
      { mysqlUser: 'o"brien', mysqlPassword: ` p'"$(touch /tmp/x)\`id\` ;#x \\ ` },
      ['[client]', 'user="o\\"brien"', 'password=" p\'\\"$(touch /tmp/x)`id` ;#x \\\\ "'],
    ],
  ];
  for (const [name, h, want] of cases) {
    t.equal(credentialsFileContent(h), [HEADER, ...want].join('\n') + '\n', name);
  }
});

/** my_print_defaults prints what the client and the backup tool will read from an option file. */
const printDefaults = (process.env.PATH ?? '')
  .split(delimiter)
  .concat(['/usr/bin', '/usr/local/bin', '/usr/local/mysql/bin'])
  .map((d) => join(d, 'my_print_defaults'))
  .find((p) => existsSync(p));

const PASSWORDS: [string, string][] = [
  ['the works', ` p'"$(touch /tmp/pwned)\`id\` ;#x \\ `],
  ['backslash escapes stay literal', '\\n\\t\\s\\b\\r\\\\\\"'],
  ['ends with a backslash', 'abc\\'],
  ['quoted as a whole in double quotes', '"whole"'],
  ['quoted as a whole in single quotes', "'whole'"],
  ['only a hash', '#'],
  ['starts with #', '#start'],
  ['semicolon comment style', 'a ; b'],
  ['equals signs', 'a=b==c'],
  ['brackets', '[client]'],
  ['unicode', 'pässwörd 日本 🔑'],
  ['tabs inside', 'a\tb'],
  ['only spaces', '   '],
  ['empty', ''],
];

t.test(
  'the client reads back exactly the values written',
  { skip: printDefaults ? false : 'my_print_defaults is not installed' },
  async (t) => {
    const dir = mkdtempSync(join(tmpdir(), 'xbcreds-'));
    t.teardown(() => rmSync(dir, { recursive: true, force: true }));
    const read = (content: string): string[] => {
      const f = join(dir, 'credentials.cnf');
      writeFileSync(f, content, { mode: 0o600 });
      const r = spawnSync(printDefaults!, [`--defaults-extra-file=${f}`, 'client'], {
        encoding: 'utf8',
        timeout: 30_000,
        env: { ...process.env, HOME: dir, MYSQL_HOME: dir },
      });
      if (r.status !== 0) throw new Error(`my_print_defaults exited ${r.status}: ${r.stderr}`);
      t.equal(r.stderr, '', 'no warnings from my_print_defaults');
      return r.stdout.split('\n').slice(0, -1);
    };
    for (const [name, pw] of PASSWORDS) {
      const lines = read(credentialsFileContent({ mysqlUser: 'backup_man', mysqlPassword: pw }));
      const pwLines = lines.filter((l) => l.startsWith('--password='));
      t.equal(pwLines.at(-1), `--password=${pw}`, `${name}: password`);
      t.ok(lines.includes('--user=backup_man'), `${name}: user`);
    }
    const lines = read(
      credentialsFileContent({
        mysqlUser: 'we"ird\\user',
        mysqlPassword: 'p',
        mysqlSocket: '/var/run/my sql/#mysqld.sock',
        mysqlPort: 3307,
      }),
    );
    t.ok(lines.includes('--user=we"ird\\user'), 'user with a quote and a backslash');
    t.ok(lines.includes('--socket=/var/run/my sql/#mysqld.sock'), 'socket with a space and #');
    t.ok(lines.includes('--port=3307'), 'port');
    t.notOk(
      lines.some((l) => l === '--host=127.0.0.1'),
      'no host with a socket',
    );
    const tcp = read(credentialsFileContent({ mysqlUser: 'u', mysqlPassword: 'p', mysqlPort: 3306 }));
    t.ok(tcp.includes('--port=3306') && tcp.includes('--host=127.0.0.1'), 'port only: TCP to 127.0.0.1');
  },
);
