// The same work as xb-mgr, by hand: the commands an operator would type (FACTS.md), each step timed.
import { mkdirSync, readFileSync, rmSync } from 'node:fs';
import { join } from 'node:path';
import { clock, exec, q, sh } from './util.mjs';

/**
 * `ssh host 'mariabackup ... --stream=xbstream | zstd -q -1 -T0' > file` with the options xb-mgr
 * gives the tool (src/engine/commands.ts: --backup --stream=xbstream --parallel=P, and the helper's
 * --target-dir/--extra-lsndir in a temporary directory). ssh with its default cipher, no multiplexing.
 */
export async function rawTransfer(sb, host, file, { parallel = 2, incrementalLsn, sshExtra = [] } = {}) {
  const cnf = sb.confValue(host, 'remote_credentials_file');
  const toolArgs = ['--backup', '--stream=xbstream', `--parallel=${parallel}`];
  if (incrementalLsn !== undefined) toolArgs.push(`--incremental-lsn=${incrementalLsn}`);
  const remote =
    'set -o pipefail; T=$(mktemp -d); ' +
    `mariabackup --defaults-extra-file=${q(cnf)} ${toolArgs.join(' ')} --target-dir="$T" --extra-lsndir="$T" ` +
    '| zstd -q -1 -T0; rc=$?; rm -rf "$T"; exit $rc';
  const ssh = sb.ssh(host, sshExtra);
  const r = await sh(`${ssh.map(q).join(' ')} ${q(remote)} > ${q(file)} 2> ${q(file + '.log')}`);
  const logTail = (await exec('tail', ['-1', file + '.log'])).stdout;
  if (!/completed OK!\s*$/.test(logTail)) throw new Error(`raw transfer: no "completed OK!" in ${file}.log`);
  return r.seconds;
}

/** Temporary mariadbd on dir + mariadb-check --all-databases + shutdown (FACTS.md's command). */
function verifyScript(dir, tag) {
  const sock = `/tmp/xbb-${tag}-${process.pid}.sock`;
  const pid = `/tmp/xbb-${tag}-${process.pid}.pid`;
  return `
mariadbd --defaults-file=${q(dir + '/backup-my.cnf')} --user=root --datadir=${q(dir)} --socket=${q(sock)} \\
  --pid-file=${q(pid)} --skip-networking --skip-grant-tables --skip-slave-start --skip-log-bin \\
  --innodb-buffer-pool-size=256M --log-error=${q(dir + '.err')} &
mpid=$!
for _ in $(seq 1200); do mariadb-admin --no-defaults -S ${q(sock)} ping >/dev/null 2>&1 && break; sleep 0.1; done
mariadb-check --no-defaults -S ${q(sock)} --all-databases > ${q(dir + '.check')}
mariadb-admin --no-defaults -S ${q(sock)} shutdown
wait $mpid
! grep -qiE '^(error|warning)|corrupt' ${q(dir + '.check')}
`;
}

async function timed(steps, name, script) {
  const r = await sh(script);
  steps[name] = (steps[name] ?? 0) + r.seconds;
}

/**
 * The manager side by hand: extract, prepare, (copy, as xb-mgr does), temporary mysqld +
 * mysqlcheck, tar | zstd. Returns the seconds of each step and their sum.
 */
export async function rawReady(streamFile, work, out, { parallel = 2, copy = true } = {}) {
  rmSync(work, { recursive: true, force: true });
  mkdirSync(work, { recursive: true });
  const base = join(work, 'base');
  const verifyDir = copy ? join(work, 'copy') : base;
  const steps = {};
  const t0 = clock();
  mkdirSync(base);
  await timed(steps, 'extract', `zstd -dc ${q(streamFile)} | mbstream -x -p ${parallel} -C ${q(base)}`);
  await timed(
    steps,
    'prepare',
    `mariabackup --prepare --target-dir=${q(base)} --use-memory=1G 2>${q(work + '/prepare.log')}`,
  );
  if (copy) await timed(steps, 'copy', `cp -a ${q(base)} ${q(verifyDir)}`);
  await timed(steps, 'verify', verifyScript(verifyDir, 'raw'));
  await timed(steps, 'compress', `tar -C ${q(verifyDir)} -cf - . | zstd -q -T0 -1 > ${q(out)}`);
  const total = clock() - t0;
  rmSync(work, { recursive: true, force: true });
  return { steps, total };
}

/**
 * The original tool's way: replay the whole chain on every run (extract the full and every
 * incremental, prepare each in turn, check, compress). `streams` oldest first.
 */
export async function replayChain(streams, work, out, { parallel = 2 } = {}) {
  rmSync(work, { recursive: true, force: true });
  mkdirSync(work, { recursive: true });
  const base = join(work, 'base');
  const steps = {};
  const t0 = clock();
  for (const s of streams) {
    if (s.type === 'full') {
      mkdirSync(base);
      await timed(steps, 'extract', `zstd -dc ${q(s.file)} | mbstream -x -p ${parallel} -C ${q(base)}`);
      await timed(
        steps,
        'prepare',
        `mariabackup --prepare --target-dir=${q(base)} --use-memory=1G 2>/dev/null`,
      );
    } else {
      const inc = join(work, `inc-${s.id}`);
      mkdirSync(inc);
      await timed(steps, 'extract', `zstd -dc ${q(s.file)} | mbstream -x -p ${parallel} -C ${q(inc)}`);
      await timed(
        steps,
        'apply',
        `mariabackup --prepare --target-dir=${q(base)} --incremental-dir=${q(inc)} --use-memory=1G 2>/dev/null`,
      );
      rmSync(inc, { recursive: true, force: true });
    }
  }
  await timed(steps, 'verify', verifyScript(base, 'replay'));
  await timed(steps, 'compress', `tar -C ${q(base)} -cf - . | zstd -q -T0 -1 > ${q(out)}`);
  const total = clock() - t0;
  rmSync(work, { recursive: true, force: true });
  return { steps, total };
}

/** `zstd -dc READY | tar -b 2048 -x -C DIR`: ready files have 1 MiB records (README, restoring by hand). */
export async function rawRestore(readyFile, target) {
  rmSync(target, { recursive: true, force: true });
  mkdirSync(target, { recursive: true });
  return (await sh(`zstd -dc ${q(readyFile)} | tar -b 2048 -x -C ${q(target)}`)).seconds;
}

/**
 * The demo's cycles by hand on a tiny database: a full (transfer, extract, prepare, cp -a, check,
 * tar | zstd), then an incremental from the prepared base's to_lsn (transfer, extract, apply onto
 * the base, cp -a, check, tar | zstd). Wall seconds of each cycle and of its steps.
 */
export async function rawTinyCycles(sb, host, dir, { parallel = 2 } = {}) {
  rmSync(dir, { recursive: true, force: true });
  mkdirSync(dir, { recursive: true });
  const base = join(dir, 'base');
  const inc = join(dir, 'inc');
  mkdirSync(base);
  mkdirSync(inc);
  const cycle = async (kind) => {
    const steps = {};
    const t0 = clock();
    const stream = join(dir, `${kind}.xbstream.zst`);
    const lsn =
      kind === 'incremental'
        ? /^to_lsn = (\d+)$/m.exec(readFileSync(join(base, 'xtrabackup_checkpoints'), 'utf8'))[1]
        : undefined;
    steps.transfer = await rawTransfer(sb, host, stream, { parallel, incrementalLsn: lsn });
    const into = kind === 'full' ? base : inc;
    await timed(steps, 'extract', `zstd -dc ${q(stream)} | mbstream -x -p ${parallel} -C ${q(into)}`);
    const apply = kind === 'full' ? '' : ` --incremental-dir=${q(inc)}`;
    await timed(
      steps,
      kind === 'full' ? 'prepare' : 'apply',
      `mariabackup --prepare --target-dir=${q(base)}${apply} --use-memory=1G 2>${q(dir + '/prepare.log')}`,
    );
    const copy = join(dir, `copy-${kind}`);
    await timed(steps, 'copy', `cp -a ${q(base)} ${q(copy)}`);
    await timed(steps, 'verify', verifyScript(copy, `tiny-${kind}`));
    await timed(
      steps,
      'compress',
      `tar -C ${q(copy)} -cf - . | zstd -q -T0 -1 > ${q(join(dir, kind + '.tar.zst'))}`,
    );
    return { wall: clock() - t0, steps };
  };
  const full = await cycle('full');
  const incremental = await cycle('incremental');
  rmSync(dir, { recursive: true, force: true });
  return {
    full: full.wall,
    incremental: incremental.wall,
    full_steps: full.steps,
    incremental_steps: incremental.steps,
  };
}
