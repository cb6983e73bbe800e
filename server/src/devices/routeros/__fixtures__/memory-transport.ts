// An in-memory RouterOS for unit tests, behind the same RouterOsTransport interface as the
// real transports (so the compiler keeps it honest). It answers like RouterOS where that
// matters to the driver: ids "*HEX", empty values omitted, `place-before` honoured,
// unknown ids refused, secrets masked, and it counts every write it receives.
import { publicKeyFromPrivate } from '../../../domain/keys.js';
import { DeviceError } from '../../driver.js';
import type { PrintOptions, Row, RouterOsTransport } from '../transport.js';
import { checkId, checkMenu, checkProps, proplistOf, whereOf, writeInWindow, type Write, type WriteOutcome } from '../transport.js';

const SECRETS = new Set(['private-key', 'preshared-key']);

export interface WriteRecord {
  op: 'add' | 'set' | 'remove';
  menu: string;
  id: string;
  props: Row;
}

export class MemoryRouterOsTransport implements RouterOsTransport {
  private readonly menus = new Map<string, Row[]>();
  private nextId = 0x10;
  readonly writes: WriteRecord[] = [];
  /** Makes the next write after this many more writes fail as a dropped connection. */
  dropAfterWrites: number | null = null;

  constructor(seed: Record<string, Row[]> = {}) {
    for (const [menu, rows] of Object.entries(seed)) for (const row of rows) this.insert(menu, row);
  }

  /** Adds an item directly (seeding, or a test simulating someone else's change). */
  insert(menu: string, row: Row): string {
    const id = row['.id'] ?? `*${(this.nextId++).toString(16).toUpperCase()}`;
    this.rows(menu).push({ ...row, '.id': id });
    return id;
  }

  rows(menu: string): Row[] {
    let rows = this.menus.get(menu);
    if (!rows) this.menus.set(menu, (rows = []));
    return rows;
  }

  async print(menu: string, options?: PrintOptions): Promise<Row[]> {
    const where = whereOf(options);
    const proplist = proplistOf(options);
    return this.rows(checkMenu(menu))
      .filter((row) => where.every(([name, value]) => row[name] === value))
      .map((row) => {
        const shown = Object.entries(row).filter(([name, value]) => value !== '' && (proplist === null || proplist.includes(name)));
        return Object.fromEntries(shown.map(([name, value]) => [name, SECRETS.has(name) ? '*****' : value]));
      });
  }

  async add(menu: string, props: Readonly<Row>, options?: { placeBefore?: string }): Promise<string> {
    this.write('add', menu, '', props);
    const id = `*${(this.nextId++).toString(16).toUpperCase()}`;
    const rows = this.rows(menu);
    const row = derived(menu, { ...checkProps(props), '.id': id });
    if (options?.placeBefore === undefined) rows.push(row);
    else rows.splice(this.indexOf(menu, checkId(options.placeBefore)), 0, row);
    return id;
  }

  async set(menu: string, id: string, props: Readonly<Row>): Promise<void> {
    this.write('set', menu, id, props);
    const row = this.rows(menu)[this.indexOf(menu, checkId(id))] as Row;
    Object.assign(row, derived(menu, { ...row, ...checkProps(props) }));
  }

  async remove(menu: string, id: string): Promise<void> {
    this.write('remove', menu, id, {});
    this.rows(menu).splice(this.indexOf(menu, checkId(id)), 1);
  }

  /** Pipelined like the binary API: writes sent before a failure is seen are carried out too. */
  writeAll(writes: readonly Write[], window: number): Promise<WriteOutcome[]> {
    return writeInWindow(this, writes, window);
  }

  async close(): Promise<void> {}

  private indexOf(menu: string, id: string): number {
    const index = this.rows(menu).findIndex((row) => row['.id'] === id);
    if (index === -1) throw new DeviceError('REFUSED', `memory router: ${menu}: no such item`);
    return index;
  }

  private write(op: WriteRecord['op'], menu: string, id: string, props: Readonly<Row>): void {
    checkMenu(menu);
    if (this.dropAfterWrites !== null) {
      if (this.dropAfterWrites <= 0) throw new DeviceError('UNREACHABLE', 'memory router: connection dropped');
      this.dropAfterWrites--;
    }
    this.writes.push({ op, menu, id, props: { ...props } });
  }
}

/** RouterOS derives an interface's public key from its private key. */
function derived(menu: string, row: Row): Row {
  const privateKey = row['private-key'];
  return menu === '/interface/wireguard' && privateKey ? { ...row, 'public-key': publicKeyFromPrivate(privateKey) } : row;
}
