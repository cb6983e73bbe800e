// Configuration of the Prisma CLI (generate, migrate). Prisma 6.19 with engine "js" runs
// migrations through its bundled WASM schema engine and a driver adapter, so nothing is
// downloaded at install or run time (Prisma 7's CLI needs a native engine it cannot fetch here).
import fs from 'node:fs';
import path from 'node:path';
import { defineConfig } from 'prisma/config';
import { PrismaBetterSQLite3 } from '@prisma/adapter-better-sqlite3';
import { databaseUrl, isPostgresUrl, sqliteFilePath } from './src/infra/db/url.js';
import { createPgAdapter } from './src/infra/db/pg-adapter.js';

const url = databaseUrl(process.env);
// The schema's datasource reads DATABASE_URL; without it the CLI tries to fetch an engine.
process.env.DATABASE_URL = url;
const postgres = isPostgresUrl(url);
// SQLite cannot create the folder its file lives in.
if (!postgres) fs.mkdirSync(path.dirname(sqliteFilePath(url)), { recursive: true });
const root = path.resolve(import.meta.dirname, '..', 'prisma');

export default defineConfig({
  experimental: { adapter: true },
  engine: 'js',
  schema: postgres ? path.join(root, 'postgres', 'schema.prisma') : path.join(root, 'schema.prisma'),
  migrations: { path: postgres ? path.join(root, 'postgres', 'migrations') : path.join(root, 'migrations') },
  async adapter() {
    return postgres ? createPgAdapter(url) : new PrismaBetterSQLite3({ url });
  },
});
