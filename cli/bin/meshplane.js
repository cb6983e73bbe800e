#!/usr/bin/env node
// The meshplane command: runs the TypeScript sources through tsx's loader (a dependency of this
// package), so a fresh clone needs no build step beyond `pnpm install`.
import { register } from 'tsx/esm/api';

register();
const { main } = await import('../src/main.ts');
// Under `npm run cli` the working directory is the repository root; INIT_CWD is where the caller was.
const cwd = process.env.npm_lifecycle_event === 'cli' && process.env.INIT_CWD ? process.env.INIT_CWD : process.cwd();
process.exitCode = await main(process.argv.slice(2), {
  env: process.env,
  cwd,
  stdout: (text) => process.stdout.write(`${text}\n`),
  stderr: (text) => process.stderr.write(`${text}\n`),
});
