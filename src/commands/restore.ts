/**
 * `xb-mgr restore --target-dir DIR`: unpack a ready file (checking its sha256 in the same read) or
 * prepare a chain from the stored streams (--backup ID) into a directory on the manager. Work
 * happens in a staging directory beside the target and is renamed into place at the end, so a
 * failure leaves no half-restored target; an existing non-empty target (--force) is moved aside,
 * never deleted.
 */
import { createHash } from 'node:crypto';
import { existsSync, mkdirSync, readdirSync, readFileSync, renameSync, rmdirSync, rmSync } from 'node:fs';
import { basename, dirname, join, resolve } from 'node:path';
import type { Context } from '../context.js';
import type { HostConfig } from '../config/load.js';
import { hostDir, readCatalog } from '../catalog/store.js';
import { byIdMap, chainOf, newest } from '../catalog/chain.js';
import { listReadies } from '../catalog/retain.js';
import type { Manifest } from '../catalog/manifest.js';
import { UsageError, XbError, errorMessage } from '../errors.js';
import { which } from '../engine/binaries.js';
import { decompressor } from '../ready/commands.js';
import { extract, prepare, sha256File, type ReadyInfo } from '../ready/make.js';
import { pipeline } from '../util/proc.js';
import { backupId } from '../time.js';

export interface RestoreOptions {
  ready?: string;
  backup?: string;
  targetDir: string;
  force: boolean;
}

export interface RestoreResult {
  host: string;
  source: string;
  target: string;
  movedAside?: string;
  binlog?: Manifest['binlog'];
  start_command: string;
}

function pickReady(root: string, wanted: string | undefined): ReadyInfo {
  const readies = listReadies(root);
  const r = !wanted || wanted === 'latest' ? newest(readies) : readies.find((x) => x.id === wanted);
  if (!r) {
    throw new XbError(
      wanted && wanted !== 'latest'
        ? `no ready backup ${wanted} in ${join(root, 'ready')} (see xb-mgr list)`
        : `no ready backup in ${join(root, 'ready')}: restore a chain with --backup ID`,
    );
  }
  return JSON.parse(readFileSync(join(root, 'ready', `${r.id}.json`), 'utf8')) as ReadyInfo;
}

async function unpackReady(root: string, info: ReadyInfo, stage: string, timeoutMs: number): Promise<void> {
  const file = join(root, 'ready', info.file);
  const hash = createHash('sha256');
  const stages = [];
  const d = decompressor(
    info.compress,
    which(info.compress === 'zstd' ? ['zstd'] : info.compress === 'gzip' ? ['pigz', 'gzip'] : ['qpress']) ??
      info.compress,
  );
  if (d) stages.push({ cmd: d.cmd, args: d.args });
  stages.push({ cmd: which(['tar']) ?? 'tar', args: ['-C', stage, '-xf', '-'] });
  let got: string;
  try {
    await pipeline(stages, { inputFile: file, onInput: (c) => hash.update(c), timeoutMs });
    got = hash.digest('hex');
  } catch (e) {
    // The decompressor may see a corruption first; the checksum says what is wrong.
    got = await sha256File(file);
    if (got === info.sha256) throw e;
  }
  if (got !== info.sha256) {
    throw new XbError(
      `sha256 mismatch: ready/${info.file} is corrupted (expected ${info.sha256}, read ${got}); nothing was restored`,
    );
  }
}

async function prepareChain(h: HostConfig, root: string, id: string, stage: string): Promise<Manifest> {
  const { backups } = readCatalog(root);
  const leaf = backups.find((b) => b.id === id);
  if (!leaf) throw new XbError(`no backup ${id} in ${root} (see xb-mgr list)`);
  const chain = chainOf(leaf, byIdMap(backups));
  if (chain.broken) throw new XbError(`cannot restore ${id}: ${chain.broken}`);
  for (const m of chain.backups) {
    if (m.type === 'full') {
      await extract(h, root, m, stage);
      await prepare(h, stage, undefined, m);
    } else {
      const inc = `${stage}.inc-${m.id}`;
      try {
        await extract(h, root, m, inc);
        await prepare(h, stage, inc, m);
      } finally {
        rmSync(inc, { recursive: true, force: true });
      }
    }
  }
  return leaf;
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
  try {
    if (o.backup) {
      const leaf = await prepareChain(h, root, o.backup, stage);
      source = `${leaf.type}/${leaf.id} (prepared from its chain)`;
      binlog = leaf.binlog;
    } else {
      const info = pickReady(root, o.ready);
      await unpackReady(root, info, stage, h.timeouts.prepare * 1000);
      source = `ready/${info.file}`;
      binlog = info.binlog;
    }
  } catch (e) {
    rmSync(stage, { recursive: true, force: true });
    if (e instanceof UsageError || /^sha256 mismatch/.test(errorMessage(e))) throw e;
    throw new XbError(`restore failed: ${errorMessage(e)}; nothing was restored`);
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
    `start a server on it: ${r.start_command}`,
  ].join('\n');
}
