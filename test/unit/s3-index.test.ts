/**
 * The pure parts of the S3 catalog driver (src/storage/s3-index.ts): the object layout, the
 * plaintext index parsed as untrusted input (tables of hostile entries), the owner decision.
 */
import t from 'tap';
import {
  emptyIndex,
  itemObjects,
  objectName,
  ownerDecision,
  parseIndex,
  parseIndexItem,
  parseOwner,
  serializeIndex,
  type IndexItem,
} from '../../src/storage/s3-index.js';
import { full, inc } from './factory.js';

const F = full('20261122T010000Z', 1000);
const I = inc('20261123T010000Z', F, 2000);
const sha = (c: string) => c.repeat(64);
const obj = (file: string, plain = sha('a')) => ({ file, bytes: 10, sha256: sha('b'), plain_sha256: plain });
const T = '2026-11-29T00:00:00.000Z';
const backup = (m = F): IndexItem => ({
  kind: 'backup',
  manifest: m,
  encrypted: true,
  objects: [obj(m.file, m.sha256), obj('manifest.json')],
  uploaded_at: T,
});
const ready: IndexItem = {
  kind: 'ready',
  info: { id: '20261123T020000Z', file: '20261123T020000Z.xbstream.zst', sha256: sha('c'), compress: 'zstd' },
  encrypted: true,
  objects: [obj('20261123T020000Z.xbstream.zst', sha('c')), obj('20261123T020000Z.json')],
  uploaded_at: T,
};

t.test('object names mirror the local layout, .age when encrypted', async (t) => {
  t.equal(
    objectName({ kind: 'full', id: F.id }, 'backup.xbstream.zst', true),
    `full/${F.id}/backup.xbstream.zst.age`,
  );
  t.equal(
    objectName({ kind: 'incremental', id: I.id }, 'manifest.json', false),
    `incremental/${I.id}/manifest.json`,
  );
  t.equal(objectName({ kind: 'ready' }, 'x.zst', true), 'ready/x.zst.age');
  t.same(itemObjects(backup()), {
    data: [`full/${F.id}/backup.xbstream.zst.age`],
    marker: `full/${F.id}/manifest.json.age`,
  });
  t.same(itemObjects(ready), {
    data: ['ready/20261123T020000Z.xbstream.zst.age'],
    marker: 'ready/20261123T020000Z.json.age',
  });
});

t.test('an index round-trips', async (t) => {
  const idx = { ...emptyIndex('db1'), items: [ready, backup(I), backup()] };
  const p = parseIndex(serializeIndex(idx), 'db1');
  t.ok(p.ok);
  if (!p.ok) return;
  t.same(p.value.problems, []);
  t.same(
    p.value.index.items.map((i) => (i.kind === 'ready' ? i.info.id : i.manifest.id)),
    [F.id, I.id, ready.kind === 'ready' ? ready.info.id : ''],
  );
});

t.test('a text that is not an index is refused as a whole', async (t) => {
  const cases: [string, string, RegExp][] = [
    ['not JSON', '{', /not JSON/],
    ['unknown format', JSON.stringify({ format: 2, host: 'db1', items: [] }), /unknown format/],
    ['other host', JSON.stringify({ format: 1, host: 'db2', items: [] }), /of host "db2"/],
    ['items not a list', JSON.stringify({ format: 1, host: 'db1', items: {} }), /no valid item list/],
    ['too large', ' '.repeat(33 * 1024 * 1024), /larger than 32 MiB/],
  ];
  for (const [name, text, re] of cases) {
    const p = parseIndex(text, 'db1');
    t.notOk(p.ok, name);
    if (!p.ok) t.match(p.error, re, name);
  }
});

t.test('hostile or broken entries are problems, never items', async (t) => {
  const b = backup() as unknown as Record<string, unknown>;
  const m = F as unknown as Record<string, unknown>;
  const cases: [string, unknown, RegExp][] = [
    ['not an object', 'x', /not an object/],
    ['no encrypted flag', { ...b, encrypted: 'yes' }, /encrypted/],
    ['bad time', { ...b, uploaded_at: 'soon' }, /uploaded_at/],
    ['unknown kind', { ...b, kind: 'binlog' }, /unknown kind/],
    ['manifest invalid', { ...b, manifest: { ...m, id: '../../etc' } }, /manifest is invalid/],
    ['other host', { ...b, manifest: { ...m, host: 'db9' } }, /host "db9"/],
    ['file walks', { ...b, objects: [obj('../x'), obj('manifest.json')] }, /invalid file name/],
    ['no objects', { ...b, objects: [] }, /list of 1 to 64/],
    [
      'bad size',
      { ...b, objects: [{ ...obj(F.file, F.sha256), bytes: -1 }, obj('manifest.json')] },
      /bad size/,
    ],
    [
      'bad sha',
      { ...b, objects: [{ ...obj(F.file, F.sha256), sha256: 'x' }, obj('manifest.json')] },
      /bad sha256/,
    ],
    ['stream missing', { ...b, objects: [obj('other'), obj('manifest.json')] }, /not among its objects/],
    [
      'stream sha differs',
      { ...b, objects: [obj(F.file, sha('9')), obj('manifest.json')] },
      /sha256 differs/,
    ],
    ['no manifest object', { ...b, objects: [obj(F.file, F.sha256)] }, /no manifest object/],
    [
      'twice',
      { ...b, objects: [obj(F.file, F.sha256), obj(F.file, F.sha256), obj('manifest.json')] },
      /twice/,
    ],
    ['ready bad id', { ...ready, info: { ...(ready as { info: object }).info, id: 'x' } }, /invalid id/],
    [
      'ready file walks',
      { ...ready, info: { ...(ready as { info: object }).info, file: 'a/b' } },
      /invalid file name/,
    ],
    [
      'ready no description',
      { ...ready, objects: [obj('20261123T020000Z.xbstream.zst', sha('c'))] },
      /no description/,
    ],
  ];
  for (const [name, raw, re] of cases) {
    const p = parseIndexItem(raw, 'db1');
    t.notOk(p.ok, name);
    if (!p.ok) t.match(p.error, re, name);
  }
  const p = parseIndex(
    JSON.stringify({ format: 1, host: 'db1', items: [backup(), cases[4]![1], backup()] }),
    'db1',
  );
  t.ok(p.ok);
  if (p.ok) {
    t.equal(p.value.index.items.length, 1, 'the valid entry is kept');
    t.equal(p.value.problems.length, 2, 'the invalid and the duplicate are problems');
    t.match(p.value.problems[1]!, /listed twice/);
  }
});

t.test('owner decision', async (t) => {
  const me = { manager: 'mgr1:/srv/backup/db1', section: 'db1' };
  const mine = parseOwner(JSON.stringify({ format: 1, ...me, since: T }));
  const theirs = parseOwner(JSON.stringify({ format: 1, manager: 'mgr2:/b/db1', section: 'db1', since: T }));
  const cases: [string, Parameters<typeof ownerDecision>[0], boolean, string, RegExp?][] = [
    ['no marker: write one', undefined, false, 'write'],
    ['ours', mine, false, 'ok'],
    ['ours, take-over asked', mine, true, 'ok'],
    ['another manager', theirs, false, 'refuse', /written by manager mgr2:\/b\/db1 .*--take-over/],
    ['another manager, take-over', theirs, true, 'write', /took over from manager mgr2/],
    ['unreadable marker', parseOwner('garbage'), false, 'refuse', /unreadable owner marker/],
    ['unreadable, take-over', parseOwner('garbage'), true, 'write'],
    [
      'same manager, other section',
      parseOwner(JSON.stringify({ format: 1, manager: me.manager, section: 'db2', since: T })),
      false,
      'refuse',
    ],
  ];
  for (const [name, found, takeOver, action, re] of cases) {
    const d = ownerDecision(found, me, takeOver);
    t.equal(d.action, action, name);
    if (re) t.match(d.action === 'refuse' ? d.why : d.action === 'write' ? (d.note ?? '') : '', re, name);
  }
  t.notOk(
    parseOwner(JSON.stringify({ format: 1, manager: 'a\nb', section: 's', since: T })).ok,
    'control characters',
  );
  t.notOk(parseOwner('x'.repeat(70_000)).ok, 'too large');
});
