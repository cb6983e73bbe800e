// Brings the database schema up to date on start. The Prisma CLI applies the committed
// migrations (it runs offline with engine "js"); a cheap check first skips that process
// when every migration is already recorded, so warm starts and tests stay fast.
import { spawn } from 'node:child_process';
import fs from 'node:fs';
import path from 'node:path';
import { createRequire } from 'node:module';
import { fileURLToPath } from 'node:url';
import type { PrismaClient } from '../../generated/prisma/client.js';
import { isPostgresUrl } from './url.js';

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

// The CLI prints one of these when it is done; its bundled schema engine can then keep the
// process alive for another ~10 s on PostgreSQL (a leftover timer), so we stop it ourselves.
const FINISHED = /All migrations have been successfully applied|No pending migrations to apply/;
const MIGRATE_TIMEOUT_MS = 120_000;

/** Runs `prisma migrate deploy` with the given database URL (argument array, no shell). */
export async function migrateDeploy(url: string): Promise<void> {
  const cli = createRequire(path.join(serverDir, 'package.json')).resolve('prisma/build/index.js');
  const child = spawn(process.execPath, [cli, 'migrate', 'deploy', '--config', path.join(serverDir, 'prisma.config.ts')], {
    cwd: serverDir,
    env: { ...process.env, DATABASE_URL: url, PRISMA_HIDE_UPDATE_MESSAGE: '1' },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  let output = '';
  const outcome = await new Promise<'finished' | 'exited' | 'timeout'>((resolve) => {
    const timer = setTimeout(() => resolve('timeout'), MIGRATE_TIMEOUT_MS);
    const collect = (chunk: Buffer) => {
      output += chunk.toString();
      if (FINISHED.test(output)) {
        clearTimeout(timer);
        resolve('finished');
      }
    };
    child.stdout.on('data', collect);
    child.stderr.on('data', collect);
    child.on('close', (code) => {
      clearTimeout(timer);
      resolve(code === 0 ? 'finished' : 'exited');
    });
  });
  if (child.exitCode === null) child.kill('SIGTERM');
  if (outcome !== 'finished') {
    throw new Error(`database migration failed${outcome === 'timeout' ? ' (timed out)' : ''}: ${output.trim()}`);
  }
}
