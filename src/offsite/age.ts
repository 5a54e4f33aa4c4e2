/**
 * age, run with argument arrays: encrypt for the recipients (public keys only: the manager cannot
 * decrypt what it uploads), decrypt a stream with an identity file. The sync path streams age's
 * ciphertext (age reads the file itself); encryptFile/decryptStream hash both sides in one pass.
 */
import { createHash } from 'node:crypto';
import { readFile, rm } from 'node:fs/promises';
import type { Readable } from 'node:stream';
import { XbError, ProcessError } from '../errors.js';
import { which } from '../engine/binaries.js';
import { outputChunks, pipeline } from '../util/proc.js';
import { parseRecipientsFile, type Recipients } from './values.js';

/** Long enough for any file at age's ~1 GB/s a core; a hung child still ends. */
const TIMEOUT_MS = 6 * 3600_000;

export class AgeError extends XbError {}

export function ageBinary(): string {
  const p = which(['age']);
  if (!p) throw new AgeError('age is not installed (Debian package age; bash scripts/deps)');
  return p;
}

/** The recipient keys: listed in the config, or read from the @FILE now (bounded, validated). */
export async function resolveRecipients(r: Recipients): Promise<string[]> {
  if ('keys' in r) return r.keys;
  let text: string;
  try {
    text = await readFile(r.file, 'utf8');
  } catch (e) {
    throw new AgeError(
      `offsite_recipients: cannot read ${r.file}: ${(e as NodeJS.ErrnoException).code ?? (e as Error).message}`,
    );
  }
  const p = parseRecipientsFile(text, r.file);
  if (!p.ok) throw new AgeError(`offsite_recipients: ${p.error}`);
  return p.value;
}

/** Pure: age's argv for encrypting to these recipients. */
export function encryptArgs(recipients: readonly string[]): string[] {
  if (recipients.length === 0) throw new AgeError('no age recipient');
  return ['--encrypt', ...recipients.flatMap((r) => ['-r', r])];
}

/**
 * age encrypting the file `input` (opened by age itself: the plaintext never passes through Node):
 * its ciphertext as it comes. The iteration throws at the end when age failed; leaving it early
 * (break, an error) kills age.
 */
export async function* encryptChunks(input: string, recipients: readonly string[]): AsyncGenerator<Buffer> {
  if (!input.startsWith('/')) throw new AgeError(`not an absolute path: ${input}`);
  try {
    yield* outputChunks(ageBinary(), [...encryptArgs(recipients), '--', input], {
      timeoutMs: TIMEOUT_MS,
      label: 'age',
    });
  } catch (e) {
    throw e instanceof ProcessError ? new AgeError(`age could not encrypt ${input}: ${e.message}`) : e;
  }
}

/**
 * `age -d` of a ciphertext stream (a download): the plaintext as it comes, read with backpressure.
 * The iteration throws AgeError (age's line) when age refused the data, or the input's own error;
 * leaving it early kills age.
 */
export async function* decryptChunks(input: Readable, identity: string): AsyncGenerator<Buffer> {
  try {
    yield* outputChunks(ageBinary(), decryptArgs(identity), { timeoutMs: TIMEOUT_MS, label: 'age', input });
  } catch (e) {
    throw e instanceof ProcessError ? new AgeError(decryptFailure(e.stderrTail, e.procExitCode)) : e;
  }
}

/** Encrypt a small buffer (a manifest) in memory. */
export async function encryptBuffer(plain: Buffer, recipients: readonly string[]): Promise<Buffer> {
  const out: Buffer[] = [];
  try {
    for await (const c of outputChunks(ageBinary(), encryptArgs(recipients), {
      timeoutMs: TIMEOUT_MS,
      label: 'age',
      input: plain,
    }))
      out.push(c);
  } catch (e) {
    throw e instanceof ProcessError ? new AgeError(`age could not encrypt: ${e.message}`) : e;
  }
  return Buffer.concat(out);
}

/**
 * Pure: at least the size of age's output for `plainBytes` (to choose part sizes before age is
 * done): a header of at most a few hundred bytes a recipient, a 16-byte nonce, and a 16-byte tag
 * for every 64 KiB chunk (one chunk even when empty).
 */
export function cipherBound(plainBytes: number, recipients: number): number {
  return plainBytes + 16 * (Math.ceil(plainBytes / 65536) + 1) + 16 + 4096 + 1024 * recipients;
}

/** Pure: age's argv for decrypting with an identity file. */
export function decryptArgs(identity: string): string[] {
  return ['--decrypt', '-i', identity];
}

/** Pure: the line a user reads when `age -d` failed, from its stderr and exit code. */
export function decryptFailure(stderr: string, code: number | null | undefined): string {
  const why = /no identity matched/i.test(stderr)
    ? 'the identity does not match the recipients the object was encrypted to'
    : stderr.replace(/\s+/g, ' ').trim().slice(0, 200) || `age exited with ${code}`;
  return `age could not decrypt: ${why}`;
}

export interface Hashed {
  plainBytes: number;
  plainSha256: string;
  cipherBytes: number;
  cipherSha256: string;
}

function counter() {
  const h = createHash('sha256');
  let n = 0;
  return {
    add: (c: Buffer) => {
      n += c.length;
      h.update(c);
    },
    done: () => ({ bytes: n, sha256: h.digest('hex') }),
  };
}

/** Encrypt `input` into `output` (created 0600); on failure no output is left. */
export async function encryptFile(
  input: string,
  output: string,
  recipients: readonly string[],
): Promise<Hashed> {
  const plain = counter();
  const cipher = counter();
  try {
    await pipeline([{ cmd: ageBinary(), args: encryptArgs(recipients), label: 'age' }], {
      timeoutMs: TIMEOUT_MS,
      inputFile: input,
      onInput: plain.add,
      outputFile: output,
      onOutput: cipher.add,
    });
  } catch (e) {
    await rm(output, { force: true });
    throw e instanceof ProcessError ? new AgeError(`age could not encrypt ${input}: ${e.message}`) : e;
  }
  const p = plain.done();
  const c = cipher.done();
  return { plainBytes: p.bytes, plainSha256: p.sha256, cipherBytes: c.bytes, cipherSha256: c.sha256 };
}

/**
 * Decrypt a ciphertext stream (a download) into `output` (created 0600). With `expectPlainSha256`
 * a mismatch removes the output and throws: a wrong identity or an altered object leaves nothing.
 */
export async function decryptStream(
  input: Readable,
  identity: string,
  output: string,
  expectPlainSha256?: string,
): Promise<Hashed> {
  const plain = counter();
  const cipher = counter();
  try {
    await pipeline([{ cmd: ageBinary(), args: decryptArgs(identity), label: 'age' }], {
      timeoutMs: TIMEOUT_MS,
      input,
      onInput: cipher.add,
      outputFile: output,
      onOutput: plain.add,
    });
  } catch (e) {
    await rm(output, { force: true });
    if (!(e instanceof ProcessError)) throw e;
    throw new AgeError(decryptFailure(e.stderrTail, e.procExitCode));
  }
  const p = plain.done();
  const c = cipher.done();
  if (expectPlainSha256 !== undefined && p.sha256 !== expectPlainSha256) {
    await rm(output, { force: true });
    throw new AgeError('the decrypted data does not match its recorded sha256 (altered in the store?)');
  }
  return { plainBytes: p.bytes, plainSha256: p.sha256, cipherBytes: c.bytes, cipherSha256: c.sha256 };
}
