/**
 * `xb-mgr restore --target-dir DIR`: unpack a ready file (checking its sha256 in the same read) or
 * prepare a chain from the stored streams (--backup ID) into a directory on the manager. Work
 * happens in a staging directory beside the target and is renamed into place at the end, so a
 * failure leaves no half-restored target; an existing non-empty target (--force) is moved aside,
 * never deleted.
 */
import { createHash } from 'node:crypto';
import type { Readable } from 'node:stream';
import { existsSync, lchownSync, mkdirSync, readdirSync, renameSync, rmdirSync, rmSync } from 'node:fs';
import { basename, dirname, join, resolve } from 'node:path';
import type { Context } from '../context.js';
import type { HostConfig } from '../config/load.js';
import { hostDir } from '../catalog/store.js';
import { newest, restoreChain } from '../catalog/chain.js';
import type { Manifest } from '../catalog/manifest.js';
import { openStore } from '../storage/open.js';
import type { CatalogStore, SealedRead } from '../storage/catalog-store.js';
import { ProcessError, UsageError, XbError, errorMessage } from '../errors.js';
import { which } from '../engine/binaries.js';
import { engineFor } from '../engine/engine.js';
import { decompressor, tarExtractArgs } from '../ready/commands.js';
import type { StoredReadyInfo as ReadyInfo } from '../catalog/ready-info.js';
import { applyChain, decompressorBin, managerBin, USE_MEMORY } from '../ready/apply.js';
import { traversable, workerSetup } from '../ready/worker.js';
import { ChecksumMismatch, isNoSpace } from '../ready/failure.js';
import { pipeline, run, type Stage } from '../util/proc.js';
import { decryptFailure } from '../offsite/age.js';
import { backupId } from '../time.js';
import { writeFileSync } from 'node:fs';
import { loadInventory } from '../inventory.js';
import { runPlaybook } from '../ansible/playbook.js';
import { hostRunOutcome, outcomeLine } from '../ansible/outcome.js';
import { runTmp } from '../util/runtmp.js';
import { credentialsFileContent } from '../engine/credentials.js';
import { hostSettings } from '../setup.js';
import { writeFileAtomic } from '../catalog/store.js';
import { targetFromDefaults } from './restore-target.js';
import { prepareDir } from '../storage/host-state.js';
import { offsiteSource, type OffsiteSource } from '../offsite/restore-source.js';
import type { OffsiteReadOptions } from '../offsite/open-catalog.js';

export interface RestoreOptions {
  ready?: string;
  backup?: string;
  targetDir: string;
  force: boolean;
  /** Restore from the off-site copy: what is needed is downloaded into the host's working state first. */
  fromOffsite?: OffsiteReadOptions;
}

export interface RestoreResult {
  host: string;
  source: string;
  target: string;
  movedAside?: string;
  binlog?: Manifest['binlog'];
  start_command?: string;
  /** --to-host: the target server was started on the restored data and answers. */
  started?: boolean;
}

async function pickReady(store: CatalogStore, wanted: string | undefined): Promise<ReadyInfo> {
  const { readies } = await store.list();
  const r = !wanted || wanted === 'latest' ? newest(readies) : readies.find((x) => x.id === wanted);
  if (!r) {
    throw new XbError(
      wanted && wanted !== 'latest'
        ? `no ready backup ${wanted} in ${store.where} (see xb-mgr list)`
        : `no ready backup in ${store.where}: restore a chain with --backup ID`,
    );
  }
  return store.readReady(r.id);
}

async function streamSha256(store: CatalogStore, info: ReadyInfo): Promise<string> {
  return sha256Of(await store.openRead(info, info.file));
}

/** Pure: decompress (when compressed) and unpack into `stage`. */
function unpackStages(info: ReadyInfo, stage: string): Stage[] {
  const stages: Stage[] = [];
  const d = decompressor(info.compress, decompressorBin(info.compress));
  if (d) stages.push({ cmd: d.cmd, args: d.args });
  stages.push({ cmd: which(['tar']) ?? 'tar', args: tarExtractArgs(stage) });
  return stages;
}

async function sha256Of(s: Readable): Promise<string> {
  const hash = createHash('sha256');
  for await (const c of s) hash.update(c as Buffer);
  return hash.digest('hex');
}

/**
 * A sealed off-site ready file: the ciphertext is hashed as it downloads and age writes the
 * plaintext straight into the decompressor (it never passes through this process). A failure is
 * told apart by reading the ciphertext again: altered in the store (sha256 mismatch), else the
 * failing stage (age's own line when it refused the data).
 */
async function unpackSealed(sealed: SealedRead, info: ReadyInfo, stage: string, timeoutMs: number) {
  const what = `ready/${info.file} (its encrypted object)`;
  const hash = createHash('sha256');
  const stages: Stage[] = [{ ...sealed.decrypt, label: 'age' }, ...unpackStages(info, stage)];
  let got: string;
  try {
    await pipeline(stages, { input: sealed.body, onInput: (c) => hash.update(c), timeoutMs });
    got = hash.digest('hex');
  } catch (e) {
    got = await sha256Of(await sealed.reopen());
    if (got === sealed.sha256) {
      if (e instanceof ProcessError && e.command === 'age')
        throw new XbError(decryptFailure(e.stderrTail, e.procExitCode));
      throw e;
    }
  }
  if (got !== sealed.sha256) throw new ChecksumMismatch(what, sealed.sha256, got);
}

async function unpackReady(
  store: CatalogStore,
  info: ReadyInfo,
  stage: string,
  timeoutMs: number,
): Promise<void> {
  const sealed = await store.openSealed?.(info, info.file);
  if (sealed) return unpackSealed(sealed, info, stage, timeoutMs);
  const hash = createHash('sha256');
  const stages = unpackStages(info, stage);
  let got: string;
  // An off-site read that failed (age refused the data, the download broke) says why itself.
  let readFailed: XbError | undefined;
  try {
    const input = await store.openRead(info, info.file);
    input.on('error', (e) => {
      if (e instanceof XbError) readFailed ??= e;
    });
    await pipeline(stages, { input, onInput: (c) => hash.update(c), timeoutMs });
    got = hash.digest('hex');
  } catch (e) {
    if (readFailed) throw readFailed;
    // The decompressor may see a corruption first; the checksum says what is wrong.
    got = await streamSha256(store, info);
    if (got === info.sha256) throw e;
  }
  if (got !== info.sha256) throw new ChecksumMismatch(`ready/${info.file}`, info.sha256, got);
}

/**
 * `--backup ID`: the whole chain prepared from the stored streams, the last step final. The work
 * happens as the worker in its area (prepare/restore-<pid>); the result is given back to root and
 * moved into `stage`.
 */
async function prepareChain(
  h: HostConfig,
  root: string,
  store: CatalogStore,
  id: string,
  stage: string,
): Promise<Manifest> {
  const { backups } = await store.list();
  const chain = restoreChain(id, backups, store.where, 'xb-mgr list');
  if (!chain.ok) throw new XbError(chain.error);
  const prep = prepareDir(root);
  mkdirSync(prep, { recursive: true, mode: 0o700 });
  traversable(workerSetup(), [h.backupDir, root, prep]);
  const work = join(prep, `restore-${process.pid}`);
  try {
    await applyChain(h, store, chain.chain, work, {
      final: true,
      incrementalDir: (m) => `${work}.inc-${m.id}`,
      useMemory: USE_MEMORY,
    });
    if (workerSetup()) reclaim(work);
    await moveDir(work, stage, managerBin(h, 'cp'), h.timeouts.prepare * 1000);
  } finally {
    rmSync(work, { recursive: true, force: true });
  }
  return chain.leaf;
}

/** Give a directory the worker wrote back to root (no link followed). */
function reclaim(dir: string): void {
  lchownSync(dir, 0, 0);
  for (const e of readdirSync(dir, { withFileTypes: true })) {
    const p = join(dir, e.name);
    if (e.isDirectory()) reclaim(p);
    else lchownSync(p, 0, 0);
  }
}

/** Move `from` to `to` (which must not exist): a rename, or a copy across filesystems. */
async function moveDir(from: string, to: string, cpBin: string, timeoutMs: number): Promise<void> {
  rmSync(to, { recursive: true, force: true });
  try {
    renameSync(from, to);
  } catch (e) {
    if ((e as NodeJS.ErrnoException).code !== 'EXDEV') throw e;
    await run(cpBin, ['-a', from, to], { timeoutMs, label: 'cp' });
  }
}

export async function restoreToDir(ctx: Context, o: RestoreOptions): Promise<RestoreResult> {
  if (ctx.hosts.length !== 1) throw new UsageError('restore needs exactly one --host');
  if (o.ready && o.backup) throw new UsageError('give --ready or --backup, not both');
  const h = ctx.hosts[0]!;
  const root = hostDir(h.backupDir, h.name);
  const target = resolve(o.targetDir);
  const nonEmpty = existsSync(target) && readdirSync(target).length > 0;
  if (nonEmpty && !o.force)
    throw new UsageError(
      `${target} is not empty: choose an empty directory or add --force (its contents are moved aside)`,
    );
  const stage = join(dirname(target), `.${basename(target)}.xb-mgr-${process.pid}`);
  rmSync(stage, { recursive: true, force: true });
  mkdirSync(stage, { recursive: true, mode: 0o700 });
  let source: string;
  let binlog: Manifest['binlog'];
  let offsite: OffsiteSource | undefined;
  try {
    if (o.fromOffsite) {
      mkdirSync(root, { recursive: true, mode: 0o700 });
      // A ready file is unpacked as it downloads (its sha256 checked on the way, the stage removed
      // on a mismatch); a chain is staged first (mariabackup reads each stream from a file).
      offsite = await offsiteSource(h, root, { ready: o.ready, backup: o.backup }, o.fromOffsite, !o.backup);
    }
    const store = offsite?.store ?? openStore(h);
    if (o.backup) {
      const leaf = await prepareChain(h, root, store, o.backup, stage);
      source = `${leaf.type}/${leaf.id} (prepared from its chain)`;
      binlog = leaf.binlog;
    } else {
      const info = await pickReady(store, o.ready);
      await unpackReady(store, info, stage, h.timeouts.prepare * 1000);
      source = `ready/${info.file}`;
      binlog = info.binlog;
    }
  } catch (e) {
    rmSync(stage, { recursive: true, force: true });
    if (e instanceof UsageError) throw e;
    const why =
      e instanceof ChecksumMismatch
        ? e.message
        : `restore failed: ${isNoSpace(e) ? `the disk is full (${errorMessage(e)})` : errorMessage(e)}`;
    throw new XbError(`${why}; nothing was restored`);
  } finally {
    offsite?.cleanup();
  }
  let movedAside: string | undefined;
  if (nonEmpty) {
    movedAside = `${target}.old-${backupId(new Date())}`;
    renameSync(target, movedAside);
  } else if (existsSync(target)) {
    rmdirSync(target);
  }
  renameSync(stage, target);
  return {
    host: h.name,
    source,
    target,
    ...(movedAside ? { movedAside } : {}),
    ...(binlog ? { binlog } : {}),
    start_command: `chown -R mysql:mysql ${target} && mariadbd --datadir=${target} --socket=${target}/mysqld.sock --user=mysql`,
  };
}

export function formatRestore(r: RestoreResult): string {
  return [
    `restored ${r.host} ${r.source} into ${r.target}`,
    ...(r.movedAside ? [`the previous contents of ${r.target} are in ${r.movedAside}`] : []),
    r.binlog
      ? `binlog position: ${r.binlog.file} ${r.binlog.position}${r.binlog.gtid ? `, GTID ${r.binlog.gtid}` : ''}`
      : 'binlog position: not recorded (binary logging was off)',
    r.started
      ? 'the server was started on the restored data and answers'
      : `start a server on it: ${r.start_command}`,
  ].join('\n');
}

/** The last task of restore.yml's rescue: it fails with what went wrong and what was undone. */
const RESTORE_REPORT_TASK = 'Report the failure';
/** The time budget of the run that only removes a credentials file: this many x timeout_ssh. */
const CLEANUP_TIMEOUT_FACTOR = 10;

export interface ToHostOptions {
  ready?: string;
  toHost: string;
  force: boolean;
  /** A file in the ready format made on this machine (a point-in-time restore's), not a stored one. */
  made?: { info: ReadyInfo; path: string };
  fromOffsite?: OffsiteReadOptions;
}

/**
 * `--to-host`: restore a ready file onto a DB host of the inventory with playbooks/restore.yml.
 * The target's settings (credentials, helper path, stop/start commands, datadir) are its own
 * section's when it is a configured host, else what an empty section of its name would get
 * ([default] and the key defaults, restore-target.ts); on such a host the credentials file
 * installed for the restore is removed at the end, success or failure. Restoring onto a
 * configured host needs --force and ends its chain: its next run is a full backup.
 */
export async function restoreToHost(ctx: Context, o: ToHostOptions): Promise<RestoreResult> {
  if (ctx.hosts.length !== 1) throw new UsageError('restore needs exactly one --host');
  const src = ctx.hosts[0]!;
  const inventory = await loadInventory(ctx.inventory);
  if (!inventory.hosts.has(o.toHost))
    throw new UsageError(`--to-host ${o.toHost} is not in the inventory ${inventory.path}`);
  const configured = ctx.config.hosts.find((h) => h.hostname === o.toHost || h.name === o.toHost);
  if (configured && !o.force) {
    throw new UsageError(
      `${o.toHost} is a configured backup source ([${configured.name}]): restoring replaces its data; add --force to do it`,
    );
  }
  const target: HostConfig = configured ?? targetFromDefaults(ctx.config.global.file, o.toHost);
  // The playbook copies a file of this machine: an off-site ready file is downloaded first.
  let offsite: OffsiteSource | undefined;
  if (o.fromOffsite) {
    const root = hostDir(src.backupDir, src.name);
    mkdirSync(root, { recursive: true, mode: 0o700 });
    try {
      offsite = await offsiteSource(src, root, { ready: o.ready }, o.fromOffsite);
    } catch (e) {
      if (e instanceof UsageError) throw e;
      throw new XbError(`${errorMessage(e)}; nothing was restored`);
    }
  }
  try {
    return await playRestore(ctx, inventory, src, offsite?.store ?? openStore(src), target, configured, o);
  } finally {
    offsite?.cleanup();
  }
}

async function playRestore(
  ctx: Context,
  inventory: Awaited<ReturnType<typeof loadInventory>>,
  src: HostConfig,
  store: CatalogStore,
  target: HostConfig,
  configured: HostConfig | undefined,
  o: ToHostOptions,
): Promise<RestoreResult> {
  const info = o.made ? o.made.info : await pickReady(store, o.ready);
  const readyFile = o.made ? o.made.path : store.localPath(info, info.file);
  if (!readyFile)
    throw new XbError(`restore --to-host needs the ready file on this machine (${store.where})`);
  const credentialsSrc = join(runTmp(), `credentials-restore-${target.name}.cnf`);
  writeFileSync(credentialsSrc, credentialsFileContent(target), { mode: 0o600, flag: 'wx' });
  const vars: Record<string, unknown> = {
    xb_host_settings: { [o.toHost]: hostSettings(target, credentialsSrc) },
    xb_ready_file: readyFile,
    xb_ready_sha256: info.sha256,
    xb_ready_compress: info.compress,
    xb_restore_tag: backupId(new Date()),
    // The engine knows the client and service names of its server family (mariadb, mysql).
    xb_client: engineFor(target.backupTool).remoteClient,
    xb_service: engineFor(target.backupTool).remoteService,
    ...(target.mysqlDatadir ? { xb_datadir: target.mysqlDatadir } : {}),
    ...(target.mysqlStopCmd ? { xb_stop_cmd: target.mysqlStopCmd } : {}),
    ...(target.mysqlStartCmd ? { xb_start_cmd: target.mysqlStartCmd } : {}),
    // Not a configured host: its credentials file is for this restore only (restore.yml's always).
    ...(configured ? {} : { xb_remove_credentials: true }),
  };
  const remoteUser = inventory.hosts.get(o.toHost)?.user ? undefined : target.sshUser;
  const timeoutS = target.timeouts.prepare + target.timeouts.verify;
  const play = (extra: Record<string, unknown>, seconds: number) =>
    runPlaybook({
      playbook: join(ctx.playbooks, 'restore.yml'),
      inventory: ctx.inventory,
      limit: [o.toHost],
      vars: { ...vars, ...extra },
      remoteUser,
      timeoutMs: seconds * 1000,
      ansiblePlaybookBin: ctx.ansiblePlaybook,
      env: { ANSIBLE_TIMEOUT: String(target.timeouts.ssh) },
    });
  let res: Awaited<ReturnType<typeof runPlaybook>>;
  try {
    res = await play({}, timeoutS);
  } finally {
    rmSync(credentialsSrc, { force: true });
  }
  const out = hostRunOutcome(res, o.toHost);
  // A run that ended without its `always` (killed, cut off) may have left the credentials file of
  // an unconfigured target: a short run of restore.yml removes only that. (A failed task ran the
  // always; a run with no event for the host installed nothing.)
  let leftover = '';
  if (!configured && (out.kind === 'timeout' || out.kind === 'incomplete' || out.kind === 'unreachable')) {
    const cleanupS = CLEANUP_TIMEOUT_FACTOR * target.timeouts.ssh;
    const c = hostRunOutcome(await play({ xb_cleanup_only: true }, cleanupS), o.toHost);
    if (c.kind !== 'ok')
      leftover = `; the credentials file ${target.remoteCredentialsFile} may be left on ${o.toHost}`;
  }
  // The rescue's report says at which task the restore failed and that it rolled back.
  if (out.kind === 'failed' && out.failure.task === RESTORE_REPORT_TASK)
    throw new XbError(`restore onto ${o.toHost} failed: ${out.failure.msg.trim().replace(/\s*\n\s*/g, ' ')}`);
  if (out.kind !== 'ok') {
    const line = outcomeLine(out, {
      action: 'restore',
      onHost: `restore onto ${o.toHost}`,
      host: o.toHost,
      budget: `${timeoutS} s (timeout_prepare + timeout_verify)`,
    });
    // Killed, the playbook could not roll back: the server may be stopped or its datadir aside.
    const hint = out.kind === 'timeout' ? `; its rollback did not run: check the server on ${o.toHost}` : '';
    throw new XbError(line + hint + leftover);
  }
  if (configured) {
    const troot = hostDir(configured.backupDir, configured.name);
    mkdirSync(troot, { recursive: true, mode: 0o700 });
    writeFileAtomic(
      join(troot, 'restored.json'),
      JSON.stringify({ at: new Date().toISOString(), from: `${src.name} ${info.file}` }) + '\n',
    );
  }
  return {
    host: src.name,
    source: `ready/${info.file}`,
    target: `${o.toHost}:${target.mysqlDatadir ?? 'its datadir'}`,
    ...(info.binlog ? { binlog: info.binlog } : {}),
    started: true,
  };
}
