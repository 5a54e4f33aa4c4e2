/**
 * Extra-vars files for ansible-playbook. Ansible templates variable values, so a string such as
 * `{{ lookup('pipe', ...) }}` coming from backup.conf would run a command. Every string value is
 * written with the `!unsafe` tag, which makes Ansible treat it as literal data.
 */
import { Document, isScalar, Scalar, visit } from 'yaml';

export function renderExtraVars(vars: Record<string, unknown>): string {
  const doc = new Document(vars);
  visit(doc, {
    Pair(_, pair) {
      if (isScalar(pair.value) && typeof pair.value.value === 'string') tagUnsafe(pair.value);
    },
    Seq(_, seq) {
      for (const item of seq.items) if (isScalar(item) && typeof item.value === 'string') tagUnsafe(item);
    },
  });
  return '---\n' + doc.toString({ lineWidth: 0 });
}

function tagUnsafe(s: Scalar): void {
  s.tag = '!unsafe';
  s.type = Scalar.QUOTE_DOUBLE;
}
