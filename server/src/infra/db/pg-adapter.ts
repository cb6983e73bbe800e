// PostgreSQL through Prisma's pg driver adapter, with two workarounds for adapter-pg 6.19:
// - it cannot map the catalog types `name` (OID 19), `"char"` (OID 18) and their arrays,
//   which `prisma migrate` reads (upstream prisma issue 27403): we present them as text;
// - given a connection string it uses the real database as the migration shadow database:
//   discrete connection fields avoid that.
import pg from 'pg';
import { PrismaPg } from '@prisma/adapter-pg';

const TEXT = 25;
const TEXT_ARRAY = 1009;
const remappedOids = new Map<number, number>([
  [18, TEXT],
  [19, TEXT],
  [1002, TEXT_ARRAY],
  [1003, TEXT_ARRAY],
]);

type QueryResultLike = { fields?: Array<{ dataTypeID: number }> } | undefined;

function remapFields<T>(result: T): T {
  const fields = (result as QueryResultLike)?.fields;
  if (fields) {
    for (const field of fields) field.dataTypeID = remappedOids.get(field.dataTypeID) ?? field.dataTypeID;
  }
  return result;
}

/** Wraps a client's `query` so both its promise and callback forms return remapped fields. */
function remapQueriesOf(client: pg.PoolClient): void {
  const original = client.query.bind(client) as (...args: unknown[]) => unknown;
  (client as unknown as { query: (...args: unknown[]) => unknown }).query = (...args: unknown[]) => {
    const last = args.at(-1);
    if (typeof last === 'function') {
      args[args.length - 1] = (err: unknown, res: unknown) => (last as (e: unknown, r: unknown) => void)(err, err ? res : remapFields(res));
      return original(...args);
    }
    const outcome = original(...args);
    return outcome instanceof Promise ? outcome.then(remapFields) : outcome;
  };
}

/** A pool whose every connection reports catalog types as text. Pool.query goes through a client too. */
export class CatalogSafePool extends pg.Pool {
  constructor(config: pg.PoolConfig) {
    super(config);
    this.on('connect', (client) => remapQueriesOf(client));
  }
}

export function poolConfigFromUrl(url: string): pg.PoolConfig {
  const parsed = new URL(url);
  return {
    host: decodeURIComponent(parsed.hostname) || 'localhost',
    port: parsed.port ? Number(parsed.port) : 5432,
    user: decodeURIComponent(parsed.username) || undefined,
    password: decodeURIComponent(parsed.password) || undefined,
    database: decodeURIComponent(parsed.pathname.replace(/^\//, '')) || undefined,
    max: Number(parsed.searchParams.get('connection_limit') ?? 10),
  };
}

export function createPgAdapter(url: string): PrismaPg {
  const schema = new URL(url).searchParams.get('schema') ?? undefined;
  return new PrismaPg(new CatalogSafePool(poolConfigFromUrl(url)), { schema, disposeExternalPool: true });
}
