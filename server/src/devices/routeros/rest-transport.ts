// RouterOsTransport over the REST API (RouterOS >= 7.1, ref/routeros.md §2): GET = print,
// PUT = add, PATCH = set, DELETE = remove, Basic auth on every request, one undici Agent
// per device carrying its CA and verification setting. Values go as JSON strings, filters
// as query parameters; nothing is pasted into a path except a validated menu and `.id`.
import { Agent, request } from 'undici';
import { DeviceError, type DeviceTarget } from '../driver.js';
import { toDeviceError } from './errors.js';
import { HandshakeWatch } from '../tls-handshake.js';
import {
  checkId, checkMenu, checkProps, proplistOf, whereOf, writeInWindow, type PrintOptions, type Row, type RouterOsTransport, type Write,
  type WriteOutcome,
} from './transport.js';

export interface RestOptions {
  /** e.g. "https://192.0.2.1:443" (no trailing slash). */
  origin: string;
  username: string;
  password: string;
  ca: string | null;
  rejectUnauthorized: boolean;
  timeoutMs: number;
  /** Connections the agent may open (the driver also limits requests in flight). */
  connections: number;
  label: string;
}

export function restOptions(target: DeviceTarget): RestOptions {
  const scheme = target.tls ? 'https' : 'http';
  const host = target.host.includes(':') ? `[${target.host}]` : target.host;
  return {
    origin: `${scheme}://${host}:${target.port ?? (target.tls ? 443 : 80)}`,
    username: target.username ?? 'admin',
    password: target.secret ?? '',
    ca: target.caPem,
    rejectUnauthorized: target.tlsVerify,
    timeoutMs: target.timeoutMs,
    connections: Math.max(1, target.concurrency),
    label: `RouterOS ${target.name} (REST)`,
  };
}

/** RouterOS may put raw control characters inside JSON strings (terraform escapes and retries). */
function parseJson(text: string): unknown {
  try {
    return JSON.parse(text);
  } catch {
    return JSON.parse(text.replace(/[\x00-\x1f]/g, (character) => `\\u${character.charCodeAt(0).toString(16).padStart(4, '0')}`));
  }
}

function toRow(value: unknown): Row {
  if (typeof value !== 'object' || value === null || Array.isArray(value)) throw new Error('expected a JSON object');
  return Object.fromEntries(Object.entries(value).map(([key, item]) => [key, typeof item === 'string' ? item : String(item)]));
}

export class RestTransport implements RouterOsTransport {
  private readonly agent: Agent;
  private readonly handshakes: HandshakeWatch;
  private readonly authorization: string;
  private closing: Promise<void> | null = null;

  constructor(private readonly options: RestOptions) {
    this.handshakes = new HandshakeWatch({ kind: 'ROUTEROS_REST', label: options.label, timeoutMs: options.timeoutMs, ca: options.ca, rejectUnauthorized: options.rejectUnauthorized });
    this.agent = new Agent({
      connect: this.handshakes.connector,
      headersTimeout: options.timeoutMs,
      bodyTimeout: options.timeoutMs,
      connections: options.connections,
    });
    this.authorization = `Basic ${Buffer.from(`${options.username}:${options.password}`, 'utf8').toString('base64')}`;
  }

  async print(menu: string, options?: PrintOptions): Promise<Row[]> {
    const query = new URLSearchParams(whereOf(options));
    const proplist = proplistOf(options);
    if (proplist) query.set('.proplist', proplist.join(','));
    const body = await this.call('GET', `/rest${checkMenu(menu)}`, query);
    // Singletons (/system/resource) come back as a bare object on recent releases.
    return this.shape(() => (Array.isArray(body) ? body.map(toRow) : [toRow(body)]), menu);
  }

  async add(menu: string, props: Readonly<Row>, options?: { placeBefore?: string }): Promise<string> {
    const payload: Row = checkProps(props);
    if (options?.placeBefore !== undefined) payload['place-before'] = checkId(options.placeBefore);
    const body = await this.call('PUT', `/rest${checkMenu(menu)}`, null, payload);
    return checkId(this.shape(() => toRow(body), menu)['.id'] ?? '');
  }

  async set(menu: string, id: string, props: Readonly<Row>): Promise<void> {
    await this.call('PATCH', `/rest${checkMenu(menu)}/${checkId(id)}`, null, checkProps(props));
  }

  async remove(menu: string, id: string): Promise<void> {
    await this.call('DELETE', `/rest${checkMenu(menu)}/${checkId(id)}`, null);
  }

  /**
   * One request after another: REST has no tags, and the concurrency a device allows bounds
   * its HTTP requests, of which a batch holds one.
   */
  writeAll(writes: readonly Write[]): Promise<WriteOutcome[]> {
    return writeInWindow(this, writes, 1);
  }

  /** Idempotent: the driver and its owner may both close it. */
  close(): Promise<void> {
    this.closing ??= this.agent.close();
    return this.closing;
  }

  private shape<T>(read: () => T, menu: string): T {
    try {
      return read();
    } catch (error) {
      throw new DeviceError('PROTOCOL', `${this.options.label}: unexpected reply shape from ${menu} (${(error as Error).message})`);
    }
  }

  private async call(method: 'GET' | 'PUT' | 'PATCH' | 'DELETE', path: string, query: URLSearchParams | null, payload?: Row): Promise<unknown> {
    const url = `${this.options.origin}${path}${query && [...query.keys()].length > 0 ? `?${query.toString()}` : ''}`;
    const what = `${method} ${path}`;
    let status: number;
    let text: string;
    try {
      const response = await request(url, {
        dispatcher: this.agent,
        method,
        headers: {
          authorization: this.authorization,
          accept: 'application/json',
          ...(payload ? { 'content-type': 'application/json' } : {}),
        },
        body: payload ? JSON.stringify(payload) : undefined,
        signal: AbortSignal.timeout(this.options.timeoutMs),
      });
      status = response.statusCode;
      text = await response.body.text();
    } catch (error) {
      const failure = toDeviceError(error, this.options.label);
      throw (failure.code === 'TIMEOUT' && this.handshakes.stalled()) || failure;
    }
    if (status === 401) throw new DeviceError('AUTH_FAILED', `${this.options.label}: the device rejected the user name or password (401)`);
    let body: unknown = null;
    if (text.trim() !== '') {
      try {
        body = parseJson(text);
      } catch {
        throw new DeviceError('PROTOCOL', `${this.options.label}: ${what} answered ${status} with a body that is not JSON`);
      }
    }
    if (status >= 200 && status < 300) return body;
    const detail = typeof body === 'object' && body !== null ? (body as { detail?: unknown; message?: unknown }) : {};
    const message = String(detail.detail ?? detail.message ?? `HTTP ${status}`);
    if (status >= 400 && status < 600) throw new DeviceError('REFUSED', `${this.options.label}: ${what}: ${message} (${status})`);
    throw new DeviceError('PROTOCOL', `${this.options.label}: ${what} answered HTTP ${status}`);
  }
}
