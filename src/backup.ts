/**
 * One host's backup in `xb-mgr run`: lock, clean leftovers, decide (schedule), stream (backup.yml),
 * judge, commit. Processes are started by the playbook runner; decisions are pure functions.
 */
import { existsSync, mkdirSync, readFileSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import type { Context } from './context.js';
import type { HostConfig } from './config/load.js';
import type { Inventory } from './inventory.js';
import { acquireLock } from './catalog/lock.js';
import { cleanTmp, ensureLayout, hostDir } from './catalog/store.js';
import { openStore } from './storage/open.js';
import type { CatalogStore } from './storage/catalog-store.js';
import { keepFailed, makeReady, ReadyFailure, type ReadyInfo } from './ready/make.js';
import { emptyLeftoverTrash, retainHost, type RetainHooks } from './catalog/retain.js';
import { faultPoint } from './util/fault.js';
import { diskSpace } from './util/size.js';
import type { Deletion } from './retention.js';
import type { Manifest } from './catalog/manifest.js';
import { decide, type Decision } from './schedule.js';
import { backupToolArgs, streamCompression, streamFileName } from './engine/commands.js';
import { pushToolLog, transferOutcome, transferSucceeded } from './transfer/outcome.js';
import {
  preparePushDir,
  PUSH_STREAM,
  pushAccount,
  pushRunDir,
  removePushDirs,
  takeReceived,
  type Received,
} from './transfer/push.js';
import { maxStreamBytes, type Cap } from './engine/caps.js';
import { MAX_RESULT_BYTES, RESULT_FILE } from './transfer/result.js';
import { boundLog, fileBytes, readSmallFile, readToolLog } from './transfer/files.js';
import { runPlaybook } from './ansible/playbook.js';
import { credentialsFileContent } from './engine/credentials.js';
import { hostSettings } from './setup.js';
import { runTmp } from './util/runtmp.js';
import {
  dropInstallKey,
  helperSha256,
  installKey,
  readInstallKey,
  writeInstallKey,
} from './install-record.js';
import { errorMessage } from './errors.js';
import { parseManagerHost } from './config/values.js';
import { uniqueId } from './time.js';
import type { Log } from './report/log.js';
import { hostLockPath, stagingDir } from './storage/host-state.js';
import { syncHost, readRecord, type HostSyncResult } from './offsite/sync.js';
import { binlogHold, localHold } from './offsite/plan.js';
import { listStoredNames } from './binlog/store.js';

export interface HostRunResult {
  host: string;
  ok: boolean;
  type?: 'full' | 'incremental';
  id?: string;
  parent?: string | null;
  bytes?: number;
  seconds: number;
  reason?: string;
  error?: string;
  /** The end of the backup tool's log, or the mysqld error log and mysqlcheck output, on failure. */
  log_tail?: string;
  ready?: ReadyInfo;
  /** What retention deleted after this host's run succeeded. */
  deleted?: Deletion[];
  /** Set when a backup was marked unusable by this run. */
  unusable?: { id: string; reason: string };
  /** The off-site sync after the backup (offsite_url set). */
  offsite?: HostSyncResult;
  /** Local retention deleted items not off-site yet: free space was under the reserve. */
  offsite_override?: string;
}

export interface BackupOptions {
  now: Date;
  timezone: string;
  forceFull: boolean;
  log: Log;
}

class HostFailure extends Error {
  constructor(
    message: string,
    readonly logTail?: string,
    /** A reinstall of the helper and the credentials file may fix it. */
    readonly reinstall = false,
  ) {
    super(message);
  }
}

const PROGRESS_MS = 10_000;

/** What one transfer of a run adds to the host's settings. */
export interface TransferRun {
  /** The backup's id: names the push directory the DB host may write. */
  id?: string;
  /** max_stream_bytes of this run: xb_pull stops the stream there. */
  maxStreamBytes?: number;
}

/** Pure: the playbook variables of one transfer. */
export function backupVars(
  h: HostConfig,
  d: Decision,
  outDir: string,
  credentialsSrc: string,
  receiver: string,
  install: { install: boolean; helperSha256: string } = { install: true, helperSha256: '' },
  run: TransferRun = {},
): Record<string, unknown> {
  const compress = streamCompression(h.compress);
  const settings: Record<string, string> = hostSettings(h, credentialsSrc);
  if (h.sshUser) settings.ssh_user = h.sshUser;
  return {
    xb_host_settings: { [h.hostname]: settings },
    xb_out_dir: outDir,
    xb_type: d.type,
    ...(d.type === 'incremental' ? { xb_incremental_lsn: d.parent.to_lsn } : {}),
    xb_tool_args: backupToolArgs({
      tool: h.backupTool,
      parallel: h.parallel,
      incrementalLsn: d.type === 'incremental' ? d.parent.to_lsn : undefined,
      throttle: h.throttle,
      slaveInfo: h.slaveInfo,
    }),
    xb_compress: compress,
    xb_compress_level: h.compressLevel,
    xb_nice: h.remoteNice,
    xb_ionice: h.remoteIonice,
    xb_stream_file: streamFileName(compress),
    xb_connect_timeout: h.timeouts.ssh,
    xb_transfer: h.transfer,
    xb_install: install.install,
    ...(install.helperSha256 ? { xb_helper_sha256: install.helperSha256 } : {}),
    ...(run.maxStreamBytes !== undefined && h.transfer === 'pull'
      ? { xb_max_stream_bytes: run.maxStreamBytes }
      : {}),
    ...(h.transfer === 'push' ? pushVars(h, receiver, run.id ?? '') : {}),
  };
}

/**
 * Push: the DB host names only the backup_dir, its host and the run's id; the receiver (the push
 * account's forced command) takes its cap from root's file in the run's directory, never from
 * the DB host.
 */
function pushVars(h: HostConfig, receiver: string, id: string): Record<string, unknown> {
  const dest = parseManagerHost(h.backupManagerHost ?? '');
  if (!dest) throw new HostFailure(`transfer = push needs backup_manager_host = [user@]host[:port]`);
  return {
    xb_push_dest: dest.user ? `${dest.user}@${dest.host}` : dest.host,
    xb_push_port: dest.port,
    xb_push_ssh_options: h.pushSshOptions ?? '',
    xb_receiver: receiver,
    xb_push_backup_dir: h.backupDir,
    xb_push_host: h.name,
    xb_push_id: id,
  };
}

async function transfer(
  ctx: Context,
  h: HostConfig,
  root: string,
  id: string,
  d: Decision,
  inventory: Inventory,
  log: Log,
  install: { install: boolean; helperSha256: string },
  cap: Cap,
): Promise<{ manifest?: Manifest; retryFull?: string; tmpDir: string; exited: Promise<void> }> {
  const tmpDir = join(stagingDir(root), id);
  const file = streamFileName(streamCompression(h.compress));
  // Push: a directory of this run only, for the push account (transfer/push.ts); root takes the
  // stream out of it after the playbook and removes it whatever happened.
  const account = h.transfer === 'push' ? pushAccount() : null;
  let pushDir: string | undefined;
  try {
    if (h.transfer === 'push') {
      mkdirSync(tmpDir, { recursive: true, mode: 0o700 });
      pushDir = preparePushDir(h.backupDir, h.name, id, cap.bytes, account);
    }
    return await runTransfer(
      ctx,
      h,
      root,
      id,
      d,
      inventory,
      log,
      install,
      cap,
      tmpDir,
      file,
      pushDir ? () => takeReceived(pushDir!, join(tmpDir, file), account) : undefined,
    );
  } finally {
    if (h.transfer === 'push') removePushDirs(h.backupDir, h.name, id);
  }
}

async function runTransfer(
  ctx: Context,
  h: HostConfig,
  root: string,
  id: string,
  d: Decision,
  inventory: Inventory,
  log: Log,
  install: { install: boolean; helperSha256: string },
  cap: Cap,
  tmpDir: string,
  file: string,
  /** Push: root takes what the receiver left into tmpDir. */
  takePushed?: () => Promise<Received>,
): Promise<{ manifest?: Manifest; retryFull?: string; tmpDir: string; exited: Promise<void> }> {
  const credentialsSrc = join(runTmp(), `credentials-${h.name}.cnf`);
  if (install.install) {
    dropInstallKey(root);
    writeFileSync(credentialsSrc, credentialsFileContent(h), { mode: 0o600 });
  }
  const started = new Date();
  const t0 = Date.now();
  const remoteUser = inventory.hosts.get(h.hostname)?.user ? undefined : h.sshUser;
  // Progress of the transfer: bytes received so far and the rate, every PROGRESS_MS.
  const part = takePushed
    ? join(pushRunDir(h.backupDir, h.name, id), PUSH_STREAM)
    : join(tmpDir, `${file}.part`);
  let lastBytes = 0;
  const progress = setInterval(() => {
    let bytes = 0;
    try {
      bytes = statSync(part).size;
    } catch {
      return;
    }
    const rate = (bytes - lastBytes) / (PROGRESS_MS / 1000);
    lastBytes = bytes;
    log.info(
      { step: 'transfer', bytes, rate: Math.round(rate) },
      `streamed ${bytes} bytes (${(rate / 1048576).toFixed(1)} MiB/s)`,
    );
  }, PROGRESS_MS);
  let res: Awaited<ReturnType<typeof runPlaybook>>;
  try {
    res = await runPlaybook({
      playbook: join(ctx.playbooks, 'backup.yml'),
      inventory: ctx.inventory,
      limit: [h.hostname],
      vars: backupVars(h, d, tmpDir, credentialsSrc, join(ctx.playbooks, 'files', 'xb_pull'), install, {
        id,
        maxStreamBytes: cap.bytes,
      }),
      remoteUser,
      timeoutMs: h.timeouts.backup * 1000,
      ansiblePlaybookBin: ctx.ansiblePlaybook,
      env: { ANSIBLE_TIMEOUT: String(h.timeouts.ssh) },
      // Judge and commit on the transfer task's result, not at the playbook's exit (issue 20).
      settleOn: (line) => transferSucceeded(line, h.hostname),
    });
  } finally {
    clearInterval(progress);
  }
  // The playbook may still be ending: the credentials file goes once it has exited.
  const exited = (res.exited ?? Promise.resolve()).then(() => rmSync(credentialsSrc, { force: true }));
  try {
    const seconds = (Date.now() - t0) / 1000;
    const r = await judgeTransfer(h, d, res, tmpDir, file, cap, started, seconds, takePushed, id, log);
    // Only a committable stream goes on while the playbook ends; anything else waits for it.
    if (!r.manifest) await exited;
    return { ...r, exited };
  } catch (e) {
    await exited;
    throw e;
  }
}

/** What the transfer left, judged: the manifest of a committable stream, or a retry, or a throw. */
async function judgeTransfer(
  h: HostConfig,
  d: Decision,
  res: Awaited<ReturnType<typeof runPlaybook>>,
  tmpDir: string,
  file: string,
  cap: Cap,
  started: Date,
  seconds: number,
  takePushed: (() => Promise<Received>) | undefined,
  id: string,
  log: Log,
): Promise<{ manifest?: Manifest; retryFull?: string; tmpDir: string }> {
  const o = res.hosts.get(h.hostname);
  // Pull: xb_pull kept ssh's stderr in tool.log. Push: the tool's log is the push task's stderr,
  // the only way it reaches the manager; it is stored as tool.log beside the stream all the same.
  let toolLog: string;
  const pushed = h.transfer === 'push' ? pushToolLog(o) : undefined;
  if (pushed !== undefined) {
    toolLog = boundLog(pushed + '\n', h.caps.toolLogTailBytes);
    if (existsSync(tmpDir)) writeFileSync(join(tmpDir, 'tool.log'), toolLog, { mode: 0o600 });
  } else {
    // tool_log_tail_bytes of it, its head and its end (a DB host's log can be a gigabyte).
    toolLog = readToolLog(join(tmpDir, 'tool.log'), h.caps.toolLogTailBytes);
  }
  const received = takePushed ? await takePushed() : undefined;
  const outcome = transferOutcome({
    transfer: h.transfer,
    hostname: h.hostname,
    backupDir: h.backupDir,
    timeoutSeconds: h.timeouts.backup,
    playbook: res,
    host: o,
    result: received ? received.result : readSmallFile(join(tmpDir, RESULT_FILE), MAX_RESULT_BYTES),
    streamBytes: received ? received.streamBytes : fileBytes(join(tmpDir, file)),
    ...(received?.sha256 ? { storedSha256: received.sha256 } : {}),
    streamCap: cap,
    toolLog,
    type: d.type,
    parent: d.type === 'incremental' ? d.parent : undefined,
  });
  if (outcome.outcome === 'failure')
    throw new HostFailure(outcome.message, outcome.logTail, outcome.reinstall);
  if (outcome.outcome === 'retry-full') return { retryFull: outcome.reason, tmpDir };
  writeFileSync(join(tmpDir, 'xtrabackup_checkpoints'), outcome.checkpointsText, { mode: 0o600 });
  const c = outcome.checkpoints;
  const manifest: Manifest = {
    format: 1,
    id,
    type: d.type,
    host: h.name,
    parent: d.type === 'incremental' ? d.parent.id : null,
    from_lsn: c.from_lsn,
    to_lsn: c.to_lsn,
    ...(c.last_lsn !== undefined ? { last_lsn: c.last_lsn } : {}),
    file,
    bytes: outcome.bytes,
    sha256: outcome.sha256,
    compress: streamCompression(h.compress),
    tool: h.backupTool,
    tool_version: outcome.toolVersion,
    ...(outcome.binlog ? { binlog: outcome.binlog } : {}),
    reason: d.reason,
    started_at: started.toISOString(),
    finished_at: new Date().toISOString(),
    seconds: Math.round(seconds * 10) / 10,
  };
  log.debug({ step: 'transfer', bytes: manifest.bytes, seconds }, 'stream received');
  return { manifest, tmpDir };
}

export function restoredAt(root: string): string | undefined {
  try {
    return (JSON.parse(readFileSync(join(root, 'restored.json'), 'utf8')) as { at?: string }).at;
  } catch {
    return undefined;
  }
}

/** Retention, only after the host's run succeeded end to end (under the catalog's exclusive access). */
async function retain(
  h: HostConfig,
  root: string,
  store: CatalogStore,
  now: Date,
  log: Log,
  hold?: RetainHooks['hold'],
): Promise<Deletion[]> {
  return retainHost(
    h,
    root,
    now,
    {
      onWait: (m) => log.info({ step: 'retain' }, m),
      onPlan: (plan) => {
        for (const d of plan.delete)
          log.info(
            { step: 'retain', id: d.id, kind: d.kind },
            `deleting ${d.kind} ${d.what} ${d.id}: ${d.reason}`,
          );
      },
      beforeEmpty: () => faultPoint('retention'),
      hold,
    },
    store,
  );
}

/**
 * What local retention holds back while items are not off-site (the record of the last sync): all
 * of them, unless free space is under the reserve (the larger of 10% of the file system and the
 * newest full backup): then nothing, said loudly (log error, report).
 */
async function offsiteHold(
  h: HostConfig,
  root: string,
  store: CatalogStore,
  log: Log,
): Promise<{ hold: RetainHooks['hold']; override?: string }> {
  const l = await store.list();
  const disk = diskSpace(h.backupDir);
  const newestFull = l.backups.filter((b) => b.type === 'full').sort((a, b) => (a.id < b.id ? 1 : -1))[0];
  const reserve = Math.max(Math.floor(disk.total / 10), newestFull?.bytes ?? 0);
  const rec = readRecord(root);
  const hold = localHold(l, new Set(rec?.offsite ?? []), disk.free, reserve);
  // Binlogs are held like the items, and let go under the reserve like them.
  const binlogs = disk.free < reserve ? new Set<string>() : binlogHold(listStoredNames(root), rec);
  if (!hold.overridden) return { hold: { ...hold, binlogs } };
  const override = `free space in ${h.backupDir} (${disk.free} bytes) is under the reserve (${reserve} bytes): local retention deletes even items NOT off-site yet`;
  log.error({ step: 'retain' }, override);
  return { hold: undefined, override };
}

/** A failed ready step: keep its working directory, mark the backup unusable when its data is at fault. */
async function readyFailed(
  root: string,
  store: CatalogStore,
  e: ReadyFailure,
  m: Manifest,
  log: Log,
): Promise<Partial<HostRunResult>> {
  const kept = e.stage === 'prepare' || e.stage === 'verify' ? keepFailed(root, e.workDir, m.id) : undefined;
  cleanTmp(root);
  let unusable: HostRunResult['unusable'];
  if (e.unusable) {
    const reason = `${e.stage} failed: ${e.message}`;
    await store.updateManifest({ ...e.unusable, unusable: { reason, at: new Date().toISOString() } });
    unusable = { id: e.unusable.id, reason };
    log.error(
      { step: 'ready', unusable: e.unusable.id },
      `marked ${e.unusable.type}/${e.unusable.id} unusable: ${reason}`,
    );
  }
  const error = `ready backup failed: ${e.message}${kept ? ` (kept ${kept} for inspection)` : ''}`;
  log.error({ step: `ready:${e.stage}` }, error);
  return { error, ...(e.details ? { log_tail: e.details } : {}), ...(unusable ? { unusable } : {}) };
}

export async function backupHost(
  ctx: Context,
  inventory: Inventory,
  h: HostConfig,
  o: BackupOptions,
): Promise<HostRunResult> {
  const t0 = Date.now();
  const log = o.log;
  const done = (r: Omit<HostRunResult, 'host' | 'seconds'>): HostRunResult => ({
    host: h.name,
    seconds: Math.round((Date.now() - t0) / 100) / 10,
    ...r,
  });
  if (!inventory.hosts.has(h.hostname)) {
    const error = `${h.hostname} is not in the inventory ${inventory.path}`;
    log.error({ step: 'inventory' }, error);
    return done({ ok: false, error });
  }
  const root = hostDir(h.backupDir, h.name);
  const store = openStore(h);
  let release: (() => void) | undefined;
  let decision: Decision | undefined;
  // Playbooks still ending after their transfer was judged: awaited before the host's lock goes.
  const exits: Promise<void>[] = [];
  try {
    ensureLayout(root);
    const { lock, tookOver } = acquireLock(hostLockPath(root), 'host', h.name);
    release = () => lock.release();
    if (tookOver) log.warn({ step: 'lock' }, tookOver);
    const trashLeft = await emptyLeftoverTrash(root); // what a killed retention left behind
    if (trashLeft) log.warn({ step: 'cleanup' }, trashLeft);
    const removed = cleanTmp(root);
    if (removed.length > 0)
      log.warn({ step: 'cleanup' }, `removed leftovers of an interrupted run: tmp/${removed.join(', tmp/')}`);
    removePushDirs(h.backupDir, h.name); // push directories of a killed run: no DB host may write there
    const catalog = await store.list();
    for (const p of catalog.problems) log.warn({ step: 'catalog' }, `ignored ${p}`);
    decision = decide({
      backups: catalog.backups,
      now: o.now,
      fullBackupDay: h.fullBackupDay,
      timezone: o.timezone,
      forceFull: o.forceFull,
      restoredAt: restoredAt(root),
    });
    log.info({ step: 'plan', type: decision.type }, `${decision.type} backup: ${decision.reason}`);
    const lastFull = catalog.backups
      .filter((b) => b.type === 'full')
      .sort((a, b) => (a.id < b.id ? 1 : -1))[0];
    const free = diskSpace(h.backupDir).free;
    if (lastFull && free < lastFull.bytes) {
      throw new HostFailure(
        `not enough free space in ${h.backupDir}: ${free} bytes free, the last full backup took ${lastFull.bytes} bytes`,
      );
    }
    // max_stream_bytes of this run: xb_pull (pull) or the receiver (push) stops the stream there.
    const streamCap = maxStreamBytes({
      configured: h.caps.maxStreamBytes,
      lastFullBytes: lastFull?.bytes,
      freeBytes: free,
    });
    log.debug({ step: 'plan', max_stream_bytes: streamCap.bytes }, `max_stream_bytes: ${streamCap.why}`);
    const taken = new Set(catalog.backups.map((b) => b.id));
    const id = uniqueId(o.now, taken);
    // The install tasks run only when what they would install changed since the last success.
    const remoteUser = inventory.hosts.get(h.hostname)?.user ? undefined : h.sshUser;
    const helperSha = helperSha256(ctx.playbooks);
    const key = installKey(h, helperSha, remoteUser);
    const install = { install: readInstallKey(root) !== key, helperSha256: helperSha };
    const attempt = async (d: Decision) => {
      try {
        return await transfer(ctx, h, root, id, d, inventory, log, install, streamCap);
      } catch (e) {
        if (install.install || !(e instanceof HostFailure) || !e.reinstall) throw e;
        log.warn({ step: 'transfer' }, `${e.message}; reinstalling the helper and the credentials file`);
        cleanTmp(root);
        install.install = true;
        return await transfer(ctx, h, root, id, d, inventory, log, install, streamCap);
      }
    };
    let t = await attempt(decision);
    exits.push(t.exited);
    if (install.install) {
      writeInstallKey(root, key);
      install.install = false;
    }
    if (t.retryFull) {
      log.warn({ step: 'transfer' }, `${t.retryFull}; discarding the incremental and taking a full backup`);
      rmSync(t.tmpDir, { recursive: true, force: true });
      decision = { type: 'full', reason: t.retryFull };
      t = await attempt(decision);
      exits.push(t.exited);
    }
    const m = t.manifest!;
    await store.commitBackup(t.tmpDir, m);
    log.info(
      {
        step: 'commit',
        id: m.id,
        type: m.type,
        bytes: m.bytes,
        from_lsn: m.from_lsn,
        to_lsn: m.to_lsn,
        seconds: m.seconds,
      },
      `${m.type} backup ${m.id} committed (${m.bytes} bytes, LSN ${m.from_lsn}..${m.to_lsn})`,
    );
    const base = { type: m.type, id: m.id, parent: m.parent, bytes: m.bytes, reason: decision.reason };
    try {
      const ready = await makeReady(h, root, store, [...catalog.backups, m], m, log, o.now);
      log.info(
        { step: 'ready', id: ready.id, bytes: ready.bytes },
        `ready backup ${ready.file} (${ready.bytes} bytes, ${ready.check.tables} tables OK)`,
      );
      if (!h.offsite.url)
        return done({ ok: true, ...base, ready, deleted: await retain(h, root, store, o.now, log) });
      // Off-site: the new ready file first, then the backlog, then off-site retention; local
      // retention after it, holding back what is not off-site yet.
      const offsite = await syncHost(h, root, { now: o.now, log, first: new Set([`ready/${ready.id}`]) });
      const hold = await offsiteHold(h, root, store, log);
      const deleted = await retain(h, root, store, o.now, log, hold.hold);
      const extra = { offsite, ...(hold.override ? { offsite_override: hold.override } : {}) };
      if (offsite.ok) return done({ ok: true, ...base, ready, deleted, ...extra });
      const error = `off-site copy to ${offsite.store ?? 'the object store'} failed: ${offsite.error}; the backups are kept locally`;
      return done({ ok: false, ...base, ready, deleted, ...extra, error });
    } catch (e) {
      if (!(e instanceof ReadyFailure)) throw e;
      return done({ ok: false, ...base, ...(await readyFailed(root, store, e, m, log)) });
    }
  } catch (e) {
    const error = errorMessage(e);
    log.error({ step: 'backup' }, error);
    // A failed transfer leaves nothing that looks like a backup (only when we hold the host's lock).
    if (release) cleanTmp(root);
    return done({
      ok: false,
      type: decision?.type,
      reason: decision?.reason,
      error,
      ...(e instanceof HostFailure && e.logTail ? { log_tail: e.logTail } : {}),
    });
  } finally {
    await Promise.all(exits);
    release?.();
  }
}
