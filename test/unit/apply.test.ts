/**
 * The one applyChain: the exact command sequence for the ready step (the base stays applicable,
 * the verify copy is finalized) and for `restore --backup` (the chain's last step is final), per
 * engine. Before the engine seam, restore with xtrabackup gave every step --apply-log-only and never
 * ran a final prepare: the 'restore, xtrabackup' rows pin the fix.
 */
import t from 'tap';
import { applySteps, type ApplyStep } from '../../src/ready/apply.js';
import { engineFor, type Tool } from '../../src/engine/engine.js';
import { full, inc } from './factory.js';

const f = full('20260101T000000Z', 100);
const i1 = inc('20260102T000000Z', f, 200);
const i2 = inc('20260103T000000Z', i1, 300);
const incDir = (m: { id: string }) => `/p/inc-${m.id}`;

/** Steps as short strings: extract <id> -> dir, prepare argv, remove dir. */
function show(steps: ApplyStep[]): string[] {
  return steps.map((s) =>
    s.kind === 'extract'
      ? `extract ${s.backup.id} -> ${s.dir}`
      : s.kind === 'prepare'
        ? `${s.label} ${s.argv.join(' ')}`
        : `remove ${s.dir}`,
  );
}

t.test('applySteps: table of chains, engines and final/non-final', async (t) => {
  const cases: [name: string, tool: Tool, chain: (typeof f)[], final: boolean, want: string[]][] = [
    [
      'restore, mariabackup, full + 2 incrementals',
      'mariabackup',
      [f, i1, i2],
      true,
      [
        `extract ${f.id} -> /t`,
        'prepare --prepare --target-dir=/t',
        `extract ${i1.id} -> /p/inc-${i1.id}`,
        `apply --prepare --target-dir=/t --incremental-dir=/p/inc-${i1.id}`,
        `remove /p/inc-${i1.id}`,
        `extract ${i2.id} -> /p/inc-${i2.id}`,
        `apply --prepare --target-dir=/t --incremental-dir=/p/inc-${i2.id}`,
        `remove /p/inc-${i2.id}`,
      ],
    ],
    [
      'restore, xtrabackup, full + 2 incrementals: the last step is final',
      'xtrabackup',
      [f, i1, i2],
      true,
      [
        `extract ${f.id} -> /t`,
        'prepare --prepare --target-dir=/t --apply-log-only',
        `extract ${i1.id} -> /p/inc-${i1.id}`,
        `apply --prepare --target-dir=/t --incremental-dir=/p/inc-${i1.id} --apply-log-only`,
        `remove /p/inc-${i1.id}`,
        `extract ${i2.id} -> /p/inc-${i2.id}`,
        `apply --prepare --target-dir=/t --incremental-dir=/p/inc-${i2.id}`,
        `remove /p/inc-${i2.id}`,
      ],
    ],
    [
      'restore, xtrabackup, a full alone is prepared final',
      'xtrabackup',
      [f],
      true,
      [`extract ${f.id} -> /t`, 'prepare --prepare --target-dir=/t'],
    ],
    [
      'ready base, xtrabackup: every step keeps the base applicable',
      'xtrabackup',
      [f, i1],
      false,
      [
        `extract ${f.id} -> /t`,
        'prepare --prepare --target-dir=/t --apply-log-only',
        `extract ${i1.id} -> /p/inc-${i1.id}`,
        `apply --prepare --target-dir=/t --incremental-dir=/p/inc-${i1.id} --apply-log-only`,
        `remove /p/inc-${i1.id}`,
      ],
    ],
    [
      'ready base, mariabackup, one new incremental onto the base',
      'mariabackup',
      [i2],
      false,
      [
        `extract ${i2.id} -> /p/inc-${i2.id}`,
        `apply --prepare --target-dir=/t --incremental-dir=/p/inc-${i2.id}`,
        `remove /p/inc-${i2.id}`,
      ],
    ],
    ['nothing to apply', 'mariabackup', [], true, []],
  ];
  for (const [name, tool, chain, final, want] of cases) {
    t.strictSame(
      show(applySteps(engineFor(tool), chain, '/t', { final, incrementalDir: incDir })),
      want,
      name,
    );
  }
});

t.test('applySteps: use-memory reaches every prepare', async (t) => {
  const steps = applySteps(engineFor('mariabackup'), [f, i1], '/t', {
    final: true,
    incrementalDir: incDir,
    useMemory: '1G',
  });
  const prepares = steps.flatMap((s) => (s.kind === 'prepare' ? [s.argv] : []));
  t.equal(prepares.length, 2);
  for (const a of prepares) t.equal(a[a.length - 1], '--use-memory=1G');
});

t.test('finalize: xtrabackup prepares the copy once more, mariabackup needs nothing', async (t) => {
  t.strictSame(engineFor('xtrabackup').finalizeArgs('/c', '1G'), [
    '--prepare',
    '--target-dir=/c',
    '--use-memory=1G',
  ]);
  t.strictSame(engineFor('xtrabackup').finalizeArgs('/c'), ['--prepare', '--target-dir=/c']);
  t.equal(engineFor('mariabackup').finalizeArgs('/c', '1G'), undefined);
});

t.test('engine: names the rest of the code asks for', async (t) => {
  const cases: [Tool, string[], string[], string, string][] = [
    ['mariabackup', ['mariabackup', 'mariadb-backup'], ['mbstream'], 'mariadb', 'mariadb'],
    ['xtrabackup', ['xtrabackup'], ['xbstream'], 'mysql', 'mysql'],
  ];
  for (const [tool, toolNames, streamNames, client, service] of cases) {
    const e = engineFor(tool);
    t.strictSame([...e.toolNames], toolNames, `${tool} tool`);
    t.strictSame([...e.streamNames], streamNames, `${tool} stream`);
    t.equal(e.remoteClient, client, `${tool} client`);
    t.equal(e.remoteService, service, `${tool} service`);
  }
});
