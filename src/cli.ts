#!/usr/bin/env node
/** Command-line entry: parses argv, runs one command, maps errors to the exit codes of docs/ARCHITECTURE.md. */
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { Command, CommanderError, Option } from 'commander';
import { EXIT, UsageError, XbError, errorMessage } from './errors.js';
import { loadContext, type GlobalOptions } from './context.js';
import { packageRoot } from './paths.js';
import { killAllChildren } from './util/proc.js';
import type { RestoreCommandOptions } from './commands/restore-pitr.js';

// Each command's module is loaded only when that command runs, after the config was loaded: a
// config error, --help or --version costs no more than the config loader.

const version = (JSON.parse(readFileSync(join(packageRoot(), 'package.json'), 'utf8')) as { version: string })
  .version;

const collect = (v: string, prev: string[] = []) => [...prev, v];

/** A line on stderr while a command waits for the catalog (keep, verify, restore). */
const notice = (m: string) => void process.stderr.write(`xb-mgr: ${m}\n`);

function program(): Command {
  const p = new Command('xb-mgr')
    .description('Backup manager for MySQL and MariaDB (MariaBackup / XtraBackup over SSH with Ansible)')
    .version(version, '-V, --version')
    .option(
      '-c, --config <file>',
      'backup.conf (default: $XB_MGR_CONFIG, /etc/xb-mgr/backup.conf, conf/backup.conf)',
    )
    .option(
      '-i, --inventory <inv>',
      'Ansible inventory (default: ansible_inventory, $ANSIBLE_INVENTORY, /etc/ansible/hosts)',
    )
    .addOption(
      new Option('--log-level <level>', 'log level on stderr').choices(['debug', 'info', 'warn', 'error']),
    )
    .exitOverride()
    .configureOutput({ writeErr: (s) => process.stderr.write(s) });

  p.command('check')
    .description(
      'preflight: config, inventory, ssh, remote tool and grants, local tools and versions, disk space',
    )
    .option('--host <name>', 'limit to a host (section name or hostname); repeatable', collect)
    .option('--json', 'print one JSON document')
    .action(async (o: { host?: string[]; json?: boolean }) => {
      const ctx = loadContext(p.opts<GlobalOptions>(), o.host);
      const { check, checkExitCode, formatCheckLines } = await import('./commands/check.js');
      const lines = await check(ctx);
      const ok = lines.every((l) => l.ok);
      process.stdout.write(
        o.json ? JSON.stringify({ ok, checks: lines }, null, 2) + '\n' : formatCheckLines(lines) + '\n',
      );
      process.exitCode = checkExitCode(lines);
    });

  p.command('run')
    .description('take backups per schedule (full on full_backup_day, incremental otherwise)')
    .option('--host <name>', 'limit to a host (section name or hostname); repeatable', collect)
    .option('--full', 'take a full backup whatever the schedule says')
    .option('--now <iso>', 'the clock for schedule and ids (no offset: read in the timezone key)')
    .option('--json', 'print the run report as one JSON document')
    .action(async (o: { host?: string[]; full?: boolean; now?: string; json?: boolean }) => {
      const g = p.opts<GlobalOptions>();
      const ctx = loadContext(g, o.host);
      const { formatRunReport, runCommand } = await import('./commands/run.js');
      const { stderrLevel } = await import('./report/log.js');
      const report = await runCommand(ctx, {
        now: o.now,
        full: o.full,
        stderrLevel: stderrLevel(g.logLevel),
      });
      process.stdout.write(o.json ? JSON.stringify(report, null, 2) + '\n' : formatRunReport(report) + '\n');
      process.exitCode = report.ok ? EXIT.ok : EXIT.hostFailed;
    });

  p.command('plan')
    .description('print what run would do for each host, and why; changes nothing')
    .option('--host <name>', 'limit to a host; repeatable', collect)
    .option('--full', 'plan as if --full were given')
    .option('--now <iso>', 'the clock (no offset: read in the timezone key)')
    .option('--json', 'print one JSON document')
    .action(async (o: { host?: string[]; full?: boolean; now?: string; json?: boolean }) => {
      const ctx = loadContext(p.opts<GlobalOptions>(), o.host);
      const { formatPlan, planCommand } = await import('./commands/plan.js');
      const plan = await planCommand(ctx, o.now, o.full === true);
      process.stdout.write(o.json ? JSON.stringify(plan, null, 2) + '\n' : formatPlan(plan) + '\n');
    });

  p.command('list')
    .description('the catalog: chains, backups, ready copies, sizes, LSNs')
    .option('--host <name>', 'limit to a host; repeatable', collect)
    .option('--json', 'print one JSON document')
    .option('--offsite', "the off-site copy's catalog (from its plaintext index: no key needed)")
    .action(async (o: { host?: string[]; json?: boolean; offsite?: boolean }) => {
      const ctx = loadContext(p.opts<GlobalOptions>(), o.host);
      const { formatListing, listCommand, listOffsiteCommand } = await import('./commands/list.js');
      const hosts = o.offsite ? await listOffsiteCommand(ctx) : await listCommand(ctx);
      process.stdout.write(o.json ? JSON.stringify({ hosts }, null, 2) + '\n' : formatListing(hosts) + '\n');
    });

  p.command('verify')
    .description(
      'recompute the checksums of stored backups and ready files, check chain continuity; changes nothing',
    )
    .option('--host <name>', 'limit to a host; repeatable', collect)
    .option('--json', 'print one JSON document')
    .option('--offsite', 'the off-site copy: every indexed object present with its recorded size')
    .option('--deep', 'with --offsite: also download, decrypt and check every sha256')
    .option('--identity <file>', 'with --deep: the age identity (private key) file')
    .action(
      async (o: {
        host?: string[];
        json?: boolean;
        offsite?: boolean;
        deep?: boolean;
        identity?: string;
      }) => {
        if ((o.deep || o.identity) && !o.offsite)
          throw new UsageError('--deep and --identity go with --offsite');
        if (o.deep && !o.identity) throw new UsageError('--deep needs --identity FILE (the age private key)');
        const ctx = loadContext(p.opts<GlobalOptions>(), o.host);
        const { verifyCommand, verifyOffsiteCommand } = await import('./commands/verify.js');
        const r = o.offsite
          ? await verifyOffsiteCommand(ctx, {
              deep: o.deep === true,
              ...(o.identity !== undefined ? { identity: o.identity } : {}),
            })
          : await verifyCommand(ctx, { onWait: notice });
        process.stdout.write(
          o.json
            ? JSON.stringify(r, null, 2) + '\n'
            : [
                ...r.problems.map((x) => `${x.host}  ${x.item}  FAILED  ${x.problem}`),
                `${r.checked} file(s) checked, ${r.problems.length} problem(s)`,
              ].join('\n') + '\n',
        );
        process.exitCode = r.ok ? EXIT.ok : EXIT.hostFailed;
      },
    );

  p.command('restore')
    .description('restore a ready backup (or a chain, --backup) into a directory, or onto a DB host')
    .requiredOption('--host <name>', 'the host whose backup to restore')
    .option('--ready <id>', 'ready backup id, or latest (default)')
    .option('--backup <id>', 'prepare this backup from its chain of stored streams (with --target-dir)')
    .option('--target-dir <dir>', 'directory on the manager to restore into (empty, or --force)')
    .option('--to-host <host>', 'inventory host to restore onto with playbooks/restore.yml')
    .option('--force', 'restore into a non-empty directory (moved aside) or onto a configured backup source')
    .option('--to-time <time>', 'point in time: replay the stored binlogs up to (not including) this second')
    .option('--to-gtid <gtid>', 'point in time: replay the stored binlogs up to and including this GTID')
    .option('--from-offsite', 'restore from the off-site copy alone (a fresh manager needs only backup.conf)')
    .option('--identity <file>', 'with --from-offsite: the age identity (private key) file')
    .option('--json', 'print one JSON document')
    .action(async (o: RestoreCommandOptions) => {
      if (!o.targetDir === !o.toHost)
        throw new UsageError('give exactly one of --target-dir DIR or --to-host HOST');
      if (o.toHost && o.backup) throw new UsageError('--backup restores into a --target-dir only');
      if (o.identity && !o.fromOffsite) throw new UsageError('--identity goes with --from-offsite');
      const fromOffsite = o.fromOffsite
        ? { fromOffsite: o.identity !== undefined ? { identity: o.identity } : {} }
        : {};
      const ctx = loadContext(p.opts<GlobalOptions>(), [o.host]);
      const { formatRestore, restoreToDir, restoreToHost } = await import('./commands/restore.js');
      const { withAccess } = await import('./catalog/access.js');
      const { hostDir } = await import('./catalog/store.js');
      const h = ctx.hosts[0]!;
      if (o.toTime !== undefined || o.toGtid !== undefined) {
        const { restorePitr } = await import('./commands/restore-pitr.js');
        process.stdout.write(await restorePitr(ctx, o, notice));
        return;
      }
      // A reader of the host's catalog: retention does not take away what is being restored, and
      // the restore waits only for retention or keep (seconds), never for a running backup.
      const r = await withAccess(
        hostDir(h.backupDir, h.name),
        'read',
        'restore',
        () =>
          o.toHost
            ? restoreToHost(ctx, {
                ready: o.ready,
                toHost: o.toHost,
                force: o.force === true,
                ...fromOffsite,
              })
            : restoreToDir(ctx, {
                ready: o.ready,
                backup: o.backup,
                targetDir: o.targetDir!,
                force: o.force === true,
                ...fromOffsite,
              }),
        { onWait: notice },
      );
      process.stdout.write(o.json ? JSON.stringify(r, null, 2) + '\n' : formatRestore(r) + '\n');
    });

  p.command('keep')
    .description('pin a backup (and its ancestors) so that retention never deletes it; --release unpins')
    .requiredOption('--host <name>', 'the host (section name or hostname)')
    .argument('<id>', 'backup id, e.g. 20261124T031500Z')
    .option('--release', 'unpin')
    .action(async (id: string, o: { host: string; release?: boolean }) => {
      const ctx = loadContext(p.opts<GlobalOptions>(), [o.host]);
      const { keepCommand } = await import('./commands/keep.js');
      process.stdout.write((await keepCommand(ctx, id, o.release === true, { onWait: notice })) + '\n');
    });

  const offsite = p.command('offsite').description('off-site copies in S3-compatible object storage');
  offsite
    .command('sync')
    .description('upload what the store lacks, then off-site retention (offsite_url hosts)')
    .option('--host <name>', 'limit to a host; repeatable', collect)
    .option('--now <iso>', 'the clock for off-site retention (no offset: read in the timezone key)')
    .option('--take-over', "write a host's objects that another manager wrote until now")
    .option('--json', 'print one JSON document')
    .action(async (o: { host?: string[]; now?: string; takeOver?: boolean; json?: boolean }) => {
      const g = p.opts<GlobalOptions>();
      const ctx = loadContext(g, o.host);
      const { formatSyncReport, offsiteSyncCommand } = await import('./commands/offsite.js');
      const { stderrLevel } = await import('./report/log.js');
      const r = await offsiteSyncCommand(ctx, {
        now: o.now,
        takeOver: o.takeOver,
        stderrLevel: stderrLevel(g.logLevel),
      });
      process.stdout.write(o.json ? JSON.stringify(r, null, 2) + '\n' : formatSyncReport(r) + '\n');
      process.exitCode = r.ok ? EXIT.ok : EXIT.hostFailed;
    });

  p.command('binlog')
    .description('long-running: stream the binlogs of hosts with binlog_stream = true to the manager')
    .option('--host <name>', 'limit to a host; repeatable', collect)
    .option('--json', 'print one JSON document at exit')
    .action(async (o: { host?: string[]; json?: boolean }) => {
      const g = p.opts<GlobalOptions>();
      const ctx = loadContext(g, o.host);
      const { binlogSupervisor, formatBinlogReport } = await import('./commands/binlog.js');
      const { stderrLevel } = await import('./report/log.js');
      const sup = binlogSupervisor(ctx, stderrLevel(g.logLevel));
      // A signal is how this command ends: its own handler stops the streams, stores what they
      // wrote and exits 0 (instead of main's exit 130).
      for (const sig of ['SIGINT', 'SIGTERM'] as const) {
        process.removeAllListeners(sig);
        process.on(sig, () => sup.stop(sig));
      }
      const r = await sup.run();
      process.stdout.write(o.json ? JSON.stringify(r, null, 2) + '\n' : formatBinlogReport(r) + '\n');
      process.exitCode = r.ok ? EXIT.ok : EXIT.hostFailed;
    });
  return p;
}

async function main(): Promise<void> {
  // Backups, extracted datadirs, manifests and logs are private: files 0600, directories 0700.
  process.umask(0o077);
  for (const sig of ['SIGINT', 'SIGTERM'] as const) {
    process.once(sig, () => {
      killAllChildren();
      process.stderr.write(`xb-mgr: stopped by ${sig}\n`);
      process.exit(130);
    });
  }
  try {
    await program().parseAsync(process.argv);
  } catch (e) {
    if (e instanceof CommanderError) {
      // --help and --version end here too, with exit code 0.
      process.exitCode = e.exitCode === 0 ? EXIT.ok : EXIT.usage;
      return;
    }
    if (e instanceof XbError) {
      process.stderr.write(`xb-mgr: ${e.message.split('\n').join('\nxb-mgr: ')}\n`);
      process.exitCode = e.exitCode;
      return;
    }
    process.stderr.write(`xb-mgr: internal error: ${errorMessage(e)}\n`);
    if (process.env.XB_MGR_DEBUG) process.stderr.write(`${(e as Error).stack ?? ''}\n`);
    process.exitCode = EXIT.hostFailed;
  }
}

await main();
