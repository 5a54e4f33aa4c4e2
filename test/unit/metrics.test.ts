import t from 'tap';
import { mkdtempSync, readdirSync, readFileSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import {
  escapeLabel,
  metricsPath,
  renderMetrics,
  RUN_OWNER,
  writeMetrics,
  type HostMetrics,
} from '../../src/report/metrics.js';

const H: HostMetrics = {
  host: 'db1',
  lastBackupTime: 1795000000,
  lastReadyTime: 1795000100,
  lastRunOk: true,
  lastRunSeconds: 12.5,
  lastRunBytes: 1234,
  chainLength: 3,
  storeBytes: 99999,
};

t.test('escapeLabel: backslash, double quote and line feed', async (t) => {
  const cases: [string, string][] = [
    ['db1', 'db1'],
    ['a"b', 'a\\"b'],
    ['a\\b', 'a\\\\b'],
    ['a\nb', 'a\\nb'],
    ['\\"\n', '\\\\\\"\\n'],
  ];
  for (const [v, want] of cases) t.equal(escapeLabel(v), want, JSON.stringify(v));
});

t.test('renderMetrics: exact text for one host', async (t) => {
  t.equal(
    renderMetrics([H]),
    [
      '# HELP xb_mgr_last_backup_timestamp_seconds Time of the newest usable backup of the host.',
      '# TYPE xb_mgr_last_backup_timestamp_seconds gauge',
      'xb_mgr_last_backup_timestamp_seconds{host="db1"} 1795000000',
      '# HELP xb_mgr_last_ready_timestamp_seconds Time of the newest ready backup of the host.',
      '# TYPE xb_mgr_last_ready_timestamp_seconds gauge',
      'xb_mgr_last_ready_timestamp_seconds{host="db1"} 1795000100',
      '# HELP xb_mgr_last_run_success 1 when the last run of the host succeeded, else 0.',
      '# TYPE xb_mgr_last_run_success gauge',
      'xb_mgr_last_run_success{host="db1"} 1',
      '# HELP xb_mgr_last_run_duration_seconds Duration of the last run of the host.',
      '# TYPE xb_mgr_last_run_duration_seconds gauge',
      'xb_mgr_last_run_duration_seconds{host="db1"} 12.5',
      '# HELP xb_mgr_last_run_bytes Bytes of the backup taken by the last run of the host.',
      '# TYPE xb_mgr_last_run_bytes gauge',
      'xb_mgr_last_run_bytes{host="db1"} 1234',
      '# HELP xb_mgr_chain_length Backups in the newest chain of the host (full plus incrementals).',
      '# TYPE xb_mgr_chain_length gauge',
      'xb_mgr_chain_length{host="db1"} 3',
      '# HELP xb_mgr_store_bytes Bytes stored for the host (backups and ready files).',
      '# TYPE xb_mgr_store_bytes gauge',
      'xb_mgr_store_bytes{host="db1"} 99999',
      '',
    ].join('\n'),
  );
});

/** The text format's rules: names, one HELP and TYPE per family before its samples, no duplicate series. */
function validate(text: string): string[] {
  const problems: string[] = [];
  const NAME = /^[a-zA-Z_:][a-zA-Z0-9_:]*$/;
  const seenFamily = new Set<string>();
  const seenSeries = new Set<string>();
  let current: string | undefined;
  let typed = false;
  if (!text.endsWith('\n')) problems.push('no final line feed');
  for (const line of text.slice(0, -1).split('\n')) {
    const meta = /^# (HELP|TYPE) (\S+) (.*)$/.exec(line);
    if (meta) {
      const [, kind, name, rest] = meta as unknown as [string, string, string, string];
      if (!NAME.test(name)) problems.push(`bad name ${name}`);
      if (kind === 'HELP') {
        if (seenFamily.has(name)) problems.push(`family ${name} twice`);
        seenFamily.add(name);
        current = name;
        typed = false;
        if (/\\[^\\n]/.test(rest.replace(/\\\\/g, ''))) problems.push(`bad escape in HELP of ${name}`);
      } else {
        if (name !== current) problems.push(`TYPE ${name} without its HELP first`);
        if (!['counter', 'gauge', 'histogram', 'summary', 'untyped'].includes(rest))
          problems.push(`bad type ${rest}`);
        typed = true;
      }
      continue;
    }
    const m =
      /^([a-zA-Z_:][a-zA-Z0-9_:]*)\{((?:[a-zA-Z_][a-zA-Z0-9_]*="(?:[^"\\\n]|\\[\\"n])*",?)*)\} (\S+)$/.exec(
        line,
      );
    if (!m) {
      problems.push(`bad sample line ${JSON.stringify(line)}`);
      continue;
    }
    if (m[1] !== current || !typed) problems.push(`sample of ${m[1]} outside its family`);
    if (!/^(-?\d+(\.\d+)?(e[+-]?\d+)?|NaN|[+-]Inf)$/.test(m[3]!)) problems.push(`bad value ${m[3]}`);
    const series = `${m[1]}{${m[2]}}`;
    if (seenSeries.has(series)) problems.push(`duplicate series ${series}`);
    seenSeries.add(series);
  }
  return problems;
}

t.test(
  'renderMetrics follows the text format rules for many hosts, odd names and missing values',
  async (t) => {
    const hosts: HostMetrics[] = [
      H,
      { ...H, host: 'db-2.example.com', lastReadyTime: undefined, lastRunOk: false },
      { ...H, host: 'we"ird\\name\n', lastBackupTime: undefined },
      { ...H, host: '10.0.0.5', lastRunSeconds: 0.001, storeBytes: 12345678901234 },
    ];
    const text = renderMetrics(hosts);
    t.same(validate(text), []);
    t.match(text, /^xb_mgr_last_run_success\{host="db-2\.example\.com"\} 0$/m);
    t.match(text, /^xb_mgr_last_run_success\{host="we\\"ird\\\\name\\n"\} 1$/m);
    t.notMatch(
      text,
      /xb_mgr_last_ready_timestamp_seconds\{host="db-2\.example\.com"\}/,
      'missing values are left out',
    );
    // The validator itself rejects broken input.
    t.not(validate('xb{host="a"} 1\n').length, 0);
    t.not(validate('# HELP a x\n# TYPE a gauge\na{host="a\\q"} 1\n').length, 0);
    t.not(validate('# HELP a x\n# TYPE a gauge\na{host="a"} 1\na{host="a"} 2\n').length, 0);
  },
);

t.test(
  'metricsPath: run keeps metrics_file; another owner gets its own name in the same directory',
  async (t) => {
    const cases: [file: string, owner: string, want: string][] = [
      ['/var/lib/textfile/xb-mgr.prom', RUN_OWNER, '/var/lib/textfile/xb-mgr.prom'],
      ['/var/lib/textfile/xb-mgr.prom', 'binlog', '/var/lib/textfile/xb-mgr-binlog.prom'],
      ['/var/lib/textfile/xb-mgr.prom', 'offsite_sync', '/var/lib/textfile/xb-mgr-offsite_sync.prom'],
      ['/m/metrics.txt', 'binlog', '/m/metrics-binlog.txt'],
      ['/m/metrics', 'binlog', '/m/metrics-binlog'],
      ['/m/a.b.prom', 'binlog', '/m/a.b-binlog.prom'],
    ];
    for (const [file, owner, want] of cases) t.equal(metricsPath(file, owner), want, `${file} ${owner}`);
    for (const owner of ['', '../x', 'a/b', 'Binlog', 'bin log', '-x', 'x.prom'])
      t.throws(() => metricsPath('/m/xb.prom', owner), `owner ${JSON.stringify(owner)} refused`);
  },
);

t.test(
  'two writers in one textfile directory: neither clobbers the other, each write is atomic',
  async (t) => {
    const dir = mkdtempSync(join(tmpdir(), 'xb-metrics-'));
    t.teardown(() => rmSync(dir, { recursive: true, force: true }));
    const file = join(dir, 'xb-mgr.prom');
    const runText = (n: number) => `# HELP xb_mgr_run_n x\n# TYPE xb_mgr_run_n gauge\nxb_mgr_run_n ${n}\n`;
    const binlogText = (n: number) =>
      `# HELP xb_mgr_binlog_n x\n# TYPE xb_mgr_binlog_n gauge\nxb_mgr_binlog_n ${n}\n`;
    // Something else of the collector's in the same directory is left alone too.
    writeFileSync(join(dir, 'node.prom'), 'other 1\n');
    t.equal(writeMetrics(file, 'binlog', binlogText(0)), join(dir, 'xb-mgr-binlog.prom'));
    for (let i = 1; i <= 5; i++) {
      const before = statSync(file, { throwIfNoEntry: false })?.ino;
      t.equal(writeMetrics(file, RUN_OWNER, runText(i)), file);
      if (before !== undefined)
        t.not(statSync(file).ino, before, `run ${i}: replaced by rename, not rewritten`);
      t.equal(
        readFileSync(join(dir, 'xb-mgr-binlog.prom'), 'utf8'),
        binlogText(i - 1),
        `run ${i} left binlog's file`,
      );
      writeMetrics(file, 'binlog', binlogText(i));
      t.equal(readFileSync(file, 'utf8'), runText(i), `binlog ${i} left run's file`);
    }
    t.same(
      readdirSync(dir).sort(),
      ['node.prom', 'xb-mgr-binlog.prom', 'xb-mgr.prom'],
      'no temporary file left',
    );
    t.equal(readFileSync(join(dir, 'node.prom'), 'utf8'), 'other 1\n');
    t.equal(statSync(file).mode & 0o777, 0o644, 'readable by an unprivileged node_exporter');
    t.equal(statSync(join(dir, 'xb-mgr-binlog.prom')).mode & 0o777, 0o644, "another writer's file too");
  },
);
