import t from 'tap';
import {
  existsSync,
  mkdirSync,
  mkdtempSync,
  readdirSync,
  readFileSync,
  rmSync,
  writeFileSync,
} from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import {
  baseDir,
  dropBaseRecord,
  planApply,
  readBaseRecord,
  writeBaseRecord,
  type ApplyPlan,
  type BaseRecord,
} from '../../src/ready/base.js';
import type { Manifest } from '../../src/catalog/manifest.js';
import { full, inc } from './factory.js';

const rec = (last: Manifest, chain: Manifest[]): BaseRecord => ({
  last_applied: last.id,
  chain: chain.map((m) => m.id),
  to_lsn: last.to_lsn,
});

const F15 = full('20261115T010000Z', 1000);
const I16 = inc('20261116T010000Z', F15, 2000);
const I17 = inc('20261117T010000Z', I16, 3000);
const I18 = inc('20261118T010000Z', I17, 4000);
const F22 = full('20261122T010000Z', 8000);
const I23 = inc('20261123T010000Z', F22, 9000);

/** The plan as ids, so a failure shows which backups. */
const shape = (p: ApplyPlan) =>
  p.rebuild
    ? { rebuild: true, why: p.why, apply: p.apply.map((m) => m.id) }
    : { rebuild: false, apply: p.apply.map((m) => m.id) };

t.test('planApply', async (t) => {
  const cases: {
    name: string;
    chain: Manifest[];
    record: BaseRecord | undefined;
    want: { rebuild: boolean; why?: string; apply: string[] };
  }[] = [
    // A full starts a new base, whatever the record says.
    {
      name: 'a full with no record',
      chain: [F15],
      record: undefined,
      want: { rebuild: true, why: 'a full backup starts a new base', apply: [F15.id] },
    },
    {
      name: "a full with a record of the last week's chain",
      chain: [F22],
      record: rec(I18, [F15, I16, I17, I18]),
      want: { rebuild: true, why: 'a full backup starts a new base', apply: [F22.id] },
    },
    {
      name: 'a full whose own id is already the record',
      chain: [F22],
      record: rec(F22, [F22]),
      want: { rebuild: true, why: 'a full backup starts a new base', apply: [F22.id] },
    },
    // No record: rebuild the whole chain.
    {
      name: 'record missing: the first incremental rebuilds full + incremental',
      chain: [F15, I16],
      record: undefined,
      want: {
        rebuild: true,
        why: 'no prepared base (prepare/base.json is missing)',
        apply: [F15.id, I16.id],
      },
    },
    {
      name: 'record missing: a long chain is rebuilt in chain order',
      chain: [F15, I16, I17, I18],
      record: undefined,
      want: {
        rebuild: true,
        why: 'no prepared base (prepare/base.json is missing)',
        apply: [F15.id, I16.id, I17.id, I18.id],
      },
    },
    // A record naming another backup: rebuild, naming both.
    {
      name: 'record two steps behind',
      chain: [F15, I16, I17, I18],
      record: rec(I16, [F15, I16]),
      want: {
        rebuild: true,
        why: 'the prepared base holds 20261116T010000Z, not 20261117T010000Z (the parent of 20261118T010000Z)',
        apply: [F15.id, I16.id, I17.id, I18.id],
      },
    },
    {
      name: "record of last week's chain",
      chain: [F22, I23],
      record: rec(I18, [F15, I16, I17, I18]),
      want: {
        rebuild: true,
        why: 'the prepared base holds 20261118T010000Z, not 20261122T010000Z (the parent of 20261123T010000Z)',
        apply: [F22.id, I23.id],
      },
    },
    {
      name: 'record already at the leaf itself: not its parent, so rebuilt',
      chain: [F15, I16, I17],
      record: rec(I17, [F15, I16, I17]),
      want: {
        rebuild: true,
        why: 'the prepared base holds 20261117T010000Z, not 20261116T010000Z (the parent of 20261117T010000Z)',
        apply: [F15.id, I16.id, I17.id],
      },
    },
    {
      name: 'record ahead of the leaf (a newer backup was applied)',
      chain: [F15, I16],
      record: rec(I18, [F15, I16, I17, I18]),
      want: {
        rebuild: true,
        why: 'the prepared base holds 20261118T010000Z, not 20261115T010000Z (the parent of 20261116T010000Z)',
        apply: [F15.id, I16.id],
      },
    },
    // A record naming the parent: apply the leaf only.
    {
      name: 'record at the full, first incremental',
      chain: [F15, I16],
      record: rec(F15, [F15]),
      want: { rebuild: false, apply: [I16.id] },
    },
    {
      name: 'record at the parent incremental',
      chain: [F15, I16, I17, I18],
      record: rec(I17, [F15, I16, I17]),
      want: { rebuild: false, apply: [I18.id] },
    },
    {
      name: 'only last_applied matters, not the recorded chain list or LSN',
      chain: [F15, I16, I17],
      record: { last_applied: I16.id, chain: ['something-else'], to_lsn: 1 },
      want: { rebuild: false, apply: [I17.id] },
    },
  ];
  for (const c of cases) {
    const p = planApply(c.chain, c.record);
    t.strictSame(shape(p), c.want, c.name);
    // The plan's manifests are the chain's own objects, in the chain's order.
    if (p.rebuild && c.chain[c.chain.length - 1]!.type !== 'full')
      t.equal(p.apply[0], c.chain[0], `${c.name}: same objects`);
  }
});

t.test('base record on disk', async (t) => {
  const root = mkdtempSync(join(tmpdir(), 'xbbase-'));
  t.teardown(() => rmSync(root, { recursive: true, force: true }));
  mkdirSync(join(root, 'prepare'), { recursive: true });
  const recPath = join(root, 'prepare', 'base.json');

  t.equal(baseDir(root), join(root, 'prepare', 'base'), 'baseDir is prepare/base');
  t.equal(readBaseRecord(root), undefined, 'no file: undefined');

  const r: BaseRecord = { last_applied: I17.id, chain: [F15.id, I16.id, I17.id], to_lsn: 3000 };
  writeBaseRecord(root, r);
  t.ok(existsSync(recPath), 'written to prepare/base.json');
  t.strictSame(JSON.parse(readFileSync(recPath, 'utf8')), r, 'the file is the record as JSON');
  t.ok(readFileSync(recPath, 'utf8').endsWith('}\n'), 'ends with a newline');
  t.strictSame(readBaseRecord(root), r, 'round trip');
  t.strictSame(readdirSync(join(root, 'prepare')), ['base.json'], 'no temporary file left behind');

  const r2: BaseRecord = { last_applied: I18.id, chain: [F15.id, I16.id, I17.id, I18.id], to_lsn: 4000 };
  writeBaseRecord(root, r2);
  t.strictSame(readBaseRecord(root), r2, 'overwrite replaces the record');

  dropBaseRecord(root);
  t.notOk(existsSync(recPath), 'drop removes the file');
  t.equal(readBaseRecord(root), undefined, 'after drop: undefined');
  t.doesNotThrow(() => dropBaseRecord(root), 'drop without a file is fine');

  const bad: [string, string][] = [
    ['not JSON', '{"last_applied": "2026'],
    ['empty file', ''],
    ['JSON without last_applied', '{"chain": [], "to_lsn": 1}\n'],
    ['last_applied not a string', '{"last_applied": 20261117, "chain": [], "to_lsn": 1}\n'],
    ['JSON null', 'null\n'],
  ];
  for (const [name, text] of bad) {
    writeFileSync(recPath, text);
    t.equal(readBaseRecord(root), undefined, `${name}: undefined`);
  }

  // After a drop, the next plan rebuilds: the interrupted-apply protocol.
  writeBaseRecord(root, rec(I16, [F15, I16]));
  t.strictSame(
    shape(planApply([F15, I16, I17], readBaseRecord(root))),
    { rebuild: false, apply: [I17.id] },
    'with the record: leaf only',
  );
  dropBaseRecord(root);
  t.strictSame(
    shape(planApply([F15, I16, I17], readBaseRecord(root))),
    {
      rebuild: true,
      why: 'no prepared base (prepare/base.json is missing)',
      apply: [F15.id, I16.id, I17.id],
    },
    'dropped mid-apply: whole chain',
  );
});
