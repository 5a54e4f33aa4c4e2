import t from 'tap';
import { parseMysqlcheck, type CheckResult } from '../../src/ready/mysqlcheck.js';

/*
 * Outputs marked "captured" were printed by `mariadb-check --no-defaults --socket=S --all-databases`
 * (or --databases shop) of MariaDB 10.11 against a private mariadbd: a fresh install, a MyISAM,
 * Aria, CSV, MEMORY and SEQUENCE table, and MyISAM tables whose data or index file was truncated.
 * mariadb-check printed them with exit code 0 in every case, corruption included: the output is
 * the only signal. A table with detail lines is printed as its name alone (no padding, no status),
 * followed by "note     : ...", "warning  : ..." or "error    : ..." lines.
 */

// Captured: a fresh 10.11 install plus two tables (InnoDB, MyISAM).
const FRESH_OK = `mysql.column_stats                                 OK
mysql.columns_priv                                 OK
mysql.db                                           OK
mysql.event                                        OK
mysql.func                                         OK
mysql.global_priv                                  OK
mysql.gtid_slave_pos                               OK
mysql.help_category                                OK
mysql.help_keyword                                 OK
mysql.help_relation                                OK
mysql.help_topic                                   OK
mysql.index_stats                                  OK
mysql.innodb_index_stats                           OK
mysql.innodb_table_stats                           OK
mysql.plugin                                       OK
mysql.proc                                         OK
mysql.procs_priv                                   OK
mysql.proxies_priv                                 OK
mysql.roles_mapping                                OK
mysql.servers                                      OK
mysql.table_stats                                  OK
mysql.tables_priv                                  OK
mysql.time_zone                                    OK
mysql.time_zone_leap_second                        OK
mysql.time_zone_name                               OK
mysql.time_zone_transition                         OK
mysql.time_zone_transition_type                    OK
mysql.transaction_registry                         OK
shop.log                                           OK
shop.orders                                        OK
sys.sys_config                                     OK
`;

// Captured (--databases shop): MEMORY and SEQUENCE tables cannot be checked; that is fine.
const NOTES = `shop.ar                                            OK
shop.csvt                                          OK
shop.log                                           OK
shop.mem
note     : The storage engine for the table doesn't support check
shop.orders                                        OK
shop.sq
note     : The storage engine for the table doesn't support check
`;

// Captured: the MyISAM data file of shop.bad truncated, first check.
const CORRUPT_DATA = `shop.ar                                            OK
shop.bad
warning  : Size of datafile is:      5000       Should be: 0
error    : Wrong bytesec: 0-0-0 at linkstart: 0
error    : Corrupt
shop.csvt                                          OK
shop.log                                           OK
shop.mem
note     : The storage engine for the table doesn't support check
shop.orders                                        OK
`;

// Captured: the same table, second check: now marked as crashed.
const MARKED_CRASHED = `shop.ar                                            OK
shop.bad
warning  : Table is marked as crashed
warning  : Size of datafile is:      5000       Should be: 0
error    : Wrong bytesec: 0-0-0 at linkstart: 0
error    : Corrupt
shop.csvt                                          OK
`;

// Captured: the MyISAM index file of shop.bad2 truncated.
const CORRUPT_INDEX = `shop.ar                                            OK
shop.bad                                           OK
shop.bad2
error    : Size of indexfile is:     2048        Should be: 22528
error    : Corrupt
shop.csvt                                          OK
`;

// Captured: names longer than the column, and names with spaces.
const LONG_NAME = `averyveryverylongdatabasename_x.averyveryverylongtablename_abcdefghij OK
`;
const SPACES = `odd db.mem t
note     : The storage engine for the table doesn't support check
odd db.my table                                    OK
shop.my table                                      OK
`;

interface Case {
  name: string;
  output: string;
  want: CheckResult;
  /** What must hold even now: the number of problems found is > 0 exactly when this is true. */
  problem: boolean;
}

const cases: Case[] = [
  { name: 'empty output: no tables', output: '', want: { tables: 0, notOk: [] }, problem: false },
  { name: 'only newlines', output: '\n\n', want: { tables: 0, notOk: [] }, problem: false },
  {
    name: 'captured: a fresh install, all OK',
    output: FRESH_OK,
    want: { tables: 31, notOk: [] },
    problem: false,
  },
  {
    name: 'captured: all OK, without the final newline',
    output: FRESH_OK.trimEnd(),
    want: { tables: 31, notOk: [] },
    problem: false,
  },
  {
    name: 'all OK with CRLF line ends',
    output: FRESH_OK.replace(/\n/g, '\r\n'),
    want: { tables: 31, notOk: [] },
    problem: false,
  },
  {
    name: 'one OK line, no padding beyond one space',
    output: 'db.t OK\n',
    want: { tables: 1, notOk: [] },
    problem: false,
  },
  {
    name: 'one OK line separated by a tab',
    output: 'db.t\tOK\n',
    want: { tables: 1, notOk: [] },
    problem: false,
  },
  {
    name: 'captured: a name longer than the column',
    output: LONG_NAME,
    want: { tables: 1, notOk: [] },
    problem: false,
  },
  {
    name: 'a table name with a dot in it (db.`a.b`) is still a table',
    output: 'shop.a.b                                           OK\n',
    want: { tables: 1, notOk: [] },
    problem: false,
  },
  // Statuses other than OK on the table line.
  {
    name: 'status other than OK on the table line',
    output:
      'shop.t1                                            Operation failed\nshop.t2                                            OK\n',
    want: { tables: 2, notOk: ['shop.t1: Operation failed'] },
    problem: true,
  },
  {
    name: 'lower-case ok is not OK',
    output: 'shop.t1                                            ok\n',
    want: { tables: 1, notOk: ['shop.t1: ok'] },
    problem: true,
  },
  {
    name: 'two bad statuses are both reported, in order',
    output: 'a.x   Corrupt\nb.y   OK\nc.z   Table is marked as crashed\n',
    want: { tables: 3, notOk: ['a.x: Corrupt', 'c.z: Table is marked as crashed'] },
    problem: true,
  },
  // Detail lines after a table that has a status (the parser's own model).
  {
    name: 'a status : OK detail line is fine',
    output: 'shop.t1   OK\nstatus   : OK\n',
    want: { tables: 1, notOk: [] },
    problem: false,
  },
  {
    name: 'an error detail line after a table with a status names that table',
    output: 'shop.t1   OK\nshop.t2   OK\nerror    : Corrupt\n',
    want: { tables: 2, notOk: ['shop.t2: error: Corrupt'] },
    problem: true,
  },
  {
    name: 'an upper-case Error detail line keeps its spelling',
    output: "shop.t1   OK\nError    : Table './shop/t1' is marked as crashed and should be repaired\n",
    want: {
      tables: 1,
      notOk: ["shop.t1: Error: Table './shop/t1' is marked as crashed and should be repaired"],
    },
    problem: true,
  },
  {
    name: 'a detail line before any table names ?',
    output: 'error    : Corrupt\n',
    want: { tables: 0, notOk: ['?: error: Corrupt'] },
    problem: true,
  },
  {
    name: 'an unrecognised line is not OK',
    output: "mariadb-check: Got error: 1049: Unknown database 'x' when selecting the database\n",
    want: {
      tables: 0,
      notOk: ["mariadb-check: Got error: 1049: Unknown database 'x' when selecting the database"],
    },
    problem: true,
  },
  // Real shapes: a bare table name followed by its detail lines.
  {
    name: 'captured: MEMORY and SEQUENCE tables do not support check (fine)',
    output: NOTES,
    want: { tables: 6, notOk: [] },
    problem: false,
  },
  {
    name: 'a note that check is not supported, "does not" spelling',
    output: 'shop.v\nnote     : The storage engine for the table does not support check\n',
    want: { tables: 1, notOk: [] },
    problem: false,
  },
  {
    name: 'captured: a truncated MyISAM data file',
    output: CORRUPT_DATA,
    want: {
      tables: 6,
      notOk: [
        'shop.bad: warning: Size of datafile is:      5000       Should be: 0',
        'shop.bad: error: Wrong bytesec: 0-0-0 at linkstart: 0',
        'shop.bad: error: Corrupt',
      ],
    },
    problem: true,
  },
  {
    name: 'captured: a table marked as crashed',
    output: MARKED_CRASHED,
    want: {
      tables: 3,
      notOk: [
        'shop.bad: warning: Table is marked as crashed',
        'shop.bad: warning: Size of datafile is:      5000       Should be: 0',
        'shop.bad: error: Wrong bytesec: 0-0-0 at linkstart: 0',
        'shop.bad: error: Corrupt',
      ],
    },
    problem: true,
  },
  {
    name: 'captured: a truncated MyISAM index file',
    output: CORRUPT_INDEX,
    want: {
      tables: 4,
      notOk: [
        'shop.bad2: error: Size of indexfile is:     2048        Should be: 22528',
        'shop.bad2: error: Corrupt',
      ],
    },
    problem: true,
  },
  {
    name: "documented: Error : Table 'x' is marked as crashed",
    output:
      "shop.t1\nError    : Table './shop/t1' is marked as crashed and should be repaired\nerror    : Corrupt\n",
    want: {
      tables: 1,
      notOk: [
        "shop.t1: Error: Table './shop/t1' is marked as crashed and should be repaired",
        'shop.t1: error: Corrupt',
      ],
    },
    problem: true,
  },
  {
    name: 'documented: a warning alone is not OK',
    output:
      "shop.t0   OK\nshop.t1\nwarning  : 1 client is using or hasn't closed the table properly\nshop.t2   OK\n",
    want: { tables: 3, notOk: ["shop.t1: warning: 1 client is using or hasn't closed the table properly"] },
    problem: true,
  },
  {
    name: 'captured: names with spaces',
    output: SPACES,
    want: { tables: 3, notOk: [] },
    problem: false,
  },
];

t.test('parseMysqlcheck', async (t) => {
  for (const c of cases) {
    const got = parseMysqlcheck(c.output);
    t.strictSame(got, c.want, c.name);
  }
});

t.test('problems are never missed, even where the exact report is wrong', async (t) => {
  for (const c of cases) {
    if (!c.problem) continue;
    t.ok(parseMysqlcheck(c.output).notOk.length > 0, `${c.name}: reported as not OK`);
  }
  // The checks that decide whether a ready backup is made at all.
  t.match(
    parseMysqlcheck(CORRUPT_DATA).notOk.join('\n'),
    /Corrupt/,
    'truncated data file: Corrupt is reported',
  );
  t.match(
    parseMysqlcheck(CORRUPT_INDEX).notOk.join('\n'),
    /Corrupt/,
    'truncated index file: Corrupt is reported',
  );
  t.match(
    parseMysqlcheck(MARKED_CRASHED).notOk.join('\n'),
    /marked as crashed/,
    'marked as crashed is reported',
  );
});

t.test('all-OK outputs have no problems', async (t) => {
  for (const out of [FRESH_OK, LONG_NAME, ''])
    t.strictSame(parseMysqlcheck(out).notOk, [], JSON.stringify(out.slice(0, 30)));
  // Every captured all-OK line counts as one table.
  t.equal(parseMysqlcheck(FRESH_OK).tables, FRESH_OK.trim().split('\n').length, 'one table per line');
});
