// Migrates one SQLite template database per test run; each test app copies it, so tests
// get a fresh, fully migrated database without running the Prisma CLI again.
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { migrateDeploy } from '../src/infra/db/migrate.js';

export default async function setup({ provide }: { provide: (key: 'sqliteTemplate', value: string) => void }) {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'meshplane-template-'));
  const file = path.join(dir, 'meshplane.db');
  await migrateDeploy(`file:${file}`);
  provide('sqliteTemplate', file);
  return () => fs.rmSync(dir, { recursive: true, force: true });
}

declare module 'vitest' {
  export interface ProvidedContext {
    sqliteTemplate: string;
  }
}
