// Prints the GraphQL schema to server/schema.graphql (the contract web/ codegen reads).
// With --check it fails when the committed file is not current.
import fs from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { printSchema, lexicographicSortSchema } from 'graphql';
import { schema } from '../src/graphql/schema/index.js';

const target = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..', 'schema.graphql');
const printed = `${printSchema(lexicographicSortSchema(schema))}\n`;
if (process.argv.includes('--check')) {
  const current = fs.existsSync(target) ? fs.readFileSync(target, 'utf8') : '';
  if (current !== printed) {
    console.error('server/schema.graphql is out of date: run `pnpm --filter @meshplane/server generate` and commit it');
    process.exit(1);
  }
  console.log('server/schema.graphql is current');
} else {
  fs.writeFileSync(target, printed);
}
