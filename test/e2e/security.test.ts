/**
 * Security on sandbox hosts (issue 7): one `xb-mgr run` (backup + ready step, sb1 pull, sb2 push,
 * --log-level debug, --json, an email report to an in-process SMTP server, a metrics file, Ansible's
 * log kept in a file) while every process's arguments and environment are polled every 50 ms.
 *   1. no process ever shows the MySQL (or SMTP) password, nor a distinctive part of it, and the
 *      password's shell/template canaries (pwned-*) never appear;
 *   2. nothing the run leaves (logs, --json, stdout/stderr, the email with its attachments, the
 *      metrics, the catalog, decompressed streams and ready files, Ansible's log) holds it;
 *   3. files are 0600-ish and directories 0700 in the catalog and logs, also during the run (the
 *      metrics file alone is 0644, for an unprivileged node_exporter); the
 *      credentials file on the DB host is 0600 in a private directory; the per-run temp dir is in
 *      the root-owned 0700 /run/xb-mgr, private, and goes;
 *   4. in pull mode the DB host holds no key, key path or address of the manager: not in what the
 *      playbooks write there (helper dir, credentials dir, Ansible's remote temp, the helper's temp),
 *      not in the helper's arguments, not in the playbook variables.
 * A self-test first shows that each scanner catches what it looks for.
 */
import t from 'tap';
import {
  existsSync,
  lstatSync,
  mkdtempSync,
  readdirSync,
  readFileSync,
  rmSync,
  writeFileSync,
  type Stats,
} from 'node:fs';
import { execFileSync, spawn } from 'node:child_process';
import { tmpdir } from 'node:os';
import { basename, dirname, join } from 'node:path';
import type { AddressInfo } from 'node:net';
import { execa } from 'execa';
import nodemailer from 'nodemailer';
import { SMTPServer } from 'smtp-server';
import { simpleParser, type ParsedMail } from 'mailparser';
import { repo, sandbox, sandboxDir, sandboxUp, sb2Address, testConfig } from './sandbox.js';

sandboxUp(2);

const SB = sandboxDir;
const password = sandbox('password');
const SMTP_PASSWORD = 'smtp-Secr3t-for-security-test';
const canaries = ['pwned-shell', 'pwned-tick', 'pwned-jinja'];
/**
 * What must never show: the password, the SMTP password, and parts of the password that survive
 * any quoting or escaping (JSON, YAML, shell, option-file quoting all keep these intact). The parts
 * carry this sandbox's directory so that another sandbox's runs on the machine do not count.
 */
const secrets = [password, SMTP_PASSWORD, ...canaries.map((c) => `${SB}/${c}`)];
/** In files of this test's own run, any canary name at all counts. */
const fileSecrets = [...secrets, 'pwned-'];

const conf = readFileSync(join(SB, 'backup.conf'), 'utf8');
const managerHost = /^backup_manager_host = (?:[^@\n]+@)?([^:\n]+)/m.exec(conf)![1]!;
const keyFile = join(SB, 'ssh', 'id_ed25519');
/** The manager's key material, key path and address: none of it belongs on a pull-mode DB host. */
const managerMarkers = [
  'PRIVATE KEY',
  ...readFileSync(keyFile, 'utf8')
    .split('\n')
    .filter((l) => l.length >= 20 && !l.startsWith('-----')),
  readFileSync(`${keyFile}.pub`, 'utf8').split(' ')[1]!,
  join(SB, 'ssh') + '/',
  managerHost,
];
const hostDir = (h: string) => join(SB, 'hosts', h);
const helper = (h: string) => join(hostDir(h), 'bin', 'backup_local');
/**
 * sb1 keeps the sandbox's credentials file, in a directory the playbook creates; sb2's goes into a
 * directory that exists already, 0755 (as /etc/mysql would be): the playbook must not chmod it.
 */
const credFile = (h: string) =>
  h === 'sb1' ? join(hostDir(h), 'etc', 'credentials.cnf') : join(hostDir(h), 'shared', 'credentials.cnf');
/** Ansible's remote temp of each DB host, scoped to the host's own directory (see the inventory). */
const remoteTmp = (h: string) => join(hostDir(h), 'ansible-tmp');

// ---------------------------------------------------------------------------------------------
// Scanners

interface Entry {
  path: string;
  st: Stats;
}

/** Every path under root (root included); what vanishes while walking is skipped. */
function walk(root: string): Entry[] {
  let st: Stats;
  try {
    st = lstatSync(root);
  } catch {
    return [];
  }
  const out: Entry[] = [{ path: root, st }];
  if (st.isDirectory()) {
    let names: string[] = [];
    try {
      names = readdirSync(root);
    } catch {
      // gone
    }
    for (const n of names) out.push(...walk(join(root, n)));
  }
  return out;
}

function readOrEmpty(path: string): Buffer {
  try {
    return readFileSync(path);
  } catch {
    return Buffer.alloc(0);
  }
}

/** The needles found in a buffer. */
function found(buf: Buffer | string, needles: string[]): string[] {
  const b = typeof buf === 'string' ? Buffer.from(buf) : buf;
  return needles.filter((n) => b.includes(n));
}

/** A file's bytes, and for a compressed stream or ready file its decompressed bytes too. */
function contents(path: string): Buffer[] {
  const raw = readOrEmpty(path);
  if (!path.endsWith('.zst')) return [raw];
  return [raw, execFileSync('zstd', ['-dcq', path], { maxBuffer: 1 << 30 })];
}

/** "path: needle" for every needle found in any regular file under the roots. */
function scanTree(roots: string[], needles: string[], skip: string[] = []): string[] {
  const hits: string[] = [];
  for (const root of roots)
    for (const e of walk(root)) {
      if (!e.st.isFile() || skip.includes(e.path)) continue;
      for (const c of contents(e.path)) for (const n of found(c, needles)) hits.push(`${e.path}: ${n}`);
    }
  return [...new Set(hits)];
}

/**
 * Directories root must let the unprivileged worker pass through to its working directories
 * under prepare/ (0711: reach a known path, never list): the test's root, backup_dir, each host's
 * directory and its prepare/; and the push account to its run's directory: backups/.push/<host>/.
 */
const TRAVERSED =
  /(^\/tmp\/xb-e2e-[^/]+|\/backups|\/backups\/sb\d+|\/backups\/sb\d+\/prepare|\/backups\/\.push|\/backups\/\.push\/sb\d+)$/;
/** Root's cap for a push run, which the push account's receiver reads: a number, 0644 on purpose. */
const PUSH_CAP = /\/backups\/\.push\/sb\d+\/\d{8}T\d{6}Z\/max_bytes$/;

/** overlayfs's own scratch directory in a verify view's workdir: the kernel makes it mode 000. */
const OVERLAY_WORK = /\/backups\/sb\d+\/tmp\/verify-[^/]+\.ovl\/work\/work$/;

/** The run's metrics file (metrics_file below), the one file that is not private. */
const METRICS_FILE = /^\/tmp\/xb-e2e-[^/]+\/xb-mgr\.prom$/;

/**
 * Files not private to their owner (any group/other bit) and directories other than 0700 (0711
 * for the worker's way to prepare/). A socket is exempt (connecting needs its directory), its
 * directory must be 0700 anyway.
 */
function badModes(entries: Entry[]): string[] {
  return entries
    .filter((e) => {
      const m = e.st.mode & 0o777;
      if (e.st.isDirectory())
        return !(
          m === 0o700 ||
          (m === 0o711 && TRAVERSED.test(e.path)) ||
          (m === 0 && OVERLAY_WORK.test(e.path))
        );
      // The metrics file holds no secret and an unprivileged node_exporter reads it: 0644, exactly.
      if (METRICS_FILE.test(e.path) && e.st.isFile()) return m !== 0o644;
      if (e.st.isSocket()) return false;
      if (m === 0o644 && PUSH_CAP.test(e.path)) return false;
      return (m & 0o077) !== 0;
    })
    .map((e) => `${e.path} ${(e.st.mode & 0o777).toString(8)} `);
}

/** The raw message and everything decoded from it (text, html, attachments are base64 in raw). */
function mailParts(raw: string, mail: ParsedMail): Buffer[] {
  return [
    Buffer.from(raw),
    Buffer.from(mail.subject ?? ''),
    Buffer.from(mail.text ?? ''),
    Buffer.from(typeof mail.html === 'string' ? mail.html : ''),
    ...mail.attachments.map((a) => a.content),
  ];
}

interface ProcHit {
  pid: number;
  where: 'cmdline' | 'environ';
  needle: string;
  argv0: string;
}

/**
 * One pass over /proc: processes whose argument vector or environment holds a needle, and how
 * many environments could be read (a kernel thread has none).
 */
function scanProcs(
  needles: string[],
  onArgv?: (argv: string[]) => void,
): { hits: ProcHit[]; environs: number } {
  const hits: ProcHit[] = [];
  let environs = 0;
  for (const name of readdirSync('/proc')) {
    if (!/^\d+$/.test(name)) continue;
    const pid = Number(name);
    const cmdline = readOrEmpty(`/proc/${pid}/cmdline`);
    const argv = cmdline.toString('utf8').split('\0').slice(0, -1);
    onArgv?.(argv);
    for (const n of found(cmdline, needles))
      hits.push({ pid, where: 'cmdline', needle: n, argv0: argv[0] ?? '' });
    const environ = readOrEmpty(`/proc/${pid}/environ`);
    if (environ.length > 0) environs++;
    for (const n of found(environ, needles))
      hits.push({ pid, where: 'environ', needle: n, argv0: argv[0] ?? '' });
  }
  return { hits, environs };
}

/**
 * Files of the ready step's temporary mysqld (verify copy, its error log, its pid file): mariadbd
 * sets its own umask (files 0660) unless its environment has UMASK=0600 UMASK_DIR=0700.
 */
const byTempMysqld = (line: string) => /\/prepare\/verify-[^/ ]+(\.run)?\//.test(line);

const canaryFiles = () => readdirSync(SB).filter((n) => n.startsWith('pwned'));

// ---------------------------------------------------------------------------------------------
// SMTP server in-process

interface Received {
  raw: string;
  mail: ParsedMail;
}

async function smtpServer(): Promise<{ port: number; received: Received[]; close: () => Promise<void> }> {
  const received: Received[] = [];
  const server = new SMTPServer({
    authOptional: true,
    allowInsecureAuth: true,
    disabledCommands: ['STARTTLS'],
    logger: false,
    onAuth(auth, _s, cb) {
      cb(null, { user: auth.username });
    },
    onData(stream, _session, cb) {
      const chunks: Buffer[] = [];
      stream.on('data', (c: Buffer) => chunks.push(c));
      stream.on('end', () => {
        const raw = Buffer.concat(chunks).toString('utf8');
        simpleParser(raw).then((mail) => {
          received.push({ raw, mail });
          cb();
        }, cb);
      });
    },
  });
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', () => r()));
  const port = (server.server.address() as AddressInfo).port;
  return { port, received, close: () => new Promise((r) => server.close(() => r())) };
}

// ---------------------------------------------------------------------------------------------

t.test('self-test: every scanner catches what it looks for', async (t) => {
  const dir = mkdtempSync(join(tmpdir(), 'xb-sec-self-'));
  t.teardown(() => rmSync(dir, { recursive: true, force: true }));

  // A process with the password in its arguments and a part of it in its environment.
  const decoy = spawn(process.execPath, ['-e', 'setTimeout(() => {}, 20000)', password], {
    env: { ...process.env, XB_DECOY: `${SB}/pwned-tick` },
    stdio: 'ignore',
  });
  try {
    await new Promise((r) => setTimeout(r, 300));
    const hits = scanProcs(secrets).hits.filter((h) => h.pid === decoy.pid);
    t.ok(
      hits.some((h) => h.where === 'cmdline' && h.needle === password),
      'the password in a command line is seen',
    );
    t.ok(
      hits.some((h) => h.where === 'environ' && h.needle === `${SB}/pwned-tick`),
      'a part of it in an environment is seen',
    );
  } finally {
    decoy.kill('SIGKILL');
    await new Promise((r) => decoy.once('exit', r));
  }

  // Files: plain, escaped (JSON, option-file quoting: only the parts survive) and compressed.
  writeFileSync(join(dir, 'plain.log'), `x ${password} y`);
  writeFileSync(join(dir, 'escaped.json'), JSON.stringify({ p: password.replace(/\\/g, '\\\\') }));
  writeFileSync(join(dir, 'clean.txt'), 'nothing here');
  execFileSync('zstd', ['-q', '-o', join(dir, 'stream.zst')], { input: `zzz${password}zzz` });
  const hits = scanTree([dir], fileSecrets);
  t.ok(found(JSON.stringify(password), [password]).length === 0, 'JSON escaping hides the whole password');
  t.ok(hits.includes(`${join(dir, 'plain.log')}: ${password}`), 'the password in a plain file is seen');
  t.ok(
    hits.includes(`${join(dir, 'escaped.json')}: ${SB}/pwned-shell`),
    'an escaped copy is seen by its parts',
  );
  t.ok(
    hits.includes(`${join(dir, 'stream.zst')}: ${password}`),
    'the password inside a compressed file is seen',
  );
  t.notOk(
    hits.some((h) => h.startsWith(join(dir, 'clean.txt'))),
    'a clean file is clean',
  );

  // Mail: an attachment is base64 in the raw message; the decoded parts show it.
  const mailer = nodemailer.createTransport({ streamTransport: true, buffer: true });
  const info = await mailer.sendMail({
    from: 'a@example.com',
    to: 'b@example.com',
    subject: 's',
    text: 'body',
    attachments: [{ filename: 'x.log', content: password }],
  });
  const raw = (info.message as Buffer).toString('utf8');
  t.notOk(raw.includes(password), 'the raw message alone would hide it');
  const parts = mailParts(raw, await simpleParser(raw));
  t.ok(
    parts.some((p) => p.includes(password)),
    'the decoded attachment shows it',
  );

  // Modes: a 0644 file and a 0755 directory are caught; 0600 and 0700 pass.
  const m = join(dir, 'modes');
  execFileSync('mkdir', ['-m', '0700', m]);
  writeFileSync(join(m, 'private'), '');
  writeFileSync(join(m, 'public'), '');
  execFileSync('chmod', ['0600', join(m, 'private')]);
  execFileSync('chmod', ['0644', join(m, 'public')]);
  execFileSync('mkdir', ['-m', '0755', join(m, 'open')]);
  t.same(
    badModes(walk(m))
      .map((l) => basename(l.split(' ')[0]!))
      .sort(),
    ['open', 'public'],
    'group/other bits on a file and a non-0700 directory are caught',
  );

  // The DB host scanner: a private key, the manager's key, its key path or its address.
  writeFileSync(join(dir, 'k'), '-----BEGIN OPENSSH PRIVATE KEY-----\n');
  writeFileSync(join(dir, 'pub'), readFileSync(`${keyFile}.pub`));
  writeFileSync(join(dir, 'addr'), `ssh root@${managerHost} -p 2299`);
  writeFileSync(join(dir, 'opt'), `-i ${keyFile}`);
  const mh = scanTree([dir], managerMarkers).map((h) => basename(h.split(':')[0]!));
  t.same([...new Set(mh)].sort(), ['addr', 'k', 'opt', 'pub'], 'key, public key, key path and address');

  // The canary: the password's $(...) run by a shell leaves pwned-shell in the sandbox dir.
  const dollar = password.slice(password.indexOf('$('), password.indexOf(')') + 1);
  execFileSync('bash', ['-c', dollar]);
  t.same(canaryFiles(), ['pwned-shell'], 'the password run by a shell leaves a canary, and it is seen');
  rmSync(join(SB, 'pwned-shell'));
  t.same(canaryFiles(), [], 'no canary before the run');
});

// ---------------------------------------------------------------------------------------------
// The run, under observation

const smtp = await smtpServer();
t.teardown(smtp.close);
const outDir = mkdtempSync(join(tmpdir(), 'xb-sec-out-')); // Ansible's log: outside the catalog
const ansibleLog = join(outDir, 'ansible.log');
const { file: configFile, dir } = testConfig(
  [
    'smtp_host = 127.0.0.1',
    `smtp_port = ${smtp.port}`,
    'smtp_tls = none',
    'smtp_allow_plaintext_auth = true', // the in-process server has no TLS
    'smtp_user = xbmailer',
    `smtp_password = ${SMTP_PASSWORD}`,
    'email_from = backups@example.com',
    'error_email_recipient = dba@example.com',
    'metrics_file = METRICS',
    'ansible_inventory = INVENTORY',
  ],
  { sb2: ['transfer = push', `remote_credentials_file = ${credFile('sb2')}`] },
);
const metricsFile = join(dir, 'xb-mgr.prom');
// A copy of the sandbox inventory that gives each DB host an Ansible remote temp inside its own
// directory (the default, ~/.ansible/tmp, is shared with the manager on this one machine).
const inventoryFile = join(dir, 'hosts');
writeFileSync(
  inventoryFile,
  readFileSync(join(SB, 'inventory', 'hosts'), 'utf8')
    .replace(/^(sb1 .*)$/m, `$1 ansible_remote_tmp=${remoteTmp('sb1')}`)
    .replace(/^(127\.\d+\.\d+\.2 .*)$/m, `$1 ansible_remote_tmp=${remoteTmp('sb2')}`),
  { mode: 0o600 },
);
writeFileSync(
  configFile,
  readFileSync(configFile, 'utf8')
    .replace('metrics_file = METRICS', `metrics_file = ${metricsFile}`)
    .replace('ansible_inventory = INVENTORY', `ansible_inventory = ${inventoryFile}`),
  { mode: 0o600 },
);
// The playbook installs the helper and the credentials afresh (through Ansible's remote temp).
for (const h of ['sb1', 'sb2'])
  for (const d of [remoteTmp(h), dirname(helper(h)), dirname(credFile(h))])
    rmSync(d, { recursive: true, force: true });
execFileSync('mkdir', ['-m', '0755', dirname(credFile('sb2'))]);

const obs = {
  polls: 0,
  environsRead: 0,
  procHits: [] as ProcHit[],
  canaries: new Set<string>(),
  /** argv of the helper run on each DB host (by the DB host's sshd). */
  helperArgv: new Map<string, string[][]>([
    ['sb1', []],
    ['sb2', []],
  ]),
  toolSeen: 0,
  runTmp: new Map<string, number>(), // path -> mode, everything seen in the per-run temp dir
  varsFiles: new Map<string, string>(),
  badModes: new Set<string>(),
  /** Every path seen in the test's directory during the run (locks, transfers, verify copies). */
  seen: new Set<string>(),
  /** "path: marker" seen on a DB host's side while the run went on (helper-tmp: either host's). */
  dbHostHits: new Map<string, Set<string>>([
    ['sb1', new Set()],
    ['sb2', new Set()],
    ['helper-tmp', new Set()],
  ]),
  /** Ansible's remote temp on the DB hosts holds the credentials on their way: private too. */
  remoteTmpBadModes: new Set<string>(),
  remoteTmpFiles: new Map<string, number>([
    ['sb1', 0],
    ['sb2', 0],
  ]),
  helperTmpSeen: 0,
};

function poll(runPid: number | undefined): void {
  obs.polls++;
  const { hits, environs } = scanProcs(secrets, (argv) => {
    if (argv.some((a) => /\/(mariabackup|mariadb-backup)$/.test(a))) obs.toolSeen++;
    for (const h of ['sb1', 'sb2']) {
      // The helper itself (python3 HELPER backup ...), not the manager's ssh or xb_pull naming it.
      if ((argv[0] === helper(h) || argv[1] === helper(h)) && argv.includes('backup')) {
        const list = obs.helperArgv.get(h)!;
        if (!list.some((a) => a.join('\0') === argv.join('\0'))) list.push(argv);
      }
    }
  });
  obs.procHits.push(...hits);
  obs.environsRead = Math.max(obs.environsRead, environs);
  for (const c of canaryFiles()) obs.canaries.add(c);
  // The per-run temp dir (vars files, credentials on their way, control sockets).
  if (runPid !== undefined) {
    for (const n of runDirsOf(runPid)) {
      for (const e of walk(join(RUN_ROOT, n))) {
        obs.runTmp.set(e.path, e.st.mode);
        if (e.st.isFile() && basename(e.path) === 'vars.yml') {
          const text = readOrEmpty(e.path).toString('utf8');
          if (text) obs.varsFiles.set(e.path, text);
        }
      }
    }
  }
  // Modes in the catalog and logs while files are being written (locks, tmp/, prepare/, ...).
  const inDir = walk(dir);
  for (const e of inDir) obs.seen.add(e.path);
  for (const b of badModes(inDir)) obs.badModes.add(b);
  // What the playbooks write on the DB hosts, while it exists.
  for (const h of ['sb1', 'sb2']) {
    const roots = [dirname(helper(h)), dirname(credFile(h)), remoteTmp(h)];
    for (const hit of scanTree(roots, managerMarkers)) obs.dbHostHits.get(h)!.add(hit);
    const rt = walk(remoteTmp(h));
    for (const b of badModes(rt)) obs.remoteTmpBadModes.add(b);
    const files = rt.filter((e) => e.st.isFile()).length;
    obs.remoteTmpFiles.set(h, Math.max(obs.remoteTmpFiles.get(h)!, files));
  }
  // The helper's own temp dir on the DB host (the backup tool's target and LSN dirs).
  for (const n of readdirSync(tmpdir()).filter((n) => n.startsWith('xb-mgr-backup-'))) {
    obs.helperTmpSeen++;
    for (const hit of scanTree([join(tmpdir(), n)], managerMarkers))
      obs.dbHostHits.get('helper-tmp')!.add(hit);
  }
}

/** Where a run as root keeps its per-run directory (`<pid>-<random>`, src/util/runtmp.ts). */
const RUN_ROOT = '/run/xb-mgr';
const runDirsOf = (pid: number): string[] => {
  try {
    return readdirSync(RUN_ROOT).filter((n) => n.startsWith(`${pid}-`));
  } catch {
    return [];
  }
};

interface HostResult {
  host: string;
  ok: boolean;
  id?: string;
  error?: string;
}

let runPid: number | undefined;
let runSeconds = 0;
let exitCode: number | undefined;
let stdout = '';
let stderr = '';
let report: { hosts: HostResult[] } = { hosts: [] };

/** The run, with /proc and the files polled every 50 ms until it ends. */
async function observedRun(): Promise<void> {
  const t0 = Date.now();
  const child = execa(
    process.execPath,
    [join(repo, 'dist', 'cli.js'), '--config', configFile, '--log-level', 'debug', 'run', '--json'],
    { reject: false, env: { ANSIBLE_LOG_PATH: ansibleLog }, timeout: 300_000 },
  );
  runPid = child.pid;
  let polling = true;
  const poller = (async () => {
    while (polling) {
      poll(runPid);
      await new Promise((r) => setTimeout(r, 50));
    }
  })();
  const result = await child;
  polling = false;
  await poller;
  poll(undefined); // once more after the end
  runSeconds = (Date.now() - t0) / 1000;
  exitCode = result.exitCode;
  stdout = String(result.stdout);
  stderr = String(result.stderr);
  try {
    report = JSON.parse(stdout) as typeof report;
  } catch {
    // the assertions say so
  }
  // Mails are sent before the run exits; give the server a moment to finish parsing.
  for (let i = 0; i < 50 && smtp.received.length < 2; i++) await new Promise((r) => setTimeout(r, 100));
}

t.test('the observed run: both hosts backed up and made ready, sb1 by pull, sb2 by push', async (t) => {
  await observedRun();
  t.equal(exitCode, 0, stderr.slice(-2000));
  t.same(
    report.hosts.map((h) => [h.host, h.ok]),
    [
      ['sb1', true],
      ['sb2', true],
    ],
  );
  t.ok(existsSync(join(dir, 'backups', 'sb1', 'ready')), 'sb1 has a ready backup');
  t.ok(obs.polls >= 20, `polled ${obs.polls} times in ${runSeconds.toFixed(1)} s`);
  t.ok(obs.toolSeen > 0, 'the polling saw the backup tool running');
  t.ok(obs.environsRead > 0, 'environments are readable');
  t.ok(obs.helperArgv.get('sb1')!.length > 0, "the polling saw sb1's helper");
  t.ok(obs.helperArgv.get('sb2')!.length > 0, "the polling saw sb2's helper");
  t.ok(
    obs.helperArgv.get('sb2')!.some((a) => a.includes('--push-to')),
    "sb2's helper pushes (the control for sb1's)",
  );
  t.equal(smtp.received.length, 2, 'one mail per host');
  t.ok(existsSync(ansibleLog), "Ansible's log was kept");
  t.match(
    readOrEmpty(ansibleLog).toString('utf8'),
    /"_event":"v2_runner_on_ok".*Install the MySQL credentials file/,
  );
});

t.test('1. no process shows the password, during the whole run; no canary appears', async (t) => {
  t.same(
    obs.procHits.map((h) => `${h.pid} ${h.argv0} ${h.where}: ${h.needle}`),
    [],
    'no command line or environment holds a secret',
  );
  t.same([...obs.canaries], [], 'no pwned-* file appeared during the run');
  t.same(canaryFiles(), [], 'nor after it');
});

t.test('2. nothing the run leaves holds the password', async (t) => {
  t.same(found(stdout, fileSecrets), [], 'the --json report');
  t.same(found(stderr, fileSecrets), [], 'stderr');
  t.ok(stderr.includes('debug'), 'stderr has the debug lines');
  for (const m of smtp.received) {
    t.same(
      mailParts(m.raw, m.mail).flatMap((p) => found(p, fileSecrets)),
      [],
      `the mail "${m.mail.subject}" with its attachment`,
    );
    t.ok(
      m.mail.attachments.some((a) => a.content.length > 0),
      'which has the run log attached',
    );
  }
  t.ok(existsSync(metricsFile), 'the metrics file was written');
  t.ok(
    existsSync(join(dir, 'sb1.log')) && existsSync(join(dir, 'backup_manager.log')),
    'the logs were written',
  );
  t.same(
    scanTree([dir], fileSecrets, [configFile]),
    [],
    'logs, metrics, locks and every file in backup_dir (streams and ready files decompressed)',
  );
  t.same(scanTree([outDir], fileSecrets), [], "Ansible's log (with its jsonl events)");
  t.same(
    [...obs.varsFiles.values()].flatMap((v) => found(v, fileSecrets)),
    [],
    'the playbook variables files',
  );
});

t.test('3. file modes', async (t) => {
  const entries = walk(dir);
  t.ok(
    entries.some((e) => e.path.endsWith('.tar.zst')) && entries.some((e) => e.path.endsWith('manifest.json')),
    'the tree has backups, manifests and ready files',
  );
  t.same(badModes(entries), [], 'after the run: files private, directories 0700 (catalog, logs)');
  t.ok(METRICS_FILE.test(metricsFile), 'the metrics file is the one the mode rule exempts');
  t.equal(
    (lstatSync(metricsFile).mode & 0o777).toString(8),
    '644',
    'the metrics file is 0644: node_exporter reads it unprivileged (it holds no secret)',
  );
  // The worker (extract, prepare, verify) owns nothing but its working directories under prepare/.
  const workerUid = Number(execFileSync('id', ['-u', 'xb-mgr-worker'], { encoding: 'utf8' }).trim());
  const workerOwned = entries.filter((e) => e.st.uid === workerUid);
  t.ok(
    workerOwned.some((e) => /\/prepare\/base$/.test(e.path)),
    'the prepared base belongs to the worker',
  );
  t.same(
    workerOwned
      .map((e) => e.path)
      .filter((p) => !/\/prepare\/(base|inc-[^/]+|verify-[^/]+|failed-[^/]+|restore-\d+[^/]*)(\/|$)/.test(p)),
    [],
    "no file of the worker's outside its working directories",
  );
  t.ok(
    entries.filter((e) => /\/(full|incremental|ready)\//.test(e.path)).every((e) => e.st.uid === 0),
    'the catalog (streams, manifests, ready files) stays root-owned',
  );
  const seen = [...obs.seen];
  t.ok(seen.includes(join(dir, 'xb-mgr.pid')), 'the polling saw the run lock');
  t.ok(seen.includes(join(dir, 'backups', 'sb1', '.lock')), "and a host's lock");
  t.ok(
    seen.some((p) => /\/tmp\/[^/]+\/backup\.xbstream\.zst\.part$/.test(p)),
    'and a transfer being written',
  );
  t.ok(
    seen.some((p) => /\/prepare\/verify-[^/]+\/ibdata1$/.test(p)),
    'and a verify copy',
  );
  t.same(
    [...obs.badModes].filter((l) => !byTempMysqld(l)),
    [],
    'during the run too (locks, transfers, logs, prepare, verify and ready files being written)',
  );
  t.same(
    [...obs.badModes].filter(byTempMysqld),
    [],
    "the temporary mysqld's files in the verify copy during the run",
  );
  for (const h of ['sb1', 'sb2']) {
    const st = lstatSync(credFile(h));
    t.equal((st.mode & 0o777).toString(8), '600', `${h}: the credentials file on the DB host is 0600`);
    t.ok(
      found(readFileSync(credFile(h)), [`${SB}/pwned-shell`]).length > 0,
      `${h}: it is the file holding the password`,
    );
  }
  t.equal(
    (lstatSync(dirname(credFile('sb1'))).mode & 0o777).toString(8),
    '700',
    'sb1: the directory the playbook created for it is 0700',
  );
  t.equal(
    (lstatSync(dirname(credFile('sb2'))).mode & 0o777).toString(8),
    '755',
    'sb2: a directory that existed keeps its mode (no chmod of a shared directory)',
  );
  const runTmpDirs = [...obs.runTmp].filter(([p]) => dirname(p) === RUN_ROOT);
  t.equal(runTmpDirs.length, 1, 'the per-run temp dir was seen during the run');
  const runTmpBad = [...obs.runTmp]
    .filter(([, m]) => ((m & 0o170000) === 0o040000 ? (m & 0o777) !== 0o700 : (m & 0o077) !== 0))
    .filter(([, m]) => (m & 0o170000) !== 0o140000) // sockets: the directory guards them
    .map(([p, m]) => `${p} ${(m & 0o777).toString(8)} `);
  t.same(
    runTmpBad.filter((l) => !byTempMysqld(l)),
    [],
    'everything in it is private (vars files, credentials on their way, control sockets)',
  );
  t.same(runTmpBad.filter(byTempMysqld), [], "the temporary mysqld's pid file");
  t.same([...obs.remoteTmpBadModes], [], "Ansible's remote temp on the DB hosts is private while in use");
  t.notOk(existsSync(runTmpDirs[0]?.[0] ?? '/nonexistent'), 'and it is gone after the run');
  t.same(runDirsOf(runPid!), [], 'nothing of this run is left in the run root');
  t.same(
    readdirSync(tmpdir()).filter((n) => n.startsWith(`xb-mgr-run-${runPid}-`)),
    [],
    'nor at the old place in the temp dir',
  );
  const root = lstatSync(RUN_ROOT);
  t.strictSame(
    [root.isDirectory(), root.uid, (root.mode & 0o7777).toString(8)],
    [true, 0, '700'],
    'the run root is a root-owned 0700 directory (no other user can create or enter it)',
  );
});

t.test('4. pull mode: the DB host holds no key, key path or address of the manager', async (t) => {
  const roots = [dirname(helper('sb1')), dirname(credFile('sb1')), remoteTmp('sb1')];
  t.ok(
    existsSync(helper('sb1')) && existsSync(credFile('sb1')),
    'the playbook installed the helper and credentials',
  );
  t.ok(
    existsSync(remoteTmp('sb1')),
    "Ansible used sb1's own remote temp (the inventory's ansible_remote_tmp)",
  );
  t.comment(`files seen in sb1's remote temp during the run: ${obs.remoteTmpFiles.get('sb1')}`);
  t.ok(obs.helperTmpSeen > 0, "the helper's temp dir was seen during the run");
  t.same(scanTree(roots, managerMarkers), [], 'after the run: helper dir, credentials dir, remote temp');
  t.same([...obs.dbHostHits.get('sb1')!], [], 'during the run: the same');
  t.same([...obs.dbHostHits.get('helper-tmp')!], [], "during the run: the helper's temp dirs");
  t.same(
    walk(remoteTmp('sb1')).filter((e) => e.st.isFile()),
    [],
    'Ansible left nothing in the remote temp (the credentials pass through it)',
  );
  const sb1Args = obs.helperArgv.get('sb1')!;
  t.same(
    sb1Args.flatMap((a) => [
      ...found(a.join(' '), managerMarkers),
      ...a.filter((x) => x.startsWith('--push')),
    ]),
    [],
    "sb1's helper was given no push destination, key or ssh option",
  );
  const vars = [...obs.varsFiles.values()];
  const sb1Vars = vars.filter((v) => /^ {2}"?sb1"?:/m.test(v));
  const sb2Vars = vars.filter((v) => v.includes(sb2Address));
  t.equal(sb1Vars.length, 1, "sb1's playbook variables were captured");
  t.match(sb1Vars[0], /xb_transfer: !unsafe "pull"/);
  t.same(
    sb1Vars.flatMap((v) => [...found(v, managerMarkers), ...(/xb_push|xb_receiver/.exec(v) ?? [])]),
    [],
    'the pull playbook gets no push destination, port, ssh options or receiver',
  );
  t.match(sb2Vars.join('\n'), /xb_push_dest: !unsafe ".*@/, "sb2's (push) does: the control");
});

t.teardown(() => {
  for (const h of ['sb1', 'sb2']) rmSync(remoteTmp(h), { recursive: true, force: true });
  rmSync(dirname(credFile('sb2')), { recursive: true, force: true });
  if (t.passing()) {
    rmSync(dir, { recursive: true, force: true });
    rmSync(outDir, { recursive: true, force: true });
  }
});
