/** `xb-mgr list`: per host, each chain in order and each ready file. */
import type { Context } from '../context.js';
import { hostDir } from '../catalog/store.js';
import { byIdMap, chainOf } from '../catalog/chain.js';
import { readPins } from '../catalog/retain.js';
import { openStore } from '../storage/open.js';
import type { CatalogStore, StoreListing } from '../storage/catalog-store.js';
import { errorMessage } from '../errors.js';
import type { Manifest } from '../catalog/manifest.js';
import { idToDate } from '../time.js';
import { formatBytes } from '../util/size.js';
import { formatWindow, hostBinlogListing, type BinlogWindow } from '../binlog/window.js';
import { offsiteWindow } from '../pitr/offsite-window.js';

export interface ListedBackup {
  id: string;
  type: Manifest['type'];
  time: string;
  parent: string | null;
  from_lsn: number;
  to_lsn: number;
  bytes: number;
  sha256: string;
  pinned: boolean;
  unusable?: string;
}

export interface ListedChain {
  full: string | null;
  backups: ListedBackup[];
  broken?: string;
}

export interface ListedReady {
  id: string;
  file: string;
  contains: string[];
  bytes: number;
  sha256: string;
  check: unknown;
}

export interface HostListing {
  host: string;
  /** `list --offsite`: the store listed. */
  where?: string;
  chains: ListedChain[];
  ready: ListedReady[];
  pins: string[];
  problems: string[];
  /** Hosts with a binlog/ directory: the recoverable window (src/binlog/window.ts). */
  binlog?: BinlogWindow;
}

/** Pure: backups -> chains, oldest chain first; each backup appears once. */
export function chainsOf(backups: readonly Manifest[], pins: ReadonlySet<string>): ListedChain[] {
  const byId = byIdMap(backups);
  const placed = new Set<string>();
  const chains: ListedChain[] = [];
  // A chain broken at an unusable parent stops there: what is behind it is listed in a next round.
  for (let rest = [...backups]; rest.length > 0; rest = rest.filter((b) => !placed.has(b.id))) {
    const before = placed.size;
    addChains(rest, byId, pins, placed, chains);
    if (placed.size === before) break; // a parent loop: nothing is a leaf
  }
  return chains.sort((a, b) => (a.backups[0]!.id < b.backups[0]!.id ? -1 : 1));
}

function addChains(
  backups: readonly Manifest[],
  byId: ReadonlyMap<string, Manifest>,
  pins: ReadonlySet<string>,
  placed: Set<string>,
  chains: ListedChain[],
): void {
  const children = new Set(backups.map((b) => b.parent).filter((p): p is string => !!p));
  const leaves = backups.filter((b) => !children.has(b.id)).sort((a, b) => (a.id < b.id ? -1 : 1));
  for (const leaf of leaves) {
    const c = chainOf(leaf, byId);
    const fresh = c.backups.filter((b) => !placed.has(b.id));
    fresh.forEach((b) => placed.add(b.id));
    const root = c.backups[0]!;
    chains.push({
      full: root.type === 'full' ? root.id : null,
      backups: fresh.map((b) => ({
        id: b.id,
        type: b.type,
        time: idToDate(b.id)?.toISOString() ?? b.started_at,
        parent: b.parent,
        from_lsn: b.from_lsn,
        to_lsn: b.to_lsn,
        bytes: b.bytes,
        sha256: b.sha256,
        pinned: pins.has(b.id),
        ...(b.unusable ? { unusable: b.unusable.reason } : {}),
      })),
      ...(c.broken ? { broken: c.broken } : {}),
    });
  }
}

export async function listHost(backupDir: string, host: string): Promise<HostListing> {
  const pins = readPins(hostDir(backupDir, host));
  const l = await listStore(openStore({ backupDir, name: host }), host, pins);
  const binlog = hostBinlogListing(backupDir, hostDir(backupDir, host), l.catalog.backups);
  return { ...l.listing, ...(binlog ? { binlog } : {}) };
}

/** A host's catalog in a store, as listed (pins and binlogs are the manager's, added by the caller). */
async function listStore(
  store: CatalogStore,
  host: string,
  pins: ReadonlySet<string>,
): Promise<{ listing: HostListing; catalog: StoreListing }> {
  const catalog = await store.list();
  const problems = [...catalog.problems];
  const ready: ListedReady[] = [];
  for (const r of catalog.readies) {
    try {
      const info = await store.readReady(r.id);
      ready.push({
        id: r.id,
        file: r.file,
        contains: info.contains ?? [],
        bytes: info.bytes ?? 0,
        sha256: info.sha256,
        check: info.check,
      });
    } catch (e) {
      problems.push(`ready/${r.id}.json: ${errorMessage(e)}`);
    }
  }
  return {
    catalog,
    listing: {
      host,
      chains: chainsOf(catalog.backups, pins),
      ready: ready.sort((a, b) => (a.id < b.id ? -1 : 1)),
      pins: [...pins].sort(),
      problems,
    },
  };
}

/** `list --offsite`: each host's off-site catalog, from its plaintext index (no key needed). */
export async function listOffsiteCommand(ctx: Context): Promise<HostListing[]> {
  const { openOffsiteCatalog } = await import('../offsite/open-catalog.js');
  const out: HostListing[] = [];
  for (const h of ctx.hosts) {
    const store = await openOffsiteCatalog(h);
    const l = await listStore(store, h.name, new Set());
    // The window a restore from the store alone reaches (closed binlog files only: none is written there).
    const { binlogs, gaps, problems } = await store.binlogs();
    const binlog =
      binlogs.length > 0 || gaps.length > 0
        ? offsiteWindow(l.catalog.backups, binlogs, gaps, new Date())
        : undefined;
    out.push({
      ...l.listing,
      problems: [...l.listing.problems, ...problems],
      ...(binlog ? { binlog } : {}),
      where: store.where,
    });
  }
  return out;
}

export async function listCommand(ctx: Context): Promise<HostListing[]> {
  const out: HostListing[] = [];
  for (const h of ctx.hosts) out.push(await listHost(h.backupDir, h.name));
  return out;
}

export function formatListing(hosts: HostListing[]): string {
  const out: string[] = [];
  for (const h of hosts) {
    out.push(h.where ? `${h.host}  (${h.where})` : h.host);
    if (h.chains.length === 0) out.push('  no backups');
    for (const c of h.chains) {
      out.push(`  chain ${c.full ?? '(no full)'}${c.broken ? `  BROKEN: ${c.broken}` : ''}`);
      for (const b of c.backups) {
        out.push(
          `    ${b.type.padEnd(11)} ${b.id}  LSN ${b.from_lsn}..${b.to_lsn}  ${formatBytes(b.bytes).padStart(10)}  sha256 ${b.sha256.slice(0, 12)}` +
            `${b.pinned ? '  pinned' : ''}${b.unusable ? `  UNUSABLE: ${b.unusable}` : ''}`,
        );
      }
    }
    for (const r of h.ready) {
      // The off-site index does not carry the check result: nothing is said rather than FAILED.
      const check = r.check as { ok?: boolean; tables?: number } | undefined;
      const checked = check ? `  check ${check.ok ? `OK (${check.tables} tables)` : 'FAILED'}` : '';
      out.push(
        `  ready ${r.file}  ${formatBytes(r.bytes)}  contains ${r.contains.length} backup(s)${checked}`,
      );
    }
    if (h.binlog) out.push(...formatWindow(h.binlog, h.where !== undefined));
    for (const p of h.problems) out.push(`  problem: ${p}`);
  }
  return out.join('\n');
}
