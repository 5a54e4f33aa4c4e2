/**
 * The ready backup of a host after each successful backup: apply the new backup to the prepared
 * base (only the new one: the cost does not grow along the chain), verify a view of it (reflink,
 * overlay or copy: view.ts) with a temporary read-only mysqld and mysqlcheck on the tables in scope
 * (scope.ts), and compress the prepared base itself into ready/<id>.tar.zst.
 */
import { existsSync, mkdirSync, readdirSync, renameSync, rmSync } from 'node:fs';
import { delimiter, dirname, join } from 'node:path';
import type { HostConfig } from '../config/load.js';
import type { Manifest } from '../catalog/manifest.js';
import type { ReadyInfo } from '../catalog/ready-info.js';
import type { CatalogStore } from '../storage/catalog-store.js';
import { byIdMap, chainOf } from '../catalog/chain.js';
import { errorMessage } from '../errors.js';
import type { Log } from '../report/log.js';
import { run, startDaemon, tail, type Stage } from '../util/proc.js';
import { pipelineToFile } from './compress.js';
import { dirBytes, diskSpace } from '../util/size.js';
import { readTail } from '../util/safe-read.js';
import {
  applyChain,
  datadirFileLimit,
  finalize,
  managerBin as bin,
  needsFinalize,
  USE_MEMORY,
} from './apply.js';
import { dataOptions } from './data-options.js';
import { freshWorkDir, ownedByWorker, traversable, workerCommand, workerSetup } from './worker.js';
import { baseDir, dropBaseRecord, planApply, readBaseRecord, writeBaseRecord } from './base.js';
import { which } from '../engine/binaries.js';
import {
  changedFiles,
  describeTable,
  mysqlcheckTableArgs,
  parseTableList,
  planCheck,
  tableKeyOfFile,
  tableListArgs,
  type CheckPlan,
  type TableRef,
} from './scope.js';
import { cleanStaleMounts, openVerifyView, tablespaceStamps, viewMethods } from './view.js';
import { readySpaceNeed } from './space.js';
import {
  mysqlcheckArgs,
  mysqldArgs,
  pingArgs,
  readyCompressor,
  readyExtension,
  shutdownArgs,
  tarCreateArgs,
} from './commands.js';
import { asReadyFailure, isNoSpace, ReadyFailure } from './failure.js';
import { parseMysqlcheck, type CheckResult } from './mysqlcheck.js';
import { serverLogProblems } from './server-log.js';
import { faultPoint } from '../util/fault.js';
import { prepareDir, stagingDir } from '../storage/host-state.js';

export { ReadyFailure } from './failure.js';

export type { ReadyInfo } from '../catalog/ready-info.js';

async function sleep(ms: number): Promise<void> {
  await new Promise((r) => setTimeout(r, ms));
}

/** Where the verify mysqld of a copy keeps its socket, pid file and error log (the worker's). */
export function runDirOf(copy: string): string {
  return `${copy}.run`;
}

/**
 * Start a temporary mysqld on dir as the worker, without network, with the backup's allowlisted
 * layout after --no-defaults (never its option file); ask it for its tables, let `choose` decide
 * the scope, run mysqlcheck on it; shut it down cleanly. Its clients run as the worker too: they
 * parse what a server on hostile data says.
 */
async function verify(
  h: HostConfig,
  dir: string,
  id: string,
  m: Manifest,
  options: readonly string[],
  choose: (tables: readonly TableRef[], listed: boolean) => CheckPlan,
): Promise<{ tables: number; plan: CheckPlan }> {
  const setup = workerSetup();
  const sqlClient = mysqlClient(h);
  const runDir = runDirOf(dir);
  freshWorkDir(setup, runDir);
  const socket = join(runDir, 'mysqld.sock');
  const errorLog = join(runDir, 'mysqld.err');
  const paths = { datadir: dir, socket, pidFile: join(runDir, 'mysqld.pid'), errorLog };
  const limits = (timeoutMs: number) => ({
    timeoutMs,
    threads: 4,
    maxFileBytes: datadirFileLimit(dir),
  });
  // mysqld sets its own umask (0660 files) unless told otherwise: keep the copy private.
  const server = workerCommand(setup, bin(h, 'mysqld'), mysqldArgs(paths, options), {
    ...limits((h.timeouts.verify + 180) * 1000),
    env: { UMASK: '0600', UMASK_DIR: '0700' },
  });
  const mysqld = startDaemon(server.cmd, server.args, {
    timeoutMs: (h.timeouts.verify + 180) * 1000,
    ...(server.env ? { env: server.env } : {}),
    label: 'mysqld',
  });
  const client = (role: 'mysqladmin' | 'mysqlcheck' | 'mysql', args: string[], timeoutMs: number) => {
    const path = role === 'mysql' ? sqlClient! : bin(h, role);
    const c = workerCommand(setup, path, args, limits(timeoutMs));
    return run(c.cmd, c.args, { timeoutMs, reject: false, label: role });
  };
  const errText = () => readTail(errorLog, 1 << 20);
  const errTail = () => {
    const text = errText();
    return text !== undefined ? tail(text, 15) : '(no error log)';
  };
  const fail = (msg: string, details?: string) =>
    new ReadyFailure(msg, 'verify', dir, m, details ?? `mysqld error log:\n${errTail()}`);
  try {
    const deadline = Date.now() + Math.min(h.timeouts.verify, 600) * 1000;
    for (;;) {
      if (!mysqld.isRunning())
        throw fail(`the temporary mysqld exited before it was ready: ${errTail().split('\n').pop()}`);
      const p = await client('mysqladmin', pingArgs(socket), 10_000);
      if (p.exitCode === 0) break;
      if (Date.now() > deadline) throw fail('the temporary mysqld did not become ready in time');
      await sleep(100);
    }
    await faultPoint('verify');
    // The server's tables (the scope needs them); without a client or with names that cannot
    // travel as arguments, everything is checked.
    const listing = sqlClient ? await client('mysql', tableListArgs(socket), 120_000) : undefined;
    const listed = listing?.exitCode === 0 ? parseTableList(listing.stdout) : undefined;
    const plan = choose(listed?.tables ?? [], listed !== undefined && listed.refused.length === 0);
    const deadline2 = Date.now() + h.timeouts.verify * 1000;
    const argvs = plan.full ? [mysqlcheckArgs(socket)] : mysqlcheckTableArgs(socket, plan.tables);
    const parsed: CheckResult = { tables: 0, notOk: [] };
    let out = '';
    let exit: number | undefined = 0;
    for (const argv of argvs) {
      const c = await client('mysqlcheck', argv, Math.max(1000, deadline2 - Date.now()));
      const p = parseMysqlcheck(c.stdout);
      parsed.tables += p.tables;
      parsed.notOk.push(...p.notOk);
      out += c.stdout + c.stderr;
      if (c.exitCode !== 0) exit = c.exitCode;
      if (c.exitCode !== 0 || p.notOk.length > 0) break;
    }
    if (exit !== 0 || parsed.notOk.length > 0 || parsed.tables === 0) {
      const found = parsed.notOk.slice(0, 5).join('; ') || `exit code ${exit}: ${tail(out, 2)}`;
      throw fail(
        `mysqlcheck found problems in ${id} (${plan.full ? 'full check' : 'check of the changed tables'}; ${plan.reason}): ${found}`,
        `mysqlcheck output:\n${tail(out, 30)}\nmysqld error log:\n${errTail()}`,
      );
    }
    await client('mysqladmin', shutdownArgs(socket), 60_000);
    let timer: NodeJS.Timeout | undefined;
    const stopped = await Promise.race([
      mysqld.exited,
      new Promise<undefined>((r) => {
        timer = setTimeout(() => r(undefined), 120_000);
      }),
    ]);
    clearTimeout(timer);
    if (!stopped) throw fail('the temporary mysqld did not stop in time');
    if (stopped.exitCode !== 0)
      throw fail(`the temporary mysqld exited with code ${stopped.exitCode ?? stopped.signal} at shutdown`);
    const problems = serverLogProblems(errText() ?? '');
    if (problems.length > 0) throw fail(`the temporary mysqld logged errors: ${problems[0]}`);
    return { tables: parsed.tables, plan };
  } finally {
    await mysqld.kill();
  }
}

/** The SQL client beside mysqlcheck (for the table list); undefined: none, check everything. */
function mysqlClient(h: HostConfig): string | undefined {
  const beside = dirname(bin(h, 'mysqlcheck'));
  return which(['mariadb', 'mysql'], [beside, process.env.PATH ?? ''].join(delimiter));
}

export async function makeReady(
  h: HostConfig,
  root: string,
  store: CatalogStore,
  backups: readonly Manifest[],
  leaf: Manifest,
  log: Log,
  now: Date = new Date(),
): Promise<ReadyInfo> {
  const steps: ReadyInfo['steps'] = [];
  const timed = async <T>(
    step: string,
    fn: () => Promise<T>,
    extra: Partial<ReadyInfo['steps'][number]> = {},
  ): Promise<T> => {
    const t0 = Date.now();
    const r = await fn();
    const s = { step, seconds: Math.round((Date.now() - t0) / 100) / 10, ...extra };
    steps.push(s);
    log.info(
      { step: `ready:${step}`, ...extra, seconds: s.seconds },
      `${step}${extra.backup ? ` ${extra.backup}` : ''} done`,
    );
    return r;
  };
  const chain = chainOf(leaf, byIdMap(backups));
  if (chain.broken)
    throw new ReadyFailure(`cannot prepare ${leaf.id}: ${chain.broken}`, 'prepare', undefined, leaf);
  const prep = prepareDir(root);
  mkdirSync(prep, { recursive: true, mode: 0o700 });
  // An overlay left mounted by a killed run: before anything below prep/ or tmp/ is removed.
  for (const mp of await cleanStaleMounts([prep, stagingDir(root)]))
    log.warn({ step: 'ready:view' }, `unmounted ${mp}, left mounted by an interrupted run`);
  const setup = workerSetup();
  // The worker reaches its working directories below prepare/ by path; it can list none of these.
  traversable(setup, [h.backupDir, root, prep]);
  const base = baseDir(root);
  // Once per run: the prepare and the verify read the same option file.
  const reported = new Set<string>();
  const onDropped = (msg: string) => {
    if (reported.has(msg)) return;
    reported.add(msg);
    log.warn({ step: 'ready:cnf' }, msg);
  };
  // A record without its directory (deleted by hand), or a base the worker does not own (made by
  // an older version as root), is no base at all.
  const record = ownedByWorker(setup, base) ? readBaseRecord(root) : undefined;
  const plan = planApply(chain.backups, record);

  // Space: what the apply adds, the verify view (a copy only where overlay cannot be had) and
  // the ready file; a plain copy is checked again if the copy-free views fail (view.ts).
  const need = readySpaceNeed({
    rebuild: plan.rebuild,
    baseBytes: plan.rebuild ? 0 : dirBytes(base),
    applyBytes: plan.apply.reduce((n, m) => n + m.bytes, 0),
    viewMayCopy: !viewMethods(process.env.XB_VERIFY_VIEW, setup !== null, needsFinalize(h)).includes(
      'overlay',
    ),
  });
  const free = diskSpace(root).free;
  if (free < need) {
    throw new ReadyFailure(
      `not enough free space for the ready backup in ${root}: ${free} bytes free, about ${need} needed`,
      'space',
    );
  }

  if (plan.rebuild) {
    if (leaf.type !== 'full')
      log.warn(
        { step: 'ready:rebuild' },
        `rebuilding the prepared base from the stored streams: ${plan.why}`,
      );
    dropBaseRecord(root);
    rmSync(base, { recursive: true, force: true });
  } else {
    dropBaseRecord(root);
  }
  // What the apply changes decides what the verify checks (scope.ts).
  const before = plan.rebuild ? undefined : tablespaceStamps(base);
  await applyChain(
    h,
    store,
    plan.apply,
    base,
    { final: false, incrementalDir: (m) => join(prep, `inc-${m.id}`), useMemory: USE_MEMORY },
    { timed, onDropped },
  );
  await faultPoint('prepare');
  const after = tablespaceStamps(base);
  const changed = before ? changedFiles(before, after) : [];
  const ownFiles = new Set([...after.keys()].map(tableKeyOfFile).filter((k) => k !== undefined));
  const lastFull = plan.rebuild ? undefined : record?.full_check_at;
  const baseRecord = {
    last_applied: leaf.id,
    chain: chain.backups.map((b) => b.id),
    to_lsn: leaf.to_lsn,
    ...(lastFull ? { full_check_at: lastFull } : {}),
  };
  writeBaseRecord(root, baseRecord);

  // Verify a view of the base: the base itself is never started by a mysqld (it could not take
  // another apply), and the view is made without copying it where the machine allows (view.ts).
  for (const n of readdirSync(prep))
    if (n.startsWith('verify-')) rmSync(join(prep, n), { recursive: true, force: true });
  const tmp = stagingDir(root);
  mkdirSync(tmp, { recursive: true, mode: 0o700 });
  for (const n of readdirSync(tmp))
    if (n.endsWith('.ovl')) rmSync(join(tmp, n), { recursive: true, force: true });
  const copy = join(prep, `verify-${leaf.id}`);
  const copyLimits = {
    timeoutMs: h.timeouts.prepare * 1000,
    threads: 1,
    maxFileBytes: datadirFileLimit(root),
  };
  // XtraBackup's final prepare writes into the view: a real copy, which is then what is compressed.
  const finalizing = needsFinalize(h);
  const t0 = Date.now();
  const view = await (async () => {
    try {
      return await openVerifyView({
        setup,
        base,
        dir: copy,
        scratch: tmp,
        cp: bin(h, 'cp'),
        limits: copyLimits,
        mustCopy: finalizing,
        onFallback: (method, why) =>
          log.info({ step: 'ready:view' }, `no ${method} view (${why}); trying the next way`),
      });
    } catch (e) {
      const f = asReadyFailure(e, 'making the verify view of the prepared base', 'prepare', {
        workDir: copy,
      });
      if (f.stage === 'space') rmSync(copy, { recursive: true, force: true });
      throw f;
    }
  })();
  const viewStep: ReadyInfo['steps'][number] = {
    step: 'copy',
    seconds: Math.round((Date.now() - t0) / 100) / 10,
    method: view.method,
  };
  steps.push(viewStep);
  // Compress the prepared data (never a server-touched view) into tmp/, then its description and
  // the rename into ready/.
  const ext = readyExtension(h.compress);
  const tmpFile = join(stagingDir(root), `${leaf.id}${ext}.part`);
  const compress = (source: string, signal?: AbortSignal) =>
    timed('compress', async () => {
      // tar reads the worker's directory, so it runs as the worker; root only compresses its output.
      const stages: Stage[] = [
        {
          ...workerCommand(setup, bin(h, 'tar'), tarCreateArgs(source), {
            ...copyLimits,
            timeoutMs: h.timeouts.compress * 1000,
          }),
          label: 'tar',
        },
      ];
      const comp = readyCompressor(
        h.compress,
        h.compressLevel,
        h.compress === 'none' ? '' : bin(h, 'compressor'),
      );
      if (comp) stages.push(comp);
      try {
        return await pipelineToFile(stages, tmpFile, h.timeouts.compress * 1000, signal);
      } catch (e) {
        throw new ReadyFailure(
          `compressing the ready backup failed: ${isNoSpace(e) ? 'the disk is full' : errorMessage(e)}`,
          isNoSpace(e) ? 'space' : 'compress',
        );
      }
    });
  // MariaBackup: the compress reads the base, which nothing writes any more (the verify server runs
  // on a view of it, InnoDB read-only), so it runs beside the verify: the disk reads the base while
  // the server checks. The ready file is committed only once the check has passed; a failed check
  // stops the compress and removes the partial file. XtraBackup compresses the finalized view after.
  const stopCompress = new AbortController();
  const compressing = finalizing ? undefined : compress(base, stopCompress.signal);
  compressing?.catch(() => undefined); // awaited below, or stopped on a failed check
  let checked: { tables: number; plan: CheckPlan };
  try {
    // The base stays applicable; the view is made startable (XtraBackup's final prepare).
    if (finalizing) await timed('prepare', () => finalize(h, copy, leaf, onDropped), { backup: leaf.id });
    const serverOptions = await dataOptions(h, copy, leaf, onDropped);
    const choose = (tables: readonly TableRef[], listed: boolean): CheckPlan => {
      const p = planCheck({
        scope: h.verifyScope,
        fullDays: h.verifyFullDays,
        newBase: plan.rebuild,
        lastFullCheckAt: lastFull,
        now,
        changedFiles: changed,
        ownFiles,
        tables,
      });
      if (!p.full && !listed)
        return { full: true, reason: 'full check: the table list could not be read', tables: [] };
      log.info(
        { step: 'ready:scope', full: p.full, tables: p.tables.length, changed_files: changed.length },
        p.full ? `checking every table (${p.reason})` : `checking ${p.tables.length} tables (${p.reason})`,
      );
      return p;
    };
    checked = await timed('verify', () => verify(h, copy, leaf.id, leaf, serverOptions, choose));
    viewStep.bytes = view.bytesWritten();
    log.info(
      { step: 'ready:copy', method: view.method, bytes: viewStep.bytes },
      `verify view by ${view.method}: ${viewStep.bytes} bytes written beside the base`,
    );
  } catch (e) {
    stopCompress.abort();
    await compressing?.catch(() => undefined);
    rmSync(tmpFile, { force: true }); // it may have finished before the check failed
    throw e;
  } finally {
    await view.close();
  }
  rmSync(runDirOf(copy), { recursive: true, force: true });
  const fullCheckAt = checked.plan.full ? now.toISOString() : lastFull;
  if (checked.plan.full) writeBaseRecord(root, { ...baseRecord, full_check_at: now.toISOString() });
  const written = await (compressing ?? compress(copy));
  // Steps in the order of the work, whichever of verify and compress ended first.
  steps.push(
    ...steps.splice(
      steps.findIndex((x) => x.step === 'compress'),
      1,
    ),
  );
  await faultPoint('compress');
  const info: ReadyInfo = {
    id: leaf.id,
    host: h.name,
    file: `${leaf.id}${ext}`,
    contains: chain.backups.map((b) => b.id),
    to_lsn: leaf.to_lsn,
    ...(leaf.binlog ? { binlog: leaf.binlog } : {}),
    bytes: written.bytes,
    sha256: written.sha256,
    compress: h.compress,
    check: {
      tool: 'mysqlcheck',
      tables: checked.tables,
      ok: true,
      scope: checked.plan.full ? 'all' : 'changed',
      reason: checked.plan.reason,
      ...(fullCheckAt ? { full_check_at: fullCheckAt } : {}),
      ...(checked.plan.full ? {} : { checked: checked.plan.tables.map(describeTable) }),
    },
    rebuilt_base: plan.rebuild && leaf.type !== 'full',
    ...(plan.rebuild && leaf.type !== 'full' ? { rebuild_reason: plan.why } : {}),
    steps,
    created_at: new Date().toISOString(),
  };
  await store.commitReady(tmpFile, info);
  rmSync(copy, { recursive: true, force: true });
  return info;
}

/** Keep a failed working directory as prepare/failed-<id> (only the newest failure per host). */
export function keepFailed(root: string, dir: string | undefined, id: string): string | undefined {
  const prep = prepareDir(root);
  if (!existsSync(prep)) return undefined;
  for (const n of readdirSync(prep))
    if (n.startsWith('failed-')) rmSync(join(prep, n), { recursive: true, force: true });
  if (!dir || !existsSync(dir)) return undefined;
  const dest = join(prep, `failed-${id}`);
  renameSync(dir, dest);
  const log = join(runDirOf(dir), 'mysqld.err');
  if (existsSync(log)) renameSync(log, join(dest, 'xb-mgr-mysqld.err'));
  rmSync(runDirOf(dir), { recursive: true, force: true });
  return dest;
}
