// The benchmark's own sandbox DB hosts (scripts/sandbox with XB_SANDBOX_DIR and XB_SANDBOX_NET of
// its own: never the tests' default sandbox) and the sysbench data on them.
import { readFileSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { duBytes, exec, log } from './util.mjs';

const BYTES_PER_ROW = 250;
const TABLES = 4;

export class Sandbox {
  constructor({ repo, dir, net }) {
    this.repo = repo;
    this.dir = resolve(dir);
    this.net = net;
    if (!/^127\.\d{1,3}\.\d{1,3}$/.test(net)) throw new Error(`--net ${net}: must look like 127.0.3`);
    // Other people's sandboxes: the tests' default one and the one on 127.0.2.
    if (net === '127.0.1' || net === '127.0.2')
      throw new Error(`--net ${net} is used by other sandboxes; choose another`);
    if (this.dir === join(repo, '.sandbox'))
      throw new Error(`${this.dir} is the tests' sandbox; choose another`);
    this.env = { XB_SANDBOX_DIR: this.dir, XB_SANDBOX_NET: net };
  }

  script(...args) {
    return exec('bash', [join(this.repo, 'scripts', 'sandbox'), ...args], { env: this.env });
  }

  async up(n) {
    await this.script('up', String(n));
  }

  async down() {
    await this.script('down');
  }

  async sql(host, text) {
    return (await this.script('sql', host, text)).stdout.trim();
  }

  hostDir(host) {
    return join(this.dir, 'hosts', host);
  }

  socket(host) {
    return join(this.hostDir(host), 'run', 'mysqld.sock');
  }

  datadir(host) {
    return join(this.hostDir(host), 'data');
  }

  get confPath() {
    return join(this.dir, 'backup.conf');
  }

  /** A key of a host's section in the sandbox's backup.conf. */
  confValue(host, key) {
    let section = '';
    for (const line of readFileSync(this.confPath, 'utf8').split('\n')) {
      const s = /^\[(.+)\]$/.exec(line.trim());
      if (s) section = s[1];
      const kv = /^([a-z_]+)\s*=\s*(.*)$/.exec(line);
      if (kv && section === host && kv[1] === key) return kv[2].trim();
    }
    return undefined;
  }

  /** ssh argv prefix for a host, with the inventory's key and options (the way scripts/sandbox does). */
  ssh(host, extra = []) {
    const n = Number(host.replace(/^sb/, ''));
    const port = n === 1 ? 22 : 2200 + n;
    return [
      'ssh',
      '-o',
      'BatchMode=yes',
      '-o',
      `UserKnownHostsFile=${join(this.dir, 'ssh', 'known_hosts')}`,
      '-o',
      'StrictHostKeyChecking=accept-new',
      '-o',
      'IdentitiesOnly=yes',
      '-i',
      join(this.dir, 'ssh', 'id_ed25519'),
      ...extra,
      '-p',
      String(port),
      `root@${this.net}.${n}`,
    ];
  }

  /** rows per table for about `bytes` of InnoDB data in 4 sysbench tables. */
  static rowsFor(bytes) {
    return Math.max(1000, Math.round(bytes / TABLES / BYTES_PER_ROW));
  }

  async rowCount(host, db) {
    const r = await this.script('sql', host, `SELECT COUNT(*) FROM ${db}.sbtest${TABLES}`).catch(() => null);
    return r ? Number(r.stdout.trim()) : 0;
  }

  /** Make database `db` on `host` hold 4 sysbench tables of `rows` rows (kept when already so). */
  async ensureData(host, db, rows) {
    if ((await this.rowCount(host, db)) !== rows) {
      log(`${host}: sysbench prepare ${db}: ${TABLES} tables x ${rows} rows`);
      await this.sql(host, `DROP DATABASE IF EXISTS ${db}; CREATE DATABASE ${db}`);
      await exec('sysbench', [
        'oltp_read_write',
        '--db-driver=mysql',
        `--mysql-socket=${this.socket(host)}`,
        '--mysql-user=root',
        `--mysql-db=${db}`,
        `--tables=${TABLES}`,
        `--table-size=${rows}`,
        '--threads=2',
        'prepare',
      ]);
    }
    // The generation's binary log is not part of a backup: drop it to spare the disk.
    await this.sql(host, 'RESET MASTER');
    return this.dataBytes(host, db);
  }

  async dropData(host, db) {
    await this.sql(host, `DROP DATABASE IF EXISTS ${db}`);
  }

  /** Change about 1 % of the rows of every table (what an incremental then carries). */
  async touchOnePercent(host, db = 'sbtest') {
    const sql = [];
    for (let i = 1; i <= TABLES; i++) sql.push(`UPDATE ${db}.sbtest${i} SET k=k+1 WHERE id % 100 = 0`);
    await this.sql(host, sql.join('; '));
  }

  async dataBytes(host, db) {
    return { db: await duBytes(join(this.datadir(host), db)), datadir: await duBytes(this.datadir(host)) };
  }
}
