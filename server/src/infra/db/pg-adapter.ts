// PostgreSQL through Prisma's pg driver adapter, with the workarounds adapter-pg 6.19 needs
// for `prisma migrate` (the Prisma client itself never reads these catalog types):
// - it cannot map the catalog types `name` (OID 19), `"char"` (OID 18) and their arrays
//   (1003, 1002), which the schema engine reads while introspecting (upstream prisma issue
//   27403): CatalogSafePool presents them as text and text[] on every connection;
// - its shadow database (used by `migrate diff --from-migrations` and `migrate dev`) gets a
//   plain pg.Pool, losing the remapping, and it drops that database while the pool is still
//   connected, so DROP DATABASE fails: CatalogSafePrismaPg replaces connectToShadowDb;
// - given a connection string it would use the real database as the shadow one (the
//   string overrides the database name): we always pass discrete connection fields.
// Checked against a real server by test/postgres.test.ts. Revisit when upgrading Prisma.
import pg from 'pg';
import { PrismaPg } from '@prisma/adapter-pg';

const TEXT = 25;
const TEXT_ARRAY = 1009;
const remappedOids = new Map<number, number>([
  [18, TEXT], // "char"
  [19, TEXT], // name
  [1002, TEXT_ARRAY], // "char"[]
  [1003, TEXT_ARRAY], // name[]
]);
// pg has no text parser for the catalog array types, so their values arrive as array literals.
const parseTextArray = (pg.types.getTypeParser as (oid: number, format: 'text') => (value: string) => unknown)(TEXT_ARRAY, 'text');

interface FieldLike {
  name: string;
  dataTypeID: number;
}
interface ResultLike {
  fields?: FieldLike[];
  rows?: unknown[];
}

function remapResult(result: ResultLike): void {
  const fields = result.fields;
  if (!Array.isArray(fields)) return;
  fields.forEach((field, index) => {
    const target = remappedOids.get(field.dataTypeID);
    if (target === undefined) return;
    const wasArray = field.dataTypeID === 1002 || field.dataTypeID === 1003;
    field.dataTypeID = target;
    if (!wasArray || !Array.isArray(result.rows)) return;
    for (const row of result.rows) {
      if (Array.isArray(row)) {
        if (typeof row[index] === 'string') row[index] = parseTextArray(row[index]);
      } else if (row && typeof row === 'object') {
        const record = row as Record<string, unknown>;
        const value = record[field.name];
        if (typeof value === 'string') record[field.name] = parseTextArray(value);
      }
    }
  });
}

function remapFields<T>(result: T): T {
  if (Array.isArray(result)) result.forEach((one) => remapFields(one)); // multi-statement text
  else if (result && typeof result === 'object') remapResult(result as ResultLike);
  return result;
}

type AnyQuery = (...args: unknown[]) => unknown;

/** Wraps a client's `query` so both its promise and callback forms return remapped fields. */
function remapQueriesOf(client: pg.ClientBase): void {
  const original = client.query.bind(client) as AnyQuery;
  const wrapped: AnyQuery = (...args) => {
    const last = args.at(-1);
    if (typeof last === 'function') {
      const callback = last as (error: unknown, result: unknown) => void;
      args[args.length - 1] = (error: unknown, result: unknown) => callback(error, error ? result : remapFields(result));
      return original(...args);
    }
    const outcome = original(...args);
    return outcome instanceof Promise ? outcome.then(remapFields) : outcome;
  };
  (client as unknown as { query: AnyQuery }).query = wrapped;
}

/**
 * A pool whose every connection reports catalog types as text. `Pool.query` goes through
 * a pooled client's callback form, and the 'connect' event fires before a new client is
 * handed out, so every query path is covered.
 */
export class CatalogSafePool extends pg.Pool {
  constructor(config: pg.PoolConfig) {
    // The Prisma CLI never ends the pool: idle connections must not keep its process alive
    // for idleTimeoutMillis after the command is done.
    super({ allowExitOnIdle: true, ...config });
    this.on('connect', (client) => remapQueriesOf(client));
  }
}

function quoteIdent(name: string): string {
  return `"${name.replace(/"/g, '""')}"`;
}

type PgAdapterOptions = NonNullable<ConstructorParameters<typeof PrismaPg>[1]>;
type PgDriverAdapter = Awaited<ReturnType<PrismaPg['connect']>>;

/** PrismaPg over a CatalogSafePool, with a shadow database that is also catalog-safe and can be dropped. */
export class CatalogSafePrismaPg extends PrismaPg {
  readonly #config: pg.PoolConfig;

  constructor(config: pg.PoolConfig, options: PgAdapterOptions = {}) {
    super(new CatalogSafePool(config), { ...options, disposeExternalPool: true });
    this.#config = config;
  }

  override async connectToShadowDb(): Promise<PgDriverAdapter> {
    const database = `prisma_migrate_shadow_db_${globalThis.crypto.randomUUID()}`;
    await this.#admin(`CREATE DATABASE ${quoteIdent(database)}`);
    const shadow = await new PrismaPg(new CatalogSafePool({ ...this.#config, database, max: 2 }), {
      disposeExternalPool: true,
    }).connect();
    const disposePool = shadow.dispose.bind(shadow);
    // Close the shadow's connections first: PostgreSQL refuses to drop a database in use.
    shadow.dispose = async () => {
      await disposePool();
      await this.#admin(`DROP DATABASE IF EXISTS ${quoteIdent(database)}`);
    };
    return shadow;
  }

  /** One statement on a short-lived connection to the main database (CREATE/DROP DATABASE cannot run in a transaction). */
  async #admin(sql: string): Promise<void> {
    const client = new pg.Client(this.#config);
    await client.connect();
    try {
      await client.query(sql);
    } finally {
      await client.end();
    }
  }
}

const SSL_MODES = new Set(['disable', 'allow', 'prefer', 'require', 'verify-ca', 'verify-full']);

/**
 * Discrete pg connection fields from a postgres:// URL. Understands the query parameters
 * `host` (a socket folder), `sslmode`, `application_name`, `connect_timeout` (seconds),
 * `connection_limit` (pool size) and `schema` (read by createPgAdapter).
 */
export function poolConfigFromUrl(url: string): pg.PoolConfig {
  const parsed = new URL(url);
  const params = parsed.searchParams;
  const config: pg.PoolConfig = {
    host: params.get('host') ?? (decodeURIComponent(parsed.hostname).replace(/^\[(.*)\]$/, '$1') || 'localhost'),
    port: parsed.port ? Number(parsed.port) : 5432,
    max: Number(params.get('connection_limit') ?? 10),
  };
  const user = decodeURIComponent(parsed.username);
  const password = decodeURIComponent(parsed.password);
  const database = decodeURIComponent(parsed.pathname.replace(/^\//, ''));
  if (user) config.user = user;
  if (password) config.password = password;
  if (database) config.database = database;
  const applicationName = params.get('application_name');
  if (applicationName) config.application_name = applicationName;
  const connectTimeout = params.get('connect_timeout');
  if (connectTimeout) config.connectionTimeoutMillis = Number(connectTimeout) * 1000;
  const sslMode = params.get('sslmode');
  if (sslMode) {
    if (!SSL_MODES.has(sslMode)) throw new Error(`unsupported sslmode in DATABASE_URL: ${sslMode}`);
    // pg cannot fall back from TLS to plain text, so "allow" and "prefer" connect without TLS.
    if (sslMode === 'require') config.ssl = { rejectUnauthorized: false };
    else if (sslMode === 'verify-ca' || sslMode === 'verify-full') config.ssl = { rejectUnauthorized: true };
  }
  return config;
}

export function createPgAdapter(url: string): PrismaPg {
  const schema = new URL(url).searchParams.get('schema') ?? undefined;
  return new CatalogSafePrismaPg(poolConfigFromUrl(url), schema ? { schema } : {});
}
