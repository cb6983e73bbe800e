// Derives prisma/postgres/schema.prisma from prisma/schema.prisma, the source of truth.
// Only the head differs: the datasource provider is "postgresql", the client generator
// writes to server/src/generated/prisma-pg (its path rebased on the new folder), and there
// is no Pothos generator (Pothos types come from the SQLite schema, whose models are the
// same). Enums, models and their comments are copied byte for byte.
//
//   tsx scripts/postgres-schema.ts          write the derived file (when it changed)
//   tsx scripts/postgres-schema.ts --check  exit 1 when the committed file is out of date
import fs from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';

const repoRoot = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..', '..');
const sourceDir = path.join(repoRoot, 'prisma');
const targetDir = path.join(repoRoot, 'prisma', 'postgres');
export const sourceSchemaPath = path.join(sourceDir, 'schema.prisma');
export const postgresSchemaPath = path.join(targetDir, 'schema.prisma');

const HEADER = [
  '// GENERATED from prisma/schema.prisma by server/scripts/postgres-schema.ts: do not edit.',
  '// Same models as the SQLite schema; only the datasource provider and the client output differ.',
  '',
  '',
].join('\n');

interface Block {
  kind: 'generator' | 'datasource';
  name: string;
  body: string;
}

/** The generator and datasource blocks at the top of a schema, then the rest (enums, models). */
function splitHead(schema: string): { blocks: Block[]; rest: string } {
  const blocks: Block[] = [];
  const blockPattern = /^(generator|datasource)\s+(\w+)\s*\{\n([\s\S]*?)^\}\n/m;
  let text = schema.replace(/\r\n/g, '\n');
  // Drop the leading comment: it documents the source file, not the derived one.
  text = text.replace(/^(?:\/\/.*\n|\s*\n)*/, '');
  for (;;) {
    const match = blockPattern.exec(text);
    if (!match || text.slice(0, match.index).trim() !== '') break;
    blocks.push({ kind: match[1] as Block['kind'], name: match[2]!, body: match[3]! });
    text = text.slice(match.index + match[0].length).replace(/^\s*\n/, '');
  }
  if (!blocks.some((block) => block.kind === 'datasource')) {
    throw new Error(`${sourceSchemaPath}: expected the generator and datasource blocks before any enum or model`);
  }
  return { blocks, rest: text };
}

function setting(body: string, key: string): string | undefined {
  return new RegExp(`^\\s*${key}\\s*=\\s*"([^"]*)"`, 'm').exec(body)?.[1];
}

function replaceSetting(body: string, key: string, value: string): string {
  const pattern = new RegExp(`^(\\s*${key}\\s*=\\s*)"[^"]*"`, 'm');
  if (!pattern.test(body)) throw new Error(`${sourceSchemaPath}: no ${key} setting to rewrite`);
  return body.replace(pattern, (_all, lead: string) => `${lead}"${value}"`);
}

/** Paths in a schema are relative to the schema's folder: rebase one onto the postgres folder. */
function rebase(relative: string, suffix = ''): string {
  const rebased = path.relative(targetDir, path.resolve(sourceDir, relative) + suffix);
  return rebased.split(path.sep).join('/');
}

export function derivePostgresSchema(source: string): string {
  const { blocks, rest } = splitHead(source);
  const head: string[] = [];
  for (const block of blocks) {
    let body = block.body;
    if (block.kind === 'generator') {
      const provider = setting(body, 'provider');
      if (provider === 'prisma-pothos-types') continue;
      const output = setting(body, 'output');
      if (output !== undefined) {
        body = replaceSetting(body, 'output', provider === 'prisma-client' ? rebase(output, '-pg') : rebase(output));
      }
    } else {
      if (setting(body, 'provider') !== 'sqlite') throw new Error(`${sourceSchemaPath}: expected provider "sqlite"`);
      body = replaceSetting(body, 'provider', 'postgresql');
    }
    head.push(`${block.kind} ${block.name} {\n${body}}\n`);
  }
  return `${HEADER}${head.join('\n')}\n${rest}`;
}

function main(argv: string[]): number {
  const check = argv.includes('--check');
  const expected = derivePostgresSchema(fs.readFileSync(sourceSchemaPath, 'utf8'));
  const current = fs.existsSync(postgresSchemaPath) ? fs.readFileSync(postgresSchemaPath, 'utf8') : null;
  if (current === expected) return 0;
  const shown = path.relative(process.cwd(), postgresSchemaPath);
  if (check) {
    console.error(`${shown} is out of date with prisma/schema.prisma: run \`tsx scripts/postgres-schema.ts\` in server/ and commit it`);
    return 1;
  }
  fs.mkdirSync(targetDir, { recursive: true });
  fs.writeFileSync(postgresSchemaPath, expected);
  console.log(`wrote ${shown}`);
  return 0;
}

if (process.argv[1] && path.resolve(process.argv[1]) === fileURLToPath(import.meta.url)) {
  process.exitCode = main(process.argv.slice(2));
}
