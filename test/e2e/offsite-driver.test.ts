/**
 * The S3 catalog driver (src/storage/s3.ts) against the sandbox's real Swift + s3api: commit,
 * list without a key, read back with the identity, a kill between the index and the marker leaves
 * nothing listed (and cleanup removes it), the owner marker refuses a second manager, removal.
 */
import t from 'tap';
import { createHash } from 'node:crypto';
import { mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { GetObjectCommand } from '@aws-sdk/client-s3';
import { e2eTempDir, sandboxUp } from './sandbox.js';
import { ageKeys, objstoreEnv, offsiteConfig } from './offsite-env.js';
import { S3Store } from '../../src/storage/s3.js';
import { deleteObjects, listObjects } from '../../src/offsite/objects.js';
import { listUploads } from '../../src/offsite/upload.js';
import { full, inc } from '../unit/factory.js';

sandboxUp(2);
const env = objstoreEnv();
const keys = ageKeys();
const prefix = `drv-${process.pid}`;
const offsite = offsiteConfig(env, prefix, { recipients: { keys: [keys.recipient] } });
const root = e2eTempDir('xb-s3drv-');
const opts = {
  host: 'db1',
  offsite,
  spoolDir: join(root, 'tmp', 'offsite'),
  manager: 'mgr-a',
  identity: keys.identity,
};
const store = new S3Store(opts);
t.teardown(async () => {
  const left = await listObjects(store.s3, `${prefix}/`).catch(() => []);
  await deleteObjects(
    store.s3,
    left.map((l) => l.key),
  ).catch(() => undefined);
  store.s3.client.destroy();
});

const sha = (b: Buffer | string) => createHash('sha256').update(b).digest('hex');
function stage(id: string, data: string) {
  const dir = join(root, id);
  mkdirSync(dir, { recursive: true });
  writeFileSync(join(dir, 'backup.xbstream.zst'), data);
  writeFileSync(join(dir, 'xtrabackup_checkpoints'), 'lsn');
  return dir;
}
async function text(s: NodeJS.ReadableStream): Promise<string> {
  let out = '';
  for await (const c of s) out += (c as Buffer).toString();
  return out;
}
async function raw(key: string): Promise<Buffer> {
  const r = await store.s3.client.send(new GetObjectCommand({ Bucket: store.s3.bucket, Key: key }));
  return Buffer.from(await r.Body!.transformToByteArray());
}

const F = full('20261122T010000Z', 1000, { sha256: sha('full data SECRET-ROW'), bytes: 20 });
const I = inc('20261123T010000Z', F, 2000, { sha256: sha('incr data'), bytes: 9 });

t.test('commit, list without a key, read back with the identity', async (t) => {
  await store.commitBackup(stage(F.id, 'full data SECRET-ROW'), F);
  await store.commitBackup(stage(I.id, 'incr data'), I);
  const noKey = new S3Store({ ...opts, identity: undefined });
  const l = await noKey.list();
  t.same(l.problems, []);
  t.same(
    l.backups.map((m) => m.id),
    [F.id, I.id],
  );
  const objects = (await listObjects(store.s3, `${prefix}/db1/`)).map((o) => o.key.slice(prefix.length + 5));
  t.ok(objects.includes(`full/${F.id}/backup.xbstream.zst.age`));
  t.ok(objects.includes(`full/${F.id}/xtrabackup_checkpoints.age`));
  t.ok(objects.includes(`full/${F.id}/manifest.json.age`));
  for (const o of objects.filter((n) => n.endsWith('.age'))) {
    const b = await raw(`${prefix}/db1/${o}`);
    t.ok(b.toString('latin1').startsWith('age-encryption.org/v1'), `${o} is age`);
    t.notOk(b.includes('SECRET-ROW'), `${o} holds no plaintext`);
  }
  const idx = (await raw(`${prefix}/db1/index.json`)).toString();
  t.notOk(idx.includes('SECRET-ROW'), 'the index holds no data');
  t.equal(await text(await store.openRead({ kind: 'full', id: F.id }, F.file)), 'full data SECRET-ROW');
  await t.rejects(noKey.openRead({ kind: 'full', id: F.id }, F.file), /identity file is needed/);
  t.same(await noKey.readManifest({ kind: 'incremental', id: I.id }), I);
  await t.rejects(store.commitBackup(stage(F.id, 'x'), F), /already in/);
  t.equal((await listUploads(store.s3, `${prefix}/`)).length, 0, 'no open upload');
});

t.test('a kill between the index entry and the marker lists nothing; cleanup removes it', async (t) => {
  const G = full('20261124T010000Z', 3000, { sha256: sha('g'), bytes: 1 });
  // The state a kill at the fault point `commit` leaves: data and index entry, no marker.
  await store.commitBackup(stage(G.id, 'g'), G);
  await deleteObjects(store.s3, [`${prefix}/db1/full/${G.id}/manifest.json.age`]);
  // The next command after the kill: a store of its own (a store keeps its listing while it lives).
  const next = new S3Store(opts);
  t.teardown(() => next.s3.client.destroy());
  const l = await next.list();
  t.notOk(
    l.backups.some((m) => m.id === G.id),
    'not listed',
  );
  const c = await next.cleanup();
  t.equal(c.entries, 1, 'one half-committed entry dropped');
  const left = (await listObjects(store.s3, `${prefix}/db1/full/${G.id}/`)).length;
  t.equal(left, 0, 'its data objects are gone');
});

t.test('a second manager is refused, unless it takes over', async (t) => {
  const other = new S3Store({ ...opts, manager: 'mgr-b' });
  const R = full('20261125T010000Z', 4000, { sha256: sha('r'), bytes: 1 });
  await t.rejects(other.commitBackup(stage(R.id, 'r'), R), /written by manager mgr-a .*--take-over/);
  const notes: string[] = [];
  const taker = new S3Store({ ...opts, manager: 'mgr-b', takeOver: true, onNote: (l) => notes.push(l) });
  await taker.remove([{ kind: 'incremental', id: I.id }]);
  t.match(notes.join('\n'), /took over from manager mgr-a/);
  t.same(
    (await taker.list()).backups.map((m) => m.id),
    [F.id],
  );
  // mgr-a's next command sees the take-over (the owner is checked once per command, not per write).
  const again = new S3Store(opts);
  t.teardown(() => again.s3.client.destroy());
  await t.rejects(again.remove([{ kind: 'full', id: F.id }]), /written by manager mgr-b/);
});

t.test('the index is checked as untrusted input', async (t) => {
  const s = new S3Store(opts);
  writeFileSync(join(root, 'bad.json'), JSON.stringify({ format: 1, host: 'db2', items: [] }));
  const { putSmall } = await import('../../src/offsite/upload.js');
  await putSmall(s.s3, `${prefix}/db1/index.json`, readFileSync(join(root, 'bad.json')));
  await t.rejects(s.list(), /index.json: the index is of host "db2"/);
});
