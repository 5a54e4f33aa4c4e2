/**
 * Hosts come from Ansible itself (`ansible-inventory --list`), so every inventory format Ansible
 * reads works: ini, yaml, groups, group_vars, plugins. An unparsable inventory is an error
 * (ANSIBLE_INVENTORY_UNPARSED_FAILED) instead of the empty inventory Ansible would otherwise use.
 */
import { existsSync } from 'node:fs';
import { InventoryError, ProcessError, clip } from './errors.js';
import { run } from './util/proc.js';
import { splitCommand } from './config/values.js';

export interface InventoryHost {
  name: string;
  /** Address ssh connects to: ansible_host, else the inventory name. */
  address: string;
  port: number;
  user?: string;
  privateKeyFile?: string;
  sshArgs: string[];
  vars: Record<string, unknown>;
}

export interface Inventory {
  path: string;
  hosts: Map<string, InventoryHost>;
}

interface ListOutput {
  _meta?: { hostvars?: Record<string, Record<string, unknown>> };
  [group: string]: unknown;
}

/** Pure: the JSON of `ansible-inventory --list` -> hosts with their connection settings. */
export function parseInventoryList(json: string, path: string): Inventory {
  let data: ListOutput;
  try {
    data = JSON.parse(json) as ListOutput;
  } catch {
    throw new InventoryError(`${path}: ansible-inventory printed something that is not JSON`);
  }
  const hostvars = data._meta?.hostvars ?? {};
  const names = new Set<string>(Object.keys(hostvars));
  for (const [group, value] of Object.entries(data)) {
    if (group === '_meta' || typeof value !== 'object' || value === null) continue;
    const hosts = (value as { hosts?: unknown }).hosts;
    if (Array.isArray(hosts)) for (const h of hosts) if (typeof h === 'string') names.add(h);
  }
  const hosts = new Map<string, InventoryHost>();
  for (const name of names) {
    const vars = hostvars[name] ?? {};
    const str = (k: string) =>
      typeof vars[k] === 'string' || typeof vars[k] === 'number' ? String(vars[k]) : undefined;
    const port = Number(str('ansible_port') ?? str('ansible_ssh_port') ?? 22);
    hosts.set(name, {
      name,
      address: str('ansible_host') ?? str('ansible_ssh_host') ?? name,
      port: Number.isInteger(port) && port > 0 ? port : 22,
      user: str('ansible_user') ?? str('ansible_ssh_user'),
      privateKeyFile: str('ansible_ssh_private_key_file') ?? str('ansible_private_key_file'),
      sshArgs: [str('ansible_ssh_common_args'), str('ansible_ssh_extra_args')]
        .filter((s): s is string => !!s)
        .flatMap(splitSshArgs),
      vars,
    });
  }
  return { path, hosts };
}

/** ssh option strings from the inventory are split as Ansible does (shell-like words, no expansion). */
function splitSshArgs(s: string): string[] {
  const r = splitCommand(s);
  return r.ok ? r.value : s.split(/\s+/).filter((x) => x !== '');
}

/**
 * The -i arguments for an inventory. Like Ansible's own $ANSIBLE_INVENTORY, a comma-separated
 * list of existing paths is several sources (one -i each); anything else with a comma is a host
 * list ("h1,h2,") and stays one -i.
 */
export function inventoryArgs(inv: string, exists: (p: string) => boolean = existsSync): string[] {
  const parts = inv.split(',').filter((p) => p !== '');
  if (inv.includes(',') && parts.length > 0 && parts.every((p) => exists(p)))
    return parts.flatMap((p) => ['-i', p]);
  return ['-i', inv];
}

export async function loadInventory(
  path: string,
  ansibleInventoryBin = 'ansible-inventory',
): Promise<Inventory> {
  // A comma list ("h1,h2,") is an inventory too; only a path must exist.
  if (!path.includes(',') && !existsSync(path)) {
    throw new InventoryError(
      `inventory ${path}: file not found (set ansible_inventory in backup.conf or use --inventory)`,
    );
  }
  try {
    const r = await run(ansibleInventoryBin, [...inventoryArgs(path), '--list'], {
      timeoutMs: 120_000,
      env: { ANSIBLE_INVENTORY_UNPARSED_FAILED: 'true', ANSIBLE_NOCOLOR: '1' },
      label: 'ansible-inventory',
    });
    return parseInventoryList(r.stdout, path);
  } catch (e) {
    if (e instanceof ProcessError) {
      throw new InventoryError(
        `inventory ${path} cannot be parsed: ${inventoryParseReason(e.stderrTail) || e.message}`,
      );
    }
    throw e;
  }
}

/**
 * Why ansible-inventory could not parse an inventory, in one line: the reason the plugin for the
 * file's kind gave (yaml for .yml/.yaml/.json, else ini), from its word-wrapped warnings.
 */
export function inventoryParseReason(stderr: string): string {
  // eslint-disable-next-line no-control-regex
  const text = stderr.replace(/\s+/g, ' ').replace(/[\u0000-\u001f\u007f-\u009f]/g, '?');
  const failures = [
    ...text.matchAll(/\* Failed to parse (.+?) with (\w+) plugin: (.*?)(?= \[WARNING\]:| ERROR!|$)/g),
  ].map((m) => ({ path: m[1] ?? '', plugin: m[2] ?? '', reason: (m[3] ?? '').trim() }));
  const structured = /\.(ya?ml|json)$/i.test(failures[0]?.path ?? '');
  const order = structured ? ['yaml', 'auto', 'ini'] : ['ini', 'yaml', 'auto'];
  // A plugin configuration file (`plugin: ...`) is the auto plugin's business.
  const usable = failures.filter(
    (f) => !(f.plugin === 'yaml' && f.reason.startsWith('Plugin configuration')),
  );
  const best = order.map((p) => usable.find((f) => f.plugin === p)).find((f) => f) ?? failures[0];
  if (best) {
    // The YAML plugin's reason starts with boilerplate; the parser's own words come after it.
    const reason = best.reason.replace(/^.*Syntax Error while loading YAML\.\s*/, '');
    return `${best.plugin} plugin: ${clip(reason, 300)}`;
  }
  if (/Unable to parse .+? as an inventory source/.test(text)) return 'no inventory plugin accepts it';
  return clip(
    text
      .replace(/\[WARNING\]:\s*|ERROR!\s*/g, '')
      .trim()
      .slice(-300),
  );
}

/** The inventory to use: --inventory, else the config's ansible_inventory, else $ANSIBLE_INVENTORY, else /etc/ansible/hosts. */
export function inventoryPath(cli: string | undefined, fromConfig: string | undefined): string {
  return cli ?? fromConfig ?? process.env.ANSIBLE_INVENTORY ?? '/etc/ansible/hosts';
}
