#!/usr/bin/env node
// Print (or with --write, update in README.md) the configuration reference table generated from
// src/config/keys.ts. Needs a build (dist/).
import { readFileSync, writeFileSync } from 'node:fs';
const { configReference } = await import(new URL('../dist/config/reference.js', import.meta.url));
const table = configReference();
if (process.argv.includes('--write')) {
  const file = new URL('../README.md', import.meta.url);
  const text = readFileSync(file, 'utf8').replace(
    /<!-- config-reference:start -->[\s\S]*?<!-- config-reference:end -->/,
    `<!-- config-reference:start -->\n${table}\n<!-- config-reference:end -->`,
  );
  writeFileSync(file, text);
} else {
  process.stdout.write(table + '\n');
}
