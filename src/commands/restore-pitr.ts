/**
 * `xb-mgr restore --to-time TIME | --to-gtid GTID --target-dir DIR`: point-in-time recovery on the
 * manager. The newest usable backup ending before the target is restored (its ready file, or its
 * chain) into the host's working area, the stored binlogs from its GTID to the target are replayed
 * by a temporary server as the worker (src/pitr/replay.ts), and the shut-down datadir is moved to
 * the target (an existing non-empty one moved aside with --force, as a plain restore does).
 */
import { chmodSync, existsSync, mkdirSync, readdirSync, renameSync, rmdirSync, rmSync } from 'node:fs';
import { basename, dirname, join, resolve } from 'node:path';
import type { Context } from '../context.js';
import { hostDir } from '../catalog/store.js';
import { prepareDir } from '../storage/host-state.js';
import { UsageError, XbError, errorMessage } from '../errors.js';
import { localZone, backupId } from '../time.js';
import { datadirFileLimit, managerBin } from '../ready/apply.js';
import { dataOptions } from '../ready/data-options.js';
import { traversable, workerSetup } from '../ready/worker.js';
import { pipeline, run } from '../util/proc.js';
import { createHash } from 'node:crypto';
import type { HostConfig } from '../config/load.js';
import type { Manifest } from '../catalog/manifest.js';
import type { StoredReadyInfo as ReadyInfo } from '../catalog/ready-info.js';
import { readyCompressor, readyExtension, tarCreateArgs } from '../ready/commands.js';
import { parseTarget, formatTarget } from '../pitr/target.js';
import { chooseBase } from '../pitr/choose.js';
import { findCut } from '../pitr/cut.js';
import { copyHead } from '../pitr/stored.js';
import { chownTree, prepareRunDir, replay } from '../pitr/replay.js';
import { replayBinlogDir, type ReplayPaths } from '../pitr/replay-args.js';
import { restoreToHost, type RestoreResult } from './restore.js';
import { localSource, offsiteSource, type PitrSource } from './pitr-source.js';
import type { OffsiteReadOptions } from '../offsite/open-catalog.js';
import { withAccess } from '../catalog/access.js';

export interface PitrOptions {
  toTime?: string;
  toGtid?: string;
  /** Exactly one of them: a directory on the manager, or an inventory host (restore.yml). */
  targetDir?: string;
  toHost?: string;
  force: boolean;
  /** Everything from the object store alone: the base, and the binlogs recorded in its index. */
  fromOffsite?: OffsiteReadOptions;
}

export interface PitrResult extends RestoreResult {
  to: string;
  base: string;
  transactions: number;
  last_gtid?: string;
  last_time?: string;
  gtid_slave_pos: string;
  replay_seconds: number;
}

export async function restorePointInTime(ctx: Context, o: PitrOptions): Promise<PitrResult> {
  if (ctx.hosts.length !== 1) throw new UsageError('restore needs exactly one --host');
  const h = ctx.hosts[0]!;
  const target = parseTarget(o, ctx.config.global.timezone ?? localZone());
  const root = hostDir(h.backupDir, h.name);
  if (!o.targetDir === !o.toHost)
    throw new UsageError('give exactly one of --target-dir DIR or --to-host HOST');
  const dest = o.targetDir ? resolve(o.targetDir) : '';
  const nonEmpty = dest !== '' && existsSync(dest) && readdirSync(dest).length > 0;
  if (nonEmpty && !o.force)
    throw new UsageError(
      `${dest} is not empty: choose an empty directory or add --force (its contents are moved aside)`,
    );
  // Refused before the replay rather than after it (restoreToHost checks it again).
  const configured = o.toHost && ctx.config.hosts.find((x) => x.hostname === o.toHost || x.name === o.toHost);
  if (configured && !o.force)
    throw new UsageError(
      `${o.toHost} is a configured backup source ([${configured.name}]): restoring replaces its data; add --force to do it`,
    );
  const source = o.fromOffsite ? await offsiteSource(ctx, h, o.fromOffsite) : await localSource(ctx, h);
  try {
    const { window } = source;
    const choice = chooseBase({
      backups: source.backups,
      readyIds: source.readyIds,
      stored: source.stored,
      gaps: source.gaps,
      window,
      target,
      now: new Date(),
    });
    if (choice.kind === 'outside') throw new UsageError(choice.message);
    if (choice.kind === 'gap') throw new XbError(`${choice.message}; nothing was restored`);
    const base = choice.base;
    let picked: Awaited<ReturnType<PitrSource['cutFrom']>>;
    try {
      picked = await source.cutFrom(base.binlog!.file, (files) => findCut(files, base.binlog!.gtid!, target));
    } catch (e) {
      if (e instanceof UsageError) throw e;
      throw new XbError(`point-in-time restore failed: ${errorMessage(e)}; nothing was restored`);
    }
    const { cut, files: opened } = picked;
    if (cut.kind === 'gap') throw new XbError(`${cut.message}; nothing was restored`);
    if (cut.kind === 'unreadable')
      throw target.kind === 'gtid' && cut.message.includes('is not in the stored binlogs')
        ? new UsageError(cut.message)
        : new XbError(`${cut.message}; nothing was restored`);
    if (target.kind === 'gtid' && !cut.reached)
      throw new UsageError(
        `${formatTarget(target)} is outside the recoverable window (not in the stored binlogs yet); recoverable to GTID ${window.to?.gtid ?? '?'}`,
      );

    const setup = workerSetup();
    const prep = prepareDir(root);
    mkdirSync(prep, { recursive: true, mode: 0o700 });
    traversable(setup, [h.backupDir, root, prep]);
    const work = join(prep, `pitr-${process.pid}`);
    rmSync(work, { recursive: true, force: true });
    mkdirSync(work, { mode: 0o700 });
    // The worker passes through to its run directory and the datadir (the umask would hide them).
    chmodSync(work, 0o711);
    const paths: ReplayPaths = { datadir: join(work, 'data'), run: join(work, 'run') };
    try {
      const restored = await source.restoreBase(base, choice.ready, paths.datadir);
      prepareRunDir(setup, paths);
      const files = cut.files.filter((f) => f.bytes > 0);
      for (const f of files)
        copyHead(
          opened.find((s) => s.name === f.name)!,
          f.bytes,
          join(replayBinlogDir(paths), f.name),
        );
      if (setup) {
        chownTree(paths.datadir, setup.worker.uid, setup.worker.gid);
        chownTree(replayBinlogDir(paths), setup.worker.uid, setup.worker.gid);
      }
      const layout = await dataOptions(h, paths.datadir, base);
      const r = await replay({
        h,
        setup,
        paths,
        layout,
        startGtid: base.binlog!.gtid!,
        files: files.map((f) => f.name),
        endState: cut.state,
        maxFileBytes: datadirFileLimit(paths.datadir),
      });
      if (setup) chownTree(paths.datadir, 0, 0);
      const replayed = {
        to: formatTarget(target),
        base: base.id,
        transactions: cut.transactions,
        ...(cut.lastGtid ? { last_gtid: cut.lastGtid } : {}),
        ...(cut.lastTime !== undefined ? { last_time: new Date(cut.lastTime * 1000).toISOString() } : {}),
        gtid_slave_pos: cut.state,
        replay_seconds: Math.round(r.seconds * 10) / 10,
      };
      if (o.toHost) {
        const made = await pack(
          h,
          paths.datadir,
          join(work, `${base.id}-pitr${readyExtension(h.compress)}`),
          base,
        );
        const onto = await restoreToHost(ctx, { toHost: o.toHost, force: o.force, made });
        return {
          ...onto,
          source: `${restored.source}, binlogs replayed ${formatTarget(target)}`,
          ...replayed,
        };
      }
      const movedAside = await place(
        paths.datadir,
        dest,
        nonEmpty,
        managerBin(h, 'cp'),
        h.timeouts.prepare * 1000,
      );
      return {
        host: h.name,
        source: `${restored.source}, binlogs replayed ${formatTarget(target)}`,
        target: dest,
        ...(movedAside ? { movedAside } : {}),
        binlog: base.binlog,
        start_command: `chown -R mysql:mysql ${dest} && mariadbd --datadir=${dest} --socket=${dest}/mysqld.sock --user=mysql`,
        ...replayed,
      };
    } catch (e) {
      if (e instanceof UsageError) throw e;
      throw new XbError(`point-in-time restore failed: ${errorMessage(e)}; nothing was restored`);
    } finally {
      rmSync(work, { recursive: true, force: true });
    }
  } finally {
    source.close();
  }
}

/** The replayed datadir in the ready format (tar, the host's compressor), for restore.yml. */
async function pack(
  h: HostConfig,
  datadir: string,
  file: string,
  base: Manifest,
): Promise<{ info: ReadyInfo; path: string }> {
  const hash = createHash('sha256');
  let bytes = 0;
  const comp = readyCompressor(
    h.compress,
    h.compressLevel,
    h.compress === 'none' ? '' : managerBin(h, 'compressor'),
  );
  await pipeline([{ cmd: managerBin(h, 'tar'), args: tarCreateArgs(datadir) }, ...(comp ? [comp] : [])], {
    outputFile: file,
    onOutput: (c) => {
      hash.update(c);
      bytes += c.length;
    },
    timeoutMs: h.timeouts.compress * 1000,
  });
  const info: ReadyInfo = {
    id: base.id,
    host: h.name,
    file: basename(file),
    contains: [base.id],
    to_lsn: base.to_lsn,
    bytes,
    sha256: hash.digest('hex'),
    compress: h.compress,
    check: { tool: 'mysqlcheck', tables: 0, ok: true },
    rebuilt_base: false,
    steps: [],
    created_at: new Date().toISOString(),
  };
  return { info, path: file };
}

/** Move the result to the target: beside it first (same filesystem), then renamed into place. */
async function place(
  from: string,
  dest: string,
  nonEmpty: boolean,
  cpBin: string,
  timeoutMs: number,
): Promise<string | undefined> {
  const stage = join(dirname(dest), `.${basename(dest)}.xb-mgr-${process.pid}`);
  rmSync(stage, { recursive: true, force: true });
  try {
    renameSync(from, stage);
  } catch (e) {
    if ((e as NodeJS.ErrnoException).code !== 'EXDEV') throw e;
    await run(cpBin, ['-a', from, stage], { timeoutMs, label: 'cp' });
  }
  let movedAside: string | undefined;
  if (nonEmpty) {
    movedAside = `${dest}.old-${backupId(new Date())}`;
    renameSync(dest, movedAside);
  } else if (existsSync(dest)) rmdirSync(dest);
  renameSync(stage, dest);
  return movedAside;
}

export function formatPitr(r: PitrResult): string {
  return [
    `restored ${r.host} to ${r.to.replace(/^--to-(time|gtid) /, '')} into ${r.target}`,
    `base: ${r.source}`,
    `replayed ${r.transactions} transaction(s) in ${r.replay_seconds} s${r.last_gtid ? `, the last ${r.last_gtid} at ${r.last_time ?? '?'}` : ''}`,
    `gtid_slave_pos: ${r.gtid_slave_pos || '(empty)'}`,
    ...(r.movedAside ? [`the previous contents of ${r.target} are in ${r.movedAside}`] : []),
    r.started
      ? 'the server was started on the recovered data and answers'
      : `start a server on it: ${r.start_command}`,
  ].join('\n');
}

/** The options of `xb-mgr restore` as the CLI parses them (one type for cli.ts and this module). */
export interface RestoreCommandOptions {
  host: string;
  ready?: string;
  backup?: string;
  targetDir?: string;
  toHost?: string;
  force?: boolean;
  toTime?: string;
  toGtid?: string;
  fromOffsite?: boolean;
  identity?: string;
  json?: boolean;
}

/** The CLI's part: option checks, the catalog read access, the output. */
export async function restorePitr(
  ctx: Context,
  o: RestoreCommandOptions,
  notice: (line: string) => void,
): Promise<string> {
  if (o.ready || o.backup)
    throw new UsageError('--to-time/--to-gtid choose their backup: not with --ready or --backup');
  const h = ctx.hosts[0]!;
  // A reader of the host's catalog, as a plain restore: retention does not take the base away.
  const r = await withAccess(
    hostDir(h.backupDir, h.name),
    'read',
    'restore',
    () =>
      restorePointInTime(ctx, {
        ...(o.toTime !== undefined ? { toTime: o.toTime } : {}),
        ...(o.toGtid !== undefined ? { toGtid: o.toGtid } : {}),
        ...(o.targetDir ? { targetDir: o.targetDir } : {}),
        ...(o.toHost ? { toHost: o.toHost } : {}),
        force: o.force === true,
        ...(o.fromOffsite ? { fromOffsite: o.identity !== undefined ? { identity: o.identity } : {} } : {}),
      }),
    { onWait: notice },
  );
  return o.json ? JSON.stringify(r, null, 2) + '\n' : formatPitr(r) + '\n';
}
