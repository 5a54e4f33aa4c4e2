/** What every command starts from: the validated config, the selected hosts and the inventory path. */
import { loadConfig, selectHosts, type Config, type HostConfig } from './config/load.js';
import { inventoryPath } from './inventory.js';
import { configPath, playbooksDir } from './paths.js';

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
}

export function loadContext(opts: GlobalOptions, hostNames?: string[]): Context {
  const config = loadConfig(configPath(opts.config));
  for (const w of config.warnings) process.stderr.write(`xb-mgr: warning: ${w}\n`);
  return {
    config,
    hosts: selectHosts(config, hostNames),
    inventory: inventoryPath(opts.inventory, config.global.ansibleInventory),
    playbooks: playbooksDir(config.global.rootDir),
  };
}
