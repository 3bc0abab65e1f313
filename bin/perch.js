#!/usr/bin/env node
// The `perch` command: runs the built CLI (npm run build produces out/main/cli.js).
import { existsSync } from 'node:fs';

const cli = new URL('../out/main/cli.js', import.meta.url);
if (!existsSync(cli)) {
  process.stderr.write('perch: Perch is not built yet. Run `npm run build` in the repository first.\n');
  process.exit(1);
}
await import(cli.href);
