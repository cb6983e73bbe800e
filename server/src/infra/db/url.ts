// Where the database lives: DATABASE_URL when set (postgres:// selects PostgreSQL),
// otherwise an SQLite file inside the data directory.
import path from 'node:path';
import { fileURLToPath } from 'node:url';

const repoRoot = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..', '..', '..', '..');

export function dataDir(env: NodeJS.ProcessEnv): string {
  return path.resolve(repoRoot, env.MESHPLANE_DATA_DIR ?? 'data');
}

export function databaseUrl(env: NodeJS.ProcessEnv): string {
  const explicit = env.DATABASE_URL?.trim();
  if (explicit) return explicit;
  return `file:${path.join(dataDir(env), 'meshplane.db')}`;
}

export function isPostgresUrl(url: string): boolean {
  return /^postgres(ql)?:\/\//i.test(url);
}

export function sqliteFilePath(url: string): string {
  if (!url.startsWith('file:')) throw new Error(`not an SQLite file URL: ${url}`);
  return url.slice('file:'.length);
}
