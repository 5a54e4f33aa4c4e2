/**
 * The local-directory driver of the catalog store: `<backup_dir>/<host>/` as documented in
 * docs/ARCHITECTURE.md. A backup is committed by renaming its staged directory (manifest inside)
 * into full/ or incremental/; a ready file by renaming it into ready/, then writing `<id>.json`.
 * Deletion goes through trash/ so that a kill midway never leaves an incremental without its parent.
 */
import {
  createReadStream,
  existsSync,
  mkdirSync,
  readdirSync,
  readFileSync,
  renameSync,
  rmSync,
} from 'node:fs';
import { once } from 'node:events';
import { join } from 'node:path';
import type { Readable } from 'node:stream';
import { commitBackup, readCatalog, updateManifest, writeFileAtomic } from '../catalog/store.js';
import { parseManifest, type Manifest } from '../catalog/manifest.js';
import { isItemFileName, isItemId } from '../catalog/names.js';
import {
  parseReadyInfo,
  parseReadyRef,
  type ReadyInfo,
  type ReadyRef,
  type StoredReadyInfo,
} from '../catalog/ready-info.js';
import type { Deletion } from '../retention.js';
import { faultPoint } from '../util/fault.js';
// Retention's trash I/O lives in catalog/retain.ts (which imports this module back, for its
// default store: a cycle that is safe, both sides use the other only inside functions).
import { emptyTrash, moveToTrash } from '../catalog/retain.js';
import {
  StoreError,
  type BackupRef,
  type CatalogStore,
  type ItemRef,
  type StoreListing,
} from './catalog-store.js';

/** ready/: the items (a valid description whose file exists) and one line per entry that is not one. */
export function scanReadies(root: string): { readies: ReadyRef[]; problems: string[] } {
  const readies: ReadyRef[] = [];
  const problems: string[] = [];
  let names: string[] = [];
  try {
    names = readdirSync(join(root, 'ready'));
  } catch {
    return { readies, problems };
  }
  for (const n of names.sort()) {
    const m = /^(.*)\.json$/.exec(n);
    // Data files, and the temporary names of an atomic write, are not descriptions.
    if (!m || !isItemId(m[1])) continue;
    let text: string;
    try {
      text = readFileSync(join(root, 'ready', n), 'utf8');
    } catch (e) {
      problems.push(`ready/${n}: unreadable (${(e as NodeJS.ErrnoException).code ?? 'error'})`);
      continue;
    }
    const r = parseReadyRef(text, m[1]);
    if (typeof r === 'string') problems.push(`ready/${n}: ${r}`);
    else if (!existsSync(join(root, 'ready', r.file))) problems.push(`ready/${n}: its ready file is missing`);
    else readies.push(r);
  }
  return { readies, problems };
}

/** The ready items of a host: a description whose file exists (what retention and restore see). */
export function listReadies(root: string): ReadyRef[] {
  return scanReadies(root).readies;
}

/**
 * Remove ready data no description names: what a kill between a ready commit's data and its
 * description, or between a removal's two steps, left. Runs inside a commit, under the host's
 * lock, so no other commit is half done.
 */
function dropUnlisted(dir: string): void {
  const names = readdirSync(dir);
  const described = new Set(names.filter((n) => n.endsWith('.json')).map((n) => n.slice(0, -5)));
  for (const n of names) {
    const id = /^(\d{8}T\d{6}Z)\./.exec(n)?.[1];
    if (id && !described.has(id)) rmSync(join(dir, n), { force: true });
  }
}

function asDeletion(i: ItemRef): Deletion {
  return i.kind === 'ready'
    ? { kind: 'ready', id: i.id, what: i.file, reason: '' }
    : { kind: 'backup', id: i.id, what: i.kind, reason: '' };
}

function checkId(id: string): string {
  if (!isItemId(id)) throw new StoreError(`invalid catalog id ${JSON.stringify(id)}`);
  return id;
}

function checkFile(file: string): string {
  if (!isItemFileName(file)) throw new StoreError(`invalid catalog file name ${JSON.stringify(file)}`);
  return file;
}

export class LocalStore implements CatalogStore {
  readonly where: string;

  constructor(readonly root: string) {
    this.where = root;
  }

  async list(): Promise<StoreListing> {
    const c = readCatalog(this.root);
    const ready = scanReadies(this.root);
    return { backups: c.backups, readies: ready.readies, problems: [...c.problems, ...ready.problems] };
  }

  private itemDir(ref: BackupRef | ReadyRef): string {
    checkId(ref.id);
    if ('kind' in ref && (ref.kind === 'full' || ref.kind === 'incremental'))
      return join(this.root, ref.kind, ref.id);
    return join(this.root, 'ready');
  }

  async readManifest(ref: BackupRef): Promise<Manifest> {
    const item = `${ref.kind}/${checkId(ref.id)}`;
    let text: string;
    try {
      text = readFileSync(join(this.itemDir(ref), 'manifest.json'), 'utf8');
    } catch {
      throw new StoreError(`no backup ${item} in ${this.where} (see xb-mgr list)`);
    }
    const m = parseManifest(text);
    if (typeof m === 'string') throw new StoreError(`${item} in ${this.where}: ${m}`);
    if (m.id !== ref.id || m.type !== ref.kind)
      throw new StoreError(`${item} in ${this.where}: manifest says ${m.type}/${m.id}`);
    return m;
  }

  async readReady(id: string): Promise<StoredReadyInfo> {
    const name = `ready/${checkId(id)}.json`;
    let text: string;
    try {
      text = readFileSync(join(this.root, name), 'utf8');
    } catch {
      throw new StoreError(`no ready backup ${id} in ${join(this.root, 'ready')} (see xb-mgr list)`);
    }
    const info = parseReadyInfo(text, id);
    if (typeof info === 'string') throw new StoreError(`${name} in ${this.where}: ${info}`);
    return info;
  }

  localPath(ref: BackupRef | ReadyRef, file: string): string {
    return join(this.itemDir(ref), checkFile(file));
  }

  async openRead(ref: BackupRef | ReadyRef, file: string): Promise<Readable> {
    const path = this.localPath(ref, file);
    const s = createReadStream(path, { highWaterMark: 1 << 20 });
    try {
      await once(s, 'open');
    } catch (e) {
      const code = (e as NodeJS.ErrnoException).code;
      throw new StoreError(code === 'ENOENT' ? `missing file ${file}` : `cannot read ${file}: ${code ?? e}`);
    }
    return s;
  }

  async commitBackup(stagingDir: string, m: Manifest): Promise<void> {
    const ok = parseManifest(JSON.stringify(m));
    if (typeof ok === 'string') throw new StoreError(`refusing to commit ${m.type}/${m.id}: ${ok}`);
    await faultPoint('commit'); // data staged, no manifest yet
    commitBackup(this.root, stagingDir, m);
  }

  async commitReady(stagedFile: string, info: ReadyInfo): Promise<void> {
    const ok = parseReadyInfo(JSON.stringify(info), info.id);
    if (typeof ok === 'string') throw new StoreError(`refusing to commit ready/${info.id}: ${ok}`);
    const dir = join(this.root, 'ready');
    mkdirSync(dir, { recursive: true, mode: 0o700 });
    dropUnlisted(dir);
    renameSync(stagedFile, join(dir, info.file));
    await faultPoint('commit'); // data in place, no description yet
    // The description last: it is the commit marker.
    writeFileAtomic(join(dir, `${info.id}.json`), JSON.stringify(info, null, 2) + '\n');
  }

  async updateManifest(m: Manifest): Promise<void> {
    const ok = parseManifest(JSON.stringify(m));
    if (typeof ok === 'string') throw new StoreError(`refusing to update ${m.type}/${m.id}: ${ok}`);
    updateManifest(this.root, m);
  }

  async remove(items: readonly ItemRef[], between?: () => Promise<void>): Promise<void> {
    moveToTrash(this.root, items.map(asDeletion));
    await between?.();
    emptyTrash(this.root);
  }
}
