/**
 * Runs ansible-playbook with the JSON-lines callback and turns its events into per-host outcomes.
 * Ansible's own connection settings come from the inventory; we add pipelining and a control
 * socket private to this run (so no ssh session outlives the run or is shared with another).
 */
import { mkdtempSync, readdirSync, rmSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { parseEvents, type PlaybookOutcome } from './events.js';
import { TIMEOUT_EXIT } from './outcome.js';
import { ProcessError, lastLine } from '../errors.js';
import { run } from '../util/proc.js';
import { runTmp } from '../util/runtmp.js';
import { inventoryArgs } from '../inventory.js';
import { UnsafeArgError, checkHost, checkInventory, checkPath, checkUser } from './safe-args.js';

export interface PlaybookRun {
  playbook: string;
  inventory: string;
  /** Inventory host names to run on (--limit). */
  limit: string[];
  vars: Record<string, unknown>;
  /** Used for hosts whose inventory entry has no ansible_user (`-u`). */
  remoteUser?: string;
  timeoutMs: number;
  /** The `ansible_playbook` key, else the name on PATH (Context.ansiblePlaybook); required so that
   * no caller forgets the key. */
  ansiblePlaybookBin: string;
  env?: Record<string, string>;
  onEvent?: (line: string) => void;
  /**
   * An event line after which the run's outcome is known (the transfer task's result): the
   * result is returned then, without waiting for ansible-playbook's end of play and exit (about
   * 0.2-0.6 s, issue 20); `exited` says when it has exited. Only for a last task that succeeded:
   * what follows it is skipped tasks and the closing stats, which cannot fail.
   */
  settleOn?: (line: string) => boolean;
}

export interface PlaybookResult extends PlaybookOutcome {
  /** ansible-playbook's code; TIMEOUT_EXIT when killed at timeoutMs, 127 when it could not start
   * or a value of its command line was refused (stderr then says why). */
  exitCode: number;
  stderr: string;
  /** With settleOn: resolves once ansible-playbook has exited (never rejects); await it before the
   * host's lock is released. */
  exited?: Promise<void>;
}

/**
 * The argv of ansible-playbook for a run. Every value is checked first (src/ansible/safe-args.ts):
 * Ansible templates `-u` and reads `--limit` as patterns, so a value that is not a plain name or
 * path is refused with an UnsafeArgError, never passed.
 */
export function playbookArgv(r: PlaybookRun, varsFile: string): string[] {
  // An empty --limit means "every host" to Ansible: never run a playbook on hosts nobody chose.
  if (r.limit.length === 0) throw new Error('playbookArgv: no host to run on');
  const inv = inventoryArgs(r.inventory).map((a, i) => (i % 2 === 1 ? checkInventory('-i', a) : a));
  const limit = r.limit.map((h) => checkHost('--limit', h)).join(',');
  const argv = [...inv, '--limit', limit, '-e', `@${checkPath('-e', varsFile)}`];
  if (r.remoteUser) argv.push('-u', checkUser('-u', r.remoteUser));
  argv.push(checkPath('playbook', r.playbook));
  return argv;
}

/**
 * The vars of a run: the playbooks run only on the hosts named in xb_hosts (they have no default
 * host pattern), so it is the same list as --limit.
 */
export function playVars(r: Pick<PlaybookRun, 'limit' | 'vars'>): Record<string, unknown> {
  return { xb_hosts: r.limit.join(','), ...r.vars };
}

export function ansibleEnv(dir: string): Record<string, string> {
  return {
    ANSIBLE_STDOUT_CALLBACK: 'ansible.posix.jsonl',
    // Only our stdout callback: none from the user's ansible.cfg. (An empty value makes Ansible warn
    // "Skipping callback plugin ''" on stderr, which would end up in error messages.)
    ANSIBLE_CALLBACKS_ENABLED: 'ansible.posix.jsonl',
    ANSIBLE_LOAD_CALLBACK_PLUGINS: '1',
    ANSIBLE_NOCOLOR: '1',
    ANSIBLE_FORCE_COLOR: '0',
    ANSIBLE_RETRY_FILES_ENABLED: 'false',
    ANSIBLE_PIPELINING: 'true',
    ANSIBLE_INVENTORY_UNPARSED_FAILED: 'true',
    ANSIBLE_PYTHON_INTERPRETER: 'auto_silent',
    ANSIBLE_LOCAL_TEMP: join(dir, 'ansible-local'),
    ANSIBLE_SSH_ARGS: '-o ControlMaster=auto -o ControlPersist=60s',
    ANSIBLE_SSH_CONTROL_PATH_DIR: join(dir, 'cp'),
    ANSIBLE_SSH_CONTROL_PATH: '%(directory)s/%%C',
  };
}

export async function runPlaybook(r: PlaybookRun): Promise<PlaybookResult> {
  const dir = mkdtempSync(join(runTmp(), 'pb-'));
  const varsFile = join(dir, 'vars.yml');
  let argv: string[];
  try {
    argv = playbookArgv(r, varsFile);
  } catch (e) {
    // A refused value is a run that did not happen: each caller reports it for its hosts.
    if (!(e instanceof UnsafeArgError)) throw e;
    rmSync(dir, { recursive: true, force: true });
    return { hosts: new Map(), otherLines: [], exitCode: 127, stderr: e.message };
  }
  // Loaded here: the YAML library is needed only by commands that run a playbook.
  const { renderExtraVars } = await import('./vars.js');
  writeFileSync(varsFile, renderExtraVars(playVars(r)), { mode: 0o600, flag: 'wx' });
  const lines: string[] = [];
  const early = { done: false, resolve: (_res: PlaybookResult): void => undefined };
  const settled = new Promise<PlaybookResult>((resolve) => (early.resolve = resolve));
  const full = (async (): Promise<PlaybookResult> => {
    try {
      let res;
      try {
        res = await run(r.ansiblePlaybookBin, argv, {
          timeoutMs: r.timeoutMs,
          env: { ...ansibleEnv(dir), ...r.env },
          reject: false,
          label: 'ansible-playbook',
          onStdoutLine: (l) => {
            lines.push(l);
            r.onEvent?.(l);
            // The outcome is known: the caller goes on, the process ends on its own.
            if (!early.done && r.settleOn?.(l)) {
              early.done = true;
              early.resolve({ ...parseEvents(lines), exitCode: 0, stderr: '' });
            }
          },
        });
      } catch (e) {
        // Could not start (ENOENT, EACCES): a run that did not happen, like a shell's 127.
        if (!(e instanceof ProcessError)) throw e;
        const code = /\b(E[A-Z]{2,})\b/.exec(e.stderrTail)?.[1];
        const why = code ? ` (${code})` : `: ${lastLine(e.stderrTail)}`;
        return {
          hosts: new Map(),
          otherLines: [],
          exitCode: 127,
          stderr: `cannot run ${r.ansiblePlaybookBin}${why}`,
        };
      }
      const outcome = parseEvents(lines);
      return { ...outcome, exitCode: res.timedOut ? TIMEOUT_EXIT : res.exitCode, stderr: res.stderr };
    } finally {
      await closeControlMasters(join(dir, 'cp'));
    }
  })();
  const exited = full.then(
    () => undefined,
    () => undefined,
  );
  // Whichever comes first: the settling event, or the end of the process (always, without one).
  const first = await Promise.race([settled, full]);
  return early.done ? { ...first, exited } : first;
}

/** Stop the ssh multiplexing masters of this run so no connection outlives it. */
async function closeControlMasters(cpDir: string): Promise<void> {
  let socks: string[] = [];
  try {
    socks = readdirSync(cpDir);
  } catch {
    return;
  }
  await Promise.all(
    socks.map((s) =>
      run('ssh', ['-o', `ControlPath=${join(cpDir, s)}`, '-O', 'exit', 'xb-mgr-control'], {
        timeoutMs: 10_000,
        reject: false,
      }),
    ),
  );
}
