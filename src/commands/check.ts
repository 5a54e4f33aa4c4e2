/**
 * `xb-mgr check`: a preflight in the manner of `barman check` and `pgbackrest check`. One line per
 * check per host, OK or FAILED with the reason; exit 1 when any failed.
 */
import { mkdirSync, rmSync, statfsSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import type { Context } from '../context.js';
import type { HostConfig } from '../config/load.js';
import { probeChecks, type CheckLine, type Probe } from '../checks.js';
import { candidates, which, type Role } from '../engine/binaries.js';
import { parseVersionOutput } from '../engine/versions.js';
import { loadInventory, type Inventory } from '../inventory.js';
import { errorMessage, EXIT } from '../errors.js';
import { run } from '../util/proc.js';
import { setupHosts } from '../setup.js';
import { probeStore } from '../offsite/probe.js';
import { binlogChecks } from '../binlog/check.js';

const MANAGER = 'manager';

async function versionOf(path: string): Promise<string | undefined> {
  const r = await run(path, ['--version'], { timeoutMs: 30_000, reject: false });
  return parseVersionOutput(r.stdout + r.stderr);
}

function gb(bytes: number): string {
  return `${(bytes / 1024 ** 3).toFixed(1)} GB`;
}

/** Pure: why no binary was found; a configured path is named as such, not looked up on PATH. */
export function notFound(names: readonly string[]): string {
  const paths = names.filter((n) => n.includes('/'));
  const bare = names.filter((n) => !n.includes('/'));
  return [
    ...paths.map((p) => `${p} is not an executable file`),
    ...(bare.length > 0 ? [`not found (looked for ${bare.join(', ')} on PATH)`] : []),
  ].join('; ');
}

/** The manager's binaries, once per distinct path. */
async function managerChecks(
  hosts: HostConfig[],
  ansiblePlaybook: string,
  lines: CheckLine[],
): Promise<Map<HostConfig, { path?: string; version?: string }>> {
  const seen = new Map<string, Promise<CheckLine>>();
  const check = (label: string, names: string[], withVersion: boolean): Promise<CheckLine> => {
    const key = `${label}:${names.join(',')}`;
    let p = seen.get(key);
    if (!p) {
      p = (async () => {
        const path = which(names);
        if (!path) return { host: MANAGER, check: label, ok: false, detail: notFound(names) };
        const version = withVersion ? await versionOf(path) : undefined;
        return { host: MANAGER, check: label, ok: true, detail: version ? `${path} ${version}` : path };
      })();
      seen.set(key, p);
    }
    return p;
  };
  const roles: [Role, string, boolean][] = [
    ['tool', 'backup tool', true],
    ['stream', 'stream extractor', false],
    ['mysqld', 'mysqld', true],
    ['mysqlcheck', 'mysqlcheck', false],
    ['mysqladmin', 'mysqladmin', false],
  ];
  const pending: Promise<CheckLine>[] = [];
  for (const h of hosts) {
    for (const [role, label, v] of roles) pending.push(check(label, candidates(h, role), v));
    const comp = candidates(h, 'compressor');
    if (comp.length > 0) pending.push(check(`compressor ${h.compress}`, comp, false));
  }
  pending.push(check('ansible-playbook', [ansiblePlaybook], false));
  pending.push(check('ansible-inventory', ['ansible-inventory'], false));
  pending.push(check('ssh', ['ssh'], false));
  const done = await Promise.all(pending);
  for (const l of new Set(done)) lines.push(l);
  const mysqlds = new Map<HostConfig, { path?: string; version?: string }>();
  for (const h of hosts) {
    const path = which(candidates(h, 'mysqld'));
    mysqlds.set(h, { path, version: path ? await versionOf(path) : undefined });
  }
  return mysqlds;
}

function backupDirCheck(h: HostConfig): CheckLine {
  try {
    mkdirSync(h.backupDir, { recursive: true, mode: 0o700 });
    const probe = join(h.backupDir, `.xb-mgr-check-${process.pid}`);
    writeFileSync(probe, '');
    rmSync(probe);
    const fs = statfsSync(h.backupDir);
    return {
      host: h.name,
      check: 'backup_dir',
      ok: true,
      detail: `${h.backupDir} writable, ${gb(fs.bavail * fs.bsize)} free`,
    };
  } catch (e) {
    return { host: h.name, check: 'backup_dir', ok: false, detail: `${h.backupDir}: ${errorMessage(e)}` };
  }
}

export async function check(ctx: Context): Promise<CheckLine[]> {
  const lines: CheckLine[] = [
    {
      host: MANAGER,
      check: 'config',
      ok: true,
      detail: `${ctx.config.global.file}: ${ctx.config.hosts.length} host(s)`,
    },
  ];
  let inventory: Inventory | undefined;
  try {
    inventory = await loadInventory(ctx.inventory);
    lines.push({
      host: MANAGER,
      check: 'inventory',
      ok: true,
      detail: `${ctx.inventory}: ${inventory.hosts.size} host(s)`,
    });
  } catch (e) {
    lines.push({ host: MANAGER, check: 'inventory', ok: false, detail: errorMessage(e) });
  }
  const mysqlds = await managerChecks(ctx.hosts, ctx.ansiblePlaybook, lines);
  const reachable: HostConfig[] = [];
  for (const h of ctx.hosts) {
    const ih = inventory?.hosts.get(h.hostname);
    if (!inventory) continue;
    if (!ih) {
      lines.push({
        host: h.name,
        check: 'inventory',
        ok: false,
        detail: `${h.hostname} is not in the inventory ${inventory.path}`,
      });
      continue;
    }
    lines.push({
      host: h.name,
      check: 'inventory',
      ok: true,
      detail: `${h.hostname} -> ${ih.user ?? h.sshUser ?? 'root'}@${ih.address}:${ih.port}`,
    });
    reachable.push(h);
  }
  const results =
    inventory && reachable.length > 0
      ? await setupHosts(ctx, inventory, reachable, { probe: true })
      : new Map();
  for (const h of ctx.hosts) {
    const r = results.get(h.name);
    if (r) {
      if (r.error) {
        lines.push({ host: h.name, check: r.unreachable ? 'ssh' : 'setup', ok: false, detail: r.error });
      } else {
        lines.push({ host: h.name, check: 'ssh', ok: true, detail: 'reachable' });
        lines.push({
          host: h.name,
          check: 'helper',
          ok: true,
          detail: `${h.remoteBackupCmd}${r.changed ? ' (installed now)' : ''}`,
        });
        lines.push(...probeChecks(h, r.probe as Probe, mysqlds.get(h) ?? {}));
      }
    }
    lines.push(backupDirCheck(h));
    lines.push(...(await probeStore(h)));
    const ih = inventory?.hosts.get(h.hostname);
    if (h.binlog.stream && ih && r && !r.error) lines.push(...(await binlogChecks(h, ih)));
  }
  return lines;
}

/**
 * Pure: the exit code of `check`. An inventory that cannot be used (missing, unparsable) is exit 2
 * like for every other command (docs/ARCHITECTURE.md: nothing was done); any other failed check is 1.
 */
export function checkExitCode(lines: readonly CheckLine[]): 0 | 1 | 2 {
  if (lines.some((l) => l.host === MANAGER && l.check === 'inventory' && !l.ok)) return EXIT.usage;
  return lines.every((l) => l.ok) ? EXIT.ok : EXIT.hostFailed;
}

export function formatCheckLines(lines: CheckLine[]): string {
  const w1 = Math.max(...lines.map((l) => l.host.length));
  const w2 = Math.max(...lines.map((l) => l.check.length));
  return lines
    .map(
      (l) =>
        `${l.host.padEnd(w1)}  ${l.check.padEnd(w2)}  ${(l.ok ? 'OK' : 'FAILED').padEnd(6)}  ${l.detail}`,
    )
    .join('\n');
}
