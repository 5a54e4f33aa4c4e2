/**
 * Pure decisions of the reader side of the off-site tier: what a restore from the store downloads
 * (a ready file, or every stream of a chain), how much room that needs, and what a non-deep verify
 * concludes from the index and the store's listing. No I/O: tested with tables of cases.
 */
import { newest, restoreChain } from '../catalog/chain.js';
import type { Manifest } from '../catalog/manifest.js';
import type { BackupRef, ReadyRef } from '../storage/catalog-store.js';

/** One data file to download: where it is in the store, its plaintext size and sha256 when known. */
export interface Fetch {
  ref: BackupRef | ReadyRef;
  file: string;
  /** Plaintext bytes (the manifest's), for the free-space check; 0 when the index does not say. */
  bytes: number;
}

export type FetchPlan =
  | { ok: true; kind: 'ready'; id: string; fetch: Fetch[] }
  | { ok: true; kind: 'chain'; leaf: Manifest; chain: Manifest[]; fetch: Fetch[] }
  | { ok: false; error: string };

export interface FetchRequest {
  ready?: string;
  backup?: string;
}

/**
 * What to download for a restore: `--backup ID` the streams of its chain, full first (a broken or
 * chain is refused before a byte moves, as a local restore does); else the ready file asked for (or the newest).
 */
export function fetchPlan(
  listing: { backups: readonly Manifest[]; readies: readonly (ReadyRef & { bytes?: number })[] },
  want: FetchRequest,
  where: string,
): FetchPlan {
  if (want.backup !== undefined) {
    const c = restoreChain(want.backup, listing.backups, where, 'xb-mgr list --offsite');
    if (!c.ok) return c;
    return {
      ok: true,
      kind: 'chain',
      leaf: c.leaf,
      chain: c.chain,
      fetch: c.chain.map((b) => ({ ref: { kind: b.type, id: b.id }, file: b.file, bytes: b.bytes })),
    };
  }
  const latest = want.ready === undefined || want.ready === 'latest';
  const r = latest ? newest(listing.readies) : listing.readies.find((x) => x.id === want.ready);
  if (!r) {
    return {
      ok: false,
      error: latest
        ? `no ready backup in ${where}: restore a chain with --backup ID`
        : `no ready backup ${want.ready} in ${where} (see xb-mgr list --offsite)`,
    };
  }
  return {
    ok: true,
    kind: 'ready',
    id: r.id,
    fetch: [{ ref: { id: r.id, file: r.file }, file: r.file, bytes: r.bytes ?? 0 }],
  };
}

/**
 * Room the download needs in the staging area: the plaintext bytes and a margin (1 %, at least
 * 64 MiB) so that the unpack beside it does not start on a disk already full.
 */
export function fetchSpaceNeeded(fetch: readonly Fetch[]): number {
  const bytes = fetch.reduce((n, f) => n + f.bytes, 0);
  return bytes + Math.max(64 * 1024 * 1024, Math.ceil(bytes / 100));
}

/** An object the index says is stored, with the size it recorded. */
export interface IndexedObject {
  /** The object's name under the host (e.g. `full/<id>/backup.xbstream.zst.age`). */
  name: string;
  size: number;
}

export interface ObjectProblem {
  item: string;
  problem: string;
}

/**
 * Non-deep verify: every indexed object is in the store's listing with the size the index
 * recorded. `present` maps the listed names to their sizes. A smaller object is truncated, a larger
 * one altered; one problem per object, in the index's order.
 */
export function presenceProblems(
  indexed: readonly IndexedObject[],
  present: ReadonlyMap<string, number>,
): ObjectProblem[] {
  const out: ObjectProblem[] = [];
  for (const o of indexed) {
    const got = present.get(o.name);
    if (got === undefined) out.push({ item: o.name, problem: 'missing in the store' });
    else if (got < o.size)
      out.push({ item: o.name, problem: `truncated: ${got} bytes in the store, ${o.size} indexed` });
    else if (got > o.size)
      out.push({ item: o.name, problem: `altered: ${got} bytes in the store, ${o.size} indexed` });
  }
  return out;
}

/**
 * Pure: the reason a download failed, for the user. age's own text for an object whose chunks fail
 * authentication (altered or cut in the store) ends in a link to report bugs: say what it means.
 */
export function readFailure(message: string): string {
  if (
    /failed to decrypt and authenticate|header (mac|is invalid)|parsing header|unexpected EOF|premature/i.test(
      message,
    )
  )
    return 'it does not decrypt and authenticate: altered or truncated in the store';
  return message;
}
