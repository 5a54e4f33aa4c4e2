/**
 * The email report: one message per host after each run (or only on failure, `email_on`), and an
 * alert when a run fails before any host was tried. A mail that cannot be sent is logged as an
 * error; it never changes the backup's outcome.
 */
import type { Transporter } from 'nodemailer';
import type SMTPTransport from 'nodemailer/lib/smtp-transport';
import type { GlobalConfig, HostConfig } from '../config/load.js';
import type { HostRunResult } from '../backup.js';
import { formatBytes } from '../util/size.js';

export interface Mail {
  to: string[];
  subject: string;
  text: string;
  attachments: { filename: string; content: string }[];
}

function size(bytes: number | undefined): string {
  return bytes === undefined ? '?' : formatBytes(bytes);
}

/** Pure: the report of one host's run. */
export function hostMail(h: HostConfig, r: HostRunResult, runId: string, log: string): Mail {
  const status = r.ok ? 'OK' : 'FAILURE';
  const what = r.type ? `${r.type} backup` : 'backup';
  const lines = [
    `Host:    ${h.name} (${h.hostname})`,
    `Result:  ${status}`,
    `Run:     ${runId}, ${r.seconds} s`,
  ];
  if (r.id)
    lines.push(`Backup:  ${r.type} ${r.id}${r.parent ? ` (parent ${r.parent})` : ''}, ${size(r.bytes)}`);
  if (r.reason) lines.push(`Why:     ${r.reason}`);
  if (r.ready) {
    lines.push(
      `Ready:   ready/${r.ready.file}, ${size(r.ready.bytes)}, ${r.ready.check.tables} tables checked OK by mysqlcheck`,
      `Steps:   ${r.ready.steps.map((s) => `${s.step}${s.backup ? ` ${s.backup}` : ''} ${s.seconds} s`).join(', ')}`,
    );
  }
  if (r.deleted && r.deleted.length > 0) {
    lines.push('Retention deleted:', ...r.deleted.map((d) => `  ${d.kind} ${d.what} ${d.id}: ${d.reason}`));
  } else if (r.ok) {
    lines.push('Retention deleted: nothing');
  }
  if (r.unusable) lines.push(`Marked unusable: ${r.unusable.id}: ${r.unusable.reason}`);
  if (r.offsite) {
    const o = r.offsite;
    lines.push(
      o.ok
        ? `Off-site: ${o.store}: ${o.uploaded.length} uploaded (${size(o.uploaded_bytes)}), ${o.deleted.length} deleted by off-site retention`
        : `Off-site: FAILED (${o.store}): ${o.error}; backlog ${o.backlog_items} item(s), ${size(o.backlog_bytes)}, kept locally`,
    );
  }
  if (r.offsite_override) lines.push('', `WARNING: ${r.offsite_override}`);
  if (r.error) lines.push('', `Error: ${r.error}`);
  if (r.log_tail) lines.push('', 'Log tail:', r.log_tail);
  return {
    to: h.errorEmailRecipients,
    subject: `[xb-mgr] ${h.name}: ${status} ${what}${r.id ? ` ${r.id}` : ''}`,
    text: lines.join('\n') + '\n',
    attachments: [{ filename: `${h.name}-${runId}.log`, content: log }],
  };
}

/** Pure: the alert for a run that failed before any host was tried. */
export function alertMail(hosts: HostConfig[], message: string): Mail {
  const to = [...new Set(hosts.flatMap((h) => h.errorEmailRecipients))];
  return {
    to,
    subject: '[xb-mgr] FAILURE: the run did not start',
    text: `xb-mgr could not start the backup run:\n\n${message}\n\nNo host was backed up.\n`,
    attachments: [],
  };
}

/**
 * With a user, `starttls` means STARTTLS is required: a server (or a man in the middle) that does
 * not offer it, or refuses it, gets no AUTH in the clear; without a user it stays opportunistic.
 */
function requireTls(g: GlobalConfig): boolean {
  return g.smtp.tls === 'starttls' && !!g.smtp.user;
}

/** Pure: nodemailer's SMTP options for the config. */
export function smtpOptions(g: GlobalConfig): SMTPTransport.Options {
  return {
    host: g.smtp.host,
    port: g.smtp.port,
    secure: g.smtp.tls === 'tls',
    ignoreTLS: g.smtp.tls === 'none',
    requireTLS: requireTls(g),
    ...(g.smtp.user ? { auth: { user: g.smtp.user, pass: g.smtp.password ?? '' } } : {}),
    connectionTimeout: 30_000,
    greetingTimeout: 30_000,
    socketTimeout: 60_000,
  };
}

/** nodemailer is loaded only when a mail is sent: it is a tenth of the CLI's start-up. */
export async function transport(g: GlobalConfig): Promise<Transporter> {
  const { default: nodemailer } = await import('nodemailer');
  if (!g.smtp.host) return nodemailer.createTransport({ sendmail: true, newline: 'unix' });
  return nodemailer.createTransport(smtpOptions(g));
}

/** Pure: why a mail was not sent, in one line; a failed required STARTTLS says what it protects. */
export function sendFailure(g: GlobalConfig, to: string[], e: unknown): string {
  const err = e as { message?: string; code?: string };
  const msg = String(err?.message ?? e).replace(/\s*\n\s*/g, ' ');
  const head = `cannot send the report to ${to.join(', ')}`;
  if (err?.code === 'ETLS' && requireTls(g))
    return `${head}: STARTTLS with ${g.smtp.host}:${g.smtp.port} failed (${msg}); smtp_user is set, so no password is sent without TLS`;
  return `${head}: ${msg}`;
}

/** Send; resolves to an error message instead of throwing. */
export async function sendMail(g: GlobalConfig, m: Mail): Promise<string | undefined> {
  if (m.to.length === 0) return undefined;
  try {
    await (
      await transport(g)
    ).sendMail({
      from: g.emailFrom,
      to: m.to,
      subject: m.subject,
      text: m.text,
      attachments: m.attachments,
    });
    return undefined;
  } catch (e) {
    return sendFailure(g, m.to, e);
  }
}
