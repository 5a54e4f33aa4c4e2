import t from 'tap';
import {
  changedFiles,
  fileNameOf,
  mysqlcheckTableArgs,
  parseTableList,
  planCheck,
  tableKeyOfFile,
  type ScopeInput,
  type TableRef,
} from '../../src/ready/scope.js';
import { mountsUnder, overlayMountArgs, viewMethods } from '../../src/ready/view.js';

const T = (db: string, name: string, engine = 'InnoDB'): TableRef => ({ db, name, engine });
const TABLES = [
  T('mysql', 'db', 'Aria'),
  T('mysql', 'innodb_table_stats'),
  T('shop', 'accounts'),
  T('shop', 'orders'),
  T('shop', 'log', 'MyISAM'),
  T('shop', 't-1'),
  T('sales', 'p'),
];
const NOW = new Date('2026-11-24T03:00:00Z');
const base: ScopeInput = {
  scope: 'changed',
  fullDays: 7,
  newBase: false,
  lastFullCheckAt: '2026-11-22T03:00:00.000Z',
  now: NOW,
  changedFiles: [],
  ownFiles: new Set(['mysql/innodb_table_stats', 'shop/accounts', 'shop/orders', 'shop/t@002d1', 'sales/p']),
  tables: [...TABLES, T('old', 'shared')],
};
const names = (ts: TableRef[]) => ts.map((x) => `${x.db}.${x.name}`);
const ALWAYS = ['mysql.db', 'mysql.innodb_table_stats', 'shop.log'];
const ALL = TABLES.length + 1;

t.test('planCheck: which tables, full or changed', async (t) => {
  const cases: {
    name: string;
    in: Partial<ScopeInput>;
    full: boolean;
    tables?: string[];
    reason?: RegExp;
  }[] = [
    { name: 'nothing changed: system, non-InnoDB', in: {}, full: false, tables: ALWAYS },
    {
      name: 'one table changed',
      in: { changedFiles: ['shop/orders.ibd'] },
      full: false,
      tables: ['mysql.db', 'mysql.innodb_table_stats', 'shop.log', 'shop.orders'],
    },
    {
      name: 'encoded name, partition file, ibdata1',
      in: { changedFiles: ['shop/t@002d1.ibd', 'sales/p#P#p0.ibd'] },
      full: false,
      tables: [...ALWAYS, 'shop.t-1', 'sales.p'],
    },
    {
      name: 'ibdata1 changed: the tables without a file of their own too',
      in: { changedFiles: ['ibdata1'] },
      full: false,
      tables: [...ALWAYS, 'old.shared'],
    },
    {
      name: 'a changed file naming no table: full',
      in: { changedFiles: ['shop/@1On@0v.ibd'] },
      full: true,
      reason: /names no table/,
    },
    { name: 'verify_scope = all', in: { scope: 'all' }, full: true, reason: /verify_scope = all/ },
    { name: 'a new base', in: { newBase: true }, full: true, reason: /new base/ },
    {
      name: 'no full check recorded',
      in: { lastFullCheckAt: undefined },
      full: true,
      reason: /no full check/,
    },
    { name: 'unparseable record', in: { lastFullCheckAt: 'yesterday' }, full: true, reason: /no full check/ },
    {
      name: 'last full check older than verify_full_days',
      in: { fullDays: 1 },
      full: true,
      reason: /full check due.*verify_full_days = 1/,
    },
    {
      name: 'exactly verify_full_days old: due',
      in: { fullDays: 2 },
      full: true,
      reason: /full check due/,
    },
    { name: 'just under: changed', in: { fullDays: 3 }, full: false, tables: ALWAYS },
    { name: 'verify_full_days = 0: every run', in: { fullDays: 0 }, full: true, reason: /due/ },
  ];
  for (const c of cases) {
    const p = planCheck({ ...base, ...c.in });
    t.equal(p.full, c.full, `${c.name}: full`);
    if (c.full) t.equal(p.tables.length, ALL, `${c.name}: every table`);
    if (c.tables) t.same(names(p.tables).sort(), [...c.tables].sort(), `${c.name}: tables`);
    if (c.reason) t.match(p.reason, c.reason, `${c.name}: reason`);
  }
});

t.test('fileNameOf and tableKeyOfFile', async (t) => {
  for (const [name, file] of [
    ['orders', 'orders'],
    ['t-1', 't@002d1'],
    ['a b', 'a@0020b'],
    ['-x', '@002dx'],
  ] as const)
    t.equal(fileNameOf(name), file, name);
  t.equal(tableKeyOfFile('db/t.ibd'), 'db/t');
  t.equal(tableKeyOfFile('db/t#P#p0.ibd'), 'db/t');
  t.equal(tableKeyOfFile('db/t#p#p0#sp#s0.ibd'), 'db/t');
  t.equal(tableKeyOfFile('ibdata1'), undefined);
  t.equal(tableKeyOfFile('db/t.frm'), undefined);
});

t.test('changedFiles: size or mtime differ, or new', async (t) => {
  const before = new Map([
    ['a/x.ibd', '10:1'],
    ['a/y.ibd', '10:1'],
    ['a/z.ibd', '10:1'],
  ]);
  const after = new Map([
    ['a/x.ibd', '10:1'],
    ['a/y.ibd', '10:2'],
    ['a/z.ibd', '20:1'],
    ['a/new.ibd', '1:1'],
  ]);
  t.same(changedFiles(before, after), ['a/new.ibd', 'a/y.ibd', 'a/z.ibd']);
});

t.test('mysqlcheckTableArgs: exact argv, one run per schema, names after --', async (t) => {
  const cases: { name: string; tables: TableRef[]; chunk?: number; want: string[][] }[] = [
    {
      name: 'two schemas',
      tables: [T('shop', 'orders'), T('mysql', 'db'), T('shop', 'a b')],
      want: [
        ['--no-defaults', '--socket=/s k', '--tables', '--', 'mysql', 'db'],
        ['--no-defaults', '--socket=/s k', '--tables', '--', 'shop', 'orders', 'a b'],
      ],
    },
    {
      name: 'names that look like options or hold quotes stay arguments',
      tables: [T('d', '-x'), T('d', "t`'; DROP"), T('d', '$(id)')],
      want: [['--no-defaults', '--socket=/s k', '--tables', '--', 'd', '-x', "t`'; DROP", '$(id)']],
    },
    {
      name: 'chunks',
      tables: [T('d', 'a'), T('d', 'b'), T('d', 'c')],
      chunk: 2,
      want: [
        ['--no-defaults', '--socket=/s k', '--tables', '--', 'd', 'a', 'b'],
        ['--no-defaults', '--socket=/s k', '--tables', '--', 'd', 'c'],
      ],
    },
  ];
  for (const c of cases) t.same(mysqlcheckTableArgs('/s k', c.tables, c.chunk), c.want, c.name);
  t.throws(() => mysqlcheckTableArgs('/s', [T('d', 'a\nb')]), /control character/);
  t.throws(() => mysqlcheckTableArgs('/s', [T('d\0', 'a')]), /control character/);
});

t.test('parseTableList: batch output, escapes, bad names refused', async (t) => {
  const r = parseTableList(
    'mysql\tdb\tAria\nshop\ta\\tb\tInnoDB\nshop\tx\\ny\tInnoDB\nshop\tz\\0\tInnoDB\nd\tv\t\nbroken line\n',
  );
  t.same(r.tables, [T('mysql', 'db', 'Aria'), T('shop', 'a\tb'), T('d', 'v', '')]);
  t.equal(r.refused.length, 3);
});

t.test('view: methods, overlay argv, stale mounts', async (t) => {
  t.same(viewMethods(undefined, true, false), ['reflink', 'overlay', 'copy']);
  t.same(viewMethods(undefined, false, false), ['reflink', 'copy']);
  t.same(viewMethods('copy', true, false), ['copy']);
  t.same(viewMethods('overlay', true, false), ['overlay']);
  t.same(viewMethods('nonsense', true, false), ['reflink', 'overlay', 'copy']);
  t.same(viewMethods('overlay', true, true), ['copy'], 'a finalizing engine always copies');
  t.same(overlayMountArgs('/b/base', '/b/tmp/u', '/b/tmp/w', '/b/prep/v'), [
    '-t',
    'overlay',
    'overlay',
    '-o',
    'lowerdir=/b/base,upperdir=/b/tmp/u,workdir=/b/tmp/w',
    '--',
    '/b/prep/v',
  ]);
  t.throws(() => overlayMountArgs('/b/a,b', '/u', '/w', '/m'), /cannot mount/);
  t.throws(() => overlayMountArgs('/b/a:b', '/u', '/w', '/m'), /cannot mount/);
  const info = [
    '22 1 8:1 / / rw,relatime shared:1 - ext4 /dev/sda1 rw',
    '90 22 0:50 / /srv/b/h1/prepare/verify-1 rw - overlay overlay rw,lowerdir=x',
    '91 22 0:51 / /srv/b/h1/prepare/verify\\0402 rw - overlay overlay rw',
    '92 22 0:52 / /srv/b/h10/prepare/verify-3 rw - overlay overlay rw',
    '93 90 0:53 / /srv/b/h1/prepare/verify-1/deeper rw - tmpfs tmpfs rw',
  ].join('\n');
  t.same(mountsUnder(info, '/srv/b/h1/prepare'), [
    '/srv/b/h1/prepare/verify-1/deeper',
    '/srv/b/h1/prepare/verify-1',
    '/srv/b/h1/prepare/verify 2',
  ]);
});
