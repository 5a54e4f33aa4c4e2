/** Manifests for unit tests: a committed full, and an incremental continuing its parent's LSN. */
import type { Manifest } from '../../src/catalog/manifest.js';

export function full(id: string, toLsn: number, extra: Partial<Manifest> = {}): Manifest {
  return {
    format: 1,
    id,
    type: 'full',
    host: 'db1',
    parent: null,
    from_lsn: 0,
    to_lsn: toLsn,
    file: 'backup.xbstream.zst',
    bytes: 1000,
    sha256: 'f'.repeat(64),
    compress: 'zstd',
    tool: 'mariabackup',
    reason: 'test',
    started_at: '2026-01-01T00:00:00.000Z',
    finished_at: '2026-01-01T00:00:01.000Z',
    seconds: 1,
    ...extra,
  };
}

export function inc(id: string, parent: Manifest, toLsn: number, extra: Partial<Manifest> = {}): Manifest {
  return full(id, toLsn, { type: 'incremental', parent: parent.id, from_lsn: parent.to_lsn, ...extra });
}
