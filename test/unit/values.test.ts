import t from 'tap';
import {
  closest,
  formatSize,
  isSafeHost,
  isSafeName,
  parseEmails,
  parseInt10,
  parsePath,
  parseSize,
  splitCommand,
  type Parsed,
} from '../../src/config/values.js';
import { KEYS } from '../../src/config/keys.js';

const ok = <T>(value: T): Parsed<T> => ({ ok: true, value });
const bad = <T>(error: string): Parsed<T> => ({ ok: false, error });

t.test('splitCommand: table', async (t) => {
  const cases: [string, Parsed<string[]>][] = [
    ['systemctl stop mariadb', ok(['systemctl', 'stop', 'mariadb'])],
    ['  systemctl   stop\tmariadb\n', ok(['systemctl', 'stop', 'mariadb'])],
    ['/usr/bin/env', ok(['/usr/bin/env'])],
    ["sudo -u mysql 'my script' arg", ok(['sudo', '-u', 'mysql', 'my script', 'arg'])],
    ['echo "a b"  c', ok(['echo', 'a b', 'c'])],
    ['echo "say \\"hi\\""', ok(['echo', 'say "hi"'])],
    ['echo "back\\\\slash"', ok(['echo', 'back\\slash'])],
    ['echo "keep \\n and \\$x"', ok(['echo', 'keep \\n and \\$x'])],
    ['echo \'single \\ keeps "all"\'', ok(['echo', 'single \\ keeps "all"'])],
    ['echo a\\ b', ok(['echo', 'a b'])],
    ['echo \\"x\\"', ok(['echo', '"x"'])],
    ['echo \\\\', ok(['echo', '\\'])],
    ['echo trailing\\', ok(['echo', 'trailing\\'])],
    ['a\'b\'c"d"e', ok(['abcde'])],
    ['echo \'\' "" x', ok(['echo', '', '', 'x'])],
    ["''", ok([''])],
    [
      'echo $(id) `id` ${HOME} ; rm -rf / && x | y > z',
      ok(['echo', '$(id)', '`id`', '${HOME}', ';', 'rm', '-rf', '/', '&&', 'x', '|', 'y', '>', 'z']),
    ],
    ['echo *.sql ~ $HOME', ok(['echo', '*.sql', '~', '$HOME'])],
    ["echo 'multi\nline'", ok(['echo', 'multi\nline'])],
    ['', bad('must not be empty')],
    ['   \t ', bad('must not be empty')],
    ["echo 'open", bad("unterminated ' quote")],
    ['echo "open', bad('unterminated " quote')],
    ['echo "a\\"', bad('unterminated " quote')],
  ];
  for (const [v, want] of cases) t.strictSame(splitCommand(v), want, JSON.stringify(v));
});

t.test('isSafeName: table', async (t) => {
  const cases: [string, boolean][] = [
    ['db1', true],
    ['DB-1', true],
    ['db_1.example', true],
    ['1db', true],
    ['a', true],
    ['a'.repeat(128), true],
    ['a'.repeat(129), false],
    ['', false],
    ['.hidden', false],
    ['-db', false],
    ['_db', false],
    ['a..b', false],
    ['a.', true],
    ['a/b', false],
    ['../etc', false],
    ['a b', false],
    ['db1;rm', false],
    ['db$1', false],
    ['dé', false],
    ['db1\n', false],
  ];
  for (const [v, want] of cases) t.equal(isSafeName(v), want, JSON.stringify(v));
});

t.test('isSafeHost: table', async (t) => {
  const cases: [string, boolean][] = [
    ['db1', true],
    ['db1.example.com', true],
    ['DB-1.Example.COM', true],
    ['a', true],
    ['1db', true],
    ['db_1', true],
    ['my_host.example.com', true],
    ['10.0.0.5', true],
    ['0.0.0.0', true],
    ['255.255.255.255', true],
    ['192.168.001.1', true],
    ['::1', true],
    ['2001:db8::5', true],
    ['fe80::1ff:fe23:4567:890a', true],
    ['a'.repeat(63), true],
    [`${'a'.repeat(63)}.${'b'.repeat(63)}.${'c'.repeat(63)}.${'d'.repeat(61)}`, true],
    [`${'a'.repeat(63)}.${'b'.repeat(63)}.${'c'.repeat(63)}.${'d'.repeat(62)}`, false],
    ['', false],
    ['-oProxyCommand=touch /tmp/x', false],
    ['-db', false],
    ['db-', false],
    ['db..example', false],
    ['.db', false],
    ['db.', false],
    ['db 1', false],
    ['db;id', false],
    ['$(id)', false],
    ['`id`', false],
    ['user@db1', false],
    ['db/1', false],
    ['db\n1', false],
    ['fe80::1%eth0', false],
    ['[::1]', false],
    ['dé.example', false],
  ];
  for (const [v, want] of cases) t.equal(isSafeHost(v), want, JSON.stringify(v));
});

// RFC 1123 labels are at most 63 characters, and an IPv6 address is not any run of hex digits and
// colons. Neither lets shell or ssh options through, but both accept what is no host at all; and a
// hostname goes into ansible-playbook --limit, where "db1:22" means the hosts db1 and 22.
t.test('isSafeHost: what is no DNS name and no IP address', async (t) => {
  const cases: [string, string][] = [
    ['a'.repeat(64), 'a DNS label has at most 63 characters'],
    [`db.${'x'.repeat(70)}.com`, 'a DNS label has at most 63 characters'],
    [':', 'not an IPv6 address'],
    ['dead:beef', 'not an IPv6 address'],
    ['db1:22', 'not an IPv6 address (in --limit, ":" joins two patterns)'],
  ];
  for (const [v, why] of cases) t.equal(isSafeHost(v), false, `${JSON.stringify(v)}: ${why}`);
});

t.test('parsePath: table', async (t) => {
  const cases: [string, Parsed<string>][] = [
    ['/backup', ok('/backup')],
    ['/', ok('/')],
    ['/var/lib/mysql/', ok('/var/lib/mysql/')],
    ['/a//b/./c', ok('/a//b/./c')],
    ['/a/b..c/..d/e..', ok('/a/b..c/..d/e..')],
    ['/with space/and$dollar', ok('/with space/and$dollar')],
    ['', bad('must not be empty')],
    ['backup', bad('must be an absolute path')],
    ['./backup', bad('must be an absolute path')],
    ['~/backup', bad('must be an absolute path')],
    [' /backup', bad('must be an absolute path')],
    ['/a/../etc', bad('must not contain ".."')],
    ['/a/..', bad('must not contain ".."')],
    ['/..', bad('must not contain ".."')],
    ['/a\nb', bad('contains a control character')],
    ['/a\rb', bad('contains a control character')],
    ['/a\0b', bad('contains a control character')],
  ];
  for (const [v, want] of cases) t.strictSame(parsePath(v), want, JSON.stringify(v));
});

t.test('parseEmails: table', async (t) => {
  const cases: [string, Parsed<string[]>][] = [
    ['ops@example.com', ok(['ops@example.com'])],
    ['a@b.c, d@e.f', ok(['a@b.c', 'd@e.f'])],
    ['  a@b.c ,d@e.f  ,', ok(['a@b.c', 'd@e.f'])],
    ['first.last+tag@sub.example.co.uk', ok(['first.last+tag@sub.example.co.uk'])],
    ['root@localhost', ok(['root@localhost'])],
    ['', ok([])],
    [' , , ', ok([])],
    ['ops', bad('"ops" is not an email address')],
    ['a@b.c, bad', bad('"bad" is not an email address')],
    ['Ops <ops@example.com>', bad('"Ops <ops@example.com>" is not an email address')],
    ['a@b.c; d@e.f', bad('"a@b.c; d@e.f" is not an email address')],
    ['a b@c.d', bad('"a b@c.d" is not an email address')],
    ['a@@b.c', bad('"a@@b.c" is not an email address')],
    ['@b.c', bad('"@b.c" is not an email address')],
    ['a@', bad('"a@" is not an email address')],
    ['x@y.z, first@bad, second@bad@', bad('"second@bad@" is not an email address')],
  ];
  for (const [v, want] of cases) t.strictSame(parseEmails(v), want, JSON.stringify(v));
});

t.test('closest: table', async (t) => {
  const KEY_NAMES = Object.keys(KEYS);
  const cases: [string, readonly string[], string | undefined][] = [
    ['retain_day', KEY_NAMES, 'retain_days'],
    ['mysql_pasword', KEY_NAMES, 'mysql_password'],
    ['mysql_passwd', KEY_NAMES, 'mysql_password'],
    ['backup_dri', KEY_NAMES, 'backup_dir'],
    ['full_backup_days', KEY_NAMES, 'full_backup_day'],
    ['backup_tool', KEY_NAMES, 'backup_tool'],
    ['something_else_entirely', KEY_NAMES, undefined],
    ['xyz', KEY_NAMES, undefined],
    // Threshold: max(2, floor(length / 3)).
    ['abcdef', ['abcxyz'], undefined],
    ['abcdef', ['abcdyz'], 'abcdyz'],
    ['abcdefghi', ['abcdefxyz'], 'abcdefxyz'],
    ['abcdefghi', ['abcdewxyz'], undefined],
    ['ab', ['xy'], 'xy'],
    ['abc', ['xyz'], undefined],
    // The nearest wins; on a tie the first candidate.
    ['cat', ['dog', 'cart', 'bat'], 'cart'],
    ['cat', ['bat', 'cap'], 'bat'],
    ['cat', ['cap', 'bat'], 'cap'],
    ['Retain_Days', ['retain_days'], 'retain_days'],
    ['anything', [], undefined],
  ];
  for (const [word, candidates, want] of cases) {
    t.equal(closest(word, candidates), want, `${word} in ${candidates.length} candidates`);
  }
});

t.test('parseSize: table', async (t) => {
  const cases: [string, number | string][] = [
    ['10737418240', 10737418240],
    ['10G', 10 * 2 ** 30],
    ['10g', 10 * 2 ** 30],
    ['10GB', 10 * 2 ** 30],
    ['10GiB', 10 * 2 ** 30],
    ['512m', 512 * 2 ** 20],
    [' 1K ', 1024],
    ['2T', 2 * 2 ** 40],
    ['100b', 100],
    ['1', 1],
    ['0', 'must be at least 1 byte'],
    ['10 G', 'must be a size in bytes such as 10G (K, M, G, T are powers of 1024)'],
    ['+5', 'must be a size in bytes such as 10G (K, M, G, T are powers of 1024)'],
    ['0x10', 'must be a size in bytes such as 10G (K, M, G, T are powers of 1024)'],
    ['10GG', 'must be a size in bytes such as 10G (K, M, G, T are powers of 1024)'],
    ['-1', 'must be a size in bytes such as 10G (K, M, G, T are powers of 1024)'],
    ['1.5G', 'must be a size in bytes such as 10G (K, M, G, T are powers of 1024)'],
    ['10X', 'must be a size in bytes such as 10G (K, M, G, T are powers of 1024)'],
    ['10iB', 'must be a size in bytes such as 10G (K, M, G, T are powers of 1024)'],
    ['1e9', 'must be a size in bytes such as 10G (K, M, G, T are powers of 1024)'],
    ['', 'must be a size in bytes such as 10G (K, M, G, T are powers of 1024)'],
    ['999999999999999T', 'is too large'],
    ['{{ 1 }}', 'must be a size in bytes such as 10G (K, M, G, T are powers of 1024)'],
  ];
  for (const [v, want] of cases) {
    const p = parseSize(v);
    t.strictSame(p.ok ? p.value : p.error, want, JSON.stringify(v));
  }
  const ranged: [string, number | string][] = [
    ['64K', 65536],
    ['65535', 'must be at least 64K'],
    ['1024T', 2 ** 50],
    ['1025T', 'must be at most 1024T'],
    ['9999999999999999', 'must be at most 1024T'],
  ];
  for (const [v, want] of ranged) {
    const p = parseSize(v, 64 * 1024, 2 ** 50);
    t.strictSame(p.ok ? p.value : p.error, want, `${v} in 64K-1024T`);
  }
});

t.test('parseInt10 and formatSize: tables', async (t) => {
  const ints: [string, number | undefined, number | undefined, number | string][] = [
    ['7', 0, 3650, 7],
    [' 0 ', 0, 3650, 0],
    ['3650', 0, 3650, 3650],
    ['3651', 0, 3650, 'must be at most 3650'],
    ['99999999999999999999', 0, 3650, 'must be at most 3650'],
    ['99999999999999999999', 0, undefined, 'is too large'],
    ['0', 1, 65535, 'must be at least 1'],
    ['-1', 0, 10, 'must not be negative'],
    ['', 0, 10, 'must be a whole number'],
    ['1.5', 0, 10, 'must be a whole number'],
  ];
  for (const [v, min, max, want] of ints) {
    const p = parseInt10(v, min, max);
    t.strictSame(p.ok ? p.value : p.error, want, `${JSON.stringify(v)} in ${min}-${max}`);
  }
  const sizes: [number, string][] = [
    [1, '1 byte'],
    [100, '100 bytes'],
    [1024, '1K'],
    [1536, '1536 bytes'],
    [64 * 1024, '64K'],
    [32 * 2 ** 20, '32M'],
    [2 ** 50, '1024T'],
  ];
  for (const [n, want] of sizes) t.equal(formatSize(n), want, String(n));
});
