/**
 * The config objects the rest of xb-mgr uses, as zod schemas over the key table: each field is a
 * key's schema (keys.ts), so HostConfig and GlobalConfig are inferred from them, defaults and
 * validation come from the same table, and no value is cast on the way.
 *
 * Input of a schema: the text of each key (the [default] and host section merged, defaults filled
 * in by `withDefaults`), placed at its field by `schemaInput`.
 */
import { z } from 'zod';
import { KEYS, type KeySpec } from './keys.js';
import { parseManagerHost } from './values.js';

export type KeyTable = Readonly<Record<string, KeySpec>>;
type Shape = z.core.$ZodShape;

const hostFields = z.object({
  /** Section name: the host's name in xb-mgr (catalog directory, logs, --host). */
  name: z.string(),
  /** Name in the Ansible inventory; the loader gives it the section name when unset. */
  hostname: KEYS.hostname.value,
  mysqlUser: KEYS.mysql_user.field,
  mysqlPassword: KEYS.mysql_password.field,
  mysqlSocket: KEYS.mysql_socket.field,
  mysqlPort: KEYS.mysql_port.field,
  mysqlDatadir: KEYS.mysql_datadir.field,
  mysqlStopCmd: KEYS.mysql_stop_cmd.field,
  mysqlStartCmd: KEYS.mysql_start_cmd.field,
  sshUser: KEYS.ssh_user.field,
  backupManagerHost: KEYS.backup_manager_host.field,
  pushSshOptions: KEYS.push_ssh_options.field,
  remoteBackupCmd: KEYS.remote_backup_cmd.field,
  remoteCredentialsFile: KEYS.remote_credentials_file.field,
  remoteToolPath: KEYS.remote_tool_path.field,
  remoteNice: KEYS.remote_nice.field,
  remoteIonice: KEYS.remote_ionice.field,
  throttle: KEYS.throttle.field,
  slaveInfo: KEYS.slave_info.field,
  fullBackupDay: KEYS.full_backup_day.field,
  backupDir: KEYS.backup_dir.field,
  log: KEYS.log.field,
  retainDays: KEYS.retain_days.field,
  retainNumReadyBackups: KEYS.retain_num_ready_backups.field,
  errorEmailRecipients: KEYS.error_email_recipient.field,
  emailOn: KEYS.email_on.field,
  transfer: KEYS.transfer.field,
  compress: KEYS.compress.field,
  compressLevel: KEYS.compress_level.field,
  parallel: KEYS.parallel.field,
  backupTool: KEYS.backup_tool.field,
  verifyScope: KEYS.verify_scope.field,
  verifyFullDays: KEYS.verify_full_days.field,
  timeouts: z.object({
    backup: KEYS.timeout_backup.field,
    prepare: KEYS.timeout_prepare.field,
    verify: KEYS.timeout_verify.field,
    compress: KEYS.timeout_compress.field,
    ssh: KEYS.timeout_ssh.field,
  }),
  /** Bounds of what a DB host sends (undefined: the default rule of src/engine/caps.ts). */
  caps: z.object({
    maxStreamBytes: KEYS.max_stream_bytes.field,
    maxExtractBytes: KEYS.max_extract_bytes.field,
    toolLogTailBytes: KEYS.tool_log_tail_bytes.field,
  }),
  /** Off-site copies (src/offsite/); url undefined: none. */
  offsite: z.object({
    url: KEYS.offsite_url.field,
    endpoint: KEYS.s3_endpoint.field,
    region: KEYS.s3_region.field,
    accessKeyId: KEYS.s3_access_key_id.field,
    secretAccessKey: KEYS.s3_secret_access_key.field,
    forcePathStyle: KEYS.s3_force_path_style.field,
    recipients: KEYS.offsite_recipients.field,
    encryption: KEYS.offsite_encryption.field,
    retainDays: KEYS.offsite_retain_days.field,
    retainNumReadyBackups: KEYS.offsite_retain_num_ready_backups.field,
    partSize: KEYS.offsite_part_size.field,
    concurrency: KEYS.offsite_concurrency.field,
    bandwidth: KEYS.offsite_bandwidth.field,
  }),
  /** Binlog streaming (src/binlog/). */
  binlog: z.object({
    stream: KEYS.binlog_stream.field,
    user: KEYS.binlog_user.field,
    password: KEYS.binlog_password.field,
    serverId: KEYS.binlog_server_id.field,
    fsyncMs: KEYS.binlog_fsync_ms.field,
    retryMaxSeconds: KEYS.binlog_retry_max_seconds.field,
    maxBytes: KEYS.max_binlog_bytes.field,
  }),
  /** Binaries on the manager host; undefined = look up on PATH. */
  bins: z.object({
    mariabackup: KEYS.mariabackup.field,
    xtrabackup: KEYS.xtrabackup.field,
    mbstream: KEYS.mbstream.field,
    xbstream: KEYS.xbstream.field,
    mysqld: KEYS.mysqld.field,
    mysqlcheck: KEYS.mysqlcheck.field,
    mysqladmin: KEYS.mysqladmin.field,
  }),
});

/** Push mode needs somewhere to push to; in pull mode backup_manager_host is not used at all. */
function pushNeedsManagerHost(
  h: Pick<z.output<typeof hostFields>, 'transfer' | 'backupManagerHost'>,
  ctx: z.RefinementCtx,
): void {
  if (h.transfer !== 'push') return;
  const dest = h.backupManagerHost;
  if (dest === undefined) {
    ctx.addIssue({
      code: 'custom',
      path: ['backupManagerHost'],
      message: 'is required with transfer = push',
    });
  } else if (!parseManagerHost(dest)) {
    ctx.addIssue({
      code: 'custom',
      path: ['backupManagerHost'],
      input: dest,
      message: 'must be [user@]host[:port]',
    });
  }
}

/** An off-site copy is encrypted unless the config says `none` in words; half a key pair is a mistake. */
function offsiteIsComplete(h: Pick<z.output<typeof hostFields>, 'offsite'>, ctx: z.RefinementCtx): void {
  const o = h.offsite;
  if (o?.url === undefined) return;
  // Only with a valid 'age' (the default): a bad offsite_encryption is reported on its own.
  if (o.encryption === 'age' && o.recipients === undefined) {
    ctx.addIssue({
      code: 'custom',
      path: ['offsite', 'recipients'],
      message: 'is required with offsite_url (age public keys or @FILE), unless offsite_encryption = none',
    });
  }
  if ((o.accessKeyId === undefined) !== (o.secretAccessKey === undefined)) {
    ctx.addIssue({
      code: 'custom',
      path: ['offsite', o.accessKeyId === undefined ? 'accessKeyId' : 'secretAccessKey'],
      message:
        'must be set together with s3_access_key_id and s3_secret_access_key (both empty: the default credential chain)',
    });
  }
}

export const hostSchema = hostFields
  // Also on a host that lacks a required key: each problem is reported, not only the first.
  .superRefine(pushNeedsManagerHost, { when: () => true })
  .superRefine(offsiteIsComplete, { when: () => true })
  .transform((h) => ({
    ...h,
    remoteCredentialsFile: h.remoteCredentialsFile.replaceAll('{host}', h.name),
    errorEmailRecipients: h.errorEmailRecipients ?? [],
  }));

export type HostConfig = z.output<typeof hostSchema>;

const globalFields = z.object({
  file: z.string(),
  rootDir: KEYS.root_dir.field,
  pid: KEYS.pid.field,
  log: KEYS.log.field,
  maxParallelHosts: KEYS.max_parallel_hosts.field,
  lockAlertHours: KEYS.lock_alert_hours.field,
  ansibleInventory: KEYS.ansible_inventory.field,
  ansiblePlaybook: KEYS.ansible_playbook.field,
  timezone: KEYS.timezone.field,
  metricsFile: KEYS.metrics_file.field,
  smtp: z.object({
    host: KEYS.smtp_host.field,
    port: KEYS.smtp_port.field,
    user: KEYS.smtp_user.field,
    password: KEYS.smtp_password.field,
    tls: KEYS.smtp_tls.field,
    allowPlaintextAuth: KEYS.smtp_allow_plaintext_auth.field,
  }),
  emailFrom: KEYS.email_from.field,
});

/** An SMTP password never crosses the network in the clear unless the config says so in words. */
function noPlaintextAuth(g: Pick<z.output<typeof globalFields>, 'smtp'>, ctx: z.RefinementCtx): void {
  if (g.smtp.user !== undefined && g.smtp.tls === 'none' && !g.smtp.allowPlaintextAuth) {
    ctx.addIssue({
      code: 'custom',
      path: ['smtp', 'tls'],
      input: 'none',
      message:
        'would send the SMTP password in the clear (smtp_user is set): use starttls or tls, or set smtp_allow_plaintext_auth = true',
    });
  }
}

export const globalSchema = globalFields.superRefine(noPlaintextAuth, { when: () => true });

export type GlobalConfig = z.output<typeof globalSchema>;

export const HOST_SHAPE: Shape = hostFields.shape;
export const GLOBAL_SHAPE: Shape = globalFields.shape;

/**
 * The texts of a section with the defaults filled in. A default is config text, as if the section
 * said it; a derived default (`defaultFrom`) is the text of the other key, after its own default,
 * so it follows that key wherever it is set.
 */
export function withDefaults(keys: KeyTable, set: Readonly<Record<string, string>>): Record<string, string> {
  const out: Record<string, string> = { ...set };
  const resolve = (name: string, chain: readonly string[]): string | undefined => {
    if (Object.hasOwn(out, name)) return out[name];
    const spec = Object.hasOwn(keys, name) ? keys[name] : undefined;
    if (!spec) return undefined;
    if (chain.includes(name)) throw new Error(`defaultFrom cycle: ${[...chain, name].join(' -> ')}`);
    const v = spec.defaultFrom !== undefined ? resolve(spec.defaultFrom, [...chain, name]) : spec.default;
    if (v !== undefined) out[name] = v;
    return v;
  };
  for (const name of Object.keys(keys)) resolve(name, []);
  return out;
}

/** Which key each field schema is: a key's `field`, or its `value` where the field is always set. */
function keyOfField(keys: KeyTable): Map<unknown, string> {
  const byField = new Map<unknown, string>();
  for (const [name, spec] of Object.entries(keys)) {
    byField.set(spec.field, name);
    byField.set(spec.value, name);
  }
  return byField;
}

/** Where each key is in an object schema: field path and key name, for every field that is a key. */
export function keyFields(keys: KeyTable, shape: Shape): { path: string[]; key: string }[] {
  const keyOf = keyOfField(keys);
  const walk = (s: Shape, at: readonly string[]): { path: string[]; key: string }[] =>
    Object.entries(s).flatMap(([field, schema]) => {
      const name = keyOf.get(schema);
      if (name !== undefined) return [{ path: [...at, field], key: name }];
      return schema instanceof z.ZodObject ? walk(schema.shape, [...at, field]) : [];
    });
  return walk(shape, []);
}

/** The input of an object schema: each key's text at its field, nested objects built on the way. */
export function schemaInput(
  keys: KeyTable,
  shape: Shape,
  texts: Readonly<Record<string, string>>,
): Record<string, unknown> {
  const keyOf = keyOfField(keys);
  const build = (s: Shape): Record<string, unknown> =>
    Object.fromEntries(
      Object.entries(s).flatMap(([field, schema]): [string, unknown][] => {
        const name = keyOf.get(schema);
        if (name !== undefined) return [[field, texts[name]]];
        return schema instanceof z.ZodObject ? [[field, build(schema.shape)]] : [];
      }),
    );
  return build(shape);
}
