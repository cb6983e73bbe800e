// Counts the SQL statements (and transactions) the Prisma driver adapters run in this process:
// their queryRaw/executeRaw, wrapped once on the adapters' shared base class. Tests that prove
// a request's statement count does not grow with the data, and the benches, read `sql`.
import { PrismaBetterSQLite3 } from '@prisma/adapter-better-sqlite3';
import { PrismaPg } from '@prisma/adapter-pg';

export const sql = { statements: 0, transactions: 0 };

type Queryable = { queryRaw: (...args: unknown[]) => Promise<unknown>; executeRaw: (...args: unknown[]) => Promise<unknown> };
const patched = new WeakSet<object>();

function countOn(adapter: object): void {
  // The adapter and its transactions share one base class that owns queryRaw/executeRaw.
  let proto: object | null = adapter;
  while (proto && !Object.prototype.hasOwnProperty.call(proto, 'queryRaw')) proto = Object.getPrototypeOf(proto);
  if (!proto || patched.has(proto)) return;
  patched.add(proto);
  const base = proto as Queryable;
  const { queryRaw, executeRaw } = base;

  base.queryRaw = function (this: unknown, ...args: unknown[]) {
    sql.statements++;
    if (process.env.BENCH_SQL_TRACE === '1') process.stderr.write(`SQL ${String((args[0] as { sql?: string }).sql).slice(0, 160)} [${((args[0] as { args?: unknown[] }).args ?? []).length} args]\n`);
    return queryRaw.apply(this, args);
  };
  base.executeRaw = function (this: unknown, ...args: unknown[]) { sql.statements++; return executeRaw.apply(this, args); };
  const owner = adapter as { startTransaction?: (...args: unknown[]) => Promise<unknown> };
  const startProto = Object.getPrototypeOf(adapter) as typeof owner;
  if (startProto.startTransaction && !patched.has(startProto)) {
    patched.add(startProto);
    const start = startProto.startTransaction;
    startProto.startTransaction = function (this: unknown, ...args: unknown[]) { sql.transactions++; return start.apply(this, args); };
  }
}

let instrumented = false;

/** Wraps both adapter factories' connect() so every adapter they make (after this call) is counted. */
export function instrumentSql(): void {
  if (instrumented) return;
  instrumented = true;
  const factories = [PrismaBetterSQLite3, PrismaPg] as unknown as Array<{ prototype: { connect: (...a: unknown[]) => Promise<object> } }>;
  for (const factory of factories) {
    const connect = factory.prototype.connect;
    factory.prototype.connect = async function (this: unknown, ...args: unknown[]) {
      const adapter = await connect.apply(this, args);
      countOn(adapter);
      return adapter;
    };
  }
}
