// Writes a new migration for both providers after prisma/schema.prisma was edited:
//
//   tsx scripts/new-migration.ts NAME [--from GIT_REF] [--pg-url postgresql://...]
//
// 1. refreshes prisma/postgres/schema.prisma (scripts/postgres-schema.ts);
// 2. takes the previous schema from git (`git show GIT_REF:prisma/schema.prisma`, HEAD by
//    default: commit the schema change together with the migrations this writes);
// 3. runs `prisma migrate diff --from-schema-datamodel OLD --to-schema-datamodel NEW --script`
//    for SQLite and for PostgreSQL (the PostgreSQL engine needs a live server: --pg-url, or
//    a private throwaway cluster from test/support/postgres.ts, which only reads);
// 4. writes prisma/migrations/<timestamp>_NAME and prisma/postgres/migrations/<same name>.
// Both folders always get the migration (an enum change alters PostgreSQL but not SQLite),
// so their histories keep the same names. Review the SQL before committing: renames come
// out as drop + add, and adapter-pg splits scripts on every `;`, so a `;` inside a string
// literal or comment must not appear in a PostgreSQL migration.
// (`prisma migrate dev` does not work with these driver adapters; see DESIGN.md.)
import { execFile } from 'node:child_process';
import fs from 'node:fs';
import { createRequire } from 'node:module';
import os from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { promisify } from 'node:util';
import { derivePostgresSchema, postgresSchemaPath, sourceSchemaPath } from './postgres-schema.js';
import { startPostgres } from '../test/support/postgres.js';
import type { PostgresCluster } from '../test/support/postgres.js';

const run = promisify(execFile);
const serverDir = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..');
const repoRoot = path.resolve(serverDir, '..');
const folders = {
  sqlite: path.join(repoRoot, 'prisma', 'migrations'),
  postgres: path.join(repoRoot, 'prisma', 'postgres', 'migrations'),
};

function usage(message: string): never {
  console.error(`${message}\nusage: tsx scripts/new-migration.ts NAME [--from GIT_REF] [--pg-url postgresql://...]`);
  process.exit(2);
}

function parseArgs(argv: string[]): { name: string; from: string; pgUrl: string | undefined } {
  let name: string | undefined;
  let from = 'HEAD';
  let pgUrl: string | undefined;
  for (let i = 0; i < argv.length; i++) {
    const arg = argv[i]!;
    if (arg === '--from') from = argv[++i] ?? usage('--from needs a git ref');
    else if (arg === '--pg-url') pgUrl = argv[++i] ?? usage('--pg-url needs a URL');
    else if (arg.startsWith('-')) usage(`unknown option ${arg}`);
    else if (name === undefined) name = arg;
    else usage(`unexpected argument ${arg}`);
  }
  if (!name) usage('missing NAME');
  if (!/^[a-z0-9][a-z0-9_]*$/.test(name)) usage(`NAME must be lowercase letters, digits and underscores: ${name}`);
  return { name, from, pgUrl };
}

/** YYYYMMDDHHMMSS in UTC, later than every existing migration of either provider. */
function nextTimestamp(): string {
  const existing = Object.values(folders)
    .flatMap((dir) => (fs.existsSync(dir) ? fs.readdirSync(dir) : []))
    .map((entry) => /^(\d{14})_/.exec(entry)?.[1])
    .filter((stamp): stamp is string => stamp !== undefined)
    .sort();
  let stamp = new Date().toISOString().replace(/\D/g, '').slice(0, 14);
  const last = existing.at(-1);
  if (last && stamp <= last) stamp = String(BigInt(last) + 1n);
  return stamp;
}

async function prismaDiff(oldSchema: string, newSchema: string, databaseUrl: string): Promise<string> {
  const cli = createRequire(path.join(serverDir, 'package.json')).resolve('prisma/build/index.js');
  const args = [cli, 'migrate', 'diff', '--from-schema-datamodel', oldSchema, '--to-schema-datamodel', newSchema, '--script',
    '--config', path.join(serverDir, 'prisma.config.ts')];
  try {
    const { stdout } = await run(process.execPath, args, {
      cwd: serverDir,
      env: { ...process.env, DATABASE_URL: databaseUrl, PRISMA_HIDE_UPDATE_MESSAGE: '1' },
      timeout: 120_000,
      maxBuffer: 64 * 1024 * 1024,
    });
    return stdout;
  } catch (error) {
    const failed = error as { stderr?: string; message: string };
    throw new Error(`prisma migrate diff failed: ${(failed.stderr || failed.message).trim()}`);
  }
}

const isEmptyScript = (sql: string) => sql.split('\n').every((line) => line.trim() === '' || line.trim().startsWith('--'));

async function main(): Promise<void> {
  const { name, from, pgUrl } = parseArgs(process.argv.slice(2));
  const source = fs.readFileSync(sourceSchemaPath, 'utf8');
  fs.writeFileSync(postgresSchemaPath, derivePostgresSchema(source));

  let previous: string;
  try {
    ({ stdout: previous } = await run('git', ['show', `${from}:prisma/schema.prisma`], { cwd: repoRoot, maxBuffer: 16 * 1024 * 1024 }));
  } catch (error) {
    throw new Error(`cannot read prisma/schema.prisma at ${from} from git: ${String(error)}`);
  }

  const work = fs.mkdtempSync(path.join(os.tmpdir(), 'meshplane-migration-'));
  let cluster: PostgresCluster | null = null;
  try {
    const oldSqlite = path.join(work, 'old.prisma');
    const oldPostgres = path.join(work, 'old-postgres.prisma');
    fs.writeFileSync(oldSqlite, previous);
    fs.writeFileSync(oldPostgres, derivePostgresSchema(previous));

    const sqliteSql = await prismaDiff(oldSqlite, sourceSchemaPath, `file:${path.join(work, 'diff.db')}`);
    let url = pgUrl;
    if (!url) {
      console.log('starting a private PostgreSQL cluster for the PostgreSQL diff...');
      cluster = await startPostgres({ database: 'diff' });
      url = cluster.url;
    }
    const postgresSql = await prismaDiff(oldPostgres, postgresSchemaPath, url);

    if (isEmptyScript(sqliteSql) && isEmptyScript(postgresSql)) {
      console.error(`no schema changes between ${from}:prisma/schema.prisma and the working tree: nothing written`);
      process.exitCode = 1;
      return;
    }
    const folder = `${nextTimestamp()}_${name}`;
    for (const [provider, sql] of [['sqlite', sqliteSql], ['postgres', postgresSql]] as const) {
      const dir = path.join(folders[provider], folder);
      fs.mkdirSync(dir, { recursive: true });
      fs.writeFileSync(path.join(dir, 'migration.sql'), isEmptyScript(sql) ? '-- This is an empty migration.\n' : sql);
      console.log(`wrote ${path.relative(repoRoot, dir)}/migration.sql`);
    }
    console.log('review both scripts, run the tests (test/postgres.test.ts checks migrations == schema), and commit them with the schema');
  } finally {
    await cluster?.stop();
    fs.rmSync(work, { recursive: true, force: true });
  }
}

main().catch((error: unknown) => {
  console.error(error instanceof Error ? error.message : error);
  process.exitCode = 1;
});
