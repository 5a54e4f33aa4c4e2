/**
 * Runs playbooks/setup.yml on DB hosts: installs the helper and the credentials file, optionally
 * probes tool, server and grants. The credentials reach the playbook as a 0600 file that the copy
 * module sends as is: the password never passes through an Ansible variable, a template or the
 * output (the task is no_log).
 */
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import type { Context } from './context.js';
import type { HostConfig } from './config/load.js';
import type { Inventory } from './inventory.js';
import { credentialsFileContent } from './engine/credentials.js';
import { runPlaybook } from './ansible/playbook.js';
import { hostRunOutcome, outcomeLine } from './ansible/outcome.js';
import { runTmp } from './util/runtmp.js';

export interface SetupResult {
  error?: string;
  unreachable?: boolean;
  changed: number;
  probe?: unknown;
}

const PROBE_TASK = "Probe the backup tool, the server and the backup user's privileges";

/**
 * setup.yml's time budget in multiples of timeout_ssh: a few connections and a probe whose slowest
 * step (the tool's --version) the helper bounds at 30 s. Derived from a key, so a tiny timeout_ssh
 * gives a tiny budget (tests force a real timeout with it).
 */
export const SETUP_TIMEOUT_FACTOR = 10;

/** Pure: the per-host, non-secret settings for setup.yml. */
export function hostSettings(h: HostConfig, credentialsSrc: string): Record<string, string> {
  const s: Record<string, string> = {
    remote_backup_cmd: h.remoteBackupCmd,
    credentials_file: h.remoteCredentialsFile,
    credentials_src: credentialsSrc,
    tool: h.backupTool,
  };
  if (h.remoteToolPath) s.tool_path = h.remoteToolPath;
  return s;
}

export async function setupHosts(
  ctx: Context,
  inventory: Inventory,
  hosts: HostConfig[],
  opts: { probe: boolean },
): Promise<Map<string, SetupResult>> {
  const out = new Map<string, SetupResult>();
  // ssh_user applies to hosts whose inventory entry has no ansible_user; one run per such user.
  const groups = new Map<string, HostConfig[]>();
  for (const h of hosts) {
    const key = inventory.hosts.get(h.hostname)?.user ? '' : (h.sshUser ?? '');
    groups.set(key, [...(groups.get(key) ?? []), h]);
  }
  await Promise.all(
    [...groups].map(async ([user, group]) => {
      const settings: Record<string, Record<string, string>> = {};
      for (const h of group) {
        const src = join(runTmp(), `credentials-${h.name}.cnf`);
        writeFileSync(src, credentialsFileContent(h), { mode: 0o600 });
        settings[h.hostname] = hostSettings(h, src);
      }
      const timeoutS = SETUP_TIMEOUT_FACTOR * Math.max(...group.map((h) => h.timeouts.ssh));
      const res = await runPlaybook({
        playbook: join(ctx.playbooks, 'setup.yml'),
        inventory: ctx.inventory,
        limit: group.map((h) => h.hostname),
        vars: { xb_host_settings: settings, xb_probe: opts.probe },
        remoteUser: user || undefined,
        timeoutMs: timeoutS * 1000,
        ansiblePlaybookBin: ctx.ansiblePlaybook,
        env: { ANSIBLE_TIMEOUT: String(Math.max(...group.map((h) => h.timeouts.ssh))) },
      });
      for (const h of group) {
        const o = hostRunOutcome(res, h.hostname);
        if (o.kind !== 'ok') {
          const error = outcomeLine(o, {
            action: 'setup',
            onHost: `setup on ${h.hostname}`,
            host: h.hostname,
            budget: `${timeoutS} s (${SETUP_TIMEOUT_FACTOR} x timeout_ssh)`,
          });
          out.set(h.name, { error, changed: 0, ...(o.kind === 'unreachable' ? { unreachable: true } : {}) });
          continue;
        }
        const changed = o.host.changed;
        if (!opts.probe) {
          out.set(h.name, { changed });
          continue;
        }
        const pr = o.host.results.get(PROBE_TASK)?.stdout;
        if (typeof pr !== 'string' || pr.trim() === '') {
          out.set(h.name, { error: `the helper's probe printed nothing on ${h.hostname}`, changed });
          continue;
        }
        try {
          out.set(h.name, { changed, probe: JSON.parse(pr) as unknown });
        } catch {
          out.set(h.name, { error: `the helper's probe printed no JSON: ${pr.slice(0, 200)}`, changed });
        }
      }
    }),
  );
  return out;
}
