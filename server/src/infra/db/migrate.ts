// Brings the database schema up to date on start. The Prisma CLI applies the committed
// migrations (it runs offline with engine "js"); a cheap check first skips that process
// when every migration is already recorded, so warm starts and tests stay fast.
import { execFile } from 'node:child_process';
import fs from 'node:fs';
import path from 'node:path';
import { createRequire } from 'node:module';
import { fileURLToPath } from 'node:url';
import { promisify } from 'node:util';
import type { PrismaClient } from '../../generated/prisma/client.js';
import { isPostgresUrl } from './url.js';

const run = promisify(execFile);
const serverDir = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..', '..', '..');
const repoRoot = path.resolve(serverDir, '..');

export function migrationsDir(url: string): string {
  return isPostgresUrl(url)
    ? path.join(repoRoot, 'prisma', 'postgres', 'migrations')
    : path.join(repoRoot, 'prisma', 'migrations');
}

export function committedMigrations(url: string): string[] {
  return fs
    .readdirSync(migrationsDir(url), { withFileTypes: true })
    .filter((entry) => entry.isDirectory())
    .map((entry) => entry.name)
    .sort();
}

async function appliedMigrations(prisma: PrismaClient): Promise<Set<string> | null> {
  try {
    const rows = await prisma.$queryRawUnsafe<Array<{ migration_name: string }>>(
      'SELECT migration_name FROM _prisma_migrations WHERE finished_at IS NOT NULL AND rolled_back_at IS NULL',
    );
    return new Set(rows.map((row) => row.migration_name));
  } catch {
    return null; // no migrations table yet: a new database
  }
}

export async function isSchemaCurrent(prisma: PrismaClient, url: string): Promise<boolean> {
  const applied = await appliedMigrations(prisma);
  return applied !== null && committedMigrations(url).every((name) => applied.has(name));
}

/** Runs `prisma migrate deploy` with the given database URL (argument array, no shell). */
export async function migrateDeploy(url: string): Promise<void> {
  const cli = createRequire(path.join(serverDir, 'package.json')).resolve('prisma/build/index.js');
  try {
    await run(process.execPath, [cli, 'migrate', 'deploy', '--config', path.join(serverDir, 'prisma.config.ts')], {
      cwd: serverDir,
      env: { ...process.env, DATABASE_URL: url, PRISMA_HIDE_UPDATE_MESSAGE: '1' },
      timeout: 120_000,
    });
  } catch (error) {
    const output = error as { stdout?: string; stderr?: string; message: string };
    throw new Error(`database migration failed: ${(output.stderr || output.stdout || output.message).trim()}`);
  }
}
