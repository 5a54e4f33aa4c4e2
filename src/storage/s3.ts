/**
 * The S3 driver of the catalog store: a host's items under `PREFIX/<host>/`, in the local layout
 * (`full/<id>/<file>`, `incremental/<id>/<file>`, `ready/<file>`, `ready/<id>.json`), each object
 * age-encrypted to the recipients (`.age` appended) unless offsite_encryption = none. Beside them:
 * - `index.json`, plaintext: per item its manifest or ready description (no secrets, no data) and
 *   each object's stored size and sha256, so `list` and a non-deep verify need no private key;
 * - `owner.json`, plaintext: the manager that writes these objects; another one is refused
 *   (checked before every write, so a take-over by another manager stops this one).
 *
 * Commit order: data objects, then the index entry, then the item's manifest object (the commit
 * marker). An item is listed when it is in the index AND its marker object is there, so a kill at
 * any point leaves nothing visible; `cleanup()` later removes what such a kill left.
 * The manager holds recipients only: it reads back (openRead) only when given an identity file.
 */
import { createHash } from 'node:crypto';
import { createReadStream, existsSync, mkdirSync, readdirSync, statSync } from 'node:fs';
import { readFile, rename, rm, statfs, writeFile } from 'node:fs/promises';
import { hostname } from 'node:os';
import { join } from 'node:path';
import { Readable } from 'node:stream';
import { GetObjectCommand } from '@aws-sdk/client-s3';
import { parseManifest, type Manifest } from '../catalog/manifest.js';
import { isItemFileName, isItemId } from '../catalog/names.js';
import {
  parseReadyInfo,
  type ReadyInfo,
  type ReadyRef,
  type StoredReadyInfo,
} from '../catalog/ready-info.js';
import type { HostConfig } from '../config/load.js';
import {
  ageBinary,
  cipherBound,
  AgeError,
  decryptArgs,
  decryptChunks,
  encryptBuffer,
  encryptChunks,
  resolveRecipients,
} from '../offsite/age.js';
import { deleteObjects, listObjects } from '../offsite/objects.js';
import { sealedText } from '../offsite/seal.js';
import { describeS3Error, keyOf, openStore as openS3, type Store } from '../offsite/s3.js';
import { abortAbandoned, abortUpload, loadState, putSmall, uploadSpooled } from '../offsite/upload.js';
import type { Part } from '../offsite/multipart.js';
import { errorMessage } from '../errors.js';
import { faultPoint } from '../util/fault.js';
import {
  StoreError,
  type BackupRef,
  type CatalogStore,
  type CipherRead,
  type ItemRef,
  type StoreListing,
} from './catalog-store.js';
import {
  binlogObjectName,
  emptyIndex,
  INDEX_NAME,
  itemObjects,
  MAX_INDEX_BYTES,
  MAX_OWNER_BYTES,
  objectName,
  OWNER_NAME,
  ownerDecision,
  parseIndex,
  parseOwner,
  serializeIndex,
  type HostIndex,
  type IndexBinlog,
  type IndexGap,
  type IndexItem,
  type IndexObject,
} from './s3-index.js';

/** Room kept free beside a spool, so encrypting never fills the disk the backups are on. */
const SPOOL_MARGIN = 256 * 1024 * 1024;
/** Files up to this size go in one PUT, encrypted in memory. */
const SMALL_FILE = 1024 * 1024;

export interface S3StoreOptions {
  /** The host (its config section): the objects are under PREFIX/<host>/. */
  host: string;
  offsite: HostConfig['offsite'];
  /** `<host>/tmp/offsite/`: encrypted spools and upload states (working state, resumable). */
  spoolDir: string;
  /** age identity file, for openRead of encrypted objects (the reader side). */
  identity?: string;
  /** This manager, as written in the owner marker; default `<hostname>:<spoolDir's host dir>`. */
  manager?: string;
  /** Rewrite another manager's owner marker instead of refusing (offsite sync --take-over). */
  takeOver?: boolean;
  /** Bytes sent of a data file (progress). */
  onProgress?: (p: { name: string; sent: number; total: number }) => void;
  /** Told of what the owner decision did (a take-over). */
  onNote?: (line: string) => void;
}

/** What list() also knows, for callers that need more than the seam (verify, sync). */
export interface S3Listing extends StoreListing {
  /** The index entries of the listed items. */
  items: IndexItem[];
}

async function sha256File(path: string): Promise<string> {
  const h = createHash('sha256');
  for await (const c of createReadStream(path, { highWaterMark: 1 << 20 })) h.update(c as Buffer);
  return h.digest('hex');
}

function refOf(i: IndexItem): BackupRef | { kind: 'ready' } {
  return i.kind === 'ready' ? { kind: 'ready' } : { kind: i.manifest.type, id: i.manifest.id };
}

function sameRef(i: IndexItem, r: ItemRef | BackupRef | ReadyRef): boolean {
  if (!('kind' in r) || r.kind === 'ready') return i.kind === 'ready' && i.info.id === r.id;
  return i.kind === 'backup' && i.manifest.type === r.kind && i.manifest.id === r.id;
}

export class S3Store implements CatalogStore {
  readonly where: string;
  readonly s3: Store;
  /** The key of `<host>` (no trailing slash). */
  readonly root: string;
  private cached?: { index: HostIndex; problems: string[] };
  /**
   * The last listing, reused until this driver writes (one LIST and index GET per command, not
   * per item): every write path drops it. Only this manager writes here (owner marker, run lock).
   */
  private scanned?: Scan;
  private ownerChecked = false;
  /**
   * Whether a killed or failed sync may have left something behind: the spool directory was there
   * when this driver started, or a listing showed unmarked entries or unnamed binlog objects.
   * cleanup() scans the store (listing, open uploads) only then.
   */
  private leftovers: boolean;

  constructor(readonly o: S3StoreOptions) {
    if (!isItemFileName(o.host))
      throw new StoreError(`host name ${JSON.stringify(o.host)} cannot be an object name`);
    this.s3 = openS3(o.offsite);
    this.root = keyOf(this.s3, o.host);
    this.where = `${this.s3.label.replace(/ at .*/, '')}/${o.host}`;
    this.leftovers = existsSync(o.spoolDir);
  }

  get encrypted(): boolean {
    return this.o.offsite.encryption !== 'none';
  }

  key(name: string): string {
    return `${this.root}/${name}`;
  }

  /** A small object's bytes, or undefined when it does not exist. */
  private async getSmall(name: string, max: number): Promise<Buffer | undefined> {
    const key = this.key(name);
    let r;
    try {
      r = await this.s3.client.send(new GetObjectCommand({ Bucket: this.s3.bucket, Key: key }));
    } catch (e) {
      const err = e as { name?: string; $metadata?: { httpStatusCode?: number } };
      if (err.name === 'NoSuchKey' || err.$metadata?.httpStatusCode === 404) return undefined;
      throw new StoreError(describeS3Error(e, this.s3, `read ${key}`));
    }
    const body = r.Body as Readable;
    if (typeof r.ContentLength === 'number' && r.ContentLength > max) {
      body.destroy();
      throw new StoreError(`${this.where}: ${name} is larger than ${max} bytes`);
    }
    const chunks: Buffer[] = [];
    let n = 0;
    try {
      for await (const c of body) {
        n += (c as Buffer).length;
        if (n > max) throw new StoreError(`${this.where}: ${name} is larger than ${max} bytes`);
        chunks.push(c as Buffer);
      }
    } catch (e) {
      body.destroy();
      if (e instanceof StoreError) throw e;
      throw new StoreError(describeS3Error(e, this.s3, `read ${key}`));
    }
    return Buffer.concat(chunks);
  }

  /** The index as stored (validated; invalid entries become problems). */
  async readIndex(): Promise<{ index: HostIndex; problems: string[] }> {
    if (this.cached) return this.cached;
    const b = await this.getSmall(INDEX_NAME, MAX_INDEX_BYTES);
    if (b === undefined) return (this.cached = { index: emptyIndex(this.o.host), problems: [] });
    const p = parseIndex(b.toString('utf8'), this.o.host);
    if (!p.ok) throw new StoreError(`${this.where}/${INDEX_NAME}: ${p.error}`);
    return (this.cached = p.value);
  }

  private async saveIndex(index: HostIndex): Promise<void> {
    this.scanned = undefined;
    await putSmall(this.s3, this.key(INDEX_NAME), serializeIndex(index));
    this.cached = { index, problems: this.cached?.problems ?? [] };
  }

  /** readIndex -> change the items -> saveIndex. */
  private async editIndex(fn: (items: IndexItem[]) => IndexItem[]): Promise<void> {
    const { index } = await this.readIndex();
    await this.saveIndex({ ...index, items: fn(index.items) });
  }

  /** A write: the cached listing is dropped whatever happens (objects may have changed). */
  private async writing<T>(f: () => Promise<T>): Promise<T> {
    this.scanned = undefined;
    try {
      return await f();
    } finally {
      this.scanned = undefined;
    }
  }

  /** Checked before the first write of this driver (one small GET per command and host). */
  private async ensureOwner(): Promise<void> {
    if (this.ownerChecked) return;
    const me = {
      manager: this.o.manager ?? `${hostname()}:${join(this.o.spoolDir, '..', '..')}`,
      section: this.o.host,
    };
    const b = await this.getSmall(OWNER_NAME, MAX_OWNER_BYTES);
    const d = ownerDecision(
      b === undefined ? undefined : parseOwner(b.toString('utf8')),
      me,
      this.o.takeOver ?? false,
    );
    if (d.action === 'refuse') throw new StoreError(`${this.where}: ${d.why}`);
    if (d.action === 'write') {
      const owner = { format: 1, ...me, since: new Date().toISOString() };
      await putSmall(this.s3, this.key(OWNER_NAME), JSON.stringify(owner, null, 1) + '\n');
      if (d.note) this.o.onNote?.(`${this.where}: ${d.note}`);
    }
    this.ownerChecked = true;
  }

  async list(): Promise<S3Listing> {
    return (await this.scan()).listing;
  }

  /** The listing, and the index entries without their marker (a commit or removal killed midway). */
  private async scan(): Promise<Scan> {
    if (this.scanned) return this.scanned;
    const unmarked: IndexItem[] = [];
    this.cached = undefined; // each listing reads the index afresh
    const { index, problems: indexProblems } = await this.readIndex();
    const objects = await listObjects(this.s3, `${this.root}/`);
    const sizes = new Map(objects.map((o) => [o.key.slice(this.root.length + 1), o.size]));
    const problems = [...indexProblems];
    const items: IndexItem[] = [];
    const known = new Set<string>([INDEX_NAME, OWNER_NAME]);
    for (const i of index.items) {
      const { data, marker } = itemObjects(i);
      for (const n of [...data, marker]) known.add(n);
      // No marker: not committed (or half removed), silently not listed, as locally.
      if (!sizes.has(marker)) {
        unmarked.push(i);
        continue;
      }
      const names = i.objects.map((o) => objectName(refOf(i), o.file, i.encrypted));
      const wrong = names.find((n, k) => sizes.get(n) !== i.objects[k]!.bytes);
      if (wrong !== undefined) {
        problems.push(
          sizes.has(wrong)
            ? `${wrong}: ${sizes.get(wrong)} bytes in the store, ${i.objects[names.indexOf(wrong)]!.bytes} in the index`
            : `${wrong}: missing from the store`,
        );
        continue;
      }
      items.push(i);
    }
    for (const n of sizes.keys()) {
      if (!known.has(n) && /(^|\/)(manifest\.json|\d{8}T\d{6}Z\.json)(\.age)?$/.test(n))
        problems.push(`${n}: a commit marker that is not in the index`);
    }
    const scan: Scan = { listing: listingOf(items, problems), unmarked, index, sizes };
    if (unmarked.length > 0 || binlogsOf(scan).orphans.length > 0) this.leftovers = true;
    return (this.scanned = scan);
  }

  private async listed(ref: BackupRef | ReadyRef | ItemRef): Promise<IndexItem> {
    const l = await this.list();
    const i = l.items.find((x) => sameRef(x, ref));
    if (!i) {
      const what = 'kind' in ref && ref.kind !== 'ready' ? `${ref.kind}/${ref.id}` : `ready ${ref.id}`;
      throw new StoreError(`no ${what} in ${this.where} (see xb-mgr list --offsite)`);
    }
    return i;
  }

  async readManifest(ref: BackupRef): Promise<Manifest> {
    const i = await this.listed(ref);
    return (i as Extract<IndexItem, { kind: 'backup' }>).manifest;
  }

  async readReady(id: string): Promise<StoredReadyInfo> {
    if (!isItemId(id)) throw new StoreError(`invalid catalog id ${JSON.stringify(id)}`);
    const i = await this.listed({ kind: 'ready', id, file: '' });
    return (i as Extract<IndexItem, { kind: 'ready' }>).info as StoredReadyInfo;
  }

  localPath(): undefined {
    return undefined;
  }

  /**
   * A data file, decrypted (with the identity) as it downloads. The caller checks its sha256
   * against the manifest; the stored size and sha256 of the object are in `readIndex()`.
   */
  async openRead(ref: BackupRef | ReadyRef, file: string): Promise<Readable> {
    if (!isItemFileName(file)) throw new StoreError(`invalid catalog file name ${JSON.stringify(file)}`);
    const i = await this.listed(ref);
    const o = i.objects.find((x) => x.file === file);
    if (!o) throw new StoreError(`missing file ${file}`);
    return this.readObject(this.key(objectName(refOf(i), file, i.encrypted)), i.encrypted, file);
  }

  /**
   * A data file's object as stored, not decrypted, with the argv that decrypts it: for a reader
   * that runs age in its own pipeline and checks the ciphertext against a seal (offsite/seal.ts).
   * Undefined when the item is not encrypted (openRead then reads the same bytes).
   */
  async openCipher(ref: BackupRef | ReadyRef, file: string): Promise<CipherRead | undefined> {
    if (!isItemFileName(file)) throw new StoreError(`invalid catalog file name ${JSON.stringify(file)}`);
    const i = await this.listed(ref);
    if (!i.encrypted) return undefined;
    if (!i.objects.some((x) => x.file === file)) throw new StoreError(`missing file ${file}`);
    if (this.o.identity === undefined)
      throw new StoreError(`${this.where}: ${file} is encrypted: an age identity file is needed to read it`);
    const key = this.key(objectName(refOf(i), file, true));
    return {
      body: await this.getBody(key),
      decrypt: { cmd: ageBinary(), args: decryptArgs(this.o.identity) },
    };
  }

  private async getBody(key: string): Promise<Readable> {
    try {
      const r = await this.s3.client.send(new GetObjectCommand({ Bucket: this.s3.bucket, Key: key }));
      return r.Body as Readable;
    } catch (e) {
      throw new StoreError(describeS3Error(e, this.s3, `read ${key}`));
    }
  }

  /** An object's body, decrypted (with the identity) when it is encrypted. */
  private async readObject(key: string, encrypted: boolean, what: string): Promise<Readable> {
    const body = await this.getBody(key);
    if (!encrypted) return body;
    if (this.o.identity === undefined) {
      body.destroy();
      throw new StoreError(`${this.where}: ${what} is encrypted: an age identity file is needed to read it`);
    }
    return decrypting(body, this.o.identity);
  }

  /**
   * The binlog files off-site: index entries whose object is in the store with the recorded size
   * (others are problems, not listed), the gaps the index records, and objects under `binlog/`
   * that no entry names (what a killed upload left; cleanup() removes them).
   */
  async listBinlogs(): Promise<BinlogListing> {
    return binlogsOf(await this.scan());
  }

  /**
   * Upload a closed binlog file (not consumed), then its index entry: the entry is the commit
   * marker, so a kill before it leaves an object that no entry names (removed by cleanup()).
   */
  async commitBinlog(
    src: string,
    meta: Pick<IndexBinlog, 'name' | 'first_time' | 'last_time' | 'gtid_list' | 'state_end' | 'last_gtid'>,
  ): Promise<IndexBinlog> {
    await this.ensureOwner();
    const bytes = statSync(src).size;
    const o = await this.uploadFile(src, `binlog/${meta.name}`);
    const entry: IndexBinlog = {
      ...meta,
      bytes,
      plain_sha256: o.plain_sha256,
      object: { bytes: o.bytes, sha256: o.sha256 },
      encrypted: this.encrypted,
      uploaded_at: new Date().toISOString(),
    };
    const { index } = await this.readIndex();
    await this.saveIndex({
      ...index,
      binlogs: [...(index.binlogs ?? []).filter((b) => b.name !== meta.name), entry],
    });
    return entry;
  }

  /** Remove binlog files: their index entries first (they stop being listed), then the objects. */
  async removeBinlogs(names: readonly string[], orphans: readonly string[] = []): Promise<void> {
    if (names.length === 0 && orphans.length === 0) return;
    await this.ensureOwner();
    this.scanned = undefined; // objects go
    const { index } = await this.readIndex();
    const gone = (index.binlogs ?? []).filter((b) => names.includes(b.name));
    if (gone.length > 0)
      await this.saveIndex({ ...index, binlogs: (index.binlogs ?? []).filter((b) => !gone.includes(b)) });
    await deleteObjects(
      this.s3,
      [...gone.map((b) => binlogObjectName(b.name, b.encrypted)), ...orphans].map((n) => this.key(n)),
      this.o.offsite.concurrency,
    );
  }

  /** Record the gaps the local store knows (rewritten only when they differ). */
  async setBinlogGaps(gaps: readonly IndexGap[]): Promise<boolean> {
    const { index } = await this.readIndex();
    if (JSON.stringify(index.binlog_gaps ?? []) === JSON.stringify(gaps)) return false;
    await this.ensureOwner();
    const { binlog_gaps: _old, ...rest } = index;
    await this.saveIndex({ ...rest, ...(gaps.length > 0 ? { binlog_gaps: [...gaps] } : {}) });
    return true;
  }

  /** A binlog file's plaintext (decrypted with the identity); the caller checks its sha256. */
  async openBinlog(b: IndexBinlog): Promise<Readable> {
    return this.readObject(this.key(binlogObjectName(b.name, b.encrypted)), b.encrypted, `binlog/${b.name}`);
  }

  /** A complete spool left by a killed sync (its upload resumes with the same ciphertext). */
  private async leftSpool(path: string): Promise<Omit<IndexObject, 'file'> | undefined> {
    try {
      const h = JSON.parse(await readFile(`${path}.hash.json`, 'utf8')) as Omit<IndexObject, 'file'>;
      if (statSync(path).size === h.bytes) return h;
    } catch {
      /* none, or not whole: encrypted again */
    }
    return undefined;
  }

  private async dropSpool(path: string): Promise<void> {
    if (!this.encrypted) return;
    await rm(path, { force: true });
    await rm(`${path}.hash.json`, { force: true });
  }

  /**
   * Upload a local file as `name`. Encrypted: age reads the file and its ciphertext passes through
   * Node once (sha256, the spool, the parts; upload.ts); the plaintext sha256 is the catalog's
   * (`plainSha256`; hashed here only for files the catalog has no sum of, all small but binlogs).
   */
  private async uploadFile(src: string, name: string, plainSha256?: string): Promise<IndexObject> {
    const file = name.slice(name.lastIndexOf('/') + 1);
    const key = this.key(`${name}${this.encrypted ? '.age' : ''}`);
    mkdirSync(this.o.spoolDir, { recursive: true, mode: 0o700 });
    const path = join(this.o.spoolDir, name.replaceAll('/', '-'));
    const statePath = `${path}.upload.json`;
    const opts = {
      partSize: this.o.offsite.partSize,
      concurrency: this.o.offsite.concurrency,
      bandwidth: this.o.offsite.bandwidth,
      statePath,
      md5: !this.encrypted,
    };
    const progress = (total: number) => (_p: Part, sent: number) =>
      this.o.onProgress?.({ name, sent, total });
    if (statSync(src).size <= SMALL_FILE) {
      // One PUT (checkpoints, small binlogs): no multipart upload, spool or state.
      const { body, obj } = await this.small(await readFile(src));
      await putSmall(this.s3, key, body);
      return { file, ...obj };
    }
    if (!this.encrypted) {
      const st = statSync(src);
      const sha = plainSha256 ?? (await sha256File(src));
      await uploadSpooled(this.s3, key, src, { ...opts, onPart: progress(st.size) });
      return { file, bytes: st.size, sha256: sha, plain_sha256: sha };
    }
    const left = await this.leftSpool(path);
    if (left) {
      await uploadSpooled(this.s3, key, path, { ...opts, onPart: progress(left.bytes) });
      await this.dropSpool(path);
      return { file, ...left };
    }
    // Encrypted afresh: an upload recorded for an earlier ciphertext is of no use any more.
    const old = await loadState(statePath);
    if (old) await abortUpload(this.s3, old.key, old.uploadId);
    await rm(statePath, { force: true });
    await this.dropSpool(path);
    const plainSize = statSync(src).size;
    const need = plainSize + SPOOL_MARGIN;
    const fs = await statfs(this.o.spoolDir);
    if (fs.bavail * fs.bsize < need) {
      throw new StoreError(
        `not enough free space in ${this.o.spoolDir} for the encrypted spool of ${name} (${need} bytes needed with the margin)`,
      );
    }
    const recipients = await this.recipients();
    const plain = plainSha256 ?? (await sha256File(src));
    const tmp = `${path}.tmp`;
    await rm(tmp, { force: true });
    await writeFile(tmp, '', { mode: 0o600, flag: 'wx' });
    const h = createHash('sha256');
    let bytes = 0;
    async function* hashed(): AsyncGenerator<Buffer> {
      for await (const c of encryptChunks(src, recipients)) {
        h.update(c);
        bytes += c.length;
        yield c;
      }
    }
    let obj: Omit<IndexObject, 'file'> | undefined;
    const maxSize = cipherBound(plainSize, recipients.length);
    await uploadSpooled(this.s3, key, tmp, {
      ...opts,
      // While encrypting, the total is an estimate (the ciphertext's bound).
      onPart: progress(maxSize),
      stream: {
        chunks: hashed(),
        maxSize,
        seal: async () => {
          obj = { bytes, sha256: h.digest('hex'), plain_sha256: plain };
          await writeFile(`${path}.hash.json`, JSON.stringify(obj), { mode: 0o600 });
          await rename(tmp, path);
        },
      },
    });
    await this.dropSpool(path);
    return { file, ...obj! };
  }

  /** The listing stays valid: it gains the committed item (no LIST per item). */
  private async commitItem(
    entry: IndexItem,
    upload: { src: string; name: string; plainSha256?: string }[],
    marker: ItemMarker,
  ): Promise<void> {
    const before = this.scanned;
    const done = await this.writing(() => this.commitItemNow(entry, upload, marker));
    if (before) {
      const items = [...before.listing.items.filter((x) => !sameRef(x, refFor(done))), done];
      const sizes = new Map(before.sizes);
      for (const [n, o] of objectSizes(done)) sizes.set(n, o);
      this.scanned = {
        listing: listingOf(items, before.listing.problems),
        unmarked: before.unmarked,
        index: this.cached!.index,
        sizes,
      };
    }
  }

  private async commitItemNow(
    entry: IndexItem,
    upload: { src: string; name: string; plainSha256?: string }[],
    marker: ItemMarker,
  ): Promise<IndexItem> {
    await this.ensureOwner();
    const objects: IndexObject[] = [];
    for (const u of upload) objects.push(await this.uploadFile(u.src, u.name, u.plainSha256));
    // The marker's object is prepared (encrypted) before the index names it; its text may seal
    // the data objects just stored.
    const text = typeof marker.text === 'string' ? marker.text : marker.text(objects);
    const m = await this.prepareMarker({ name: marker.name, text });
    const done: IndexItem = { ...entry, objects: [...objects, m.obj] };
    await this.editIndex((items) => [...items.filter((x) => !sameRef(x, refFor(entry))), done]);
    await faultPoint('commit'); // data and index entry there, no marker yet
    await m.put();
    return done;
  }

  /** The recipients, read once per command (an @FILE is not read again for every object). */
  private recipientKeys?: Promise<string[]>;
  private recipients(): Promise<string[]> {
    return (this.recipientKeys ??= resolveRecipients(this.o.offsite.recipients ?? { keys: [] }));
  }

  /** A small object's body (encrypted in memory) and its index entry. */
  private async small(plain: Buffer): Promise<{ body: Buffer; obj: Omit<IndexObject, 'file'> }> {
    const plainSha = createHash('sha256').update(plain).digest('hex');
    if (!this.encrypted)
      return { body: plain, obj: { bytes: plain.length, sha256: plainSha, plain_sha256: plainSha } };
    const body = await encryptBuffer(plain, await this.recipients());
    const sha = createHash('sha256').update(body).digest('hex');
    return { body, obj: { bytes: body.length, sha256: sha, plain_sha256: plainSha } };
  }

  private async prepareMarker(marker: {
    name: string;
    text: string;
  }): Promise<{ obj: IndexObject; put: () => Promise<void> }> {
    const file = marker.name.slice(marker.name.lastIndexOf('/') + 1);
    const { body, obj } = await this.small(Buffer.from(marker.text));
    return {
      obj: { file, ...obj },
      put: () => putSmall(this.s3, this.key(`${marker.name}${this.encrypted ? '.age' : ''}`), body),
    };
  }

  /** Whether an item is committed here (listed). */
  private async has(ref: BackupRef | ItemRef): Promise<boolean> {
    return (await this.list()).items.some((i) => sameRef(i, ref));
  }

  /** Upload a backup from a directory (not consumed: the local copy stays). */
  async commitBackup(dir: string, m: Manifest): Promise<void> {
    const ok = parseManifest(JSON.stringify(m));
    if (typeof ok === 'string') throw new StoreError(`refusing to commit ${m.type}/${m.id}: ${ok}`);
    if (ok.host !== this.o.host)
      throw new StoreError(`refusing to commit ${m.type}/${m.id} of host ${ok.host} under ${this.o.host}`);
    if (await this.has({ kind: m.type, id: m.id }))
      throw new StoreError(`${m.type}/${m.id} is already in ${this.where}`);
    // Data files: the stream and whatever else the backup directory holds (checkpoints), validated names.
    const files = readdirSync(dir)
      .filter((f) => f !== 'manifest.json' && isItemFileName(f) && statSync(join(dir, f)).isFile())
      .sort((a, b) => (a === m.file ? 1 : b === m.file ? -1 : a < b ? -1 : 1));
    if (!files.includes(m.file)) throw new StoreError(`${m.type}/${m.id}: ${m.file} is not in ${dir}`);
    const d = `${m.type}/${m.id}`;
    await this.commitItem(
      {
        kind: 'backup',
        manifest: ok,
        encrypted: this.encrypted,
        objects: [],
        uploaded_at: new Date().toISOString(),
      },
      // The stream's plaintext sha256 is the manifest's (restore and verify --deep check it).
      files.map((f) => ({
        src: join(dir, f),
        name: `${d}/${f}`,
        ...(f === ok.file ? { plainSha256: ok.sha256 } : {}),
      })),
      { name: `${d}/manifest.json`, text: JSON.stringify(ok, null, 2) + '\n' },
    );
  }

  /** Upload a ready file (not consumed) with its description. */
  async commitReady(file: string, info: ReadyInfo | StoredReadyInfo): Promise<void> {
    const ok = parseReadyInfo(JSON.stringify(info), info.id);
    if (typeof ok === 'string') throw new StoreError(`refusing to commit ready/${info.id}: ${ok}`);
    if (await this.has({ kind: 'ready', id: info.id, file: info.file }))
      throw new StoreError(`ready/${info.id} is already in ${this.where}`);
    const entry: IndexItem = {
      kind: 'ready',
      info: {
        id: ok.id,
        file: ok.file,
        sha256: ok.sha256,
        compress: ok.compress as 'zstd' | 'gzip' | 'none',
        ...(typeof ok.bytes === 'number' ? { bytes: ok.bytes } : {}),
        ...(typeof ok.to_lsn === 'number' ? { to_lsn: ok.to_lsn } : {}),
        ...(Array.isArray(ok.contains) ? { contains: ok.contains } : {}),
        ...(typeof ok.created_at === 'string' ? { created_at: ok.created_at } : {}),
      },
      encrypted: this.encrypted,
      objects: [],
      uploaded_at: new Date().toISOString(),
    };
    await this.commitItem(entry, [{ src: file, name: `ready/${ok.file}`, plainSha256: ok.sha256 }], {
      name: `ready/${ok.id}.json`,
      // Encrypted: the description seals the data object's ciphertext (a restore checks it as it
      // downloads and lets age feed the decompressor directly).
      text: ([data]) =>
        this.encrypted && data
          ? sealedText(info, { bytes: data.bytes, sha256: data.sha256 })
          : JSON.stringify(info, null, 2) + '\n',
    });
  }

  async updateManifest(m: Manifest): Promise<void> {
    const ok = parseManifest(JSON.stringify(m));
    if (typeof ok === 'string') throw new StoreError(`refusing to update ${m.type}/${m.id}: ${ok}`);
    await this.writing(() => this.updateManifestNow(ok));
  }

  private async updateManifestNow(m: Manifest): Promise<void> {
    await this.ensureOwner();
    const i = await this.listed({ kind: m.type, id: m.id });
    const mk = await this.prepareMarker({
      name: `${m.type}/${m.id}/manifest.json`,
      text: JSON.stringify(m, null, 2) + '\n',
    });
    const updated: IndexItem = {
      ...(i as Extract<IndexItem, { kind: 'backup' }>),
      manifest: m,
      objects: i.objects.map((o) => (o.file === 'manifest.json' ? mk.obj : o)),
    };
    await this.editIndex((items) => items.map((x) => (sameRef(x, refFor(i)) ? updated : x)));
    await mk.put();
  }

  /** Markers first (the items stop being listed), then `between`, then data and index entries. */
  remove(items: readonly ItemRef[], between?: () => Promise<void>): Promise<void> {
    return this.writing(() => this.removeNow(items, between));
  }

  private async removeNow(items: readonly ItemRef[], between?: () => Promise<void>): Promise<void> {
    await this.ensureOwner();
    const { index } = await this.readIndex();
    const gone = index.items.filter((i) => items.some((r) => sameRef(i, r)));
    await deleteObjects(
      this.s3,
      gone.map((i) => this.key(itemObjects(i).marker)),
      this.o.offsite.concurrency,
    );
    this.scanned = undefined; // the markers are gone
    await between?.();
    await this.dropEntries(gone);
  }

  private async dropEntries(gone: readonly IndexItem[]): Promise<void> {
    if (gone.length === 0) return;
    await deleteObjects(
      this.s3,
      gone.flatMap((i) => itemObjects(i).data.map((n) => this.key(n))),
      this.o.offsite.concurrency,
    );
    await this.editIndex((items) => items.filter((i) => !gone.includes(i)));
  }

  /**
   * After a sync: remove what a killed commit or removal left (index entries without their marker,
   * and their data), abort open multipart uploads and empty the spool directory. Only the single
   * writer (under the run lock) calls this. Returns what it did, for the log.
   */
  async cleanup(): Promise<{ entries: number; uploads: number }> {
    if (this.scanned && !this.leftovers) {
      // Nothing was left before, and this sync's own uploads all completed (or it would have failed).
      await rm(this.o.spoolDir, { recursive: true, force: true });
      return { entries: 0, uploads: 0 };
    }
    // Scanned afresh (writing() drops the cached listing): what a killed process left.
    return this.writing(async () => {
      await this.ensureOwner();
      const unlisted = (await this.scan()).unmarked;
      await this.dropEntries(unlisted);
      // Binlog objects no index entry names: an upload killed before its entry was written.
      const { orphans } = await this.listBinlogs();
      await this.removeBinlogs([], orphans);
      const uploads = await abortAbandoned(this.s3, `${this.root}/`);
      if (existsSync(this.o.spoolDir)) await rm(this.o.spoolDir, { recursive: true, force: true });
      return { entries: unlisted.length + orphans.length, uploads };
    });
  }
}

interface Scan {
  listing: S3Listing;
  /** Index entries without their marker (a commit or removal killed midway). */
  unmarked: IndexItem[];
  index: HostIndex;
  /** Object name (below `<host>/`) -> size, as listed. */
  sizes: Map<string, number>;
}

interface BinlogListing {
  binlogs: IndexBinlog[];
  gaps: IndexGap[];
  problems: string[];
  orphans: string[];
}

/** The listing of these (listed) items, in catalog order. */
function listingOf(items: IndexItem[], problems: string[]): S3Listing {
  const backups = items
    .flatMap((i) => (i.kind === 'backup' ? [i.manifest] : []))
    .sort((a, b) => (a.type === b.type ? (a.id < b.id ? -1 : 1) : a.type === 'full' ? -1 : 1));
  const readies = items
    .flatMap((i) => (i.kind === 'ready' ? [{ id: i.info.id, file: i.info.file }] : []))
    .sort((a, b) => (a.id < b.id ? -1 : 1));
  return { backups, readies, problems, items };
}

/** An item's objects (names below `<host>/`) and their sizes. */
function objectSizes(i: IndexItem): [string, number][] {
  return i.objects.map((o) => [objectName(refOf(i), o.file, i.encrypted), o.bytes]);
}

/**
 * The binlog files off-site: index entries whose object is in the store with the recorded size
 * (others are problems, not listed), the gaps the index records, and objects under `binlog/`
 * that no entry names (what a killed upload left; cleanup() removes them).
 */
function binlogsOf(s: Scan): BinlogListing {
  const binlogs: IndexBinlog[] = [];
  const problems: string[] = [];
  const known = new Set<string>();
  for (const b of s.index.binlogs ?? []) {
    const n = binlogObjectName(b.name, b.encrypted);
    known.add(n);
    const got = s.sizes.get(n);
    if (got === undefined) problems.push(`${n}: missing from the store`);
    else if (got !== b.object.bytes)
      problems.push(`${n}: ${got} bytes in the store, ${b.object.bytes} in the index`);
    else binlogs.push(b);
  }
  const orphans = [...s.sizes.keys()].filter((n) => n.startsWith('binlog/') && !known.has(n));
  return { binlogs, gaps: s.index.binlog_gaps ?? [], problems, orphans };
}

function refFor(i: IndexItem): ItemRef {
  return i.kind === 'ready'
    ? { kind: 'ready', id: i.info.id, file: i.info.file }
    : { kind: i.manifest.type, id: i.manifest.id };
}

/** An item's marker: its object name and text, or the text made from the data objects stored. */
interface ItemMarker {
  name: string;
  text: string | ((objects: readonly IndexObject[]) => string);
}

/** `age -d` as a stream: the plaintext, or an error when age fails (wrong identity, altered data). */
function decrypting(body: Readable, identity: string): Readable {
  // age runs through util/proc (own process group, timeout, killed when the reader stops early).
  async function* plain(): AsyncGenerator<Buffer> {
    try {
      yield* decryptChunks(body, identity);
    } catch (e) {
      throw e instanceof AgeError
        ? new StoreError(e.message)
        : new StoreError(`download failed: ${errorMessage(e)}`);
    }
  }
  return Readable.from(plain(), { objectMode: false, highWaterMark: 1 << 20 });
}

/** The S3 store of a host, from its config (offsite_url set). */
export function openS3Store(
  h: Pick<HostConfig, 'name' | 'offsite'>,
  hostRoot: string,
  opts: Omit<S3StoreOptions, 'host' | 'offsite' | 'spoolDir'> = {},
): S3Store {
  return new S3Store({
    host: h.name,
    offsite: h.offsite,
    spoolDir: join(hostRoot, 'tmp', 'offsite'),
    manager: `${hostname()}:${hostRoot}`,
    ...opts,
  });
}
