// Relations of parents that were read without them, one query per list instead of one per
// parent. The WAN page's peers come from the request's shared read of the WAN (see
// OverlayReader.peers), not from a Pothos-planned query, so Pothos falls back to a relation
// field's `resolve` for each of them: those resolvers ask here, and every parent asking in the
// same pass shares one `IN` read.
import { createContextCache } from '@pothos/core';

/** The query Pothos planned for the relation's selection (include/select of nested fields, orderBy). */
export type RelationQuery = { select?: object } & Record<string, unknown>;

type Read<Row> = (query: RelationQuery, keys: string[]) => Promise<Row[]>;

/**
 * Keys per `IN` read. SQLite binds at most 999 values per statement and Prisma splits only its
 * own relation reads, so a list of 1,000 parents is read in two statements (as Prisma did).
 */
const KEYS_PER_READ = 900;

class Batch<Row> {
  private readonly keys = new Set<string>();
  private readonly rows: Promise<Map<string, Row[]>>;

  constructor(read: Read<Row>, query: RelationQuery, keyField: string, done: () => void) {
    // The key column must come back to group by it, also when the selection picked columns.
    const keyed = query.select ? { ...query, select: { ...query.select, [keyField]: true } } : query;
    this.rows = new Promise((resolve, reject) => {
      // After the pass that resolves the list (and the promise jobs it queued): one read for all of it.
      setImmediate(() => {
        done();
        const keys = [...this.keys];
        const chunks = Array.from({ length: Math.ceil(keys.length / KEYS_PER_READ) }, (_, i) => keys.slice(i * KEYS_PER_READ, (i + 1) * KEYS_PER_READ));
        // A parent's rows all come from one chunk, so each keeps the order `read` gives them.
        Promise.all(chunks.map((chunk) => read(keyed, chunk))).then((parts) => resolve(groupBy(parts.flat(), keyField)), reject);
      });
    });
  }

  load(key: string): Promise<Row[]> {
    this.keys.add(key);
    return this.rows.then((grouped) => grouped.get(key) ?? []);
  }
}

function groupBy<Row>(rows: Row[], keyField: string): Map<string, Row[]> {
  const grouped = new Map<string, Row[]>();
  for (const row of rows) {
    const key = String((row as Record<string, unknown>)[keyField]);
    const list = grouped.get(key);
    if (list) list.push(row);
    else grouped.set(key, [row]);
  }
  return grouped;
}

const openBatches = createContextCache(() => new Map<string, Batch<unknown>>());

/**
 * The rows whose `keyField` equals `key`, read together with every other key asked for the
 * same relation and query shape in this pass (`read` gets the planned query and all keys),
 * in the order `read` returns them.
 */
export function relatedRows<Row>(ctx: object, relation: string, query: RelationQuery, keyField: string, key: string, read: Read<Row>): Promise<Row[]> {
  const batches = openBatches(ctx);
  const shape = `${relation} ${JSON.stringify(query)}`;
  let batch = batches.get(shape) as Batch<Row> | undefined;
  if (!batch) {
    batch = new Batch(read, query, keyField, () => batches.delete(shape));
    batches.set(shape, batch as Batch<unknown>);
  }
  return batch.load(key);
}
