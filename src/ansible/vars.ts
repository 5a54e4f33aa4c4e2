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
  // The yaml package writes DEL, C1 controls (NEL among them) and U+FFFE/U+FFFF raw inside double
  // quotes; PyYAML rejects them or reads NEL as a line break. Every string is double-quoted, so
  // escape them there.
  return (
    '---\n' +
    doc.toString({ lineWidth: 0 }).replace(/[\u007f-\u009f\ufffe\uffff]/g, (c) => {
      const code = c.charCodeAt(0);
      return code <= 0xff ? `\\x${code.toString(16).padStart(2, '0')}` : `\\u${code.toString(16)}`;
    })
  );
}

function tagUnsafe(s: Scalar): void {
  s.tag = '!unsafe';
  s.type = Scalar.QUOTE_DOUBLE;
}
