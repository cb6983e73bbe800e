// Opens Meshplane's database: SQLite in the data directory by default, PostgreSQL when
// DATABASE_URL says so; migrates it first when its schema is behind.
import fs from 'node:fs';
import path from 'node:path';
import { PrismaBetterSQLite3 } from '@prisma/adapter-better-sqlite3';
import { PrismaClient } from '../../generated/prisma/client.js';
import { isPostgresUrl, sqliteFilePath } from './url.js';
import { isSchemaCurrent, migrateDeploy } from './migrate.js';

export type Db = PrismaClient;

export interface Database {
  prisma: Db;
  url: string;
  kind: 'sqlite' | 'postgres';
  close(): Promise<void>;
}

type SqliteFactory = InstanceType<typeof PrismaBetterSQLite3>;
type SqliteAdapter = Awaited<ReturnType<SqliteFactory['connect']>>;

const nextTurn = () => new Promise<void>((resolve) => setImmediate(resolve));

/**
 * better-sqlite3 answers synchronously, so a request's statements, and the GraphQL execution
 * between them, would run as one chain of microtasks that no other socket can interrupt: five
 * lists of a 201-peer WAN's previews and twenty subscriptions on it held `{ health }` for
 * 0.8-1.5 s. Each statement outside a transaction first lets the event loop serve what is
 * waiting (one setImmediate, microseconds when idle). Statements inside a transaction do not
 * wait: the transaction holds the database's only writer lock until it ends.
 */
function yieldingBetweenStatements(factory: SqliteFactory): SqliteFactory {
  const connect = factory.connect.bind(factory);
  factory.connect = async () => {
    const adapter = await connect();
    // A Proxy, not a subclass or own properties: the adapter keeps private fields (its
    // transaction mutex), so its methods run on the adapter itself.
    return new Proxy(adapter, {
      get(target, prop) {
        if (prop === 'queryRaw' || prop === 'executeRaw') {
          return async (query: Parameters<SqliteAdapter['queryRaw']>[0]) => {
            await nextTurn();
            return prop === 'queryRaw' ? target.queryRaw(query) : target.executeRaw(query);
          };
        }
        const value: unknown = Reflect.get(target, prop, target);
        return typeof value === 'function' ? (value as (...args: unknown[]) => unknown).bind(target) : value;
      },
    }) as SqliteAdapter;
  };
  return factory;
}

async function openSqlite(url: string): Promise<Db> {
  const file = sqliteFilePath(url);
  fs.mkdirSync(path.dirname(file), { recursive: true });
  // Owner-only: the database holds sealed keys, password hashes and the audit trail. SQLite
  // gives its -wal and -shm files the main file's permissions.
  if (file !== ':memory:') {
    fs.closeSync(fs.openSync(file, 'a', 0o600));
    fs.chmodSync(file, 0o600);
  }
  // A busy timeout lets concurrent writers (allocation retries) wait instead of failing at once.
  const prisma = new PrismaClient({ adapter: yieldingBetweenStatements(new PrismaBetterSQLite3({ url, timeout: 10_000 })) });
  await prisma.$queryRawUnsafe('PRAGMA journal_mode = WAL');
  await prisma.$executeRawUnsafe('PRAGMA foreign_keys = ON');
  return prisma;
}

async function openPostgres(url: string): Promise<Db> {
  // The PostgreSQL client is generated from prisma/postgres/schema.prisma, the same models
  // as the SQLite one, so its API is the SQLite client's.
  const [{ PrismaClient: PgClient }, { createPgAdapter }] = await Promise.all([
    import('../../generated/prisma-pg/client.js'),
    import('./pg-adapter.js'),
  ]);
  return new PgClient({ adapter: createPgAdapter(url) }) as unknown as Db;
}

export async function openDatabase(url: string): Promise<Database> {
  const kind = isPostgresUrl(url) ? 'postgres' : 'sqlite';
  let prisma = kind === 'postgres' ? await openPostgres(url) : await openSqlite(url);
  if (!(await isSchemaCurrent(prisma, url))) {
    await prisma.$disconnect();
    await migrateDeploy(url);
    prisma = kind === 'postgres' ? await openPostgres(url) : await openSqlite(url);
  }
  return { prisma, url, kind, close: () => prisma.$disconnect() };
}
