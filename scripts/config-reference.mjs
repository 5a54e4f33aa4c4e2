#!/usr/bin/env node
// Print the configuration reference table generated from src/config/keys.ts; with --write, update
// it in README.md and write the collection's helper role defaults (config.yml). Needs a build (dist/).
import { readFileSync, writeFileSync } from 'node:fs';
const { configReference, playbookDefaults } = await import(
  new URL('../dist/config/reference.js', import.meta.url)
);
const table = configReference();
if (process.argv.includes('--write')) {
  const file = new URL('../README.md', import.meta.url);
  const text = readFileSync(file, 'utf8').replace(
    /<!-- config-reference:start -->[\s\S]*?<!-- config-reference:end -->/,
    `<!-- config-reference:start -->\n${table}\n<!-- config-reference:end -->`,
  );
  writeFileSync(file, text);
  writeFileSync(
    new URL(
      '../playbooks/collections/ansible_collections/xb_mgr/backup/roles/helper/defaults/main/config.yml',
      import.meta.url,
    ),
    playbookDefaults(),
  );
} else {
  process.stdout.write(table + '\n');
}
