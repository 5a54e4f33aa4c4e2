// The off-site benchmark's local catalog: one full backup and one ready file of a chosen size each,
// in the real formats (a zstd stream; a tar.zst the restore unpacks) with valid manifests. Random
// bytes: incompressible like a compressed backup, and made in seconds at any size (no sysbench).
import { createHash, randomBytes } from 'node:crypto';
import { createReadStream, mkdirSync, rmSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { sh, q } from './util.mjs';

async function sha256(path) {
  const h = createHash('sha256');
  for await (const c of createReadStream(path, { highWaterMark: 1 << 20 })) h.update(c);
  return h.digest('hex');
}

/** `bytes` of random data into a file, written 8 MiB at a time. */
function randomFile(path, bytes) {
  const chunk = 8 << 20;
  writeFileSync(path, '');
  for (let n = 0; n < bytes; n += chunk)
    writeFileSync(path, randomBytes(Math.min(chunk, bytes - n)), { flag: 'a' });
}

/**
 * `<hostRoot>/full/<id>/` (a stream of `bytes`) and `<hostRoot>/ready/<id>.tar.zst` (a tar.zst of
 * about `bytes`: 8 files of random data) with their manifest and description.
 */
export async function syntheticItems(hostRoot, host, id, bytes) {
  const full = join(hostRoot, 'full', id);
  mkdirSync(full, { recursive: true });
  const stream = join(full, 'backup.xbstream.zst');
  randomFile(stream, bytes);
  const m = {
    format: 1,
    id,
    type: 'full',
    host,
    parent: null,
    from_lsn: 0,
    to_lsn: 1,
    file: 'backup.xbstream.zst',
    bytes,
    sha256: await sha256(stream),
    compress: 'zstd',
    tool: 'mariabackup',
    reason: 'bench',
    started_at: new Date().toISOString(),
    finished_at: new Date().toISOString(),
    seconds: 1,
  };
  writeFileSync(join(full, 'manifest.json'), JSON.stringify(m));
  const ready = join(hostRoot, 'ready');
  const src = join(hostRoot, 'bench-src');
  mkdirSync(src, { recursive: true });
  mkdirSync(ready, { recursive: true });
  for (let i = 0; i < 8; i++) randomFile(join(src, `t${i}.ibd`), Math.ceil(bytes / 8));
  const file = `${id}.tar.zst`;
  await sh(`tar -C ${q(src)} -cf - . | zstd -q -T0 -1 > ${q(join(ready, file))}`);
  rmSync(src, { recursive: true, force: true });
  const info = { id, file, sha256: await sha256(join(ready, file)), compress: 'zstd', bytes, contains: [id] };
  writeFileSync(join(ready, `${id}.json`), JSON.stringify(info));
  return { stream, ready: join(ready, file), readyFile: file };
}
