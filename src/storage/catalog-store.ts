/**
 * The stored catalog of one host, behind one interface (docs/ARCHITECTURE.md, "Storage seam"): a
 * driver per backend (the local directory today, S3-compatible object storage next), and no other
 * module builds a path or key of a stored item by hand. The host's working state (prepared base,
 * locks, tmp/, trash/, install record, pins) is not stored here: see host-state.ts.
 *
 * Rules every driver keeps:
 * - An item is a backup (full/incremental) or a ready file. Its manifest (`manifest.json`,
 *   `ready/<id>.json`) is written last and is its commit marker: an item whose manifest is not
 *   there is not listed, whatever data it has.
 * - Everything a store returns is untrusted: names are validated (names.ts) and manifests parsed
 *   by the validators (manifest.ts, ready-info.ts); what fails is reported as a problem, not thrown.
 * - Data moves as streams, never a whole file in memory.
 */
import type { Readable } from 'node:stream';
import type { BackupType, Manifest } from '../catalog/manifest.js';
import type { ReadyInfo, ReadyRef, StoredReadyInfo } from '../catalog/ready-info.js';
import { XbError } from '../errors.js';

export type { ReadyInfo, ReadyRef, StoredReadyInfo };

/** A stored backup: `<kind>/<id>/`. */
export interface BackupRef {
  kind: BackupType;
  id: string;
}

/** What can be deleted: a backup, or a ready file with its description. */
export type ItemRef = BackupRef | { kind: 'ready'; id: string; file: string };

export interface StoreListing {
  /** Committed backups whose manifest is valid, in id order per kind (full/ first). */
  backups: Manifest[];
  /** Committed ready items: a valid description whose data file is there. */
  readies: ReadyRef[];
  /** One line per stored entry that is not a valid item ("full/x: why"): reported, never used. */
  problems: string[];
}

/** A failure to read the store, or an item that is missing or invalid: one line for the user. */
export class StoreError extends XbError {}

/** Encrypted bytes as stored and the command that decrypts them (stdin to stdout). */
export interface CipherRead {
  body: Readable;
  decrypt: { cmd: string; args: string[] };
}

/** A CipherRead with the ciphertext sha256 and size it must have (trusted, from a checked marker). */
export interface SealedRead extends CipherRead {
  sha256: string;
  bytes: number;
  /** The same object read again (to tell an altered object from a failing reader). */
  reopen: () => Promise<Readable>;
}

export interface CatalogStore {
  /** Where the store is, for messages (a directory, or s3://bucket/prefix/host). */
  readonly where: string;

  list(): Promise<StoreListing>;
  /** The manifest of a backup, validated; StoreError when missing or invalid. */
  readManifest(ref: BackupRef): Promise<Manifest>;
  /** The description of a ready file, validated; StoreError when missing or invalid. */
  readReady(id: string): Promise<StoredReadyInfo>;
  /** A data file of an item as a stream (the stream, checkpoints, a ready file). */
  openRead(ref: BackupRef | ReadyRef, file: string): Promise<Readable>;
  /**
   * The item's data file as a path on this machine when the driver keeps it as a local file (the
   * local driver), for tools that take a path (the restore playbook copies it); undefined for a
   * remote driver, whose callers download it first through openRead.
   */
  localPath(ref: BackupRef | ReadyRef, file: string): string | undefined;
  /**
   * Optional (an encrypting remote driver): the data file's object as stored, not decrypted, and
   * the argv that decrypts it; undefined when the item is not encrypted.
   */
  openCipher?(ref: BackupRef | ReadyRef, file: string): Promise<CipherRead | undefined>;
  /**
   * Optional (a restore's view of a remote): the ready file's object as stored, the argv that
   * decrypts it and the ciphertext sha256 it must have, from the item's checked description;
   * undefined when the view cannot vouch for the ciphertext (read with openRead then).
   */
  openSealed?(ref: ReadyRef, file: string): Promise<SealedRead | undefined>;

  /**
   * Commit a backup whose files are staged in `stagingDir` (a directory of the host's working
   * state): data files first, then the manifest, the commit marker. The staging directory is
   * consumed (the local driver renames it into place). Refused if the id is taken.
   */
  commitBackup(stagingDir: string, m: Manifest): Promise<void>;
  /** Commit a ready file staged at `stagedFile`: the data first, then its description. */
  commitReady(stagedFile: string, info: ReadyInfo): Promise<void>;
  /** Replace a committed backup's manifest (to mark it unusable). */
  updateManifest(m: Manifest): Promise<void>;

  /**
   * Delete items in the given order, in two phases: first each item stops being listed (local:
   * moved into trash/; object store: its manifest deleted), then `between` runs, then the data
   * goes. A kill midway leaves only unlisted data (local: trash/, emptied at the next run).
   */
  remove(items: readonly ItemRef[], between?: () => Promise<void>): Promise<void>;
}
