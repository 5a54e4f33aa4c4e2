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
import { runTmp } from './util/runtmp.js';
import { lastLine } from './errors.js';

export interface SetupResult {
  error?: string;
  unreachable?: boolean;
  changed: number;
  probe?: unknown;
}

const PROBE_TASK = "Probe the backup tool, the server and the backup user's privileges";

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
      const timeout = Math.max(...group.map((h) => h.timeouts.ssh)) * 1000 + 300_000;
      const res = await runPlaybook({
        playbook: join(ctx.playbooks, 'setup.yml'),
        inventory: ctx.inventory,
        limit: group.map((h) => h.hostname),
        vars: { xb_host_settings: settings, xb_probe: opts.probe },
        remoteUser: user || undefined,
        timeoutMs: timeout,
        env: { ANSIBLE_TIMEOUT: String(Math.max(...group.map((h) => h.timeouts.ssh))) },
      });
      for (const h of group) {
        const o = res.hosts.get(h.hostname);
        if (!o) {
          const why =
            lastLine(res.stderr) ||
            res.otherLines.slice(-1)[0] ||
            `ansible-playbook exited with code ${res.exitCode}`;
          out.set(h.name, { error: `setup playbook did not run on ${h.hostname}: ${why}`, changed: 0 });
        } else if (o.unreachable) {
          out.set(h.name, {
            error: `cannot reach ${h.hostname} over ssh: ${o.unreachable}`,
            unreachable: true,
            changed: 0,
          });
        } else if (o.failed) {
          const detail = o.failed.stderr?.trim() ? lastLine(o.failed.stderr) : o.failed.msg;
          out.set(h.name, { error: `setup task "${o.failed.task}" failed: ${detail}`, changed: o.changed });
        } else {
          let probe: unknown;
          const pr = o.results.get(PROBE_TASK);
          if (opts.probe && typeof pr?.stdout === 'string') {
            try {
              probe = JSON.parse(pr.stdout);
            } catch {
              out.set(h.name, {
                error: `the helper's probe printed no JSON: ${pr.stdout.slice(0, 200)}`,
                changed: o.changed,
              });
              continue;
            }
          }
          out.set(h.name, { changed: o.changed, probe });
        }
      }
    }),
  );
  return out;
}
