/**
 * Pure: the event lines of the `ansible.posix.jsonl` stdout callback -> what happened to each host.
 */

export interface TaskFailure {
  task: string;
  msg: string;
  rc?: number;
  stderr?: string;
  stdout?: string;
}

export interface HostOutcome {
  /** Set when Ansible could not reach the host (ssh failed). */
  unreachable?: string;
  /** The first failed task (not ignored). */
  failed?: TaskFailure;
  /** Results of tasks that ran, by task name (the last result wins). */
  results: Map<string, Record<string, unknown>>;
  changed: number;
  /** The closing stats line named this host: it went through the whole play. */
  done?: boolean;
}

export interface PlaybookOutcome {
  hosts: Map<string, HostOutcome>;
  /** Lines that were not JSON (warnings or errors Ansible printed outside the callback). */
  otherLines: string[];
  /** The task that started last: where a run that was killed stood. */
  lastTask?: string;
}

export interface Event {
  _event?: string;
  hosts?: Record<string, Record<string, unknown>>;
  task?: { name?: string };
  stats?: Record<string, { changed?: number; failures?: number }>;
}

function str(v: unknown): string | undefined {
  if (typeof v === 'string') return v;
  if (Array.isArray(v)) return v.map(String).join('\n');
  return undefined;
}

/** One line of the JSON-lines callback as an event; undefined for anything else. */
export function parseEventLine(line: string): Event | undefined {
  let ev: unknown;
  try {
    ev = JSON.parse(line);
  } catch {
    return undefined;
  }
  return typeof ev === 'object' && ev !== null && !Array.isArray(ev) ? (ev as Event) : undefined;
}

export function parseEvents(lines: Iterable<string>): PlaybookOutcome {
  const hosts = new Map<string, HostOutcome>();
  const otherLines: string[] = [];
  let lastTask: string | undefined;
  const host = (name: string): HostOutcome => {
    let h = hosts.get(name);
    if (!h) {
      h = { results: new Map(), changed: 0 };
      hosts.set(name, h);
    }
    return h;
  };
  for (const line of lines) {
    if (line.trim() === '') continue;
    const ev = parseEventLine(line);
    if (!ev) {
      otherLines.push(line);
      continue;
    }
    const task = taskName(ev.task?.name ?? '');
    switch (ev._event) {
      // linear strategy: one start per task; free strategy: one per host and task.
      case 'v2_playbook_on_task_start':
      case 'v2_playbook_on_handler_task_start':
      case 'v2_runner_on_start':
        if (task) lastTask = task;
        break;
      case 'v2_runner_on_ok':
        for (const [name, result] of Object.entries(ev.hosts ?? {})) host(name).results.set(task, result);
        break;
      case 'v2_runner_on_failed':
        for (const [name, result] of Object.entries(ev.hosts ?? {})) {
          const h = host(name);
          h.results.set(task, result);
          // A host stops at its first failure that is not ignored, so the last failure is the one
          // that counts; ignored ones are cleared by the stats line (jsonl rarely marks them).
          if (result.ignore_errors === true) continue;
          h.failed = {
            task,
            msg: str(result.msg) ?? 'failed',
            rc: typeof result.rc === 'number' ? result.rc : undefined,
            stderr: str(result.stderr),
            stdout: str(result.stdout),
          };
        }
        break;
      case 'v2_runner_on_unreachable':
        for (const [name, result] of Object.entries(ev.hosts ?? {})) {
          host(name).unreachable ??= (str(result.msg) ?? 'unreachable').trim();
        }
        break;
      case 'v2_playbook_on_stats':
        for (const [name, s] of Object.entries(ev.stats ?? {})) {
          const h = host(name);
          h.changed = s.changed ?? 0;
          h.done = true;
          // The jsonl callback does not mark ignored failures; the stats line counts only real ones.
          if (s.failures === 0) delete h.failed;
        }
        break;
      default:
        break;
    }
  }
  return { hosts, otherLines, ...(lastTask !== undefined ? { lastTask } : {}) };
}

/**
 * A task's own name: Ansible names a role's task "<role> : <name>" (the collection's roles:
 * "xb_mgr.backup.backup : Pull the backup stream ..."); callers look tasks up by their own name.
 */
export function taskName(name: string): string {
  return name.replace(/^[A-Za-z0-9_.-]+ : /, '');
}
