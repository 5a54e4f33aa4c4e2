/** Pure decisions of the off-site transfer: part plans, the resume state, the store's replies. */
import t from 'tap';
import {
  MIN_PART,
  parseState,
  planParts,
  resumeDecision,
  stateMatches,
  type UploadState,
} from '../../src/offsite/multipart.js';
import {
  checkKey,
  checkListing,
  checkParts,
  checkSize,
  checkUploadId,
  etagMd5,
} from '../../src/offsite/replies.js';
import { describeS3Error, scrub } from '../../src/offsite/s3.js';
import { decryptArgs, encryptArgs } from '../../src/offsite/age.js';

const MiB = 1024 * 1024;
const md5a = '0123456789abcdef0123456789abcdef';
const md5b = 'fedcba9876543210fedcba9876543210';

t.test('planParts', async (t) => {
  const cases: [number, number, number, number, number][] = [
    // size, partSize -> parts, effective part size, last length
    [0, 8 * MiB, 1, 8 * MiB, 0],
    [1, 8 * MiB, 1, 8 * MiB, 1],
    [8 * MiB, 8 * MiB, 1, 8 * MiB, 8 * MiB],
    [8 * MiB + 1, 8 * MiB, 2, 8 * MiB, 1],
    [50 * MiB, 1 * MiB, 10, MIN_PART, 5 * MiB],
    [100_000 * MiB, 5 * MiB, 10_000, 10 * MiB, 10 * MiB],
  ];
  for (const [size, ps, n, eff, last] of cases) {
    const p = planParts(size, ps);
    t.equal(p.parts.length, n, `${size}/${ps}: ${n} parts`);
    t.equal(p.partSize, eff, `${size}/${ps}: part size ${eff}`);
    t.equal(p.parts.at(-1)!.length, last, `${size}/${ps}: last part ${last}`);
    t.equal(
      p.parts.reduce((a, x) => a + x.length, 0),
      size,
      'parts cover the file',
    );
    t.ok(
      p.parts.every((x, i) => x.n === i + 1 && x.offset === i * eff),
      'numbered and contiguous',
    );
  }
  t.throws(() => planParts(-1, MiB));
  t.throws(() => planParts(60 * 1024 ** 4, 5 * MiB), /do not fit/);
});

const STATE: UploadState = {
  v: 1,
  bucket: 'b',
  key: 'p/h/x',
  uploadId: 'abc-123',
  size: 20 * MiB,
  mtimeMs: 1.5,
  partSize: 5 * MiB,
  etags: { '1': `"${md5a}"`, '2': md5b },
};

t.test('the state file', async (t) => {
  const p = parseState(JSON.stringify(STATE));
  t.ok(p.ok);
  if (p.ok) t.same(p.value.etags, { '1': md5a, '2': md5b }, 'ETags normalized to MD5 hex');
  const bad: [string, unknown][] = [
    ['not JSON', '{'],
    ['version', { ...STATE, v: 2 }],
    ['upload id', { ...STATE, uploadId: 'a b' }],
    ['empty upload id', { ...STATE, uploadId: '' }],
    ['size', { ...STATE, size: -1 }],
    ['part number', { ...STATE, etags: { '0': md5a } }],
    ['part number too big', { ...STATE, etags: { '10001': md5a } }],
    ['etag', { ...STATE, etags: { '1': 'zz' } }],
    ['etags array', { ...STATE, etags: [md5a] }],
    ['null', null],
  ];
  for (const [name, v] of bad)
    t.notOk(parseState(typeof v === 'string' ? v : JSON.stringify(v)).ok, `refused: ${name}`);
  const spool = { bucket: 'b', key: 'p/h/x', size: 20 * MiB, mtimeMs: 1.5, partSize: 5 * MiB };
  t.ok(stateMatches(STATE, spool));
  for (const [f, v] of [
    ['size', 1],
    ['mtimeMs', 2],
    ['key', 'y'],
    ['partSize', 6 * MiB],
    ['bucket', 'c'],
  ] as const) {
    t.notOk(stateMatches(STATE, { ...spool, [f]: v }), `another ${f}: a new upload`);
  }
});

t.test('resumeDecision', async (t) => {
  const { parts } = planParts(20 * MiB, 5 * MiB);
  const L = (n: number, md5: string, size = 5 * MiB) => ({ n, size, md5 });
  const cases: [string, ReturnType<typeof L>[], Record<string, string>, number[], number[], number[]][] = [
    // name, listed, recorded -> kept, toHash, send
    ['nothing stored', [], {}, [], [], [1, 2, 3, 4]],
    [
      'all recorded and listed',
      [L(1, md5a), L(2, md5a), L(3, md5a), L(4, md5a)],
      { 1: md5a, 2: md5a, 3: md5a, 4: md5a },
      [1, 2, 3, 4],
      [],
      [],
    ],
    ['in flight at the kill: listed, not recorded', [L(1, md5a), L(2, md5b)], { 1: md5a }, [1], [2], [3, 4]],
    ['recorded but not listed (store lost it)', [L(2, md5a)], { 1: md5a, 2: md5a }, [2], [], [1, 3, 4]],
    ['listed with another MD5 than recorded', [L(1, md5b)], { 1: md5a }, [], [], [1, 2, 3, 4]],
    ['listed with a wrong size', [L(1, md5a, 5)], { 1: md5a }, [], [], [1, 2, 3, 4]],
    ['parts beyond the plan are ignored', [L(9, md5a)], {}, [], [], [1, 2, 3, 4]],
  ];
  for (const [name, listed, rec, kept, toHash, send] of cases) {
    const d = resumeDecision(parts, listed, rec);
    t.same([...d.kept.keys()], kept, `${name}: kept`);
    t.same(
      d.toHash.map((p) => p.n),
      toHash,
      `${name}: hashed locally`,
    );
    t.same(
      d.send.map((p) => p.n),
      send,
      `${name}: sent`,
    );
  }
});

t.test('store replies are validated', async (t) => {
  t.same(checkKey('pre/h/full/1/x', 'pre'), { ok: true, value: 'pre/h/full/1/x' });
  t.ok(checkKey('h/x', '').ok);
  const badKeys: [unknown, string][] = [
    [undefined, 'no name'],
    [42, 'not a string'],
    ['other/h/x', 'outside the prefix'],
    ['pre', 'the prefix itself'],
    ['pre/', 'empty below the prefix'],
    ['pre/h/../x', 'a .. part'],
    ['pre/h//x', 'an empty part'],
    ['pre/h/./x', 'a . part'],
    ['pre/h/\nx', 'a newline'],
    ['pre/h/\u0000', 'a NUL'],
    ['pre/' + 'x'.repeat(1100), 'too long'],
  ];
  for (const [k, why] of badKeys) t.notOk(checkKey(k, 'pre').ok, `key refused: ${why}`);
  for (const s of [-1, 1.5, '5', NaN, 6 * 1024 ** 4, undefined])
    t.notOk(checkSize(s).ok, `size refused: ${String(s)}`);
  t.ok(checkSize(0).ok);
  t.same(checkListing([{ Key: 'p/a', Size: 3 }], 'p'), { ok: true, value: [{ key: 'p/a', size: 3 }] });
  t.same(checkListing(undefined, 'p'), { ok: true, value: [] });
  t.notOk(checkListing({}, 'p').ok, 'not a list');
  t.notOk(checkListing(Array(1001).fill({ Key: 'p/a', Size: 1 }), 'p').ok, 'a page too long');
  t.notOk(checkListing([{ Key: 'p/a', Size: -5 }], 'p').ok, 'a negative size');
  t.same(checkParts([{ PartNumber: 2, Size: 5, ETag: `"${md5a.toUpperCase()}"` }]), {
    ok: true,
    value: [{ n: 2, size: 5, md5: md5a }],
  });
  for (const p of [
    { PartNumber: 0, Size: 5, ETag: md5a },
    { PartNumber: 10001, Size: 5, ETag: md5a },
    { PartNumber: 1, Size: 5, ETag: `${md5a}-2` },
    { PartNumber: 1, Size: 5 },
    { PartNumber: 1.5, Size: 5, ETag: md5a },
  ]) {
    t.notOk(checkParts([p]).ok, `part refused: ${JSON.stringify(p)}`);
  }
  t.equal(etagMd5(`"${md5a}-3"`), undefined, 'a multipart ETag is no MD5');
  t.ok(checkUploadId('MzA0ZTk=').ok);
  for (const id of ['', 'a b', 'x'.repeat(1025), 7, 'a\nb'])
    t.notOk(checkUploadId(id).ok, `upload id refused: ${String(id).slice(0, 10)}`);
});

t.test('one line for store errors, never the secret', async (t) => {
  const store = { label: 's3://b at http://h:1', secret: 'TOPSECRETVALUE' };
  const cases: [unknown, RegExp][] = [
    [
      Object.assign(new Error('connect ECONNREFUSED'), { code: 'ECONNREFUSED' }),
      /unreachable \(ECONNREFUSED\)/,
    ],
    [
      Object.assign(new Error('x'), { name: 'SignatureDoesNotMatch', $metadata: { httpStatusCode: 403 } }),
      /refused the credentials \(SignatureDoesNotMatch; the secret is not shown\)/,
    ],
    [Object.assign(new Error('x'), { name: 'InvalidAccessKeyId' }), /refused the credentials/],
    [
      Object.assign(new Error('gone'), { name: 'NoSuchBucket', $metadata: { httpStatusCode: 404 } }),
      /bucket does not exist/,
    ],
    [
      Object.assign(new Error('bad\nthing TOPSECRETVALUE'), {
        name: 'InternalError',
        $metadata: { httpStatusCode: 500 },
      }),
      /InternalError \(HTTP 500\): bad thing \*\*\*/,
    ],
  ];
  for (const [e, re] of cases) {
    const line = describeS3Error(e, store, 'list');
    t.match(line, re);
    t.match(line, /^s3:\/\/b at http:\/\/h:1: list: /);
    t.notMatch(line, /TOPSECRETVALUE|\n/);
  }
  t.equal(scrub('a TOPSECRETVALUE b', 'TOPSECRETVALUE'), 'a *** b');
});

t.test('age argv', async (t) => {
  t.same(encryptArgs(['age1a', 'age1b']), ['--encrypt', '-r', 'age1a', '-r', 'age1b']);
  t.throws(() => encryptArgs([]), /no age recipient/);
  t.same(decryptArgs('/k'), ['--decrypt', '-i', '/k']);
});
