// Writes cli/wan.schema.json from the zod schema (src/schema.ts); --check fails when the
// committed file differs, so the published JSON Schema cannot fall behind the CLI.
// Usage: tsx scripts/write-json-schema.ts [--check]
import fs from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { wanJsonSchema } from '../src/schema.js';

const file = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..', 'wan.schema.json');
const text = `${JSON.stringify(wanJsonSchema(), null, 2)}\n`;
if (process.argv.includes('--check')) {
  const current = fs.existsSync(file) ? fs.readFileSync(file, 'utf8') : '';
  if (current !== text) {
    console.error('cli/wan.schema.json is out of date: run `pnpm --filter @meshplane/cli schema` and commit it');
    process.exit(1);
  }
} else {
  fs.writeFileSync(file, text);
  console.log(`wrote ${path.relative(process.cwd(), file)}`);
}
