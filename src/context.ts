/** What every command starts from: the validated config, the selected hosts and the inventory path. */
import { loadConfig, selectHosts, type Config, type HostConfig } from './config/load.js';
import { inventoryPath } from './inventory.js';
import { configPath, playbooksDir } from './paths.js';
import { which } from './engine/binaries.js';
import { ConfigError } from './errors.js';

export interface GlobalOptions {
  config?: string;
  inventory?: string;
  logLevel?: string;
}

export interface Context {
  config: Config;
  hosts: HostConfig[];
  inventory: string;
  playbooks: string;
  /** What runs the playbooks: the `ansible_playbook` key, else the name found on PATH. */
  ansiblePlaybook: string;
}

/** compress = qpress is allowed only where the qpress binary exists (it is not in Debian). */
function checkQpress(config: Config): void {
  const users = config.hosts.filter((h) => h.compress === 'qpress');
  if (users.length === 0 || which(['qpress'])) return;
  throw new ConfigError(
    users.map((h) => ({
      file: config.global.file,
      section: h.name,
      key: 'compress',
      value: 'qpress',
      message: 'qpress is not installed on the manager host: use zstd, gzip or none, or install qpress',
    })),
  );
}

export function loadContext(opts: GlobalOptions, hostNames?: string[]): Context {
  const config = loadConfig(configPath(opts.config));
  checkQpress(config);
  for (const w of config.warnings) process.stderr.write(`xb-mgr: warning: ${w}\n`);
  return {
    config,
    hosts: selectHosts(config, hostNames),
    inventory: inventoryPath(opts.inventory, config.global.ansibleInventory),
    playbooks: playbooksDir(config.global.rootDir),
    ansiblePlaybook: config.global.ansiblePlaybook ?? 'ansible-playbook',
  };
}
