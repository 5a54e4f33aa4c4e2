/**
 * `check`'s view of the object store for one host: reachable, bucket there, the credentials can
 * write, list and delete a probe object, the recipients parse, age is present. One line each.
 */
import { randomBytes } from 'node:crypto';
import { HeadBucketCommand } from '@aws-sdk/client-s3';
import type { CheckLine } from '../checks.js';
import type { HostConfig } from '../config/load.js';
import { errorMessage } from '../errors.js';
import { run } from '../util/proc.js';
import { ageBinary, resolveRecipients } from './age.js';
import { deleteObjects, listObjects } from './objects.js';
import { describeS3Error, keyOf, openStore, StoreError } from './s3.js';
import { putSmall } from './upload.js';

export async function probeStore(h: HostConfig): Promise<CheckLine[]> {
  const o = h.offsite;
  if (o.url === undefined) return [];
  const lines: CheckLine[] = [];
  const add = (check: string, ok: boolean, detail: string) => lines.push({ host: h.name, check, ok, detail });
  const store = openStore(o);
  try {
    let reachable = false;
    try {
      await store.client.send(new HeadBucketCommand({ Bucket: store.bucket }));
      reachable = true;
      add('offsite store', true, `${store.label}: bucket ${store.bucket} exists`);
    } catch (e) {
      // HeadBucket has no body: a 404 is the missing bucket, a 403 the credentials.
      const status = (e as { $metadata?: { httpStatusCode?: number } }).$metadata?.httpStatusCode;
      const named = status === 404 ? Object.assign(new Error(), { name: 'NoSuchBucket' }) : e;
      add('offsite store', false, describeS3Error(named, store, `bucket ${store.bucket}`));
    }
    if (reachable) {
      const key = keyOf(store, `${h.name}/.xb-mgr-probe-${process.pid}-${randomBytes(4).toString('hex')}`);
      try {
        await putSmall(store, key, 'xb-mgr check\n');
        const listed = await listObjects(store, key, 10);
        if (!listed.some((l) => l.key === key))
          throw new StoreError(`${store.label}: the probe object was written but is not listed`);
        await deleteObjects(store, [key]);
        const after = await listObjects(store, key, 10);
        if (after.some((l) => l.key === key))
          throw new StoreError(`${store.label}: the probe object was deleted but is still listed`);
        add('offsite access', true, 'write, list and delete a probe object');
      } catch (e) {
        add('offsite access', false, errorMessage(e));
      }
    }
  } finally {
    store.client.destroy();
  }
  if (o.encryption === 'none') {
    add('offsite encryption', true, 'none: the store can read the backups (offsite_encryption = none)');
    return lines;
  }
  try {
    const keys = await resolveRecipients(o.recipients!);
    add('offsite recipients', true, `${keys.length} age recipient(s)`);
  } catch (e) {
    add('offsite recipients', false, errorMessage(e));
  }
  try {
    const age = ageBinary();
    const r = await run(age, ['--version'], { timeoutMs: 30_000, reject: false });
    add('age', r.exitCode === 0, `${age} ${r.stdout.trim().slice(0, 40)}`);
  } catch (e) {
    add('age', false, errorMessage(e));
  }
  return lines;
}
