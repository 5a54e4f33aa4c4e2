import t from 'tap';
import { isUsable, parseManifest, type Manifest } from '../../src/catalog/manifest.js';

/** A manifest as commitBackup writes it (full). */
const FULL: Manifest = {
  format: 1,
  id: '20261124T031500Z',
  type: 'full',
  host: 'db1',
  parent: null,
  from_lsn: 0,
  to_lsn: 44554,
  last_lsn: 274751,
  file: 'backup.xbstream.zst',
  bytes: 1234567,
  sha256: 'a'.repeat(64),
  compress: 'zstd',
  tool: 'mariabackup',
  tool_version: '10.11.19',
  binlog: { file: 'mysql-bin.000001', position: 51831, gtid: '0-1-9' },
  reason: 'no usable backup yet',
  started_at: '2026-11-24T03:15:00.000Z',
  finished_at: '2026-11-24T03:15:09.000Z',
  seconds: 9.1,
};

const INCREMENTAL: Manifest = {
  ...FULL,
  id: '20261124T111500Z',
  type: 'incremental',
  parent: '20261124T031500Z',
  from_lsn: 44554,
  to_lsn: 50112,
  reason: 'incremental from 20261124T031500Z (full, to_lsn 44554)',
};

const json = (o: unknown) => JSON.stringify(o, null, 2) + '\n';
const without = (k: keyof Manifest) => {
  const o: Record<string, unknown> = { ...FULL };
  delete o[k];
  return json(o);
};
const withValue = (k: string, v: unknown, base: Manifest = FULL) => json({ ...base, [k]: v });

t.test('parseManifest: good manifests come back as they are', async (t) => {
  const cases: [name: string, m: Manifest][] = [
    ['full', FULL],
    ['incremental', INCREMENTAL],
    ['unusable', { ...INCREMENTAL, unusable: { reason: 'verify failed', at: '2026-11-24T12:00:00.000Z' } }],
    [
      'minimal (no optional fields)',
      {
        format: 1,
        id: '20261124T031500Z',
        type: 'full',
        host: 'db1',
        parent: null,
        from_lsn: 0,
        to_lsn: 0,
        file: 'backup.xbstream',
        bytes: 0,
        sha256: '',
        compress: 'none',
        tool: 'xtrabackup',
        reason: '',
        started_at: '',
        finished_at: '',
        seconds: 0,
      },
    ],
  ];
  for (const [name, m] of cases) t.strictSame(parseManifest(json(m)), m, name);
  t.strictSame(parseManifest(JSON.stringify(FULL)), FULL, 'compact JSON');
});

t.test('parseManifest: errors', async (t) => {
  const cases: [name: string, text: string, want: string][] = [
    ['empty file', '', 'manifest.json is not valid JSON'],
    ['truncated', json(FULL).slice(0, 100), 'manifest.json is not valid JSON'],
    ['not JSON', 'id=20261124T031500Z', 'manifest.json is not valid JSON'],
    ['an empty object', '{}', 'manifest.json lacks "id"'],
    ['an array', '[]', 'manifest.json is not an object'],
    ['a number', '42', 'manifest.json is not an object'],
    ['a string', '"x"', 'manifest.json is not an object'],
    ['no id', without('id'), 'manifest.json lacks "id"'],
    ['no type', without('type'), 'manifest.json lacks "type"'],
    ['no host', without('host'), 'manifest.json lacks "host"'],
    ['no from_lsn', without('from_lsn'), 'manifest.json lacks "from_lsn"'],
    ['no to_lsn', without('to_lsn'), 'manifest.json lacks "to_lsn"'],
    ['no file', without('file'), 'manifest.json lacks "file"'],
    ['no bytes', without('bytes'), 'manifest.json lacks "bytes"'],
    ['no sha256', without('sha256'), 'manifest.json lacks "sha256"'],
    ['id null', withValue('id', null), 'manifest.json lacks "id"'],
    ['to_lsn null', withValue('to_lsn', null), 'manifest.json lacks "to_lsn"'],
    ['sha256 null', withValue('sha256', null), 'manifest.json lacks "sha256"'],
    [
      'type differential',
      withValue('type', 'differential'),
      'manifest.json has an unknown type "differential"',
    ],
    ['type Full', withValue('type', 'Full'), 'manifest.json has an unknown type "Full"'],
    ['type 1', withValue('type', 1), 'manifest.json has an unknown type 1'],
    [
      'incremental, parent null',
      withValue('parent', null, INCREMENTAL),
      'manifest.json of an incremental names no parent',
    ],
    [
      'incremental, parent ""',
      withValue('parent', '', INCREMENTAL),
      'manifest.json of an incremental names no parent',
    ],
    [
      'incremental, no parent',
      json({ ...INCREMENTAL, parent: undefined }),
      'manifest.json of an incremental names no parent',
    ],
  ];
  for (const [name, text, want] of cases) t.equal(parseManifest(text), want, name);
});

t.test('parseManifest: JSON null is an error message, not an exception', async (t) => {
  let got: unknown;
  try {
    got = parseManifest('null');
  } catch (e) {
    got = `threw: ${(e as Error).message}`;
  }
  t.equal(got, 'manifest.json is not an object', 'null');
});

t.test('parseManifest: numbers must be numbers', async (t) => {
  const cases: [name: string, text: string][] = [
    ['from_lsn a string', withValue('from_lsn', '0')],
    ['to_lsn a string', withValue('to_lsn', '44554')],
    ['bytes a string', withValue('bytes', '1234567')],
  ];
  for (const [name, text] of cases) {
    t.type(parseManifest(text), 'string', name);
  }
});

t.test('isUsable', async (t) => {
  t.equal(isUsable(FULL), true);
  t.equal(isUsable(INCREMENTAL), true);
  t.equal(
    isUsable({ ...FULL, unusable: { reason: 'prepare failed', at: '2026-11-24T12:00:00.000Z' } }),
    false,
  );
  t.equal(isUsable({ ...FULL, unusable: undefined }), true);
});
