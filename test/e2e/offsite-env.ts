/** The sandbox's object store (scripts/objstore) for e2e tests, and a fresh age key pair. */
import { execFileSync } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { e2eTempDir, repo } from './sandbox.js';
import type { OffsiteConfig } from '../../src/offsite/s3.js';

export function objstoreEnv(): Record<string, string> {
  return Object.fromEntries(
    execFileSync('bash', [join(repo, 'scripts', 'objstore'), 'env'], { encoding: 'utf8' })
      .trim()
      .split('\n')
      .map((l) => l.split('=', 2) as [string, string]),
  );
}

export function objstore(cmd: string): void {
  execFileSync('bash', [join(repo, 'scripts', 'objstore'), cmd], { stdio: 'ignore' });
}

/** An age identity file and its recipient. */
export function ageKeys(): { identity: string; recipient: string } {
  const dir = e2eTempDir('xb-age-');
  const identity = join(dir, 'key.txt');
  execFileSync('age-keygen', ['-o', identity], { stdio: 'ignore' });
  const recipient = execFileSync('age-keygen', ['-y', identity], { encoding: 'utf8' }).trim();
  return { identity, recipient };
}

export function offsiteConfig(
  env: Record<string, string>,
  prefix: string,
  extra: Partial<OffsiteConfig> = {},
): OffsiteConfig {
  return {
    url: { bucket: env.XB_S3_BUCKET!, prefix },
    endpoint: env.XB_S3_ENDPOINT,
    region: 'us-east-1',
    accessKeyId: env.XB_S3_ACCESS_KEY_ID,
    secretAccessKey: readFileSync(env.XB_S3_SECRET_FILE!, 'utf8').trim(),
    forcePathStyle: undefined,
    recipients: undefined,
    encryption: 'age',
    retainDays: 7,
    retainNumReadyBackups: 1,
    partSize: 5 * 1024 * 1024,
    concurrency: 2,
    bandwidth: undefined,
    ...extra,
  };
}
