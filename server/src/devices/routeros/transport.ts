// The one internal seam between the RouterOS driver and the wire: print/add/set/remove on a
// menu path. The binary API (api-transport.ts) and REST (rest-transport.ts) both implement
// it, and so does the in-memory fake the unit tests use. Every name and value is checked
// here before a transport turns it into words or a URL, so nothing unvalidated reaches
// the router.
import { DeviceError } from '../driver.js';

export type Row = Record<string, string>;

export interface PrintOptions {
  /** Properties to return; `.id` is always added. */
  proplist?: readonly string[];
  /** Equality filters, ANDed (API `?k=v` query words, REST query parameters). */
  where?: Readonly<Record<string, string>>;
}

/** One write of a pipelined batch (RouterOsTransport.writeAll). */
export type Write =
  | { op: 'add'; menu: string; props: Readonly<Row>; placeBefore?: string }
  | { op: 'set'; menu: string; id: string; props: Readonly<Row> }
  | { op: 'remove'; menu: string; id: string };

/**
 * What became of each write of a batch, in the batch's order: done (`id` after an add),
 * failed with the device's or the connection's error, or never sent because an earlier
 * reply had already failed.
 */
export type WriteOutcome = { status: 'done'; id?: string } | { status: 'failed'; error: unknown } | { status: 'skipped' };

export interface RouterOsTransport {
  print(menu: string, options?: PrintOptions): Promise<Row[]>;
  /** Adds one item; returns its `.id`. `placeBefore` (firewall rules) is an add-time argument. */
  add(menu: string, props: Readonly<Row>, options?: { placeBefore?: string }): Promise<string>;
  set(menu: string, id: string, props: Readonly<Row>): Promise<void>;
  remove(menu: string, id: string): Promise<void>;
  /**
   * Independent writes (their outcome does not depend on the order the router runs them in):
   * up to `window` in flight at once where the transport can pipeline, one at a time otherwise.
   * Once a reply fails, nothing more is sent; the writes already in flight are still waited
   * for, so every outcome is known. Never rejects.
   */
  writeAll(writes: readonly Write[], window: number): Promise<WriteOutcome[]>;
  close(): Promise<void>;
}

function runWrite(transport: RouterOsTransport, write: Write): Promise<string | undefined> {
  switch (write.op) {
    case 'add':
      return transport.add(write.menu, write.props, write.placeBefore === undefined ? undefined : { placeBefore: write.placeBefore });
    case 'set':
      return transport.set(write.menu, write.id, write.props).then(() => undefined);
    case 'remove':
      return transport.remove(write.menu, write.id).then(() => undefined);
  }
}

/**
 * writeAll over a transport's own add/set/remove, at most `window` awaiting a reply at once
 * (1: strictly one after another), stopping at the first failure.
 */
export async function writeInWindow(transport: RouterOsTransport, writes: readonly Write[], window: number): Promise<WriteOutcome[]> {
  const outcomes: WriteOutcome[] = writes.map(() => ({ status: 'skipped' }));
  let next = 0;
  let failed = false;
  const lane = async () => {
    while (!failed && next < writes.length) {
      const index = next++;
      try {
        const id = await runWrite(transport, writes[index] as Write);
        outcomes[index] = id === undefined ? { status: 'done' } : { status: 'done', id };
      } catch (error) {
        outcomes[index] = { status: 'failed', error };
        failed = true;
      }
    }
  };
  await Promise.all(Array.from({ length: Math.max(1, Math.min(Math.floor(window) || 1, writes.length)) }, lane));
  return outcomes;
}

const MENU = /^(?:\/[a-z0-9][a-z0-9-]*){1,6}$/;
/** `name`, or a dotted group member such as `remote.address` (BGP connections). */
const PROPERTY = /^(?:\.id|[a-z][a-z0-9-]{0,63}(?:\.[a-z][a-z0-9-]{0,63})?)$/;
const ID = /^\*[0-9A-F]{1,16}$/;
const MAX_VALUE = 4096;

function invalid(what: string, value: string): never {
  throw new DeviceError('PROTOCOL', `refusing to send ${what} ${JSON.stringify(value.slice(0, 60))}`);
}

export function checkMenu(menu: string): string {
  return MENU.test(menu) ? menu : invalid('menu path', menu);
}

export function checkProperty(name: string): string {
  return PROPERTY.test(name) ? name : invalid('property name', name);
}

export function checkId(id: string): string {
  return ID.test(id) ? id : invalid('item id', id);
}

/** Printable ASCII only: keys, prefixes, names and comments never need more. */
export function checkValue(value: string): string {
  if (value.length > MAX_VALUE || !/^[\x20-\x7e]*$/.test(value)) invalid('value', value);
  return value;
}

export function checkProps(props: Readonly<Row>): Row {
  const checked: Row = {};
  for (const [name, value] of Object.entries(props)) {
    if (name === '.id') invalid('property name', name);
    checked[checkProperty(name)] = checkValue(value);
  }
  return checked;
}

export function proplistOf(options: PrintOptions | undefined): string[] | null {
  if (!options?.proplist) return null;
  return [...new Set(['.id', ...options.proplist.map(checkProperty)])];
}

export function whereOf(options: PrintOptions | undefined): [string, string][] {
  return Object.entries(options?.where ?? {}).map(([name, value]) => [checkProperty(name), checkValue(value)]);
}
