/**
 * Shared access to the sandbox hosts for e2e tests. `scripts/sandbox up 2` is idempotent, so each
 * file may call it; files run one at a time (tap --jobs=1) and restore what they break.
 */
import { execFileSync } from 'node:child_process';
import { chmodSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { execa } from 'execa';

export const repo = fileURLToPath(new URL('../..', import.meta.url));
export const sandboxDir = process.env.XB_SANDBOX_DIR ?? join(repo, '.sandbox');
/** Host 2 is named by its IP address in the sandbox inventory. */
export const sb2Address = `${process.env.XB_SANDBOX_NET ?? '127.0.1'}.2`;
/** sb2Address as a regular expression source. */
export const sb2Re = sb2Address.replaceAll('.', '\\.');
const script = join(repo, 'scripts', 'sandbox');

export function sandbox(...args: string[]): string {
  return execFileSync('bash', [script, ...args], { encoding: 'utf8', stdio: ['ignore', 'pipe', 'pipe'] });
}

export function sandboxUp(n = 2): void {
  sandbox('up', String(n));
}

export function sql(host: string, query: string): string {
  return sandbox('sql', host, query).trim();
}

/** Set `key = value` lines in a section of an ini text, replacing keys it already has. */
export function setKeys(text: string, section: string, lines: string[]): string {
  const keys = new Set(lines.map((l) => l.split('=')[0]!.trim()));
  const out: string[] = [];
  let cur = '';
  for (const line of text.split('\n')) {
    const header = /^\[(.*)\]$/.exec(line);
    if (header) {
      cur = header[1]!;
      out.push(line);
      if (cur === section) out.push(...lines);
      continue;
    }
    if (cur === section && keys.has(line.split('=')[0]!.trim())) continue;
    out.push(line);
  }
  return out.join('\n');
}

/**
 * Directories testConfig made, removed when the test file's process exits: each holds a catalog
 * (up to 0.5 GB) and a reused CI machine would fill up. XB_E2E_KEEP=1 keeps them for a post-mortem.
 */
const madeDirs: string[] = [];
process.once('exit', () => {
  if (process.env.XB_E2E_KEEP === '1') return;
  for (const d of madeDirs) {
    try {
      rmSync(d, { recursive: true, force: true });
    } catch {
      // A mount left inside by a failed test: leave it to the operator rather than fail the exit.
    }
  }
});

/** A fresh directory under the system tmp, removed when the test file's process exits. */
export function e2eTempDir(prefix: string): string {
  const dir = mkdtempSync(join(tmpdir(), prefix));
  madeDirs.push(dir);
  return dir;
}

/**
 * A config for the sandbox hosts with its own backup_dir, logs and lock, so a test starts from an
 * empty catalog. `extra` lines are set in [default]; `hostExtra` in a host's section.
 */
export function testConfig(
  extra: string[] = [],
  hostExtra: Record<string, string[]> = {},
): { file: string; dir: string } {
  const dir = e2eTempDir('xb-e2e-');
  // backup_dir's parents must let the unprivileged worker pass (never list): as /backup would.
  chmodSync(dir, 0o711);
  const base = readFileSync(join(sandboxDir, 'backup.conf'), 'utf8');
  let text = base
    .replace(/^backup_dir = .*$/m, `backup_dir = ${dir}/backups`)
    .replace(/^log = .*backup_manager\.log$/m, `log = ${dir}/backup_manager.log`)
    .replace(/^pid = .*$/m, `pid = ${dir}/xb-mgr.pid`)
    .replace(/^log = .*\/logs\/(sb\d+)\.log$/gm, `log = ${dir}/$1.log`);
  text = setKeys(text, 'default', extra);
  for (const [host, lines] of Object.entries(hostExtra)) text = setKeys(text, host, lines);
  const file = join(dir, 'backup.conf');
  writeFileSync(file, text, { mode: 0o600 });
  return { file, dir };
}

export interface CliResult {
  exitCode: number;
  stdout: string;
  stderr: string;
}

/** Run the built CLI as a user would. */
export async function xbMgr(args: string[], env: Record<string, string> = {}): Promise<CliResult> {
  const r = await execa('node', [join(repo, 'dist', 'cli.js'), ...args], {
    reject: false,
    env,
    timeout: 900_000,
  });
  return { exitCode: r.exitCode ?? -1, stdout: String(r.stdout), stderr: String(r.stderr) };
}
