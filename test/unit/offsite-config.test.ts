/** The off-site keys: values parsed (tables of cases), the cross-key rules, the secret never shown. */
import t from 'tap';
import { parseConfig } from '../../src/config/load.js';
import { formatConfigIssue } from '../../src/errors.js';
import {
  parseEndpoint,
  parseOffsiteUrl,
  parseRecipients,
  parseRecipientsFile,
} from '../../src/offsite/values.js';
import { clientOptions } from '../../src/offsite/s3.js';

const K1 = 'age1ql3z7hjy54pw3hyww5ayyfg7zqgvc7w3j2elw8zmrj2kg5sfn9aqmcac8p';
const K2 = 'age1lggyhqrw2nlhcxprm67z43rta597azn8gknawjehu9d9dl0jq3yqqvfafg';

t.test('offsite_url', async (t) => {
  const cases: [string, unknown][] = [
    ['', undefined],
    ['s3://bkt', { bucket: 'bkt', prefix: '' }],
    ['s3://my-bucket.eu/a/b/', { bucket: 'my-bucket.eu', prefix: 'a/b' }],
    ['s3://bkt/xb_mgr-1.0', { bucket: 'bkt', prefix: 'xb_mgr-1.0' }],
  ];
  for (const [v, want] of cases) {
    const p = parseOffsiteUrl(v);
    t.ok(p.ok, v);
    if (p.ok) t.same(p.value, want, v);
  }
  const bad = [
    'http://bkt',
    's3://',
    's3://Bucket',
    's3://b',
    's3://bkt/../x',
    's3://bkt/a//b',
    's3://1.2.3.4',
    's3://bkt/a b',
    's3://bkt/./a',
  ];
  for (const v of bad) t.notOk(parseOffsiteUrl(v).ok, `refused: ${v}`);
});

t.test('s3_endpoint', async (t) => {
  t.same(parseEndpoint('http://127.0.0.1:8080/'), { ok: true, value: 'http://127.0.0.1:8080' });
  t.same(parseEndpoint(''), { ok: true, value: undefined });
  for (const v of ['127.0.0.1:8080', 'ftp://x', 'https://user:pw@host', 'https://h/?a=1', 'not a url']) {
    t.notOk(parseEndpoint(v).ok, `refused: ${v}`);
  }
  const leak = parseEndpoint('https://AK:SECRETSECRET@host');
  t.notMatch(leak.ok ? '' : leak.error, 'SECRETSECRET', 'the refusal does not echo the credentials');
});

t.test('offsite_recipients', async (t) => {
  t.same(parseRecipients(`${K1}, ${K2},${K1}`), { ok: true, value: { keys: [K1, K2] } }, 'deduplicated');
  t.same(parseRecipients('@/etc/xb-mgr/recipients.txt'), {
    ok: true,
    value: { file: '/etc/xb-mgr/recipients.txt' },
  });
  t.same(parseRecipients(''), { ok: true, value: undefined });
  const bad: [string, RegExp][] = [
    ['@relative.txt', /absolute/],
    [',', /no recipient/],
    [K1.slice(0, -1), /not an age public key/],
    [K1.toUpperCase(), /not an age public key/],
    ['ssh-ed25519 AAAA', /not an age public key/],
    [`${K1}, age1nope`, /age1nope/],
    [
      Array(65)
        .fill(K1.slice(0, -2))
        .map((k, i) => k + 'q' + 'qpzry9x8'[i % 8])
        .join(','),
      /more than 64/,
    ],
  ];
  for (const [v, re] of bad) {
    const p = parseRecipients(v);
    t.notOk(p.ok, `refused: ${v.slice(0, 30)}`);
    if (!p.ok) t.match(p.error, re);
  }
  t.same(parseRecipientsFile(`# ops\n${K1}\n\n  ${K2}  \n`, '/f'), { ok: true, value: [K1, K2] });
  const priv = parseRecipientsFile('AGE-SECRET-KEY-1QQQQ\n', '/f');
  t.notOk(priv.ok);
  if (!priv.ok) t.match(priv.error, /PRIVATE key/);
  t.notOk(parseRecipientsFile('# nothing\n', '/f').ok);
});

const BASE = `[default]
mysql_user = u
mysql_password = p
backup_dir = /backup
`;

function issues(text: string): string[] {
  return parseConfig(text, 'f.conf').issues.map(formatConfigIssue);
}

t.test('defaults: no off-site copy, derived retention, 64 MiB parts', async (t) => {
  const r = parseConfig(`${BASE}retain_days = 9\n[h]\n`, 'f.conf');
  t.same(r.issues, []);
  const o = r.config!.hosts[0]!.offsite;
  t.equal(o.url, undefined);
  t.equal(o.region, 'us-east-1');
  t.equal(o.encryption, 'age');
  t.equal(o.retainDays, 9);
  t.equal(o.retainNumReadyBackups, 1);
  t.equal(o.partSize, 64 * 1024 * 1024);
  t.equal(o.concurrency, 4);
  t.equal(o.bandwidth, undefined);
});

t.test('a full off-site section; host sections override', async (t) => {
  const secret = `s3cr"et $(x) #;{{ y }}`;
  const r = parseConfig(
    `${BASE}offsite_url = s3://bkt/xb\ns3_endpoint = http://127.0.0.1:8080\ns3_access_key_id = test:tester\ns3_secret_access_key = ${secret}\noffsite_recipients = ${K1}\noffsite_part_size = 8M\noffsite_bandwidth = 50M\n[h]\noffsite_url = s3://other\n[g]\n`,
    'f.conf',
  );
  t.same(r.issues, []);
  const [h, g] = r.config!.hosts;
  t.same(h!.offsite.url, { bucket: 'other', prefix: '' });
  t.same(g!.offsite.url, { bucket: 'bkt', prefix: 'xb' });
  t.equal(g!.offsite.secretAccessKey, secret, 'the secret is verbatim to the end of the line');
  t.equal(g!.offsite.partSize, 8 * 1024 * 1024);
  t.equal(g!.offsite.bandwidth, 50 * 1024 * 1024);
  const opts = clientOptions(g!.offsite);
  t.equal(opts.forcePathStyle, true, 'path style by default with an endpoint');
  t.equal(opts.requestChecksumCalculation, 'WHEN_REQUIRED');
  t.equal(opts.responseChecksumValidation, 'WHEN_REQUIRED');
  t.same(opts.credentials, { accessKeyId: 'test:tester', secretAccessKey: secret });
  t.equal(clientOptions({ ...g!.offsite, endpoint: undefined }).forcePathStyle, false, 'AWS: virtual hosts');
  t.equal(clientOptions({ ...g!.offsite, forcePathStyle: false }).forcePathStyle, false, 'explicit false');
  t.notOk(
    'credentials' in clientOptions({ ...g!.offsite, accessKeyId: undefined, secretAccessKey: undefined }),
  );
});

t.test('validation table', async (t) => {
  const cases: [string, RegExp | undefined][] = [
    ['offsite_url = s3://bkt\n', /offsite_recipients: is required with offsite_url/],
    ['offsite_url = s3://bkt\noffsite_encryption = none\n', undefined],
    [`offsite_url = s3://bkt\noffsite_recipients = ${K1}\n`, undefined],
    [`offsite_recipients = ${K1}\n`, undefined],
    // A bad value in [default] falls back to the default (age) for the host: two issues then.
    ['offsite_url = s3://bkt\noffsite_encryption = gpg\n', /must be one of age, none/],
    [`offsite_url = s3://bkt\noffsite_recipients = ${K1}\noffsite_part_size = 4M\n`, /must be at least 5M/],
    [`offsite_url = s3://bkt\noffsite_recipients = ${K1}\noffsite_concurrency = 0\n`, /offsite_concurrency/],
    [
      `offsite_url = s3://bkt\noffsite_recipients = ${K1}\ns3_access_key_id = k\n`,
      /s3_secret_access_key: must be set together/,
    ],
    [
      `offsite_url = s3://bkt\noffsite_recipients = ${K1}\ns3_secret_access_key = TOPSECRET\n`,
      /s3_access_key_id: must be set together/,
    ],
    ['offsite_url = s3://BAD\n', /offsite_url = "s3:\/\/BAD": bucket/],
    ['s3_force_path_style = maybe\n', /must be true or false/],
    ['offsite_bandwidth = fast\n', /offsite_bandwidth/],
    ['offsite_bandwidth =\n', undefined],
    ['offsite_bandwidth = unlimited\n', /offsite_bandwidth/],
  ];
  for (const [text, want] of cases) {
    const got = issues(`${BASE}${text}[h]\n`);
    if (want === undefined) t.same(got, [], text);
    else {
      if (!text.includes('gpg')) t.equal(got.length, 1, `${text}: one issue (${got.join(' | ')})`);
      t.match(got[0] ?? '', want, text);
    }
    t.notMatch(got.join('\n'), 'TOPSECRET', `${text}: the secret is never shown`);
  }
});
