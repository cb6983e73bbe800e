// RouterOsTransport over the binary API: print/add/set/remove become word lists
// (`=name=value` attribute words, `?name=value` query words), never command text.
import { DeviceError, type DeviceTarget } from '../driver.js';
import { RouterOsApiClient, type ApiClientOptions } from './api/client.js';
import {
  checkId, checkMenu, checkProps, proplistOf, whereOf, writeInWindow, type PrintOptions, type Row, type RouterOsTransport, type Write,
  type WriteOutcome,
} from './transport.js';

export function apiClientOptions(target: DeviceTarget): ApiClientOptions {
  return {
    host: target.host,
    port: target.port ?? (target.tls ? 8729 : 8728),
    tls: target.tls ? { ca: target.caPem, rejectUnauthorized: target.tlsVerify } : null,
    username: target.username ?? 'admin',
    password: target.secret ?? '',
    timeoutMs: target.timeoutMs,
    label: `RouterOS ${target.name} (API)`,
  };
}

export class ApiTransport implements RouterOsTransport {
  private current: RouterOsApiClient | null = null;
  private opening: Promise<RouterOsApiClient> | null = null;
  /**
   * Set by close(): requests still queued behind the device's limiter when their caller gave
   * up (one read of several failed) must not open a new connection that nobody closes.
   */
  private ended = false;

  constructor(private readonly options: ApiClientOptions) {}

  /** One logged-in connection, opened on first use and again after it dropped (until closed). */
  private connection(): Promise<RouterOsApiClient> {
    if (this.ended) return Promise.reject(new DeviceError('UNREACHABLE', `${this.options.label}: connection closed`));
    if (this.current && !this.current.closed) return Promise.resolve(this.current);
    this.opening ??= RouterOsApiClient.open(this.options)
      .then((client) => (this.current = client))
      .finally(() => {
        this.opening = null;
      });
    return this.opening;
  }

  async print(menu: string, options?: PrintOptions): Promise<Row[]> {
    const words = [`${checkMenu(menu)}/print`];
    const proplist = proplistOf(options);
    if (proplist) words.push(`=.proplist=${proplist.join(',')}`);
    for (const [name, value] of whereOf(options)) words.push(`?${name}=${value}`);
    const result = await (await this.connection()).command(words);
    return result.rows;
  }

  async add(menu: string, props: Readonly<Row>, options?: { placeBefore?: string }): Promise<string> {
    const words = [`${checkMenu(menu)}/add`, ...attributeWords(props)];
    if (options?.placeBefore !== undefined) words.push(`=place-before=${checkId(options.placeBefore)}`);
    const result = await (await this.connection()).command(words);
    return checkId(result.done.ret ?? '');
  }

  async set(menu: string, id: string, props: Readonly<Row>): Promise<void> {
    await (await this.connection()).command([`${checkMenu(menu)}/set`, `=.id=${checkId(id)}`, ...attributeWords(props)]);
  }

  async remove(menu: string, id: string): Promise<void> {
    await (await this.connection()).command([`${checkMenu(menu)}/remove`, `=.id=${checkId(id)}`]);
  }

  /** Pipelined on the one connection (routeros.md §1.7: tagged commands in flight at once, each answered under its tag). */
  writeAll(writes: readonly Write[], window: number): Promise<WriteOutcome[]> {
    return writeInWindow(this, writes, window);
  }

  async close(): Promise<void> {
    this.ended = true;
    const client = this.current ?? (this.opening ? await this.opening.catch(() => null) : null);
    this.current = null;
    client?.close();
  }
}

function attributeWords(props: Readonly<Row>): string[] {
  return Object.entries(checkProps(props)).map(([name, value]) => `=${name}=${value}`);
}
