/**
 * Starting a mysqld on an unpacked ready file, as a DBA would after a restore, to read its data.
 */
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { execa } from 'execa';
import { sql } from './sandbox.js';

export const TABLES = ['shop.accounts', 'shop.orders', 'shop.notes'];

/** CHECKSUM TABLE and row count of each table. */
export const FINGERPRINT_SQL = TABLES.map(
  (tb) => `CHECKSUM TABLE ${tb}; SELECT '${tb}', COUNT(*) FROM ${tb};`,
).join(' ');

export function sourceFingerprint(host: string): string {
  return sql(host, FINGERPRINT_SQL);
}

export interface Unpacked {
  dir: string;
  query(q: string): Promise<string>;
  stop(): Promise<void>;
}

/** Unpack a ready file (zstd | tar) and start a mysqld on it. */
export async function startOnReady(readyFile: string): Promise<Unpacked> {
  const dir = mkdtempSync(join(tmpdir(), 'xb-ready-'));
  const data = join(dir, 'data');
  await execa('mkdir', [data]);
  await execa('bash', ['-c', 'zstd -dcq "$1" | tar -C "$2" -xf -', 'unpack', readyFile, data]);
  return startOnDir(data, dir);
}

/** Start a mysqld on a restored datadir (own socket, no networking, no grants). */
export async function startOnDir(
  data: string,
  work = mkdtempSync(join(tmpdir(), 'xb-srv-')),
): Promise<Unpacked> {
  const sock = join(work, 's.sock');
  const server = execa(
    'mariadbd',
    [
      `--defaults-file=${data}/backup-my.cnf`,
      `--datadir=${data}`,
      `--socket=${sock}`,
      `--pid-file=${work}/m.pid`,
      `--log-error=${work}/err.log`,
      '--skip-networking',
      '--skip-grant-tables',
      '--skip-log-bin',
      '--user=root',
    ],
    { reject: false },
  );
  for (let i = 0; i < 300; i++) {
    const p = await execa('mariadb-admin', ['--no-defaults', `--socket=${sock}`, 'ping'], { reject: false });
    if (p.exitCode === 0) break;
    await new Promise((r) => setTimeout(r, 100));
  }
  const query = async (q: string) =>
    String(
      (
        await execa('mariadb', [
          '--no-defaults',
          `--socket=${sock}`,
          '--batch',
          '--skip-column-names',
          '-e',
          q,
        ])
      ).stdout,
    ).trim();
  return {
    dir: work,
    query,
    stop: async () => {
      await execa('mariadb-admin', ['--no-defaults', `--socket=${sock}`, 'shutdown'], { reject: false });
      await server;
      rmSync(work, { recursive: true, force: true });
    },
  };
}
