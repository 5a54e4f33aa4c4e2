/**
 * Every key backup.conf accepts: its type, default, scope and meaning. The loader validates
 * against this table and the README's configuration reference is written from it
 * (`node dist/config/keys-doc.js`), so the two never drift apart.
 */

export type KeyType =
  | 'string'
  | 'path'
  | 'int'
  | 'bool'
  | 'day'
  | 'hostname'
  | 'emails'
  | 'command'
  | { enum: readonly string[] };

export interface KeySpec {
  type: KeyType;
  /** Value used when neither [default] nor the host's section sets the key. */
  default?: string;
  /** 'global': only in [default]; 'host': in [default] or a host section. */
  scope: 'global' | 'host';
  required?: boolean;
  min?: number;
  secret?: boolean;
  doc: string;
}

export const DAYS = ['sunday', 'monday', 'tuesday', 'wednesday', 'thursday', 'friday', 'saturday'] as const;

export const COMPRESSORS = ['zstd', 'gzip', 'qpress', 'none'] as const;
export const TOOLS = ['mariabackup', 'xtrabackup'] as const;
export const TRANSFERS = ['pull', 'push'] as const;

export const KEYS = {
  // Keys of the original tool.
  mysql_user: {
    type: 'string',
    scope: 'host',
    required: true,
    doc: 'MySQL user the backup tool logs in as.',
  },
  mysql_password: {
    type: 'string',
    scope: 'host',
    required: true,
    secret: true,
    doc: 'Its password. Taken verbatim to the end of the line; never shown, never on a command line.',
  },
  ssh_user: {
    type: 'string',
    scope: 'host',
    doc: 'SSH user for the DB host when the inventory sets no `ansible_user` for it.',
  },
  backup_manager_host: {
    type: 'string',
    scope: 'host',
    doc: '`[user@]host[:port]` the DB host connects back to in push mode; unused in pull mode.',
  },
  push_ssh_options: {
    type: 'string',
    scope: 'host',
    doc: 'Extra ssh options the DB host uses to reach backup_manager_host in push mode (e.g. `-i /root/.ssh/xb_key`).',
  },
  remote_backup_cmd: {
    type: 'path',
    scope: 'host',
    default: '/usr/local/xb-mgr/bin/backup_local',
    doc: 'Where the helper script is installed on the DB host.',
  },
  full_backup_day: {
    type: 'day',
    scope: 'host',
    default: 'Sunday',
    doc: 'Day of the weekly full backup: a full name or three-letter abbreviation, any case.',
  },
  root_dir: {
    type: 'path',
    scope: 'global',
    doc: 'Where xb-mgr finds playbooks/ and conf/. Default: the installed package.',
  },
  backup_dir: { type: 'path', scope: 'host', required: true, doc: 'Root of the backup catalog.' },
  log: {
    type: 'path',
    scope: 'host',
    default: '/var/log/xb-mgr/backup_manager.log',
    doc: 'Log file (JSON lines). In [default]: run-level events; in a host section: that host.',
  },
  pid: {
    type: 'path',
    scope: 'global',
    default: '/var/run/xb-mgr.pid',
    doc: 'Run lock file: a second run exits 75 while it is held.',
  },
  retain_days: {
    type: 'int',
    scope: 'host',
    default: '7',
    min: 0,
    doc: 'Keep what is needed to restore any backup point of the last N days.',
  },
  retain_num_ready_backups: {
    type: 'int',
    scope: 'host',
    default: '1',
    min: 1,
    doc: 'Ready (prepared, checked, compressed) copies to keep; at least 1.',
  },
  error_email_recipient: {
    type: 'emails',
    scope: 'host',
    doc: 'Comma-separated addresses for the run report. Empty: no email.',
  },
  hostname: {
    type: 'hostname',
    scope: 'host',
    doc: 'Name of the DB host in the Ansible inventory (a host name or an IP address). Default: the section name.',
  },
  // New keys; an old file needs none of them.
  mysql_socket: {
    type: 'path',
    scope: 'host',
    doc: 'Server socket on the DB host. Default: the client default.',
  },
  mysql_port: {
    type: 'int',
    scope: 'host',
    min: 1,
    doc: 'Server TCP port on the DB host (used with 127.0.0.1 when no socket is set).',
  },
  mysql_datadir: {
    type: 'path',
    scope: 'host',
    doc: 'Server datadir on the DB host. Default: what the server reports.',
  },
  mysql_stop_cmd: {
    type: 'command',
    scope: 'host',
    doc: 'Command that stops the server for a restore (split into arguments, no shell). Default: the mariadb/mysql service.',
  },
  mysql_start_cmd: {
    type: 'command',
    scope: 'host',
    doc: 'Command that starts the server after a restore; must detach fully. Default: the mariadb/mysql service.',
  },
  transfer: {
    type: { enum: TRANSFERS },
    scope: 'host',
    default: 'pull',
    doc: '`pull`: the manager runs ssh and reads the stream. `push`: the DB host pipes to `ssh backup_manager_host` (needs a key to the manager on the DB host).',
  },
  compress: {
    type: { enum: COMPRESSORS },
    scope: 'host',
    default: 'zstd',
    doc: 'Compressor for streams and ready files. `qpress` only where the binary exists.',
  },
  compress_level: {
    type: 'int',
    scope: 'host',
    default: '1',
    min: 1,
    doc: 'Compression level (zstd 1-19, gzip 1-9).',
  },
  parallel: {
    type: 'int',
    scope: 'host',
    default: '2',
    min: 1,
    doc: 'Threads of the backup tool (`--parallel`) and of extraction.',
  },
  max_parallel_hosts: {
    type: 'int',
    scope: 'global',
    default: '2',
    min: 1,
    doc: 'Hosts backed up at the same time.',
  },
  backup_tool: {
    type: { enum: TOOLS },
    scope: 'host',
    default: 'mariabackup',
    doc: '`mariabackup` (MariaDB) or `xtrabackup` (Percona XtraBackup 8.x).',
  },
  remote_tool_path: {
    type: 'path',
    scope: 'host',
    doc: 'Path of the backup tool on the DB host. Default: found on its PATH.',
  },
  remote_credentials_file: {
    type: 'path',
    scope: 'host',
    default: '/etc/xb-mgr/credentials-{host}.cnf',
    doc: 'The 0600 option file with the MySQL credentials on the DB host; `{host}` is the section name.',
  },
  remote_nice: {
    type: 'int',
    scope: 'host',
    default: '10',
    min: 0,
    doc: 'nice level of the backup on the DB host (0-19).',
  },
  remote_ionice: {
    type: { enum: ['none', 'idle', 'best-effort', 'realtime'] },
    scope: 'host',
    default: 'best-effort',
    doc: 'ionice class of the backup on the DB host.',
  },
  throttle: {
    type: 'int',
    scope: 'host',
    default: '0',
    min: 0,
    doc: "The tool's `--throttle` (I/O operations per second); 0 means unlimited.",
  },
  slave_info: {
    type: 'bool',
    scope: 'host',
    default: 'false',
    doc: "Record a replica's position (`--slave-info`; needs SLAVE MONITOR).",
  },
  lock_alert_hours: {
    type: 'int',
    scope: 'global',
    default: '24',
    min: 1,
    doc: 'Warn when the run lock has been held this long.',
  },
  timeout_backup: {
    type: 'int',
    scope: 'host',
    default: '21600',
    min: 1,
    doc: 'Seconds allowed for one backup transfer.',
  },
  timeout_prepare: {
    type: 'int',
    scope: 'host',
    default: '21600',
    min: 1,
    doc: 'Seconds allowed for extracting and preparing one backup.',
  },
  timeout_verify: {
    type: 'int',
    scope: 'host',
    default: '21600',
    min: 1,
    doc: 'Seconds allowed for the mysqld check of a ready backup.',
  },
  timeout_compress: {
    type: 'int',
    scope: 'host',
    default: '21600',
    min: 1,
    doc: 'Seconds allowed for compressing a ready file.',
  },
  timeout_ssh: {
    type: 'int',
    scope: 'host',
    default: '30',
    min: 1,
    doc: 'Seconds allowed to connect to a DB host.',
  },
  ansible_inventory: {
    type: 'path',
    scope: 'global',
    doc: 'Ansible inventory. Default: $ANSIBLE_INVENTORY, else /etc/ansible/hosts.',
  },
  timezone: {
    type: 'string',
    scope: 'global',
    doc: "IANA zone for `--now` times without an offset and for `full_backup_day`. Default: the manager host's.",
  },
  // Binaries on the manager host; empty means: found on PATH.
  mariabackup: { type: 'path', scope: 'host', doc: 'mariabackup on the manager host.' },
  xtrabackup: { type: 'path', scope: 'host', doc: 'xtrabackup on the manager host.' },
  mbstream: { type: 'path', scope: 'host', doc: 'mbstream on the manager host.' },
  xbstream: { type: 'path', scope: 'host', doc: 'xbstream on the manager host.' },
  mysqld: {
    type: 'path',
    scope: 'host',
    doc: "Server binary for checks on the manager host (mariadbd or mysqld); its major version must match the host's.",
  },
  mysqlcheck: { type: 'path', scope: 'host', doc: 'mysqlcheck (mariadb-check) on the manager host.' },
  mysqladmin: { type: 'path', scope: 'host', doc: 'mysqladmin (mariadb-admin) on the manager host.' },
  ansible_playbook: { type: 'path', scope: 'global', doc: 'ansible-playbook on the manager host.' },
  // Reports.
  smtp_host: { type: 'string', scope: 'global', doc: 'SMTP server. Empty: the local sendmail binary.' },
  smtp_port: { type: 'int', scope: 'global', default: '25', min: 1, doc: 'SMTP port.' },
  smtp_user: { type: 'string', scope: 'global', doc: 'SMTP user.' },
  smtp_password: { type: 'string', scope: 'global', secret: true, doc: 'SMTP password.' },
  smtp_tls: {
    type: { enum: ['none', 'starttls', 'tls'] },
    scope: 'global',
    default: 'starttls',
    doc: '`starttls` when offered, `tls` from the start, `none`.',
  },
  email_from: { type: 'string', scope: 'global', default: 'xb-mgr@localhost', doc: 'Sender address.' },
  email_on: {
    type: { enum: ['always', 'failure'] },
    scope: 'host',
    default: 'always',
    doc: 'Send the report after every run or only on failure.',
  },
  metrics_file: {
    type: 'path',
    scope: 'global',
    doc: 'Prometheus text file written after each run (node_exporter textfile collector).',
  },
} as const satisfies Record<string, KeySpec>;

export type KeyName = keyof typeof KEYS;

export const KEY_NAMES = Object.keys(KEYS) as KeyName[];
