/**
 * Bad input (issue 7): hundreds of generated malformed backup.conf files and dozens of malformed
 * Ansible inventories, each run through the real CLI. A bad config must stop `check` and `plan`
 * before anything is done: exit 2, one line on stderr naming the problem, no stack trace, nothing
 * on stdout, no secret shown. A bad inventory must never reach ssh. No injected command may run.
 *
 * Needs no DB host and opens no network connection: every host is under `.invalid` and absent from
 * every inventory. Reproduce a failure with XB_BADINPUT_SEED=<seed> (printed in every message);
 * XB_BADINPUT_CONFIGS sets the number of generated configs.
 */
import t from 'tap';
import { spawn } from 'node:child_process';
import { existsSync, mkdirSync, mkdtempSync, readdirSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import {
  baseLines,
  configCases,
  explicitConfigs,
  inventoryCases,
  keyCaseConfig,
  keyCaseSample,
  serialize,
  type ConfigCase,
  type Env,
} from './badinput-gen.js';

const repo = join(dirname(fileURLToPath(import.meta.url)), '..', '..');
const cli = join(repo, 'dist', 'cli.js');
const SEED = Number(process.env.XB_BADINPUT_SEED ?? 20260607);
const N_CONFIGS = Number(process.env.XB_BADINPUT_CONFIGS ?? 200);
const JOBS = 3;
const TIMEOUT_MS = 60_000;

// About 500 CLI runs and 80 ansible-inventory calls: 2-3 minutes on an idle 2-core machine,
// several times that on a loaded one.
t.setTimeout(1_200_000);

const dir = mkdtempSync(join(tmpdir(), 'xb-badinput-'));
const cwd = join(dir, 'cwd');
mkdirSync(cwd);
const env: Env = { dir, canary: join(dir, 'CANARY'), secret: `PW-SECRET-${SEED}` };
const noInventory = join(dir, 'no-such-inventory.ini');
t.teardown(() => rmSync(dir, { recursive: true, force: true }));
t.comment(`seed ${SEED}, temp dir ${dir}`);

interface Result {
  code: number | null;
  stdout: string;
  stderr: string;
  timedOut: boolean;
  /** Canary files present right after this command. */
  canaries: string[];
}

/** The CLI, in an empty cwd, with no inventory or config to fall back on and no debug stack traces. */
function xbMgr(args: string[]): Promise<Result> {
  const childEnv: NodeJS.ProcessEnv = {
    ...process.env,
    ANSIBLE_INVENTORY: noInventory,
    XB_MGR_CONFIG: join(dir, 'no-such.conf'),
    ANSIBLE_NOCOLOR: '1',
  };
  delete childEnv.XB_MGR_DEBUG;
  // tap's process-info hook would load into every child and slow it down several times.
  delete childEnv.NODE_OPTIONS;
  for (const k of Object.keys(childEnv)) if (k.startsWith('_TAPJS_')) delete childEnv[k];
  return new Promise((resolve) => {
    const p = spawn(process.execPath, [cli, ...args], {
      cwd,
      env: childEnv,
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    let stdout = '';
    let stderr = '';
    p.stdout.setEncoding('utf8').on('data', (d: string) => (stdout += d));
    p.stderr.setEncoding('utf8').on('data', (d: string) => (stderr += d));
    let timedOut = false;
    const timer = setTimeout(() => {
      timedOut = true;
      p.kill('SIGKILL');
    }, TIMEOUT_MS);
    p.on('close', (code) => {
      clearTimeout(timer);
      resolve({ code, stdout, stderr, timedOut, canaries: canaries() });
    });
  });
}

async function pool<T, R>(items: T[], limit: number, fn: (x: T, i: number) => Promise<R>): Promise<R[]> {
  const out: R[] = new Array<R>(items.length);
  let next = 0;
  const worker = async () => {
    while (next < items.length) {
      const i = next++;
      out[i] = await fn(items[i]!, i);
    }
  };
  await Promise.all(Array.from({ length: Math.min(limit, items.length) }, worker));
  return out;
}

const STACK = /^\s+at |node:internal|internal error|^\w*Error\b|^\s*throw /m;

/** Everything that must hold whatever the exit code: no stack, no secret, no injected command. */
function common(r: Result): string[] {
  const p: string[] = [];
  if (r.timedOut) p.push(`hung (killed after ${TIMEOUT_MS / 1000} s)`);
  if (STACK.test(r.stderr) || STACK.test(r.stdout)) p.push('stack trace or internal error');
  if ((r.stdout + r.stderr).includes(env.secret)) p.push('the password was printed');
  if (r.canaries.length > 0) p.push(`INJECTED COMMAND RAN: ${r.canaries.join(', ')}`);
  return p;
}

/** Files an injection would create: the canary, or anything in the (empty) cwd. */
function canaries(): string[] {
  return [...(existsSync(env.canary) ? [env.canary] : []), ...readdirSync(cwd).map((f) => join(cwd, f))];
}

const show = (s: string) => JSON.stringify(s.length > 400 ? `${s.slice(0, 400)}...` : s);

let configsTried = 0;
let configsRejected = 0;

t.test('the base config is valid, and a valid config stops at the missing inventory (no ssh)', async (t) => {
  const file = join(dir, 'base.conf');
  writeFileSync(file, serialize(baseLines(env)), { mode: 0o600 });
  const plan = await xbMgr(['--config', file, 'plan']);
  t.equal(plan.code, 0, `plan exits 0: ${show(plan.stderr)}`);
  const check = await xbMgr(['--config', file, '--inventory', noInventory, 'check', '--json']);
  t.equal(check.code, 2, 'check exits 2 (no inventory: nothing was done)');
  const doc = JSON.parse(check.stdout) as { checks: { host: string; check: string; ok: boolean }[] };
  t.ok(
    doc.checks.some((l) => l.check === 'inventory' && !l.ok),
    'the inventory check fails',
  );
  t.notOk(
    doc.checks.some((l) => l.host !== 'manager' && (l.check === 'ssh' || l.check === 'setup')),
    'no host reached ssh',
  );
  t.same(common(plan).concat(common(check)), []);
});

/** Each config through `check` and `plan` (one process each), JOBS at a time. */
async function runConfigs(cases: ConfigCase[], sub: string) {
  const cfgDir = join(dir, sub);
  mkdirSync(cfgDir);
  return pool(cases, JOBS, async (c, i) => {
    const file = join(cfgDir, `c${i}.conf`);
    if (c.special === 'dir') mkdirSync(file);
    else if (c.special !== 'missing') writeFileSync(file, c.bytes!, { mode: 0o600 });
    const out: { cmd: string; r: Result }[] = [];
    for (const cmd of ['check', 'plan']) {
      out.push({ cmd, r: await xbMgr(['--config', file, '--inventory', noInventory, cmd]) });
    }
    return { c, file, out };
  });
}

/** What is wrong with how the CLI reported one bad config (nothing: as it must). */
function configProblems(c: ConfigCase, file: string, out: { cmd: string; r: Result }[]): string[] {
  const problems: string[] = [];
  for (const { cmd, r } of out) {
    const p = common(r).map((x) => `${cmd}: ${x}`);
    const lines = r.stderr.replace(/\n$/, '').split('\n');
    if (r.code !== 2) p.push(`${cmd}: exit ${r.code}, not 2`);
    if (lines.length !== 1) p.push(`${cmd}: ${lines.length} lines on stderr, not 1`);
    if (!lines[0]?.startsWith(`xb-mgr: ${file}`))
      p.push(`${cmd}: the message does not start with the file name`);
    if ((lines[0] ?? '').length > 1000) p.push(`${cmd}: a ${lines[0]!.length}-character line`);
    if (!c.want.test(r.stderr)) p.push(`${cmd}: the message does not match ${c.want}`);
    if (
      c.line !== undefined &&
      !r.stderr.startsWith(`xb-mgr: ${file}:${c.line} `) &&
      !r.stderr.startsWith(`xb-mgr: ${file}:${c.line}:`)
    )
      p.push(`${cmd}: the message does not name line ${c.line}`);
    if (r.stdout !== '') p.push(`${cmd}: stdout not empty: ${show(r.stdout)}`);
    if (p.length > 0) problems.push(...p, `${cmd} stderr: ${show(r.stderr)}`);
  }
  if (out[0]!.r.stderr !== out[1]!.r.stderr) problems.push('check and plan report differently');
  configsTried++;
  if (out.every(({ r }) => r.code === 2)) configsRejected++;
  return problems;
}

t.test(`${N_CONFIGS}+ malformed configs: check and plan exit 2 with one line`, async (t) => {
  const started = Date.now();
  const results = await runConfigs(configCases(SEED, N_CONFIGS, env), 'configs');
  for (const { c, file, out } of results)
    t.same(configProblems(c, file, out), [], `seed ${SEED} config ${c.name}`);
  t.comment(
    `configs: ${configsTried} tried, ${configsRejected} rejected with exit 2 by both check and plan (${((Date.now() - started) / 1000).toFixed(1)} s)`,
  );
});

// Issue 19: the four explicit rows with their exact lines, and a fixed sample of the cases the key
// table generates (every key and every family at least once; all of them run in-process in
// test/unit/config-badinput.test.ts).
t.test('generated from the key table: the explicit rows and every key through the CLI', async (t) => {
  const started = Date.now();
  const explicit = explicitConfigs(env);
  const sample = keyCaseSample(env).map((c) => keyCaseConfig(c, env));
  const results = await runConfigs([...explicit, ...sample], 'keys');
  results.forEach(({ c, file, out }, i) => {
    const problems = configProblems(c, file, out);
    const x = explicit[i];
    if (x && out.some(({ r }) => r.stderr !== `xb-mgr: ${file}:${x.message}\n`))
      problems.push(`not exactly the line "xb-mgr: FILE:${x.message}"`);
    t.same(problems, [], `key table: ${c.name}`);
  });
  t.comment(
    `key table: ${explicit.length} explicit rows and ${sample.length} sampled key cases (${((Date.now() - started) / 1000).toFixed(1)} s)`,
  );
});

let inventoriesTried = 0;
let inventoriesOk = 0;

t.test('malformed inventories: an error or a failed host, never ssh', async (t) => {
  const cases = inventoryCases(SEED, env);
  const started = Date.now();
  const results = await pool(cases, JOBS, async (c, i) => {
    const caseDir = join(dir, `inv${i}`);
    mkdirSync(caseDir);
    for (const [name, content] of Object.entries(c.files)) {
      const path = join(caseDir, name);
      mkdirSync(dirname(path), { recursive: true });
      if (name.endsWith('/')) mkdirSync(path, { recursive: true });
      else writeFileSync(path, content, { mode: 0o600 });
    }
    // The base config, with this case's own log, lock and catalog, and the inventory under test.
    const lines = baseLines({ ...env, dir: caseDir }).map((l) =>
      l.key === 'ansible_inventory' ? { ...l, text: `ansible_inventory = ${join(caseDir, c.inventory)}` } : l,
    );
    const file = join(caseDir, 'backup.conf');
    writeFileSync(file, serialize(lines), { mode: 0o600 });
    const check = await xbMgr(['--config', file, 'check', '--json']);
    const run = await xbMgr(['--config', file, 'run', '--json']);
    return { c, check, run };
  });
  for (const { c, check, run } of results) {
    const p = [...common(check).map((x) => `check: ${x}`), ...common(run).map((x) => `run: ${x}`)];
    let checks: { host: string; check: string; ok: boolean; detail: string }[] = [];
    try {
      checks = (JSON.parse(check.stdout) as { checks: typeof checks }).checks;
    } catch {
      p.push(`check --json printed no JSON: ${show(check.stdout)}`);
    }
    if (checks.some((l) => l.host !== 'manager' && (l.check === 'ssh' || l.check === 'setup')))
      p.push('check REACHED SSH');
    const wantCheck = c.expect === 'missing' ? 1 : 2;
    if (check.code !== wantCheck) p.push(`check: exit ${check.code}, not ${wantCheck}`);
    const inv = checks.find((l) => l.host === 'manager' && l.check === 'inventory');
    if (c.expect === 'missing') {
      if (!inv?.ok) p.push(`check: the inventory should parse: ${show(inv?.detail ?? '')}`);
      for (const h of ['db1', 'db2']) {
        const l = checks.find((x) => x.host === h && x.check === 'inventory');
        if (l?.ok !== false || !/\.invalid is not in the inventory/.test(l.detail))
          p.push(`check: ${h} is not reported missing from the inventory`);
      }
      if (run.code !== 1) p.push(`run: exit ${run.code}, not 1`);
      if (!/db1\.invalid is not in the inventory/.test(run.stdout))
        p.push('run: db1 is not reported missing');
    } else {
      const why = c.expect === 'notfound' ? /file not found/ : /cannot be parsed/;
      if (inv?.ok !== false || !why.test(inv.detail))
        p.push(`check: the inventory is not reported ${why}: ${show(inv?.detail ?? '')}`);
      const lines = run.stderr.replace(/\n$/, '').split('\n');
      const msg = lines[lines.length - 1] ?? '';
      if (run.code !== 2) p.push(`run: exit ${run.code}, not 2`);
      if (lines.length !== 1) p.push(`run: ${lines.length} lines on stderr, not one`);
      if (!/^xb-mgr: inventory /.test(msg) || !why.test(msg)) p.push(`run: the message does not say ${why}`);
      if (msg.length > 1000) p.push(`run: a ${msg.length}-character line`);
      if (run.stdout !== '') p.push(`run: stdout not empty`);
    }
    if (p.length > 0) p.push(`check stdout: ${show(check.stdout)}`, `run stderr: ${show(run.stderr)}`);
    inventoriesTried++;
    if (p.length === 0) inventoriesOk++;
    t.same(p, [], `seed ${SEED} inventory ${c.name}`);
  }
  t.comment(
    `inventories: ${inventoriesTried} tried, ${inventoriesOk} handled as specified ` +
      `(${results.filter((x) => x.c.expect !== 'missing').length} unparsable or absent: run and check exit 2; ` +
      `${results.filter((x) => x.c.expect === 'missing').length} without the config's hosts: exit 1, no ssh) ` +
      `(${((Date.now() - started) / 1000).toFixed(1)} s)`,
  );
});

t.test('no injected command ever ran', async (t) => {
  t.same(canaries(), [], 'no canary file');
  t.comment(
    `totals: ${configsTried} configs tried, ${configsRejected} rejected with exit 2; ` +
      `${inventoriesTried} inventories tried, ${inventoriesOk} handled as specified; canary never created`,
  );
});
