/**
 * Shared parts of the hostile-host tests (issue 13): the tampering wrapper as a DB host's tool,
 * the canary `.so` and the backup-my.cnf attack, an xbstream reader, and the old way of running
 * (the command lines used before issue 13), which the positive controls feed tampered input to.
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { mkdirSync, symlinkSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { execa } from 'execa';
import { repo } from './sandbox.js';

export const MiB = 1024 * 1024;
export const WRAPPER = join(repo, 'test/e2e/fixtures/tamper-mariabackup');

/** Its exit code ('exit': a child whose stdout was handed to another child never emits 'close'). */
export function exited(c: ChildProcess): Promise<number | null> {
  return new Promise((resolve) => c.on('exit', (code) => resolve(code)));
}

/** Build test/e2e/fixtures/tamper-evil.c into `so`: its constructor appends to `canary`. */
export async function buildEvilSo(so: string, canary: string): Promise<void> {
  await execa('gcc', [
    '-shared',
    '-fPIC',
    `-DCANARY="${canary}"`,
    '-o',
    so,
    join(repo, 'test/e2e/fixtures/tamper-evil.c'),
  ]);
}

export interface CnfAttackPaths {
  /** The built evil.so, shipped in the stream. */
  so: string;
  /** Where general_log_file points. */
  generalLog: string;
  /** What the init_file's SQL writes (SELECT ... INTO OUTFILE). */
  initOut: string;
}

/** The cnf handles of issue 13 and the files they point at, shipped in the stream (a tamper mode). */
export function cnfAttack(p: CnfAttackPaths) {
  return {
    cnf_append: [
      'plugin_dir=/proc/self/cwd',
      'plugin_load=evil',
      'plugin_load_add=evil.so',
      'init_file=/proc/self/cwd/evil.sql',
      'general_log=1',
      `general_log_file=${p.generalLog}`,
    ],
    add: [
      { name: 'evil.so', file: p.so },
      { name: 'evil.sql', text: `SELECT 'pwned' INTO OUTFILE '${p.initOut}';\n` },
    ],
  };
}

/** The keys cnfAttack adds, as the manager reports them dropped. */
export const CNF_ATTACK_KEYS = [
  'plugin_dir',
  'plugin_load',
  'plugin_load_add',
  'init_file',
  'general_log',
  'general_log_file',
];

/**
 * A DB host's backup tool that tampers as `mode` says: `dir/mariabackup` (a link to the wrapper,
 * for `remote_tool_path`) and `dir/mariabackup.mode` beside it. Returns the tool's path.
 */
export function tamperTool(dir: string, mode: object): string {
  mkdirSync(dir, { recursive: true });
  const tool = join(dir, 'mariabackup');
  symlinkSync(WRAPPER, tool);
  writeFileSync(`${tool}.mode`, JSON.stringify(mode));
  return tool;
}

/** Entry names of a (zstd) xbstream, in order: magic, flags, type, path length, path[, len, off, crc, data]. */
export async function entries(stream: string): Promise<string[]> {
  const raw = (await execa('zstd', ['-dcq', stream], { encoding: 'buffer' })).stdout as Uint8Array;
  const b = Buffer.from(raw);
  const names: string[] = [];
  for (let p = 0; p < b.length;) {
    if (b.toString('latin1', p, p + 8) !== 'XBSTCK01') throw new Error(`no chunk at ${p}`);
    const type = String.fromCharCode(b[p + 9]!);
    const len = b.readUInt32LE(p + 10);
    const name = b.toString('utf8', p + 14, p + 14 + len);
    p += 14 + len;
    if (type === 'E') names.push(name);
    else p += 20 + Number(b.readBigUInt64LE(p));
  }
  return names;
}

/** Bytes a zstd file decompresses to, counted without keeping them. */
export async function decompressedBytes(file: string): Promise<number> {
  const z = spawn('zstd', ['-dcq', file], { stdio: ['ignore', 'pipe', 'inherit'] });
  let n = 0;
  z.stdout!.on('data', (c: Buffer) => (n += c.length));
  const code = await exited(z);
  if (code !== 0) throw new Error(`zstd -dc exited ${code}`);
  return n;
}

// The old way, frozen here as it was before issue 13 (src/engine/commands.ts extractArgs and
// prepareArgs, src/ready/commands.ts mysqldArgs with asRoot), so that later fixes of those
// builders do not weaken the controls.
export async function oldExtract(stream: string, dir: string) {
  mkdirSync(dir, { recursive: true });
  return execa(
    'bash',
    ['-o', 'pipefail', '-c', 'zstd -dcq "$1" | mbstream -x -p 2 -C "$2"', '_', stream, dir],
    {
      reject: false,
    },
  );
}

export async function oldPrepare(dir: string, incrementalDir?: string) {
  return execa(
    'mariabackup',
    ['--prepare', `--target-dir=${dir}`, ...(incrementalDir ? [`--incremental-dir=${incrementalDir}`] : [])],
    { reject: false },
  );
}

export async function withServer(cmd: string, args: string[], sock: string, fn: () => Promise<void>) {
  const server = spawn(cmd, args, { stdio: 'ignore', detached: true });
  const done = exited(server);
  try {
    let up = false;
    for (let i = 0; i < 150 && !up; i++) {
      up =
        (await execa('mariadb-admin', ['--no-defaults', `--socket=${sock}`, 'ping'], { reject: false }))
          .exitCode === 0;
      if (!up) await new Promise((r) => setTimeout(r, 200));
    }
    if (!up) throw new Error(`${cmd} did not start`);
    await fn();
  } finally {
    await execa('mariadb-admin', ['--no-defaults', `--socket=${sock}`, 'shutdown'], { reject: false });
    const timer = setTimeout(() => server.kill('SIGKILL'), 30_000);
    await done;
    clearTimeout(timer);
  }
}

export function oldMysqldArgs(datadir: string, run: string): string[] {
  return [
    `--defaults-file=${datadir}/backup-my.cnf`,
    `--datadir=${datadir}`,
    `--socket=${run}/s.sock`,
    `--pid-file=${run}/s.pid`,
    `--log-error=${run}/s.err`,
    '--skip-networking',
    '--skip-grant-tables',
    '--skip-slave-start',
    '--skip-log-bin',
    '--innodb-buffer-pool-size=256M',
    '--loose-innodb-buffer-pool-load-at-startup=0',
    '--loose-innodb-buffer-pool-dump-at-shutdown=0',
    '--user=root',
  ];
}
