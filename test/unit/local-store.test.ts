/**
 * The local-directory driver of the catalog store (src/storage/local.ts): commits are atomic (a
 * kill between data and manifest leaves no visible item), hostile names are refused on the way in
 * and out, and a manifest that fails validation is reported, never thrown raw.
 */
import t, { type Test } from 'tap';
import { existsSync, mkdirSync, mkdtempSync, readdirSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import { ensureLayout } from '../../src/catalog/store.js';
import { LocalStore } from '../../src/storage/local.js';
import { StoreError, type ItemRef } from '../../src/storage/catalog-store.js';
import { isItemFileName, isItemId } from '../../src/catalog/names.js';
import { parseReadyInfo, parseReadyRef, type ReadyInfo } from '../../src/catalog/ready-info.js';
import { parseManifest, type Manifest } from '../../src/catalog/manifest.js';
import { full, inc } from './factory.js';
import { startTs } from './procs-ts.js';

const child = new URL('../fixtures/store-child.ts', import.meta.url).pathname;
const F = full('20261122T010000Z', 1000);
const I = inc('20261123T010000Z', F, 2000);
const RID = '20261123T010000Z';

function tempRoot(t: Test): string {
  const root = mkdtempSync(join(tmpdir(), 'xbstore-'));
  t.teardown(() => rmSync(root, { recursive: true, force: true }));
  ensureLayout(root);
  return root;
}

async function text(s: NodeJS.ReadableStream): Promise<string> {
  let out = '';
  for await (const c of s) out += (c as Buffer).toString();
  return out;
}

/** Stage a backup the way a transfer leaves it in tmp/<id>/. */
function stage(root: string, m: Manifest, data = 'stream'): string {
  const dir = join(root, 'tmp', m.id);
  mkdirSync(dir, { recursive: true });
  writeFileSync(join(dir, m.file), data);
  return dir;
}

function readyInfo(id: string, extra: Partial<ReadyInfo> = {}): ReadyInfo {
  return {
    id,
    host: 'db1',
    file: `${id}.tar.zst`,
    contains: [F.id, id],
    to_lsn: 2000,
    bytes: 3,
    sha256: 'b'.repeat(64),
    compress: 'zstd',
    check: { tool: 'mysqlcheck', tables: 3, ok: true },
    rebuilt_base: false,
    steps: [],
    created_at: '2026-11-23T01:10:00.000Z',
    ...extra,
  };
}

async function stageReady(root: string, info: ReadyInfo): Promise<string> {
  const f = join(root, 'tmp', `${info.file}.part`);
  writeFileSync(f, 'tar');
  return f;
}

t.test('names: ids and file names', async (t) => {
  const ids: [unknown, boolean][] = [
    ['20261124T031500Z', true],
    ['20261124T031500', false],
    ['2026112T031500Z', false],
    ['../20261124T031500Z', false],
    ['20261124T031500Z/..', false],
    ['', false],
    [null, false],
    [20261124, false],
  ];
  for (const [id, ok] of ids) t.equal(isItemId(id), ok, `id ${JSON.stringify(id)}`);
  const files: [unknown, boolean][] = [
    ['backup.xbstream.zst', true],
    ['xtrabackup_checkpoints', true],
    ['20261124T031500Z.tar.zst', true],
    ['.', false],
    ['..', false],
    ['../x', false],
    ['/etc/passwd', false],
    ['a/b', false],
    ['a\nb', false],
    ['a b', false],
    ['', false],
    ['x'.repeat(256), false],
    [undefined, false],
  ];
  for (const [f, ok] of files) t.equal(isItemFileName(f), ok, `file ${JSON.stringify(f)}`);
});

t.test('parseManifest refuses names that would leave the item', async (t) => {
  const cases: [string, Manifest, string][] = [
    ['file ../x', { ...F, file: '../x' }, 'manifest.json names an invalid file "../x"'],
    ['file with a slash', { ...F, file: 'a/b' }, 'manifest.json names an invalid file "a/b"'],
    ['id not an id', { ...F, id: '../../etc' }, 'manifest.json has an invalid id "../../etc"'],
    ['parent not an id', { ...I, parent: '../full/x' }, 'manifest.json has an invalid parent "../full/x"'],
  ];
  for (const [name, m, want] of cases) t.equal(parseManifest(JSON.stringify(m)), want, name);
});

t.test('parseReadyRef and parseReadyInfo: tables', async (t) => {
  const good = readyInfo(RID);
  const refs: [string, string, unknown][] = [
    ['minimal', JSON.stringify({ file: `${RID}.tar.zst` }), { id: RID, file: `${RID}.tar.zst` }],
    ['full description', JSON.stringify(good), { id: RID, file: `${RID}.tar.zst` }],
    ['not JSON', '{"file":', `${RID}.json is not valid JSON`],
    ['null', 'null', `${RID}.json is not an object`],
    ['an array', '[]', `${RID}.json is not an object`],
    ['another id', JSON.stringify({ id: F.id, file: `${F.id}.tar.zst` }), `${RID}.json says it is "${F.id}"`],
    ['no file', '{}', `${RID}.json names no valid ready file (null)`],
    [
      'file ../',
      JSON.stringify({ file: '../../etc/passwd' }),
      `${RID}.json names no valid ready file ("../../etc/passwd")`,
    ],
    [
      'file of another id',
      JSON.stringify({ file: `${F.id}.tar.zst` }),
      `${RID}.json names no valid ready file ("${F.id}.tar.zst")`,
    ],
    [
      'file is the description',
      JSON.stringify({ file: `${RID}.json` }),
      `${RID}.json names no valid ready file ("${RID}.json")`,
    ],
  ];
  for (const [name, text, want] of refs) t.strictSame(parseReadyRef(text, RID), want, `ref: ${name}`);

  const infos: [string, unknown, string | undefined][] = [
    ['good', good, undefined],
    [
      'what a restore needs only',
      { file: `${RID}.tar.zst`, sha256: 'c'.repeat(64), compress: 'gzip' },
      undefined,
    ],
    ['no sha256', { ...good, sha256: undefined }, `${RID}.json has no valid "sha256"`],
    ['short sha256', { ...good, sha256: 'abc' }, `${RID}.json has no valid "sha256"`],
    ['unknown compress', { ...good, compress: 'rar' }, `${RID}.json has an unknown compress "rar"`],
    ['contains a path', { ...good, contains: ['../x'] }, `${RID}.json has an invalid "contains"`],
    ['bytes a string', { ...good, bytes: '3' }, `${RID}.json has a non-numeric "bytes"`],
    ['negative to_lsn', { ...good, to_lsn: -1 }, `${RID}.json has a non-numeric "to_lsn"`],
    ['bad file', { ...good, file: '../x' }, `${RID}.json names no valid ready file ("../x")`],
  ];
  for (const [name, o, want] of infos) {
    const got = parseReadyInfo(JSON.stringify(o), RID);
    if (want === undefined) t.type(got, 'object', `info: ${name}`);
    else t.equal(got, want, `info: ${name}`);
  }
});

t.test('commit, list, read, update, remove: the round trip', async (t) => {
  const root = tempRoot(t);
  const store = new LocalStore(root);
  t.strictSame(await store.list(), { backups: [], readies: [], problems: [] }, 'empty');
  await store.commitBackup(stage(root, F, 'full stream'), F);
  await store.commitBackup(stage(root, I, 'inc stream'), I);
  t.strictSame(readdirSync(join(root, 'tmp')), [], 'staging consumed');
  await t.rejects(store.commitBackup(stage(root, F), F), 'a second commit of the same id fails');
  rmSync(join(root, 'tmp', F.id), { recursive: true, force: true });
  const info = readyInfo(RID);
  await store.commitReady(await stageReady(root, info), info);

  const l = await store.list();
  t.strictSame(l.backups, [F, I], 'backups');
  t.strictSame(l.readies, [{ id: RID, file: `${RID}.tar.zst` }], 'readies');
  t.strictSame(l.problems, [], 'no problems');
  t.strictSame(await store.readManifest({ kind: 'incremental', id: I.id }), I, 'readManifest');
  t.strictSame(await store.readReady(RID), info, 'readReady');
  t.equal(
    await text(await store.openRead({ kind: 'full', id: F.id }, F.file)),
    'full stream',
    'openRead backup',
  );
  t.equal(await text(await store.openRead(l.readies[0]!, `${RID}.tar.zst`)), 'tar', 'openRead ready');
  t.equal(
    store.localPath(l.readies[0]!, `${RID}.tar.zst`),
    join(root, 'ready', `${RID}.tar.zst`),
    'localPath',
  );

  const marked = { ...I, unusable: { reason: 'prepare failed', at: '2026-11-23T02:00:00.000Z' } };
  await store.updateManifest(marked);
  t.strictSame((await store.list()).backups[1], marked, 'updateManifest');

  // Remove: every item stops being listed before any data goes.
  const items: ItemRef[] = [
    { kind: 'ready', id: RID, file: `${RID}.tar.zst` },
    { kind: 'incremental', id: I.id },
  ];
  let between: Awaited<ReturnType<typeof store.list>> | undefined;
  await store.remove(items, async () => {
    between = await store.list();
    t.ok(readdirSync(join(root, 'trash')).length > 0, 'the data is still in trash/ then');
  });
  t.strictSame(between, { backups: [F], readies: [], problems: [] }, 'unlisted before the data goes');
  t.strictSame(await store.list(), { backups: [F], readies: [], problems: [] }, 'after');
  t.strictSame(readdirSync(join(root, 'trash')), [], 'trash emptied');
});

t.test('a kill between data and manifest leaves no visible item', async (t) => {
  for (const kind of ['backup', 'ready'] as const) {
    const root = tempRoot(t);
    const faultFile = join(root, '..', `${root.split('/').pop()}.fault`);
    t.teardown(() => rmSync(faultFile, { force: true }));
    const c = startTs(t, child, [kind, root, RID], {
      XB_MGR_FAULT_PAUSE: 'commit',
      XB_MGR_FAULT_FILE: faultFile,
    });
    for (let i = 0; i < 600 && !existsSync(faultFile); i++) await sleep(50);
    t.ok(existsSync(faultFile), `${kind}: paused at the commit`);
    c.proc.kill('SIGKILL');
    await c.exit;
    const store = new LocalStore(root);
    t.strictSame(await store.list(), { backups: [], readies: [], problems: [] }, `${kind}: nothing listed`);
    await t.rejects(store.readReady(RID), StoreError, `${kind}: no description to read`);
    // Without the fault the same commit goes through (a retry after the kill works).
    if (kind === 'backup') rmSync(join(root, 'tmp', RID), { recursive: true, force: true });
    const again = startTs(t, child, [kind, root, RID], { XB_MGR_FAULT_PAUSE: '' });
    await again.line(/committed/);
    const l = await store.list();
    t.equal(kind === 'backup' ? l.backups.length : l.readies.length, 1, `${kind}: committed on the retry`);
  }
});

t.test('a ready commit removes ready data no description names (what a kill left)', async (t) => {
  const root = tempRoot(t);
  const store = new LocalStore(root);
  const first = readyInfo(F.id, { file: `${F.id}.tar.zst` });
  await store.commitReady(await stageReady(root, first), first);
  writeFileSync(join(root, 'ready', '20261120T010000Z.tar.zst'), 'orphan'); // data, no description
  writeFileSync(join(root, 'ready', '20261120T010000Z.json.tmp-1-ab'), '{'); // a killed atomic write
  writeFileSync(join(root, 'ready', 'notes.txt'), 'not an item');
  const info = readyInfo(RID);
  await store.commitReady(await stageReady(root, info), info);
  t.strictSame(
    readdirSync(join(root, 'ready')).sort(),
    [`${F.id}.json`, `${F.id}.tar.zst`, `${RID}.json`, `${RID}.tar.zst`, 'notes.txt'],
    'orphans gone, items and foreign names kept',
  );
});

t.test('hostile names are refused on the way in and out', async (t) => {
  const root = tempRoot(t);
  const store = new LocalStore(root);
  const outside = join(root, '..', `${root.split('/').pop()}-outside`);
  writeFileSync(outside, 'secret');
  t.teardown(() => rmSync(outside, { force: true }));

  // In: refs and manifests a caller passes.
  const refused: [string, () => Promise<unknown>][] = [
    ['openRead id ..', () => store.openRead({ kind: 'full', id: '..' }, 'x')],
    ['openRead file ../', () => store.openRead({ kind: 'full', id: F.id }, `../../../${outside}`)],
    ['openRead ready file with a slash', () => store.openRead({ id: RID, file: 'a/b' }, 'a/b')],
    ['readManifest id', () => store.readManifest({ kind: 'full', id: '../../x' })],
    ['readReady id', () => store.readReady('../x')],
    ['commitBackup file ../', () => store.commitBackup(stage(root, F), { ...F, file: '../x' })],
    ['commitBackup id', () => store.commitBackup(stage(root, F), { ...F, id: '../x' })],
    ['commitReady file', () => store.commitReady(join(root, 'tmp', 'r'), readyInfo(RID, { file: '../x' }))],
    ['updateManifest id', () => store.updateManifest({ ...F, id: 'x/../../y' })],
  ];
  for (const [name, fn] of refused) await t.rejects(fn(), StoreError, name);
  t.throws(() => store.localPath({ kind: 'full', id: F.id }, '..'), StoreError, 'localPath ..');

  // Out: what the directory holds (anyone who could write it is untrusted).
  mkdirSync(join(root, 'full', 'evil'), { recursive: true });
  writeFileSync(join(root, 'full', 'evil', 'manifest.json'), JSON.stringify({ ...F, id: 'evil' }));
  mkdirSync(join(root, 'full', F.id), { recursive: true });
  writeFileSync(join(root, 'full', F.id, 'manifest.json'), JSON.stringify({ ...F, file: '../../../x' }));
  writeFileSync(join(root, 'ready', `${RID}.json`), JSON.stringify({ file: `../../${outside}` }));
  writeFileSync(join(root, 'ready', `${I.id.replace('23', '24')}.json`), '{"file": 3}');
  const l = await store.list();
  t.strictSame(l.backups, [], 'no backup listed');
  t.strictSame(l.readies, [], 'no ready listed');
  t.strictSame(l.problems, [
    `full/${F.id}: manifest.json names an invalid file "../../../x"`,
    'full/evil: manifest.json has an invalid id "evil"',
    `ready/${RID}.json: ${RID}.json names no valid ready file ("../../${outside}")`,
    'ready/20261124T010000Z.json: 20261124T010000Z.json names no valid ready file (3)',
  ]);
  // Retention of such an entry moves nothing outside the catalog.
  await store.remove([{ kind: 'ready', id: RID, file: `../../${outside}` }]);
  t.ok(existsSync(outside), 'the file outside is untouched');
});

t.test('a manifest that fails validation is reported, not thrown raw', async (t) => {
  const root = tempRoot(t);
  const store = new LocalStore(root);
  mkdirSync(join(root, 'full', F.id));
  writeFileSync(join(root, 'full', F.id, 'manifest.json'), '{"id": "' + F.id + '", "type": "fu');
  writeFileSync(join(root, 'ready', `${RID}.json`), JSON.stringify({ file: `${RID}.tar.zst`, sha256: 'x' }));
  writeFileSync(join(root, 'ready', `${RID}.tar.zst`), 'tar');
  const l = await store.list();
  t.strictSame(l.problems, [`full/${F.id}: manifest.json is not valid JSON`], 'listed as a problem');
  t.strictSame(
    l.readies,
    [{ id: RID, file: `${RID}.tar.zst` }],
    'the ready names its file (retention can delete it)',
  );
  const cases: [string, () => Promise<unknown>, RegExp][] = [
    [
      'readManifest of a bad manifest',
      () => store.readManifest({ kind: 'full', id: F.id }),
      /manifest\.json is not valid JSON/,
    ],
    [
      'readManifest of a missing one',
      () => store.readManifest({ kind: 'incremental', id: I.id }),
      /no backup incremental\//,
    ],
    ['readReady without sha256', () => store.readReady(RID), /has no valid "sha256"/],
    ['readReady missing', () => store.readReady(F.id), /no ready backup/],
    [
      'openRead of a missing file',
      () => store.openRead({ kind: 'full', id: F.id }, 'nope.zst'),
      /^missing file nope\.zst$/,
    ],
  ];
  for (const [name, fn, re] of cases) {
    const e = await fn().then(
      () => undefined,
      (err: unknown) => err,
    );
    t.type(e, StoreError, `${name}: a StoreError`);
    t.match((e as Error).message, re, `${name}: ${(e as Error).message}`);
    t.notMatch((e as Error).message, /\n/, `${name}: one line`);
  }
});
