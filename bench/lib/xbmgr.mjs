// Running xb-mgr in the benchmark: a config of its own per case (own catalog and logs), timed runs
// with the controller's peak memory, and where the time of a run went (its log and its files).
import {
  chmodSync,
  existsSync,
  mkdirSync,
  readFileSync,
  readdirSync,
  rmSync,
  statSync,
  writeFileSync,
} from 'node:fs';
import { dirname, join } from 'node:path';
import { exec } from './util.mjs';

export class XbMgr {
  /** cli: path of dist/cli.js; sb: the Sandbox; dir: this case's directory (catalog, logs, config). */
  constructor(cli, sb, dir, { maxParallelHosts = 1 } = {}) {
    this.cli = cli;
    this.sb = sb;
    this.dir = dir;
    mkdirSync(join(dir, 'logs'), { recursive: true, mode: 0o700 });
    // backup_dir's parents let the unprivileged worker pass (0711, as /backup would): never list.
    for (let d = dir; d.startsWith(sb.dir) && d !== sb.dir; d = dirname(d)) chmodSync(d, 0o711);
    let text = readFileSync(sb.confPath, 'utf8');
    text = text
      .split(`${sb.dir}/backups`)
      .join(`${dir}/backups`)
      .split(`${sb.dir}/logs/`)
      .join(`${dir}/logs/`)
      .split(`${sb.dir}/xb-mgr.pid`)
      .join(`${dir}/xb-mgr.pid`)
      // No nice/ionice on the DB host: the hand-run pipeline has none, and with both ends on one
      // loaded machine a niced backup only measures the other processes' load (issue 20).
      .replace(
        '[default]\n',
        `[default]\nmax_parallel_hosts = ${maxParallelHosts}\nremote_nice = 0\nremote_ionice = none\n`,
      );
    this.conf = join(dir, 'backup.conf');
    writeFileSync(this.conf, text, { mode: 0o600 });
  }

  get backups() {
    return join(this.dir, 'backups');
  }

  /**
   * Forget every backup (a fresh catalog for the next sample). The record of what is installed on
   * the DB host stays, as on a manager that has run before: the steady state cron sees.
   */
  reset() {
    if (!existsSync(this.backups)) return;
    // Host directories only: backup_dir also holds .install-key (the install records' key) and .push/.
    for (const host of readdirSync(this.backups)) {
      if (host.startsWith('.')) continue;
      const d = join(this.backups, host);
      for (const n of readdirSync(d))
        if (n !== 'installed.json') rmSync(join(d, n), { recursive: true, force: true });
    }
  }

  /** `xb-mgr run --json ARGS`: wall seconds (spawn to exit), the JSON report, peak memory (kB). */
  async run(args) {
    const r = await exec('node', [this.cli, '--config', this.conf, 'run', '--json', ...args], {
      memory: true,
      check: false,
    });
    let report;
    try {
      report = JSON.parse(r.stdout);
    } catch {
      report = undefined;
    }
    if (r.code !== 0 || !report?.ok) {
      throw new Error(
        `xb-mgr run ${args.join(' ')} failed (exit ${r.code}):\n${r.stderr.slice(-3000)}\n${r.stdout.slice(-3000)}`,
      );
    }
    return { wall: r.seconds, report, peakKb: r.peakKb };
  }

  async restore(host, target) {
    const r = await exec('node', [
      this.cli,
      '--config',
      this.conf,
      'restore',
      '--host',
      host,
      '--target-dir',
      target,
    ]);
    return { wall: r.seconds };
  }

  hostRoot(host) {
    return join(this.backups, host);
  }

  manifest(host, result) {
    const d = join(this.hostRoot(host), result.type === 'full' ? 'full' : 'incremental', result.id);
    return { dir: d, ...JSON.parse(readFileSync(join(d, 'manifest.json'), 'utf8')) };
  }

  readyFile(host, result) {
    return join(this.hostRoot(host), 'ready', result.ready.file);
  }

  logEntries(host, runId) {
    const f = join(this.dir, 'logs', `${host}.log`);
    if (!existsSync(f)) return [];
    return readFileSync(f, 'utf8')
      .split('\n')
      .filter(Boolean)
      .map((l) => {
        try {
          return JSON.parse(l);
        } catch {
          return undefined;
        }
      })
      .filter((e) => e && (!runId || e.run === runId));
  }

  /**
   * Where the transfer time of one host's backup went, from timestamps: the 'plan' log line (just
   * before ansible-playbook starts), the creation of tool.log (xb_pull starts ssh), the last write
   * of the stream (ssh ended), the 'commit' log line (ansible-playbook has exited and the backup is
   * judged and committed).
   */
  transferBreakdown(host, result, runId) {
    const m = this.manifest(host, result);
    const entries = this.logEntries(host, runId);
    const plan = entries.find((e) => e.step === 'plan');
    const commit = entries.find((e) => e.step === 'commit');
    const toolLog = statSync(join(m.dir, 'tool.log'));
    const stream = statSync(join(m.dir, m.file));
    if (!plan || !commit || !toolLog.birthtimeMs) return undefined;
    const t = (iso) => Date.parse(iso);
    return {
      ansible_before_pull: (toolLog.birthtimeMs - t(plan.time)) / 1000,
      pull: (stream.mtimeMs - toolLog.birthtimeMs) / 1000,
      after_pull: (t(commit.time) - stream.mtimeMs) / 1000,
      manifest_seconds: m.seconds,
    };
  }

  /** Stored streams of a host's chain, oldest first (full, then incrementals). */
  chainStreams(host) {
    const out = [];
    for (const kind of ['full', 'incremental']) {
      const d = join(this.hostRoot(host), kind);
      if (!existsSync(d)) continue;
      for (const id of readdirSync(d)) {
        const m = JSON.parse(readFileSync(join(d, id, 'manifest.json'), 'utf8'));
        out.push({ id, type: kind, file: join(d, id, m.file), to_lsn: m.to_lsn, bytes: m.bytes });
      }
    }
    return out.sort((a, b) => (a.id < b.id ? -1 : 1));
  }
}

/**
 * Wall seconds of a run's ready step: the sum of its steps, less the overlap of verify and
 * compress, which start together when nothing is finalized after the view (MariaBackup; XtraBackup
 * has a `prepare` step after `copy` and compresses after the check: src/ready/make.ts).
 */
export function readySeconds(result) {
  const steps = result.ready?.steps ?? [];
  const sum = steps.reduce((s, x) => s + x.seconds, 0);
  const afterView = steps.slice(steps.findIndex((x) => x.step === 'copy') + 1).map((x) => x.step);
  const v = stepSeconds(result, 'verify');
  const c = stepSeconds(result, 'compress');
  return v !== null && c !== null && !afterView.includes('prepare') ? sum - Math.min(v, c) : sum;
}

export function stepSeconds(result, name) {
  const s = (result.ready?.steps ?? []).filter((x) => x.step === name);
  return s.length ? s.reduce((a, x) => a + x.seconds, 0) : null;
}
