import t, { type Test } from 'tap';
import * as fs from 'node:fs';
import {
  existsSync,
  mkdirSync,
  mkdtempSync,
  readdirSync,
  readFileSync,
  rmSync,
  writeFileSync,
} from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import {
  applyRetention,
  emptyLeftoverTrash,
  emptyTrash,
  listReadies,
  readPins,
  retainHost,
  writePins,
} from '../../src/catalog/retain.js';
import type { HostConfig } from '../../src/config/load.js';
import { startTs } from './procs-ts.js';
import { planRetention, type Deletion, type ReadyEntry } from '../../src/retention.js';
import { readCatalog } from '../../src/catalog/store.js';
import type { Manifest } from '../../src/catalog/manifest.js';
import { full, inc } from './factory.js';

const nov = (day: number) => `202611${String(day).padStart(2, '0')}T010000Z`;

/** Daily chains: fulls on Sundays 8, 15, 22; incrementals every other day up to the 24th. */
function catalog(): Manifest[] {
  const out: Manifest[] = [];
  for (let d = 8; d <= 24; d++) {
    const lsn = 1000 + d * 100;
    out.push(d === 8 || d === 15 || d === 22 ? full(nov(d), lsn) : inc(nov(d), out[out.length - 1]!, lsn));
  }
  return out;
}

function tempRoot(t: Test): string {
  const root = mkdtempSync(join(tmpdir(), 'xbretain-'));
  t.teardown(() => rmSync(root, { recursive: true, force: true }));
  return root;
}

/** Write a catalog the way commits leave it: <kind>/<id>/ with manifest.json and the stream. */
function writeCatalog(root: string, backups: Manifest[]): void {
  for (const d of ['full', 'incremental', 'ready', 'prepare', 'tmp', 'trash'])
    mkdirSync(join(root, d), { recursive: true });
  for (const m of backups) {
    const dir = join(root, m.type, m.id);
    mkdirSync(dir, { recursive: true });
    writeFileSync(join(dir, 'manifest.json'), JSON.stringify(m, null, 2) + '\n');
    writeFileSync(join(dir, m.file), 'stream');
  }
}

function writeReady(root: string, id: string, file = `${id}.tar.zst`, withFile = true): void {
  mkdirSync(join(root, 'ready'), { recursive: true });
  writeFileSync(join(root, 'ready', `${id}.json`), JSON.stringify({ id, file }) + '\n');
  if (withFile) writeFileSync(join(root, 'ready', file), 'tar');
}

const sortReadies = (r: ReadyEntry[]) => [...r].sort((a, b) => (a.id < b.id ? -1 : 1));

t.test('listReadies', async (t) => {
  t.strictSame(listReadies(join(tmpdir(), 'xb-does-not-exist-' + process.pid)), [], 'no host dir: none');
  const root = tempRoot(t);
  t.strictSame(listReadies(root), [], 'no ready/: none');
  mkdirSync(join(root, 'ready'));
  t.strictSame(listReadies(root), [], 'empty ready/: none');

  writeReady(root, nov(15));
  writeReady(root, nov(16), `${nov(16)}.tar.gz`);
  writeReady(root, nov(17), `${nov(17)}.tar.zst`, false); // description without its file
  writeFileSync(join(root, 'ready', `${nov(18)}.json`), '{"file": '); // bad JSON
  writeFileSync(join(root, 'ready', `${nov(18)}.tar.zst`), 'tar');
  writeFileSync(join(root, 'ready', `${nov(19)}.json`), '{"id": "x"}\n'); // no file named
  writeFileSync(join(root, 'ready', `${nov(19)}.tar.zst`), 'tar');
  writeFileSync(join(root, 'ready', `${nov(20)}.tar.zst`), 'tar'); // a file without a description
  writeFileSync(join(root, 'ready', 'notes.json'), JSON.stringify({ file: `${nov(15)}.tar.zst` })); // not an id
  writeFileSync(
    join(root, 'ready', `${nov(21)}.json.tmp-123`),
    JSON.stringify({ file: `${nov(15)}.tar.zst` }),
  );
  writeFileSync(join(root, 'ready', '20261121T0100Z.json'), JSON.stringify({ file: `${nov(15)}.tar.zst` }));
  writeFileSync(join(root, 'ready', `${nov(22)}.json`), 'null\n'); // JSON, but not an object
  writeFileSync(join(root, 'ready', `${nov(23)}.json`), JSON.stringify({ file: '' })); // empty name

  t.strictSame(
    sortReadies(listReadies(root)),
    [
      { id: nov(15), file: `${nov(15)}.tar.zst` },
      { id: nov(16), file: `${nov(16)}.tar.gz` },
    ],
    'only a description whose file exists',
  );
});

t.test('pins', async (t) => {
  const root = tempRoot(t);
  const pinsFile = join(root, 'pins.json');
  t.strictSame([...readPins(root)], [], 'no pins.json: none');

  writePins(root, new Set([nov(17), nov(9), nov(12)]));
  t.equal(
    readFileSync(pinsFile, 'utf8'),
    `{\n  "pinned": [\n    "${nov(9)}",\n    "${nov(12)}",\n    "${nov(17)}"\n  ]\n}\n`,
    'written sorted, as indented JSON with a final newline',
  );
  t.strictSame([...readPins(root)].sort(), [nov(9), nov(12), nov(17)], 'round trip');
  t.strictSame(readdirSync(root), ['pins.json'], 'no temporary file left');

  writePins(root, new Set());
  t.equal(readFileSync(pinsFile, 'utf8'), '{\n  "pinned": []\n}\n', 'no pins: an empty list');
  t.strictSame([...readPins(root)], [], 'round trip of none');

  const nested = join(root, 'new-host');
  writePins(nested, new Set([nov(10)]));
  t.strictSame([...readPins(nested)], [nov(10)], 'writePins creates the host directory');

  const bad: [string, string, string[]][] = [
    ['not JSON', '{"pinned": [', []],
    ['empty file', '', []],
    ['JSON null', 'null', []],
    ['pinned not a list', '{"pinned": "20261110T010000Z"}', []],
    ['no pinned key', '{"pins": ["20261110T010000Z"]}', []],
    ['a list of an array', '["20261110T010000Z"]', []],
    [
      'non-strings dropped',
      `{"pinned": ["${nov(10)}", 1, null, {"id": "x"}, "${nov(11)}"]}`,
      [nov(10), nov(11)],
    ],
  ];
  for (const [name, text, want] of bad) {
    writeFileSync(pinsFile, text);
    t.strictSame([...readPins(root)].sort(), want, name);
  }
});

t.test('emptyTrash', async (t) => {
  const root = tempRoot(t);
  t.doesNotThrow(() => emptyTrash(root), 'no trash/: nothing to do');
  mkdirSync(join(root, 'trash', 'full-x', 'deep'), { recursive: true });
  writeFileSync(join(root, 'trash', 'full-x', 'deep', 'f'), 'x');
  writeFileSync(join(root, 'trash', 'ready-y.tar.zst'), 'x');
  emptyTrash(root);
  t.ok(existsSync(join(root, 'trash')), 'trash/ stays');
  t.strictSame(readdirSync(join(root, 'trash')), [], 'and is empty');
});

t.test('applyRetention: the plan is carried out, through the trash', async (t) => {
  const root = tempRoot(t);
  const backups = catalog();
  writeCatalog(root, backups);
  for (const d of [16, 20, 23, 24]) writeReady(root, nov(d));
  // An earlier interrupted run left something in the trash.
  mkdirSync(join(root, 'trash', 'incremental-20261101T010000Z'), { recursive: true });

  const readies = listReadies(root);
  const plan = planRetention({
    backups: readCatalog(root).backups,
    readies,
    now: new Date('2026-11-24T02:00:00Z'),
    retainDays: 1,
    retainReady: 2,
    pins: new Set([nov(10)]),
  });
  t.strictSame(
    plan.delete.map((d) => `${d.kind}:${d.what}:${d.id}`),
    [
      ...[21, 20, 19, 18, 17, 16].map((d) => `backup:incremental:${nov(d)}`),
      `backup:full:${nov(15)}`,
      ...[14, 13, 12, 11].map((d) => `backup:incremental:${nov(d)}`),
      `ready:${nov(20)}.tar.zst:${nov(20)}`,
      `ready:${nov(16)}.tar.zst:${nov(16)}`,
    ],
    'the plan',
  );

  applyRetention(root, plan.delete);

  t.strictSame(
    readdirSync(join(root, 'full')).sort(),
    [nov(8), nov(22)],
    'full/: the pinned chain and this week',
  );
  t.strictSame(
    readdirSync(join(root, 'incremental')).sort(),
    [nov(9), nov(10), nov(23), nov(24)],
    'incremental/',
  );
  t.strictSame(
    readdirSync(join(root, 'ready')).sort(),
    [`${nov(23)}.json`, `${nov(23)}.tar.zst`, `${nov(24)}.json`, `${nov(24)}.tar.zst`],
    'ready/: the newest two, description and file',
  );
  t.strictSame(readdirSync(join(root, 'trash')), [], 'trash/ emptied, leftovers included');
  const after = readCatalog(root);
  t.strictSame(after.problems, [], 'the catalog reads cleanly');
  t.strictSame(
    after.backups.map((m) => m.id).sort(),
    [nov(8), nov(9), nov(10), nov(22), nov(23), nov(24)],
    'what is left',
  );

  // Applying the same plan again is harmless: everything is already gone.
  t.doesNotThrow(() => applyRetention(root, plan.delete), 'idempotent');
  t.equal(readCatalog(root).backups.length, 6, 'nothing more deleted');
});

t.test('applyRetention: a ready file whose tar is already gone, and a missing trash dir', async (t) => {
  const root = tempRoot(t);
  writeReady(root, nov(15), `${nov(15)}.tar.zst`, false);
  writeReady(root, nov(16));
  const dels: Deletion[] = [{ kind: 'ready', id: nov(15), what: `${nov(15)}.tar.zst`, reason: 'test' }];
  applyRetention(root, dels);
  t.strictSame(
    readdirSync(join(root, 'ready')).sort(),
    [`${nov(16)}.json`, `${nov(16)}.tar.zst`],
    'description removed',
  );
  t.ok(existsSync(join(root, 'trash')), 'trash/ created');
});

t.test('applyRetention moves into trash/ before deleting', async (t) => {
  // With rmSync disabled, what applyRetention moved stays in the trash where it can be seen.
  const { applyRetention: applyNoRm } = await t.mockImport<typeof import('../../src/catalog/retain.js')>(
    '../../src/catalog/retain.js',
    { 'node:fs': { ...fs, rmSync: () => undefined } },
  );
  const root = tempRoot(t);
  const backups = catalog().filter((m) => m.id <= nov(16));
  writeCatalog(root, backups);
  writeReady(root, nov(14));
  const dels: Deletion[] = [
    { kind: 'backup', id: nov(14), what: 'incremental', reason: 'test' },
    { kind: 'backup', id: nov(13), what: 'incremental', reason: 'test' },
    { kind: 'backup', id: nov(8), what: 'full', reason: 'test' },
    { kind: 'ready', id: nov(14), what: `${nov(14)}.tar.zst`, reason: 'test' },
  ];
  applyNoRm(root, dels);
  t.strictSame(
    readdirSync(join(root, 'trash')).sort(),
    [
      `full-${nov(8)}`,
      `incremental-${nov(13)}`,
      `incremental-${nov(14)}`,
      `ready-${nov(14)}.json`,
      `ready-${nov(14)}.tar.zst`,
    ],
    'each item under its kind and id',
  );
  t.strictSame(
    readdirSync(join(root, 'trash', `incremental-${nov(14)}`)).sort(),
    ['backup.xbstream.zst', 'manifest.json'],
    'a backup moves as a whole directory',
  );
  t.notOk(existsSync(join(root, 'incremental', nov(14))), 'no longer in incremental/');
});

/** Incrementals left whose parent was in the original catalog but is gone. */
function orphaned(root: string, original: Manifest[]): string[] {
  const had = new Set(original.map((m) => m.id));
  const left = readCatalog(root).backups;
  const ids = new Set(left.map((m) => m.id));
  return left
    .filter((m) => m.parent && had.has(m.parent) && !ids.has(m.parent))
    .map((m) => `${m.id} lacks ${m.parent}`);
}

t.test('a crash after any number of moves leaves no incremental without its parent', async (t) => {
  const backups = catalog();
  const plan = planRetention({
    backups,
    readies: [],
    now: new Date('2026-11-24T02:00:00Z'),
    retainDays: 1,
    retainReady: 1,
    pins: new Set(),
  });
  const dels = plan.delete.filter((d) => d.kind === 'backup');
  t.equal(dels.length, 14, 'two weeks to delete');
  for (let k = 0; k <= dels.length; k++) {
    const root = tempRoot(t);
    writeCatalog(root, backups);
    applyRetention(root, dels.slice(0, k));
    t.strictSame(orphaned(root, backups), [], `after ${k} of ${dels.length} moves`);
    t.equal(readCatalog(root).backups.length, backups.length - k, `after ${k}: ${k} gone`);
  }
  // The check above can fail: the same deletions oldest first orphan incrementals at once.
  const root = tempRoot(t);
  writeCatalog(root, backups);
  applyRetention(root, [...dels].reverse().slice(0, 1));
  t.strictSame(
    orphaned(root, backups),
    [`${nov(9)} lacks ${nov(8)}`],
    'oldest first: the full of the 8th goes first',
  );
});

const holdChild = new URL('../fixtures/access-child.ts', import.meta.url).pathname;
const host = { name: 'db1', retainDays: 1, retainNumReadyBackups: 1 } as HostConfig;
const NOW = new Date('2026-11-24T02:00:00Z');

t.test('retainHost: waits for a reader in another process, then plans and applies', async (t) => {
  const root = tempRoot(t);
  writeCatalog(root, catalog());
  writeReady(root, nov(23));
  writeReady(root, nov(24));
  const reader = startTs(t, holdChild, ['hold', root, 'read', 'restore', '1500']);
  await reader.line(/^held /);
  const told: string[] = [];
  const planned: number[] = [];
  let between = 0;
  const deleted = await retainHost(host, root, NOW, {
    waitMs: 30_000,
    onWait: (m) => told.push(m),
    onPlan: (p) => planned.push(p.delete.length),
    beforeEmpty: async () => {
      between = readdirSync(join(root, 'trash')).length;
    },
  });
  const done = Date.now();
  const released = Number((await reader.line(/^released /)).split(' ')[1]);
  t.ok(done >= released, 'retention went on after the restore released the catalog');
  t.match(told, [/^xbretain-\w+: waiting for PID \d+ \(restore, since .*\) to finish with the catalog$/]);
  t.strictSame(planned, [deleted.length], 'the plan was told before anything moved');
  t.equal(deleted.length, 15, 'two weeks and a ready file deleted');
  t.equal(between, 16, 'the moves happened before emptying (a ready file is two entries)');
  t.strictSame(readdirSync(join(root, 'trash')), [], 'trash emptied');
  t.strictSame(readdirSync(join(root, 'full')), [nov(22)], 'this week stays');
  t.strictSame(readdirSync(join(root, '.access')), [], 'access released');
});

t.test(
  'retainHost: a restore holding the catalog longer than the wait: fails naming it, nothing moved',
  async (t) => {
    const root = tempRoot(t);
    writeCatalog(root, catalog());
    const reader = startTs(t, holdChild, ['hold', root, 'read', 'restore', '-1']);
    await reader.line(/^held /);
    await t.rejects(retainHost(host, root, NOW, { waitMs: 300 }), {
      exitCode: 1,
      message: new RegExp(
        `^xbretain-\\w+: retention waited 0\\.[34] s for the catalog ${root}: PID ${reader.proc.pid} \\(restore\\) reads it since \\S+; try again when it is done$`,
      ),
    });
    t.equal(readCatalog(root).backups.length, catalog().length, 'every backup is still there');
    t.strictSame(readdirSync(join(root, 'trash')), [], 'nothing in the trash');
  },
);

t.test('retainHost: a pin added by keep before retention takes the catalog is honoured', async (t) => {
  const root = tempRoot(t);
  writeCatalog(root, catalog());
  const keeper = startTs(t, holdChild, ['hold', root, 'write', 'keep', '800']);
  await keeper.line(/^held /);
  // The "keep" holds the catalog; it pins the 10th while retention waits.
  writePins(root, new Set([nov(10)]));
  const deleted = await retainHost(host, root, NOW, { waitMs: 30_000 });
  t.notOk(
    deleted.some((d) => d.id === nov(10) || d.id === nov(8) || d.id === nov(9)),
    'the pinned backup and its ancestors stay',
  );
  t.ok(existsSync(join(root, 'incremental', nov(10))), 'still on disk');
});

t.test('emptyLeftoverTrash: empties when the catalog is free, else leaves it for later', async (t) => {
  const root = tempRoot(t);
  t.equal(await emptyLeftoverTrash(root), undefined, 'no trash/: nothing to do');
  mkdirSync(join(root, 'trash'));
  t.equal(await emptyLeftoverTrash(root), undefined, 'empty trash/: nothing to do');
  t.notOk(existsSync(join(root, '.access')), 'and no access taken');
  mkdirSync(join(root, 'trash', 'full-x'));
  const reader = startTs(t, holdChild, ['hold', root, 'read', 'restore', '-1']);
  await reader.line(/^held /);
  const t0 = Date.now();
  const warning = await emptyLeftoverTrash(root);
  t.ok(Date.now() - t0 < 2000, 'it does not wait');
  t.match(
    warning,
    new RegExp(
      `^left trash/ as it is for now: xbretain-\\w+: run \\(emptying trash/\\) waited 0 s .*PID ${reader.proc.pid} \\(restore\\) reads it`,
    ),
  );
  t.strictSame(readdirSync(join(root, 'trash')), ['full-x'], 'left as it is');
  reader.proc.kill('SIGKILL');
  await reader.exit;
  t.equal(await emptyLeftoverTrash(root), undefined, 'free again');
  t.strictSame(readdirSync(join(root, 'trash')), [], 'emptied');
});
