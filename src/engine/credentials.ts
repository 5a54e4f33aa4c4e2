/**
 * The MySQL option file installed on each DB host (0600) and read by the backup tool and the
 * client through --defaults-extra-file, so the password is never on a command line.
 */
import type { HostConfig } from '../config/load.js';

/**
 * Quote a value for a MySQL/MariaDB option file: double quotes around it, with backslash and
 * double quote escaped. Inside quotes `#` is not a comment and spaces are kept (mysys
 * remove_end_comment and its unescaping).
 */
export function quoteOptionValue(v: string): string {
  return `"${v.replace(/\\/g, '\\\\').replace(/"/g, '\\"')}"`;
}

export function credentialsFileContent(
  h: Pick<HostConfig, 'mysqlUser' | 'mysqlPassword' | 'mysqlSocket' | 'mysqlPort'>,
): string {
  const lines = [
    '# Written by xb-mgr. Read by the backup tool and the client with --defaults-extra-file.',
    '[client]',
  ];
  lines.push(`user=${quoteOptionValue(h.mysqlUser)}`);
  lines.push(`password=${quoteOptionValue(h.mysqlPassword)}`);
  if (h.mysqlSocket) lines.push(`socket=${quoteOptionValue(h.mysqlSocket)}`);
  if (h.mysqlPort !== undefined) {
    lines.push(`port=${h.mysqlPort}`);
    if (!h.mysqlSocket) lines.push('host=127.0.0.1');
  }
  return lines.join('\n') + '\n';
}
