#!/usr/bin/env node
// Bundle the built CLI (dist/cli.js and what it imports) into dist/cli.js plus shared chunks in
// dist/chunks/: a command then loads a handful of files instead of several hundred (the AWS SDK,
// zod and yaml are many small modules), which is most of a short command's start-up time. The
// other files of dist/ stay as tsc wrote them (scripts and tests import some of them).
import { rmSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { build } from 'esbuild';

const dist = join(dirname(fileURLToPath(import.meta.url)), '..', 'dist');
rmSync(join(dist, 'chunks'), { recursive: true, force: true });
await build({
  entryPoints: [join(dist, 'cli.js')],
  outdir: dist,
  allowOverwrite: true,
  bundle: true,
  splitting: true,
  format: 'esm',
  platform: 'node',
  target: 'node20',
  chunkNames: 'chunks/[name]-[hash]',
  // The SDK's CommonJS modules call require(): give the ESM bundle one.
  banner: {
    js: "import { createRequire as xbCreateRequire } from 'node:module'; const require = xbCreateRequire(import.meta.url);",
  },
  minifyWhitespace: true,
  minifySyntax: true,
  logLevel: 'warning',
});
