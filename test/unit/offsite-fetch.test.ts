/**
 * The reader side of the off-site tier: what a restore downloads (a table of cases), what a non-deep
 * verify concludes (a table), and the download into staging against a remote catalog (a local
 * store that hides its paths, as the object store's driver does): checked in the same pass, and a
 * file that does not match its manifest leaves no staging behind.
 */
import t, { type Test } from 'tap';
import { createHash } from 'node:crypto';
import { existsSync, mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { ensureLayout } from '../../src/catalog/store.js';
import { LocalStore } from '../../src/storage/local.js';
import type { BackupRef, CatalogStore, ReadyRef } from '../../src/storage/catalog-store.js';
import type { Manifest } from '../../src/catalog/manifest.js';
import { fetchPlan, fetchSpaceNeeded, presenceProblems, readFailure } from '../../src/offsite/fetch-plan.js';
import {
  FetchMismatch,
  RemoteView,
  fetchToStaging,
  stagedPath,
  streamFromRemote,
} from '../../src/offsite/fetch.js';
import { Readable } from 'node:stream';
import { text } from 'node:stream/consumers';
import { full, inc } from './factory.js';

const F = full('20261122T010000Z', 1000, { bytes: 100 });
const I1 = inc('20261123T010000Z', F, 2000, { bytes: 10 });
const I2 = inc('20261124T010000Z', I1, 3000, { bytes: 20 });
const F2 = full('20261125T010000Z', 4000, { bytes: 200 });
const ORPHAN = inc('20261126T010000Z', full('20261101T010000Z', 50), 60);
const R1 = { id: '20261123T010000Z', file: '20261123T010000Z.tar.zst', bytes: 7 };
const R2 = { id: '20261125T010000Z', file: '20261125T010000Z.tar.zst' };
const BADF = full('20261127T010000Z', 5000, { unusable: { reason: 'verify failed', at: 'x' } });
const BADI = inc('20261128T010000Z', BADF, 6000);
const listing = { backups: [F, I1, I2, F2, ORPHAN, BADF, BADI], readies: [R1, R2] };

t.test('fetchPlan: what a restore downloads', async (t) => {
  const cases: { name: string; want: { ready?: string; backup?: string }; expect: string[] | RegExp }[] = [
    { name: 'default: the newest ready file', want: {}, expect: ['ready/20261125T010000Z.tar.zst'] },
    { name: 'latest', want: { ready: 'latest' }, expect: ['ready/20261125T010000Z.tar.zst'] },
    { name: 'a ready id', want: { ready: R1.id }, expect: ['ready/20261123T010000Z.tar.zst'] },
    {
      name: 'an unknown ready id',
      want: { ready: '20200101T000000Z' },
      expect: /no ready backup 20200101T000000Z in S/,
    },
    {
      name: 'an incremental: the whole chain, full first',
      want: { backup: I2.id },
      expect: [`full/${F.id}`, `incremental/${I1.id}`, `incremental/${I2.id}`],
    },
    { name: 'a full alone', want: { backup: F2.id }, expect: [`full/${F2.id}`] },
    {
      name: 'an unknown backup',
      want: { backup: '20200101T000000Z' },
      expect: /no backup 20200101T000000Z in S/,
    },
    {
      name: 'a broken chain is refused before any download',
      want: { backup: ORPHAN.id },
      expect: /cannot restore 20261126T010000Z: /,
    },
    {
      name: 'a backup marked unusable is refused',
      want: { backup: BADF.id },
      expect: /cannot restore 20261127T010000Z: it is unusable: verify failed/,
    },
    {
      name: 'an incremental of an unusable backup is refused',
      want: { backup: BADI.id },
      expect: /cannot restore 20261128T010000Z: parent 20261127T010000Z of 20261128T010000Z is unusable/,
    },
  ];
  for (const c of cases) {
    const p = fetchPlan(listing, c.want, 'S');
    if (c.expect instanceof RegExp) {
      t.notOk(p.ok, c.name);
      if (!p.ok) t.match(p.error, c.expect, c.name);
    } else {
      t.ok(p.ok, c.name);
      if (p.ok)
        t.same(
          p.fetch.map((f) => ('kind' in f.ref ? `${f.ref.kind}/${f.ref.id}` : `ready/${f.file}`)),
          c.expect,
          c.name,
        );
    }
  }
  t.same(fetchPlan({ backups: [], readies: [] }, {}, 'S'), {
    ok: false,
    error: 'no ready backup in S: restore a chain with --backup ID',
  });
  const chain = fetchPlan(listing, { backup: I2.id }, 'S');
  t.equal(chain.ok && chain.fetch.reduce((n, f) => n + f.bytes, 0), 130, 'the bytes of the chain');
});

t.test('fetchSpaceNeeded: the bytes and a margin (1 %, at least 64 MiB)', async (t) => {
  const f = (bytes: number) => [{ ref: { id: 'x', file: 'x' }, file: 'x', bytes }];
  t.equal(fetchSpaceNeeded([]), 64 * 2 ** 20);
  t.equal(fetchSpaceNeeded(f(1000)), 1000 + 64 * 2 ** 20);
  t.equal(fetchSpaceNeeded(f(100 * 2 ** 30)), 101 * 2 ** 30);
});

t.test('presenceProblems: every indexed object there with its recorded size', async (t) => {
  const idx = [
    { name: 'full/a/s.age', size: 100 },
    { name: 'full/a/manifest.json.age', size: 10 },
    { name: 'ready/r.age', size: 50 },
  ];
  const cases: { name: string; present: [string, number][]; expect: string[] }[] = [
    {
      name: 'all there',
      present: [
        ['full/a/s.age', 100],
        ['full/a/manifest.json.age', 10],
        ['ready/r.age', 50],
        ['extra', 1],
      ],
      expect: [],
    },
    {
      name: 'one missing',
      present: [
        ['full/a/s.age', 100],
        ['ready/r.age', 50],
      ],
      expect: ['full/a/manifest.json.age: missing in the store'],
    },
    {
      name: 'truncated and grown',
      present: [
        ['full/a/s.age', 99],
        ['full/a/manifest.json.age', 10],
        ['ready/r.age', 51],
      ],
      expect: [
        'full/a/s.age: truncated: 99 bytes in the store, 100 indexed',
        'ready/r.age: altered: 51 bytes in the store, 50 indexed',
      ],
    },
    { name: 'an empty store', present: [], expect: idx.map((o) => `${o.name}: missing in the store`) },
  ];
  for (const c of cases)
    t.same(
      presenceProblems(idx, new Map(c.present)).map((p) => `${p.item}: ${p.problem}`),
      c.expect,
      c.name,
    );
});

function remoteWith(t: Test, data: string, recorded = data) {
  const root = mkdtempSync(join(tmpdir(), 'xbfetch-'));
  t.teardown(() => rmSync(root, { recursive: true, force: true }));
  ensureLayout(root);
  const sha = createHash('sha256').update(recorded).digest('hex');
  const m: Manifest = { ...F, sha256: sha, bytes: data.length };
  const dir = join(root, 'full', m.id);
  mkdirSync(dir, { recursive: true });
  writeFileSync(join(dir, m.file), data);
  writeFileSync(join(dir, 'manifest.json'), JSON.stringify(m));
  // A local catalog seen as a remote one: no local paths, data only through openRead.
  const local = new LocalStore(root);
  const remote: CatalogStore = {
    where: local.where,
    list: () => local.list(),
    readManifest: (ref) => local.readManifest(ref),
    readReady: (id) => local.readReady(id),
    openRead: (ref, file) => local.openRead(ref, file),
    localPath: () => undefined,
    commitBackup: () => Promise.reject(new Error('no')),
    commitReady: () => Promise.reject(new Error('no')),
    updateManifest: () => Promise.reject(new Error('no')),
    remove: () => Promise.reject(new Error('no')),
  };
  return { root, m, remote };
}

t.test('fetchToStaging: downloaded and checked, then read as local files', async (t) => {
  const { root, m, remote } = remoteWith(t, 'the stream');
  const dir = join(root, 'tmp', 'offsite-restore-1');
  const ref: BackupRef = { kind: 'full', id: m.id };
  let seen = 0;
  const staged = await fetchToStaging(remote, [{ ref, file: m.file, bytes: 10 }], dir, (n) => (seen += n));
  t.equal(seen, 10);
  t.equal(readFileSync(staged.localPath(ref, m.file), 'utf8'), 'the stream');
  t.equal(staged.localPath(ref, m.file), stagedPath(dir, ref, m.file));
  t.same(
    (await staged.list()).backups.map((b) => b.id),
    [m.id],
    'metadata from the remote',
  );
  await t.rejects(staged.commitBackup(dir, m), /does not write/);
  const rref: ReadyRef = { id: R1.id, file: R1.file };
  await t.rejects(staged.openRead(rref, R1.file), /was not downloaded/);
  t.throws(() => stagedPath(dir, rref, '../x'), /invalid catalog file name/);
});

t.test('fetchToStaging: an altered object leaves no staging', async (t) => {
  const { root, m, remote } = remoteWith(t, 'the streaX', 'the stream');
  const dir = join(root, 'tmp', 'offsite-restore-2');
  await t.rejects(
    fetchToStaging(remote, [{ ref: { kind: 'full', id: m.id }, file: m.file, bytes: 10 }], dir),
    new FetchMismatch(`full/${m.id} from ${root} does not match its recorded sha256 (altered in the store?)`),
  );
  t.notOk(existsSync(dir));
});

t.test('fetchToStaging: a download that fails midway leaves no staging', async (t) => {
  const { root, m, remote } = remoteWith(t, 'the stream');
  rmSync(join(root, 'full', m.id, m.file));
  const dir = join(root, 'tmp', 'offsite-restore-3');
  await t.rejects(
    fetchToStaging(remote, [{ ref: { kind: 'full', id: m.id }, file: m.file, bytes: 10 }], dir),
    /missing file/,
  );
  t.notOk(existsSync(dir));
});

t.test('fetchToStaging: no room for the download is refused before any byte', async (t) => {
  const { root, m, remote } = remoteWith(t, 'the stream');
  const dir = join(root, 'tmp', 'offsite-restore-4');
  await t.rejects(
    fetchToStaging(remote, [{ ref: { kind: 'full', id: m.id }, file: m.file, bytes: 2 ** 60 }], dir),
    /not enough free space in .* for the download/,
  );
  t.notOk(existsSync(dir));
});

t.test("fetchToStaging: an index that disagrees with the item's own manifest is refused", async (t) => {
  const { root, m, remote } = remoteWith(t, 'the stream');
  // The store rewrote its plaintext index (another object's sha256); the stored manifest says otherwise.
  const lying: CatalogStore = {
    ...remote,
    readManifest: async (ref) => ({ ...(await remote.readManifest(ref)), sha256: 'c'.repeat(64) }),
  };
  const dir = join(root, 'tmp', 'offsite-restore-5');
  await t.rejects(
    fetchToStaging(lying, [{ ref: { kind: 'full', id: m.id }, file: m.file, bytes: 10 }], dir),
    new FetchMismatch(
      `full/${m.id}/manifest.json in ${root} does not match the store's index (altered in the store?)`,
    ),
  );
  t.notOk(existsSync(dir));
});

t.test('fetchToStaging: the staged view serves the manifest stored with the item', async (t) => {
  const { root, m, remote } = remoteWith(t, 'the stream');
  const staged = await fetchToStaging(
    { ...remote, readManifest: async (ref) => ({ ...(await remote.readManifest(ref)), reason: 'index' }) },
    [{ ref: { kind: 'full', id: m.id }, file: m.file, bytes: 10 }],
    join(root, 'tmp', 'offsite-restore-6'),
  );
  t.equal((await staged.readManifest({ kind: 'full', id: m.id })).reason, m.reason);
});

t.test('streamFromRemote: markers checked, data read from the store, nothing staged', async (t) => {
  const { root, m, remote } = remoteWith(t, 'the stream');
  const ref: BackupRef = { kind: 'full', id: m.id };
  const view = await streamFromRemote(
    { ...remote, readManifest: async (r) => ({ ...(await remote.readManifest(r)), reason: 'index' }) },
    [{ ref, file: m.file, bytes: 10 }],
  );
  t.equal((await view.readManifest(ref)).reason, m.reason, 'the manifest stored with the item');
  t.equal(view.localPath(ref, m.file), undefined, 'no local file');
  t.equal(await text(await view.openRead(ref, m.file)), 'the stream');
  await t.rejects(view.commitBackup(root, m), /does not write/);
});

t.test("streamFromRemote: an index that disagrees with the item's own manifest is refused", async (t) => {
  const { root, m, remote } = remoteWith(t, 'the stream');
  const lying: CatalogStore = {
    ...remote,
    readManifest: async (ref) => ({ ...(await remote.readManifest(ref)), sha256: 'c'.repeat(64) }),
  };
  await t.rejects(
    streamFromRemote(lying, [{ ref: { kind: 'full', id: m.id }, file: m.file, bytes: 10 }]),
    new FetchMismatch(
      `full/${m.id}/manifest.json in ${root} does not match the store's index (altered in the store?)`,
    ),
  );
});

t.test('streamFromRemote: a read that fails midway is one line naming the item', async (t) => {
  const { root, m, remote } = remoteWith(t, 'the stream');
  const ref: BackupRef = { kind: 'full', id: m.id };
  const failing: CatalogStore = {
    ...remote,
    openRead: async (r, file) => {
      if (file !== m.file) return remote.openRead(r, file);
      return Readable.from(
        (async function* () {
          yield Buffer.from('the ');
          throw new Error(
            'age could not decrypt: age: error: failed to decrypt and authenticate payload chunk',
          );
        })(),
      );
    },
  };
  const view = await streamFromRemote(failing, [{ ref, file: m.file, bytes: 10 }]);
  await t.rejects(text(await view.openRead(ref, m.file)), {
    message: `full/${m.id} from ${root}: it does not decrypt and authenticate: altered or truncated in the store`,
  });
  const gone: CatalogStore = { ...remote, openRead: () => Promise.reject(new Error('missing file x')) };
  await t.rejects(new RemoteView(gone).openRead(ref, m.file), {
    message: `full/${m.id} from ${root}: missing file x`,
  });
});

t.test('readFailure: what a failed download means', async (t) => {
  const altered = 'it does not decrypt and authenticate: altered or truncated in the store';
  const cases: [string, string][] = [
    [
      'age could not decrypt: age: error: failed to decrypt and authenticate payload chunk age: report unexpected or unhelpful errors at https://filippo.io/age/report',
      altered,
    ],
    ['age could not decrypt: age: error: failed to read header: parsing header: malformed', altered],
    ['age could not decrypt: age: error: header MAC is invalid', altered],
    [
      'age could not decrypt: the identity does not match the recipients the object was encrypted to',
      'age could not decrypt: the identity does not match the recipients the object was encrypted to',
    ],
    [
      's3://b/p/db1: read x: the store is unreachable (ECONNREFUSED)',
      's3://b/p/db1: read x: the store is unreachable (ECONNREFUSED)',
    ],
  ];
  for (const [in_, out] of cases) t.equal(readFailure(in_), out, in_.slice(0, 60));
});
