import t from 'tap';
import { notFound } from '../../src/commands/check.js';

t.test('notFound: a configured path is named, names are looked up on PATH', async (t) => {
  const cases: [string[], string][] = [
    [['ansible-playbook'], 'not found (looked for ansible-playbook on PATH)'],
    [['mariadbd', 'mysqld'], 'not found (looked for mariadbd, mysqld on PATH)'],
    [['/opt/ansible/bin/ansible-playbook'], '/opt/ansible/bin/ansible-playbook is not an executable file'],
  ];
  for (const [names, want] of cases) t.equal(notFound(names), want, names.join(' '));
});
