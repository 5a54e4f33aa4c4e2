/** list, verify and restore into a directory, on sandbox hosts. */
import t from 'tap';
import { closeSync, existsSync, openSync, readdirSync, readSync, rmSync, statSync, writeSync } from 'node:fs';
import { join } from 'node:path';
import { readFileSync, writeFileSync } from 'node:fs';
import {
  e2eTempDir,
  sandbox,
  sandboxDir,
  sandboxUp,
  sb2Address,
  sb2Re,
  setKeys,
  sql,
  testConfig,
  xbMgr,
} from './sandbox.js';
import { FINGERPRINT_SQL, sourceFingerprint, startOnDir } from './restore-helpers.js';

sandboxUp(2);

interface HostResult {
  ok: boolean;
  id?: string;
  error?: string;
}

async function run(file: string, ...args: string[]): Promise<HostResult> {
  const r = await xbMgr(['--config', file, 'run', '--json', '--host', 'sb1', ...args]);
  return (JSON.parse(r.stdout) as { hosts: HostResult[] }).hosts[0]!;
}

function flip(file: string): void {
  const fd = openSync(file, 'r+');
  const buf = Buffer.alloc(1);
  const at = Math.floor(statSync(file).size / 2);
  readSync(fd, buf, 0, 1, at);
  buf[0] = buf[0]! ^ 0x55;
  writeSync(fd, buf, 0, 1, at);
  closeSync(fd);
}

t.test('list, restore (ready and from a chain), verify', async (t) => {
  const { file, dir } = testConfig(['retain_num_ready_backups = 1']);
  const work = e2eTempDir('xb-restore-');
  const full = await run(file, '--now', '2026-11-22T01:00:00Z');
  t.ok(full.ok, full.error ?? '');
  sql('sb1', "INSERT INTO shop.orders (account_id, amount, note) VALUES (5, 55, 'restore test 1')");
  const inc1 = await run(file, '--now', '2026-11-23T01:00:00Z');
  const atInc1 = sourceFingerprint('sb1');
  sql(
    'sb1',
    "UPDATE shop.accounts SET owner = 'changed' WHERE id = 7; INSERT INTO shop.orders (account_id, amount, note) VALUES (6, 66, 'restore test 2')",
  );
  const inc2 = await run(file, '--now', '2026-11-23T09:00:00Z');
  const atInc2 = sourceFingerprint('sb1');
  t.ok(inc1.ok && inc2.ok);

  // list: one chain in order, one ready file (retain_num_ready_backups = 1).
  const l = await xbMgr(['--config', file, 'list', '--host', 'sb1', '--json']);
  const listing = JSON.parse(l.stdout) as {
    hosts: {
      host: string;
      chains: { full: string; backups: { id: string; type: string; from_lsn: number; to_lsn: number }[] }[];
      ready: { id: string; contains: string[] }[];
    }[];
  };
  const h = listing.hosts[0]!;
  t.equal(h.chains.length, 1);
  t.same(
    h.chains[0]!.backups.map((b) => `${b.type} ${b.id}`),
    [`full ${full.id}`, `incremental ${inc1.id}`, `incremental ${inc2.id}`],
  );
  t.same(
    h.ready.map((r) => r.id),
    [inc2.id],
  );
  t.same(h.ready[0]!.contains, [full.id, inc1.id, inc2.id]);
  const human = await xbMgr(['--config', file, 'list']);
  t.match(human.stdout, new RegExp(`chain ${full.id}\\n\\s+full\\s+${full.id}`));

  // restore the newest ready file into an empty directory; its data is the data at inc2.
  const target = join(work, 'latest');
  let r = await xbMgr(['--config', file, 'restore', '--host', 'sb1', '--target-dir', target]);
  t.equal(r.exitCode, 0, r.stderr);
  t.match(r.stdout, new RegExp(`restored sb1 ready/${inc2.id}\\.tar\\.zst into ${target}`));
  t.match(r.stdout, /binlog position: mysql-bin\.\d+ \d+, GTID \d+-\d+-\d+/);
  t.match(r.stdout, /start a server on it: chown -R mysql:mysql .* && mariadbd --datadir=/);
  const s1 = await startOnDir(target);
  t.equal(
    await s1.query(FINGERPRINT_SQL),
    atInc2,
    'restored ready data matches the source at the last backup',
  );
  await s1.stop();

  // A non-empty target needs --force, and its contents are moved aside, not deleted.
  r = await xbMgr(['--config', file, 'restore', '--host', 'sb1', '--target-dir', target]);
  t.equal(r.exitCode, 2);
  t.match(r.stderr, /is not empty: choose an empty directory or add --force/);
  r = await xbMgr(['--config', file, 'restore', '--host', 'sb1', '--target-dir', target, '--force']);
  t.equal(r.exitCode, 0, r.stderr);
  const aside = readdirSync(work).filter((n) => n.startsWith('latest.old-'));
  t.equal(aside.length, 1, 'the old contents were moved aside');

  // An older point from a chain without a ready file: prepared from the stored streams.
  const older = join(work, 'older');
  r = await xbMgr([
    '--config',
    file,
    'restore',
    '--host',
    'sb1',
    '--backup',
    inc1.id!,
    '--target-dir',
    older,
  ]);
  t.equal(r.exitCode, 0, r.stderr);
  t.match(r.stdout, new RegExp(`incremental/${inc1.id} \\(prepared from its chain\\)`));
  const s2 = await startOnDir(older);
  t.equal(await s2.query(FINGERPRINT_SQL), atInc1, 'the older point has the data of that point');
  await s2.stop();

  // A corrupted ready file: exit 1, nothing restored, no staging left behind.
  const readyFile = join(dir, 'backups/sb1/ready', `${inc2.id}.tar.zst`);
  const { copyFileSync } = await import('node:fs');
  copyFileSync(readyFile, `${readyFile}.good`);
  flip(readyFile);
  const bad = join(work, 'bad');
  r = await xbMgr(['--config', file, 'restore', '--host', 'sb1', '--target-dir', bad]);
  t.equal(r.exitCode, 1);
  t.match(r.stderr, /(sha256 mismatch: ready\/.* is corrupted|restore failed: ).*; nothing was restored/);
  t.notOk(existsSync(bad), 'no target directory');
  t.same(
    readdirSync(work).filter((n) => n.includes('xb-mgr-')),
    [],
    'no staging directory left',
  );

  // verify: the flipped ready file, then a flipped incremental and a deleted full.
  let v = await xbMgr(['--config', file, 'verify', '--host', 'sb1', '--json']);
  t.equal(v.exitCode, 1);
  let vr = JSON.parse(v.stdout) as { ok: boolean; problems: { item: string; problem: string }[] };
  t.same(
    vr.problems.map((p) => p.item),
    [`ready/${inc2.id}.tar.zst`],
  );
  copyFileSync(`${readyFile}.good`, readyFile);
  rmSync(`${readyFile}.good`);
  v = await xbMgr(['--config', file, 'verify', '--host', 'sb1']);
  t.equal(v.exitCode, 0, v.stdout);
  t.match(v.stdout, /4 file\(s\) checked, 0 problem\(s\)/);
  flip(join(dir, 'backups/sb1/incremental', inc1.id!, 'backup.xbstream.zst'));
  rmSync(join(dir, 'backups/sb1/full', full.id!, 'backup.xbstream.zst'));
  v = await xbMgr(['--config', file, 'verify', '--json']);
  t.equal(v.exitCode, 1);
  vr = JSON.parse(v.stdout) as { ok: boolean; problems: { item: string; problem: string }[] };
  t.same(
    vr.problems.map((p) => `${p.item}: ${p.problem.split(':')[0]}`).sort(),
    [`full/${full.id}: missing file backup.xbstream.zst`, `incremental/${inc1.id}: checksum mismatch`].sort(),
  );
});

t.test(
  'restore --to-host: the newest ready backup of sb1 onto sb2; a corrupted file leaves sb2 on its old data',
  async (t) => {
    const { file, dir } = testConfig();
    const { cpSync, renameSync } = await import('node:fs');
    const d2 = join(sandboxDir, 'hosts/sb2');
    // Put sb2 back on its own data at the end (the restore moved it aside, never deleted it).
    t.teardown(() => {
      const aside = readdirSync(d2)
        .filter((n) => n.startsWith('data.old-'))
        .sort()[0];
      if (!aside) return;
      sandbox('stop-db', 'sb2');
      rmSync(join(d2, 'data'), { recursive: true, force: true });
      renameSync(join(d2, aside), join(d2, 'data'));
      // .xb-new-/.xb-restore-: what a restore killed by its timeout left beside the datadir.
      for (const n of readdirSync(d2).filter((x) => /^data\.(old|failed|xb-new|xb-restore)-/.test(x))) {
        rmSync(join(d2, n), { recursive: true, force: true });
      }
      sandbox('start-db', 'sb2');
    });
    sql(
      'sb2',
      'CREATE TABLE IF NOT EXISTS shop.marker (x INT); DELETE FROM shop.marker; INSERT INTO shop.marker VALUES (2)',
    );
    t.ok((await run(file, '--now', '2026-11-22T01:00:00Z')).ok);
    t.equal(
      (await xbMgr(['--config', file, 'run', '--host', 'sb2', '--now', '2026-11-22T01:00:00Z'])).exitCode,
      0,
    );
    sql('sb1', "INSERT INTO shop.orders (account_id, amount, note) VALUES (8, 88, 'to host')");
    const inc = await run(file, '--now', '2026-11-23T01:00:00Z');
    const atBackup = sourceFingerprint('sb1');
    t.ok(inc.ok);

    let r = await xbMgr(['--config', file, 'restore', '--host', 'sb1', '--to-host', sb2Address]);
    t.equal(r.exitCode, 2, 'a configured backup source needs --force');
    t.match(r.stderr, new RegExp(`${sb2Re} is a configured backup source \\(\\[sb2\\]\\).*add --force`));

    // A corrupted ready file: refused before the server is stopped; sb2 keeps running on its data.
    const readyFile = join(dir, 'backups/sb1/ready', `${inc.id}.tar.zst`);
    cpSync(readyFile, `${readyFile}.good`);
    flip(readyFile);
    r = await xbMgr(['--config', file, 'restore', '--host', 'sb1', '--to-host', sb2Address, '--force']);
    t.equal(r.exitCode, 1);
    t.match(
      r.stderr,
      new RegExp(`restore onto ${sb2Re} failed: .*sha256 mismatch.*the server runs on its old data`, 's'),
    );
    t.equal(sql('sb2', 'SELECT x FROM shop.marker'), '2', 'sb2 still runs on its old data');
    cpSync(`${readyFile}.good`, readyFile);
    rmSync(`${readyFile}.good`);

    r = await xbMgr(['--config', file, 'restore', '--host', 'sb1', '--to-host', sb2Address, '--force']);
    t.equal(r.exitCode, 0, r.stderr);
    t.match(r.stdout, /the server was started on the restored data and answers/);
    t.equal(
      sourceFingerprint('sb2'),
      atBackup,
      'CHECKSUM TABLE and row counts of sb2 equal sb1 at the backup',
    );
    t.equal(
      readdirSync(d2).filter((n) => n.startsWith('data.old-')).length,
      1,
      'the old datadir was moved aside',
    );
    // The restore ended sb2's chain: its next run is a full backup.
    const plan = await xbMgr(['--config', file, 'plan', '--host', 'sb2']);
    t.match(plan.stdout, /sb2 {2}full: the host was restored at .*: its chain ended there/);

    // sb2's section names its real datadir (issue 12: the skipped datadir query broke this).
    const withKeys = (name: string, lines: string[]): string => {
      const f = join(dir, name);
      writeFileSync(f, setKeys(readFileSync(file, 'utf8'), 'sb2', lines), { mode: 0o600 });
      return f;
    };
    const datadirConf = withKeys('datadir.conf', [`mysql_datadir = ${join(d2, 'data')}`]);
    sql('sb2', 'CREATE TABLE shop.marker2 (x INT)');
    r = await xbMgr([
      '--config',
      datadirConf,
      'restore',
      '--host',
      'sb1',
      '--to-host',
      sb2Address,
      '--force',
    ]);
    t.equal(r.exitCode, 0, r.stderr);
    t.match(r.stdout, /the server was started on the restored data and answers/);
    t.equal(sourceFingerprint('sb2'), atBackup, 'sb2 answers with the restored data');
    t.equal(sql('sb2', "SHOW TABLES IN shop LIKE 'marker2'"), '', 'on the restored data, not the old');

    // A restore that outlives its time budget is a failure (issue 12: reported as started). The
    // stop command hangs, so the playbook is killed before the server was touched.
    const slowConf = withKeys('slow.conf', [
      'mysql_stop_cmd = sleep 50',
      'timeout_prepare = 15',
      'timeout_verify = 15',
    ]);
    r = await xbMgr(['--config', slowConf, 'restore', '--host', 'sb1', '--to-host', sb2Address, '--force']);
    t.equal(r.exitCode, 1, r.stdout);
    t.match(
      r.stderr,
      new RegExp(
        `^xb-mgr: restore onto ${sb2Re} timed out after 30 s \\(timeout_prepare \\+ timeout_verify\\) in task "[^"]+"[^\\n]*$`,
      ),
      'one line naming the host, the time budget and the task',
    );
    t.notMatch(r.stdout, /answers/);
    t.equal(sourceFingerprint('sb2'), atBackup, 'sb2 still runs on its data');

    // sb2 without a section of its own (issue 14): its paths come from [default] for its own name
    // ({host} = its inventory name), and the credentials file installed for the restore is
    // removed at the end, after a success and after a failure.
    const target = join(dir, 'target');
    const conf = readFileSync(file, 'utf8');
    const sb2Section = /^\[sb2\]\n[^[]*/m.exec(conf)![0];
    const key = (k: string) => new RegExp(`^${k} = (.*)$`, 'm').exec(sb2Section)![1]!;
    const unconf = join(dir, 'unconfigured.conf');
    writeFileSync(
      unconf,
      setKeys(conf.replace(sb2Section, ''), 'default', [
        `remote_backup_cmd = ${target}/bin/backup_local`,
        `remote_credentials_file = ${target}/{host}/credentials.cnf`,
        ...['mysql_socket', 'mysql_stop_cmd', 'mysql_start_cmd'].map((k) => `${k} = ${key(k)}`),
      ]),
      { mode: 0o600 },
    );
    const cred = join(target, sb2Address, 'credentials.cnf');
    r = await xbMgr(['--config', unconf, 'restore', '--host', 'sb1', '--to-host', sb2Address]);
    t.equal(r.exitCode, 0, r.stderr);
    t.match(r.stdout, /the server was started on the restored data and answers/);
    t.ok(existsSync(join(target, 'bin', 'backup_local')), "the helper went to [default]'s path");
    t.ok(existsSync(join(target, sb2Address)), "the credentials file's directory is the target's own");
    t.notOk(existsSync(cred), 'the credentials file is removed after the restore');
    cpSync(readyFile, `${readyFile}.good`);
    flip(readyFile);
    r = await xbMgr(['--config', unconf, 'restore', '--host', 'sb1', '--to-host', sb2Address]);
    cpSync(`${readyFile}.good`, readyFile);
    rmSync(`${readyFile}.good`);
    t.equal(r.exitCode, 1);
    t.match(r.stderr, /sha256 mismatch.*the server runs on its old data/s);
    t.notOk(existsSync(cred), 'and after a failed one');
    t.equal(sourceFingerprint('sb2'), atBackup, 'sb2 runs on the data of the first restore');
  },
);
