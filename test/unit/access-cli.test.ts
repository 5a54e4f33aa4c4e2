/**
 * The catalog access as the commands use it, through the CLI (src/cli.ts in child processes, on a
 * catalog in a temp dir): keep, verify and restore wait for a writer and give up naming it; list
 * never waits; nothing waits for the run lock of a running backup.
 */
import t, { type Test } from 'tap';
import { spawn } from 'node:child_process';
import { createHash } from 'node:crypto';
import { once } from 'node:events';
import { existsSync, mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { procStart } from '../../src/catalog/lock.js';
import { readPins } from '../../src/catalog/retain.js';
import { full } from './factory.js';
import { startTs } from './procs-ts.js';

const cli = new URL('../../src/cli.ts', import.meta.url).pathname;
const child = new URL('../fixtures/access-child.ts', import.meta.url).pathname;
const ID = '20261122T010000Z';

function setup(t: Test): { cfg: string; root: string; dir: string } {
  const dir = mkdtempSync(join(tmpdir(), 'xb-access-cli-'));
  t.teardown(() => rmSync(dir, { recursive: true, force: true }));
  const root = join(dir, 'backup', 'db1');
  mkdirSync(join(root, 'full', ID), { recursive: true });
  writeFileSync(
    join(root, 'full', ID, 'manifest.json'),
    JSON.stringify(full(ID, 1000, { sha256: createHash('sha256').update('stream').digest('hex') })) + '\n',
  );
  writeFileSync(join(root, 'full', ID, 'backup.xbstream.zst'), 'stream');
  const cfg = join(dir, 'backup.conf');
  writeFileSync(
    cfg,
    [
      '[default]',
      'mysql_user = u',
      'mysql_password = p',
      `backup_dir = ${join(dir, 'backup')}`,
      `log = ${join(dir, 'xb.log')}`,
      `pid = ${join(dir, 'xb.pid')}`,
      '',
      '[db1]',
      '',
    ].join('\n'),
    { mode: 0o600 },
  );
  return { cfg, root, dir };
}

async function xb(t: Test, cfg: string, args: string[]) {
  const c = startTs(t, cli, ['--config', cfg, ...args], { XB_MGR_ACCESS_WAIT_MS: '300' });
  const code = await c.exit;
  return { code, stdout: c.out(), stderr: c.err() };
}

t.test(
  'a writer holds the catalog: keep, verify, restore give up naming it; list does not wait',
  async (t) => {
    const { cfg, root, dir } = setup(t);
    const writer = startTs(t, child, ['hold', root, 'write', 'retention', '-1']);
    await writer.line(/^held /);
    const target = join(dir, 'restored');
    const [keep, verify, restore, list] = await Promise.all([
      xb(t, cfg, ['keep', '--host', 'db1', ID]),
      xb(t, cfg, ['verify', '--host', 'db1']),
      xb(t, cfg, ['restore', '--host', 'db1', '--target-dir', target]),
      xb(t, cfg, ['list', '--host', 'db1']),
    ]);
    const holder = `PID ${writer.proc.pid} \\(retention\\) changes it since \\S+; try again when it is done`;
    const cases: [string, typeof keep, string][] = [
      ['keep', keep, `keep ${ID}`],
      ['verify', verify, 'verify'],
      ['restore', restore, 'restore'],
    ];
    for (const [name, r, command] of cases) {
      t.equal(r.code, 1, `${name}: exit 1`);
      t.match(
        r.stderr,
        new RegExp(
          `^xb-mgr: db1: waiting for PID ${writer.proc.pid} \\(retention, since \\S+\\) to finish`,
          'm',
        ),
        `${name}: says whom it waits for`,
      );
      t.match(
        r.stderr,
        new RegExp(`^xb-mgr: db1: ${command} waited 0\\.\\d s for the catalog ${root}: ${holder}$`, 'm'),
        `${name}: names the holder`,
      );
    }
    t.strictSame([...readPins(root)], [], 'keep pinned nothing');
    t.notOk(existsSync(target), 'restore created nothing');
    t.equal(list.code, 0, `list: exit 0 ${list.stderr}`);
    t.match(list.stdout, ID, 'list shows the catalog');
  },
);

t.test(
  'a backup runs (host lock held) and a restore reads: verify goes on, keep waits for the reader',
  async (t) => {
    const { cfg, root } = setup(t);
    const run = spawn('sleep', ['60'], { stdio: 'ignore' });
    await once(run, 'spawn');
    t.teardown(() => void run.kill('SIGKILL'));
    writeFileSync(
      join(root, '.lock'),
      JSON.stringify({
        pid: run.pid,
        start: procStart(run.pid!),
        since: new Date().toISOString(),
        command: 'db1',
      }),
    );
    const reader = startTs(t, child, ['hold', root, 'read', 'restore', '-1']);
    await reader.line(/^held /);
    const [verify, keep] = await Promise.all([
      xb(t, cfg, ['verify', '--host', 'db1']),
      xb(t, cfg, ['keep', '--host', 'db1', ID]),
    ]);
    t.equal(verify.code, 0, `verify: exit 0 ${verify.stderr}`);
    t.match(verify.stdout, '1 file(s) checked, 0 problem(s)');
    t.equal(keep.code, 1, 'keep: exit 1');
    t.match(keep.stderr, new RegExp(`PID ${reader.proc.pid} \\(restore\\) reads it since `));
    reader.proc.kill('SIGKILL');
    await reader.exit;
    const again = await xb(t, cfg, ['keep', '--host', 'db1', ID]);
    t.equal(again.code, 0, `keep once the restore is gone (its entry is stale): ${again.stderr}`);
    t.strictSame([...readPins(root)], [ID]);
  },
);
