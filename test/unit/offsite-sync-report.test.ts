import t from 'tap';
import { formatSyncReport } from '../../src/commands/offsite.js';
import type { HostSyncResult } from '../../src/offsite/sync.js';

const base: HostSyncResult = {
  host: 'db1',
  ok: true,
  store: 's3://b/p/db1',
  uploaded: ['full/20261122T010000Z'],
  uploaded_bytes: 1000,
  marked_unusable: [],
  deleted: [],
  aborted_uploads: 0,
  backlog_items: 0,
  backlog_bytes: 0,
  seconds: 1,
};

t.test('formatSyncReport: one line a host, with what changed in the store', async (t) => {
  const cases: [name: string, h: HostSyncResult, want: string][] = [
    [
      'uploads only',
      base,
      'db1  OK      s3://b/p/db1: 1 uploaded (1000 bytes), 0 deleted by off-site retention',
    ],
    [
      'binlogs',
      { ...base, uploaded_binlogs: ['mysql-bin.000002'], deleted_binlogs: [] },
      'db1  OK      s3://b/p/db1: 1 uploaded (1000 bytes), 0 deleted by off-site retention; binlogs: 1 uploaded, 0 deleted',
    ],
    [
      'an unusable marking copied',
      { ...base, uploaded: [], uploaded_bytes: 0, marked_unusable: ['incremental/20261123T010000Z'] },
      'db1  OK      s3://b/p/db1: 0 uploaded (0 bytes), 0 deleted by off-site retention; marked unusable: incremental/20261123T010000Z',
    ],
    [
      'a failure keeps the backlog',
      { ...base, ok: false, error: 'the store is unreachable', backlog_items: 2, backlog_bytes: 5 },
      'db1  FAILED  the store is unreachable (backlog: 2 item(s), 5 bytes kept locally)',
    ],
  ];
  for (const [name, h, want] of cases) t.equal(formatSyncReport({ ok: h.ok, hosts: [h] }), want, name);
});
