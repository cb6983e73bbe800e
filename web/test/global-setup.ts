// Before the browser tests: the server mounts web/build, so make it match the sources.
// Regenerates the typed documents and rebuilds only when an input changed since the last build.
import { spawnSync } from 'node:child_process';
import fs from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';

const web = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..');
const root = path.resolve(web, '..');
const generated = path.join(web, 'src', 'lib', 'gql');
const inputs = ['src', 'static', 'svelte.config.js', 'vite.config.ts', 'package.json'].map((p) => path.join(web, p));
inputs.push(path.join(root, 'server', 'schema.graphql'), path.join(root, 'codegen.ts'));

function newestChange(entry: string): number {
  if (entry === generated || !fs.existsSync(entry)) return 0;
  const stat = fs.statSync(entry);
  if (!stat.isDirectory()) return stat.mtimeMs;
  return Math.max(0, ...fs.readdirSync(entry).map((name) => newestChange(path.join(entry, name))));
}

function run(cwd: string, bin: string, args: string[]) {
  console.log(`e2e setup: ${path.basename(bin)} ${args.join(' ')}`);
  const result = spawnSync(path.join(cwd, 'node_modules', '.bin', bin), args, { cwd, stdio: 'inherit' });
  if (result.status !== 0) throw new Error(`${bin} ${args.join(' ')} failed (exit ${result.status ?? result.signal})`);
}

export default function setup() {
  const handler = path.join(web, 'build', 'handler.js');
  const built = fs.existsSync(handler) ? fs.statSync(handler).mtimeMs : 0;
  if (built > Math.max(...inputs.map(newestChange))) return;
  run(root, 'graphql-codegen', ['--config', 'codegen.ts', '--silent']);
  run(web, 'vite', ['build', '--logLevel', 'warn']);
}
