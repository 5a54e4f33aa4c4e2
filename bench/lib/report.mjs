// Case records (samples, medians, ratio, goal, pass) and the markdown table of the results.
import { median, round } from './util.mjs';

/**
 * One compared measure: a = xb-mgr (or the measured variant), b = the reference. goal.ratio is a
 * ceiling for a/b, goal.diff a ceiling for a - b (same unit), either may be left out; a goal of
 * null is informational.
 */
export function compare({ caseId, name, unit = 's', aLabel, bLabel, a, b, goal = null, notes }) {
  const ma = median(a);
  const mb = median(b);
  const ratio = ma !== null && mb ? ma / mb : null;
  const diff = ma !== null && mb !== null ? ma - mb : null;
  let pass = null;
  if (goal && ratio !== null) {
    pass =
      (goal.ratio === undefined || ratio <= goal.ratio) && (goal.diff === undefined || diff <= goal.diff);
  }
  return {
    case: caseId,
    name,
    unit,
    a: { label: aLabel, samples: a.map((x) => round(x, 3)), median: round(ma, 3) },
    b: { label: bLabel, samples: b.map((x) => round(x, 3)), median: round(mb, 3) },
    ratio: round(ratio, 3),
    diff: round(diff, 3),
    goal,
    pass,
    ...(notes ? { notes } : {}),
  };
}

function goalText(g) {
  if (!g) return 'report';
  const parts = [];
  if (g.ratio !== undefined) parts.push(`≤ ${g.ratio.toFixed(2)}`);
  if (g.diff !== undefined) parts.push(`≤ +${g.diff} s`);
  return parts.join(' and ');
}

function cell(x, unit) {
  if (x === null || x === undefined) return '—';
  if (unit === 'MB') return `${x.toFixed(1)} MB`;
  return `${x.toFixed(2)} s`;
}

export function markdownTable(rows) {
  const out = [
    '| case | measure | measured (median) | reference (median) | ratio | goal | result |',
    '|---|---|---|---|---|---|---|',
  ];
  for (const r of rows) {
    const result = r.pass === null ? '—' : r.pass ? 'pass' : '**miss**';
    out.push(
      `| ${r.case} | ${r.name.replace(/\|/g, '\\|')} | ${cell(r.a.median, r.unit)} (${r.a.label}, n=${r.a.samples.length}) | ` +
        `${cell(r.b.median, r.unit)} (${r.b.label}, n=${r.b.samples.length}) | ` +
        `${r.ratio === null ? '—' : r.ratio.toFixed(2)} | ${goalText(r.goal)} | ${result} |`,
    );
  }
  return out.join('\n');
}

/** Side-by-side medians of named steps (xb-mgr's ready.steps vs the hand-run steps). */
export function stepTable(title, aLabel, bLabel, aSamples, bSamples) {
  const names = [...new Set([...aSamples.flatMap(Object.keys), ...bSamples.flatMap(Object.keys)])];
  const out = [`${title}`, '', `| step | ${aLabel} | ${bLabel} | difference |`, '|---|---|---|---|'];
  const rows = {};
  for (const n of names) {
    const a = median(aSamples.map((s) => s[n]).filter((x) => x !== undefined));
    const b = median(bSamples.map((s) => s[n]).filter((x) => x !== undefined));
    rows[n] = { a: round(a, 3), b: round(b, 3) };
    const f = (x) => (x === null ? '—' : x.toFixed(2));
    out.push(`| ${n} | ${f(a)} | ${f(b)} | ${a !== null && b !== null ? (a - b).toFixed(2) : '—'} |`);
  }
  return { markdown: out.join('\n'), rows };
}
