import t from 'tap';
import { existsSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { delimiter, join } from 'node:path';
import {
  inventoryArgs,
  inventoryPath,
  loadInventory,
  parseInventoryList,
  type Inventory,
  type InventoryHost,
} from '../../src/inventory.js';
import { InventoryError } from '../../src/errors.js';

/** Shaped like `ansible-inventory -i hosts.ini --list` (ansible-core 2.14) for a real ini file. */
const LIST = {
  _meta: {
    hostvars: {
      '192.168.1.20': {
        ansible_ssh_private_key_file: '/keys/id_db',
        ansible_user: 'dbadmin',
      },
      db1: {
        ansible_host: '10.0.0.5',
        ansible_port: 2222,
        ansible_ssh_private_key_file: '/keys/id_db',
        ansible_user: 'dbadmin',
      },
      db2: {
        ansible_ssh_common_args: "-o 'ProxyCommand=ssh -W %h:%p -q jump@bastion' -o StrictHostKeyChecking=no",
        ansible_ssh_extra_args: '-o "ServerAliveInterval 30"',
        ansible_ssh_private_key_file: '/keys/id_db',
        ansible_user: 'backup',
        mysql_socket: '/run/mysqld/mysqld.sock',
      },
    },
  },
  all: { children: ['ungrouped', 'web', 'prod'] },
  db: { hosts: ['db1', 'db2', '192.168.1.20'] },
  prod: { children: ['db'] },
  web: { hosts: ['web1'] },
};

type Want = Omit<InventoryHost, 'vars'> & { vars?: Record<string, unknown> };

/** The hosts of an inventory as a plain object (undefined fields dropped), in Map order. */
function plain(inv: Inventory): Record<string, unknown> {
  return JSON.parse(JSON.stringify(Object.fromEntries(inv.hosts))) as Record<string, unknown>;
}

t.test('parseInventoryList on a full --list output', async (t) => {
  const inv = parseInventoryList(JSON.stringify(LIST), '/etc/ansible/hosts');
  t.equal(inv.path, '/etc/ansible/hosts');
  t.strictSame(
    [...inv.hosts.keys()],
    ['192.168.1.20', 'db1', 'db2', 'web1'],
    'hostvars first, then group-only hosts',
  );
  const want: Record<string, Want> = {
    '192.168.1.20': {
      name: '192.168.1.20',
      address: '192.168.1.20',
      port: 22,
      user: 'dbadmin',
      privateKeyFile: '/keys/id_db',
      sshArgs: [],
      vars: LIST._meta.hostvars['192.168.1.20'],
    },
    db1: {
      name: 'db1',
      address: '10.0.0.5',
      port: 2222,
      user: 'dbadmin',
      privateKeyFile: '/keys/id_db',
      sshArgs: [],
      vars: LIST._meta.hostvars.db1,
    },
    db2: {
      name: 'db2',
      address: 'db2',
      port: 22,
      user: 'backup',
      privateKeyFile: '/keys/id_db',
      sshArgs: [
        '-o',
        'ProxyCommand=ssh -W %h:%p -q jump@bastion',
        '-o',
        'StrictHostKeyChecking=no',
        '-o',
        'ServerAliveInterval 30',
      ],
      vars: LIST._meta.hostvars.db2,
    },
    web1: { name: 'web1', address: 'web1', port: 22, sshArgs: [], vars: {} },
  };
  t.strictSame(plain(inv), want);
});

t.test('parseInventoryList: connection variables, one host at a time', async (t) => {
  const cases: [string, Record<string, unknown>, Partial<Want>][] = [
    ['no vars', {}, { address: 'h', port: 22, sshArgs: [] }],
    ['ansible_host', { ansible_host: 'db.example.com' }, { address: 'db.example.com' }],
    [
      'ansible_host wins over ansible_ssh_host',
      { ansible_host: 'a', ansible_ssh_host: 'b' },
      { address: 'a' },
    ],
    ['legacy ansible_ssh_host', { ansible_ssh_host: '10.1.1.1' }, { address: '10.1.1.1' }],
    ['IPv6 ansible_host', { ansible_host: '2001:db8::5' }, { address: '2001:db8::5' }],
    ['port as a number', { ansible_port: 2200 }, { port: 2200 }],
    ['port as a string', { ansible_port: '2201' }, { port: 2201 }],
    ['legacy ansible_ssh_port', { ansible_ssh_port: 2202 }, { port: 2202 }],
    [
      'ansible_port wins over ansible_ssh_port',
      { ansible_port: 2203, ansible_ssh_port: 2204 },
      { port: 2203 },
    ],
    ['a port that is not a number -> 22', { ansible_port: 'ssh' }, { port: 22 }],
    ['port 0 -> 22', { ansible_port: 0 }, { port: 22 }],
    ['negative port -> 22', { ansible_port: -5 }, { port: 22 }],
    ['fractional port -> 22', { ansible_port: 22.5 }, { port: 22 }],
    ['a templated port (a string) -> 22', { ansible_port: '{{ p }}' }, { port: 22 }],
    ['ansible_user', { ansible_user: 'root' }, { user: 'root' }],
    ['legacy ansible_ssh_user', { ansible_ssh_user: 'admin' }, { user: 'admin' }],
    ['ansible_user wins over ansible_ssh_user', { ansible_user: 'a', ansible_ssh_user: 'b' }, { user: 'a' }],
    ['a user that is not a string is ignored', { ansible_user: ['x'] }, { user: undefined }],
    ['ansible_ssh_private_key_file', { ansible_ssh_private_key_file: '/k/a' }, { privateKeyFile: '/k/a' }],
    ['ansible_private_key_file', { ansible_private_key_file: '/k/b' }, { privateKeyFile: '/k/b' }],
    [
      'ansible_ssh_private_key_file wins',
      { ansible_ssh_private_key_file: '/k/a', ansible_private_key_file: '/k/b' },
      { privateKeyFile: '/k/a' },
    ],
    [
      'common args split on whitespace',
      { ansible_ssh_common_args: '  -o   StrictHostKeyChecking=no\t-4 ' },
      { sshArgs: ['-o', 'StrictHostKeyChecking=no', '-4'] },
    ],
    [
      'single-quoted word',
      { ansible_ssh_common_args: "-o 'ProxyCommand=ssh -W %h:%p bastion'" },
      { sshArgs: ['-o', 'ProxyCommand=ssh -W %h:%p bastion'] },
    ],
    [
      'double-quoted word',
      { ansible_ssh_common_args: '-o "IdentityAgent none"' },
      { sshArgs: ['-o', 'IdentityAgent none'] },
    ],
    ['empty quotes are an empty argument', { ansible_ssh_common_args: "-o ''" }, { sshArgs: ['-o', ''] }],
    [
      'extra args come after common args',
      { ansible_ssh_extra_args: '-C', ansible_ssh_common_args: '-4' },
      { sshArgs: ['-4', '-C'] },
    ],
    [
      'empty args add nothing',
      { ansible_ssh_common_args: '', ansible_ssh_extra_args: '   ' },
      { sshArgs: [] },
    ],
  ];
  for (const [name, vars, want] of cases) {
    const inv = parseInventoryList(JSON.stringify({ _meta: { hostvars: { h: vars } } }), 'inv');
    const h = inv.hosts.get('h');
    const got = Object.fromEntries(Object.keys(want).map((k) => [k, h?.[k as keyof InventoryHost]]));
    t.strictSame(got, want, name);
    t.strictSame(h?.vars, vars, `${name}: vars kept`);
  }
});

// Ansible splits ansible_ssh_common_args with shlex, so quotes inside a word group too. This is the
// example of the Ansible FAQ ("How do I configure a jump host to access servers that I have no direct
// access to?"): ansible_ssh_common_args='-o ProxyCommand="ssh -W %h:%p -q user@gateway.example.com"'.
t.test('quotes inside a word are shell-like, as Ansible (shlex) reads them', async (t) => {
  const todo = {};
  const cases: [string, string[]][] = [
    [
      '-o ProxyCommand="ssh -W %h:%p -q user@gateway.example.com"',
      ['-o', 'ProxyCommand=ssh -W %h:%p -q user@gateway.example.com'],
    ],
    ["-o ProxyJump='jump user'", ['-o', 'ProxyJump=jump user']],
    ['-o "A B"C', ['-o', 'A BC']],
  ];
  for (const [args, want] of cases) {
    const inv = parseInventoryList(
      JSON.stringify({ _meta: { hostvars: { h: { ansible_ssh_common_args: args } } } }),
      'i',
    );
    t.strictSame(inv.hosts.get('h')?.sshArgs, want, args, todo);
  }
});

t.test('parseInventoryList: hosts from groups', async (t) => {
  const cases: [string, unknown, string[]][] = [
    ['empty object', {}, []],
    ['only all/ungrouped, no hosts', { _meta: { hostvars: {} }, all: { children: ['ungrouped'] } }, []],
    ['ungrouped hosts', { all: { children: ['ungrouped'] }, ungrouped: { hosts: ['a', 'b'] } }, ['a', 'b']],
    ['a host in two groups once', { g1: { hosts: ['a'] }, g2: { hosts: ['a', 'c'] } }, ['a', 'c']],
    ['a group without hosts (only children)', { prod: { children: ['db'] }, db: { hosts: ['x'] } }, ['x']],
    [
      'odd group values are skipped',
      { g: null, h: 'x', i: 3, j: { hosts: 'notalist' }, k: { hosts: [1, 'ok'] } },
      ['ok'],
    ],
  ];
  for (const [name, list, want] of cases) {
    t.strictSame([...parseInventoryList(JSON.stringify(list), 'i').hosts.keys()], want, name);
  }
});

t.test('parseInventoryList: not JSON -> InventoryError (exit 2)', async (t) => {
  for (const text of ['', 'not json', '[WARNING]: something\n{}', '{"_meta": ']) {
    t.throws(
      () => parseInventoryList(text, '/etc/ansible/hosts'),
      {
        name: 'InventoryError',
        message: '/etc/ansible/hosts: ansible-inventory printed something that is not JSON',
        exitCode: 2,
      },
      JSON.stringify(text),
    );
  }
  try {
    parseInventoryList('nope', 'x');
  } catch (e) {
    t.ok(e instanceof InventoryError, 'an InventoryError');
  }
});

t.test(
  'inventoryPath: --inventory, then the config, then $ANSIBLE_INVENTORY, then /etc/ansible/hosts',
  async (t) => {
    const saved = process.env.ANSIBLE_INVENTORY;
    t.teardown(() => {
      if (saved === undefined) delete process.env.ANSIBLE_INVENTORY;
      else process.env.ANSIBLE_INVENTORY = saved;
    });
    const cases: [string | undefined, string | undefined, string | undefined, string][] = [
      ['/cli.ini', '/conf.ini', '/env.ini', '/cli.ini'],
      ['/cli.ini', undefined, undefined, '/cli.ini'],
      [undefined, '/conf.ini', '/env.ini', '/conf.ini'],
      [undefined, '/conf.ini', undefined, '/conf.ini'],
      [undefined, undefined, '/env.ini', '/env.ini'],
      [undefined, undefined, undefined, '/etc/ansible/hosts'],
      ['db1,db2,', '/conf.ini', undefined, 'db1,db2,'],
    ];
    for (const [cli, conf, env, want] of cases) {
      if (env === undefined) delete process.env.ANSIBLE_INVENTORY;
      else process.env.ANSIBLE_INVENTORY = env;
      t.equal(inventoryPath(cli, conf), want, `cli=${cli} config=${conf} env=${env}`);
    }
  },
);

const ansibleInventoryBin = (process.env.PATH ?? '')
  .split(delimiter)
  .map((d) => join(d, 'ansible-inventory'))
  .find((p) => existsSync(p));

t.test(
  'loadInventory with the real ansible-inventory',
  { skip: ansibleInventoryBin ? false : 'ansible-inventory is not on PATH' },
  async (t) => {
    const dir = mkdtempSync(join(tmpdir(), 'xbinv-'));
    t.teardown(() => rmSync(dir, { recursive: true, force: true }));

    t.test('an ini file with groups, group vars and children', async (t) => {
      const f = join(dir, 'hosts.ini');
      writeFileSync(
        f,
        [
          '[db]',
          'db1 ansible_host=10.0.0.5 ansible_port=2222',
          'db2 ansible_user=backup ansible_ssh_common_args=\'-o "IdentityAgent none" -o StrictHostKeyChecking=no\'',
          '192.168.1.20',
          '',
          '[db:vars]',
          'ansible_user=dbadmin',
          'ansible_ssh_private_key_file=/keys/id_db',
          '',
          '[web]',
          'web1',
          '',
          '[prod:children]',
          'db',
          '',
        ].join('\n'),
      );
      const inv = await loadInventory(f);
      t.equal(inv.path, f);
      t.strictSame([...inv.hosts.keys()].sort(), ['192.168.1.20', 'db1', 'db2', 'web1']);
      t.strictSame(plain(inv), {
        '192.168.1.20': {
          name: '192.168.1.20',
          address: '192.168.1.20',
          port: 22,
          user: 'dbadmin',
          privateKeyFile: '/keys/id_db',
          sshArgs: [],
          vars: { ansible_ssh_private_key_file: '/keys/id_db', ansible_user: 'dbadmin' },
        },
        db1: {
          name: 'db1',
          address: '10.0.0.5',
          port: 2222,
          user: 'dbadmin',
          privateKeyFile: '/keys/id_db',
          sshArgs: [],
          vars: {
            ansible_host: '10.0.0.5',
            ansible_port: 2222,
            ansible_ssh_private_key_file: '/keys/id_db',
            ansible_user: 'dbadmin',
          },
        },
        db2: {
          name: 'db2',
          address: 'db2',
          port: 22,
          user: 'backup',
          privateKeyFile: '/keys/id_db',
          sshArgs: ['-o', 'IdentityAgent none', '-o', 'StrictHostKeyChecking=no'],
          vars: {
            ansible_ssh_common_args: '-o "IdentityAgent none" -o StrictHostKeyChecking=no',
            ansible_ssh_private_key_file: '/keys/id_db',
            ansible_user: 'backup',
          },
        },
        web1: { name: 'web1', address: 'web1', port: 22, sshArgs: [], vars: {} },
      });
    });

    t.test('a YAML inventory', async (t) => {
      const f = join(dir, 'hosts.yml');
      writeFileSync(
        f,
        [
          'all:',
          '  vars:',
          '    ansible_user: ops',
          '  children:',
          '    db:',
          '      hosts:',
          '        dbx:',
          '          ansible_host: 10.9.8.7',
          '          ansible_port: 2022',
          '        dby:',
          '          ansible_user: root',
          '          ansible_ssh_private_key_file: /root/.ssh/id_ed25519',
          '    web:',
          '      hosts:',
          '        webz:',
          '',
        ].join('\n'),
      );
      const inv = await loadInventory(f);
      const pick = (h?: InventoryHost) => h && [h.address, h.port, h.user, h.privateKeyFile ?? null];
      t.strictSame(Object.fromEntries([...inv.hosts].map(([n, h]) => [n, pick(h)])), {
        dbx: ['10.9.8.7', 2022, 'ops', null],
        dby: ['dby', 22, 'root', '/root/.ssh/id_ed25519'],
        webz: ['webz', 22, 'ops', null],
      });
    });

    t.test('a comma list is an inventory too', async (t) => {
      const inv = await loadInventory('h1,h2,');
      t.strictSame([...inv.hosts.keys()].sort(), ['h1', 'h2']);
    });

    t.test('a missing file', async (t) => {
      const f = join(dir, 'nope.ini');
      await t.rejects(loadInventory(f), {
        name: 'InventoryError',
        exitCode: 2,
        message: `inventory ${f}: file not found (set ansible_inventory in backup.conf or use --inventory)`,
      });
    });

    t.test('a malformed ini file', async (t) => {
      const f = join(dir, 'bad.ini');
      writeFileSync(f, '[db\ndb1 ansible_port=\n');
      const err = await loadInventory(f).catch((e: unknown) => e);
      t.ok(err instanceof InventoryError, 'an InventoryError');
      t.equal((err as InventoryError).exitCode, 2);
      t.match((err as InventoryError).message, new RegExp(`^inventory ${f} cannot be parsed: .*\\S`));
      t.match((err as InventoryError).message, /: ini plugin: \S/, "the ini plugin's own reason");
    });

    t.test('a malformed YAML file', async (t) => {
      const f = join(dir, 'bad.yml');
      writeFileSync(f, 'all:\n  hosts:\n    - [unclosed\n');
      await t.rejects(loadInventory(f), { name: 'InventoryError', exitCode: 2, message: /cannot be parsed/ });
    });

    t.test('an ansible-inventory that cannot start', async (t) => {
      const f = join(dir, 'hosts.ini');
      await t.rejects(loadInventory(f, join(dir, 'no-such-ansible-inventory')), {
        name: 'InventoryError',
        exitCode: 2,
        message: /^inventory .*hosts\.ini cannot be parsed: /,
      });
    });

    // $ANSIBLE_INVENTORY is a comma-separated list of sources for Ansible itself; passed as one -i
    // value with commas, ansible-inventory reads it as a list of host names instead.
    t.test('$ANSIBLE_INVENTORY with two files reads both', async (t) => {
      const a = join(dir, 'a.ini');
      const b = join(dir, 'b.ini');
      writeFileSync(a, 'x1\n');
      writeFileSync(b, 'x2\n');
      const saved = process.env.ANSIBLE_INVENTORY;
      process.env.ANSIBLE_INVENTORY = `${a},${b}`;
      t.teardown(() => {
        if (saved === undefined) delete process.env.ANSIBLE_INVENTORY;
        else process.env.ANSIBLE_INVENTORY = saved;
      });
      const inv = await loadInventory(inventoryPath(undefined, undefined));
      t.strictSame([...inv.hosts.keys()].sort(), ['x1', 'x2'], 'the hosts of both files');
    });
  },
);

t.test('inventoryArgs: sources against host lists', async (t) => {
  const files = new Set(['/etc/ansible/hosts', '/a.ini', '/b.yml']);
  const exists = (p: string) => files.has(p);
  const cases: [string, string[]][] = [
    ['/etc/ansible/hosts', ['-i', '/etc/ansible/hosts']],
    ['/a.ini,/b.yml', ['-i', '/a.ini', '-i', '/b.yml']],
    ['/a.ini,/b.yml,', ['-i', '/a.ini', '-i', '/b.yml']],
    ['db1,db2,', ['-i', 'db1,db2,']],
    ['db1,', ['-i', 'db1,']],
    ['/a.ini,db2', ['-i', '/a.ini,db2']],
    ['/missing.ini', ['-i', '/missing.ini']],
  ];
  for (const [inv, argv] of cases) t.strictSame(inventoryArgs(inv, exists), argv, inv);
});
