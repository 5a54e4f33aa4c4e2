import { existsSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';

/** The installed package's root (where package.json, playbooks/ and conf/ are). */
export function packageRoot(): string {
  let dir = dirname(fileURLToPath(import.meta.url));
  while (!existsSync(join(dir, 'package.json'))) {
    const up = dirname(dir);
    if (up === dir) throw new Error('cannot find the xb-mgr package root');
    dir = up;
  }
  return dir;
}

/** playbooks/ under root_dir when it has them, else the package's. */
export function playbooksDir(rootDir: string | undefined): string {
  if (rootDir && existsSync(join(rootDir, 'playbooks', 'setup.yml'))) return join(rootDir, 'playbooks');
  return join(packageRoot(), 'playbooks');
}

/** --config, else $XB_MGR_CONFIG, else /etc/xb-mgr/backup.conf, else the package's conf/backup.conf. */
export function configPath(cli: string | undefined): string {
  if (cli) return cli;
  if (process.env.XB_MGR_CONFIG) return process.env.XB_MGR_CONFIG;
  if (existsSync('/etc/xb-mgr/backup.conf')) return '/etc/xb-mgr/backup.conf';
  return join(packageRoot(), 'conf', 'backup.conf');
}
