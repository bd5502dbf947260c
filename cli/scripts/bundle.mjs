#!/usr/bin/env node
// Bundles the compiled CLI (cli/dist/main.js and everything it imports: commander, zod, the
// shared package) into one file, cli/dist/cuttle.js, which the `cuttle` binary runs. Loading one
// file instead of some 150 modules takes about 0.1 s off every command's start-up, and CI
// pipelines run cuttle several times per build. Run by `npm run build`, after tsc.
// archiver and yaml stay outside: only `pack` and the YAML-reading commands load them, at runtime.
import path from 'node:path';
import { build } from 'esbuild';

const cliDir = path.resolve(import.meta.dirname, '..');

await build({
  entryPoints: [path.join(cliDir, 'dist/main.js')],
  outfile: path.join(cliDir, 'dist/cuttle.js'),
  bundle: true,
  platform: 'node',
  format: 'esm',
  target: 'node20',
  external: ['archiver', 'yaml'],
  // CommonJS dependencies bundled into an ES module still call require() for Node's own modules
  banner: { js: "import { createRequire as __cuttleCreateRequire } from 'node:module';\nconst require = __cuttleCreateRequire(import.meta.url);" },
  legalComments: 'none',
  logLevel: 'warning',
});
