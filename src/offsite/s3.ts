/**
 * The S3 client of the off-site tier, built from a host's config, and the one-line description of
 * what went wrong with the store. The secret key lives only inside the client's credentials: it is
 * never put in argv, a log line or an error message (every message is scrubbed of it anyway).
 */
import { S3Client, S3ServiceException } from '@aws-sdk/client-s3';
import type { HostConfig } from '../config/load.js';
import { XbError } from '../errors.js';
import type { OffsiteUrl } from './values.js';

export type OffsiteConfig = HostConfig['offsite'];

// The SDK warns on stderr under Node < 22 on every run; the versions pinned in package.json run on
// Node 20 (newer ones will not: keep the pin until the project moves to Node 22).
process.env.AWS_SDK_JS_NODE_VERSION_SUPPORT_WARNING_DISABLED ??= 'true';

/** Where a host's objects go: the client, the bucket and the key prefix (no trailing slash). */
export interface Store {
  client: S3Client;
  bucket: string;
  prefix: string;
  /** For messages: s3://bucket/prefix at the endpoint (no credentials). */
  label: string;
  /** The secret, kept only to scrub it from messages; never logged. */
  readonly secret?: string;
}

/** Pure: the S3Client options for a config (tested without a network). */
export function clientOptions(o: OffsiteConfig) {
  const pathStyle = o.forcePathStyle ?? o.endpoint !== undefined;
  return {
    region: o.region,
    ...(o.endpoint !== undefined ? { endpoint: o.endpoint } : {}),
    forcePathStyle: pathStyle,
    ...(o.accessKeyId !== undefined && o.secretAccessKey !== undefined
      ? { credentials: { accessKeyId: o.accessKeyId, secretAccessKey: o.secretAccessKey } }
      : {}),
    // Swift's s3api (and several other S3 servers) refuse the SDK's default aws-chunked trailing
    // checksums (501); Content-MD5 and the signed payload hash still protect every part.
    requestChecksumCalculation: 'WHEN_REQUIRED' as const,
    responseChecksumValidation: 'WHEN_REQUIRED' as const,
    maxAttempts: 4,
    requestHandler: { connectionTimeout: 10_000, requestTimeout: 300_000 },
  };
}

export function openStore(o: OffsiteConfig, url?: OffsiteUrl): Store {
  const u = url ?? o.url;
  if (u === undefined) throw new XbError('offsite_url is not set');
  const where = `s3://${u.bucket}${u.prefix ? `/${u.prefix}` : ''}`;
  return {
    client: new S3Client(clientOptions(o)),
    bucket: u.bucket,
    prefix: u.prefix,
    label: o.endpoint !== undefined ? `${where} at ${o.endpoint}` : where,
    secret: o.secretAccessKey,
  };
}

/** The key of `rel` under the store's prefix. */
export function keyOf(store: Pick<Store, 'prefix'>, rel: string): string {
  return store.prefix === '' ? rel : `${store.prefix}/${rel}`;
}

const CREDENTIALS = new Set([
  'InvalidAccessKeyId',
  'SignatureDoesNotMatch',
  'AccessDenied',
  'InvalidToken',
  'ExpiredToken',
  'CredentialsProviderError',
]);

/** Remove the secret from any text that is about to be shown. */
export function scrub(text: string, secret: string | undefined): string {
  return secret !== undefined && secret.length >= 4 ? text.split(secret).join('***') : text;
}

/**
 * Pure: one line for an error of the SDK or the network, naming the store and the reason. The
 * store's own message is untrusted text: it is clipped to one short line.
 */
export function describeS3Error(e: unknown, store: Pick<Store, 'label' | 'secret'>, what: string): string {
  const err = e as {
    name?: string;
    code?: string;
    message?: string;
    $metadata?: { httpStatusCode?: number };
  };
  const name = err?.name ?? 'Error';
  const code = err?.code ?? (e as { cause?: { code?: string } })?.cause?.code;
  const status = err?.$metadata?.httpStatusCode;
  const raw = String(err?.message ?? e)
    .replace(/[\r\n\t]+/g, ' ')
    .replace(/[^\x20-\x7e]/g, '?')
    .slice(0, 200);
  let why: string;
  if (code === 'ECONNREFUSED' || code === 'ENOTFOUND' || code === 'EHOSTUNREACH' || code === 'ETIMEDOUT') {
    why = `the store is unreachable (${code})`;
  } else if (code === 'ECONNRESET' || name === 'TimeoutError') {
    why = `the connection failed (${code ?? name})`;
  } else if (CREDENTIALS.has(name) || status === 403) {
    why = `the store refused the credentials (${name}; the secret is not shown)`;
  } else if (name === 'NoSuchBucket') {
    why = 'the bucket does not exist';
  } else if (e instanceof S3ServiceException || status !== undefined) {
    why = `${name}${status !== undefined ? ` (HTTP ${status})` : ''}: ${raw}`;
  } else {
    why = raw;
  }
  return scrub(`${store.label}: ${what}: ${why}`, store.secret);
}

/** A failure of the store, already described in one line. */
export class StoreError extends XbError {}

/** Run one store call; any failure becomes a StoreError with one clear line. */
export async function call<T>(
  store: Pick<Store, 'label' | 'secret'>,
  what: string,
  fn: () => Promise<T>,
): Promise<T> {
  try {
    return await fn();
  } catch (e) {
    if (e instanceof XbError) throw e;
    throw new StoreError(describeS3Error(e, store, what));
  }
}
