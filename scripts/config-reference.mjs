#!/usr/bin/env node
// Print the configuration reference table generated from src/config/keys.ts; with --write, update
// it in README.md and write playbooks/vars/defaults.yml. Needs a build (dist/).
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
  writeFileSync(new URL('../playbooks/vars/defaults.yml', import.meta.url), playbookDefaults());
} else {
  process.stdout.write(table + '\n');
}
