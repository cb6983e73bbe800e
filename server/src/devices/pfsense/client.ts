// HTTPS transport for the pfSense REST API v2 (undici 7): one Agent per device with its
// own CA or verification switch, Basic or X-API-Key auth, timeouts, a concurrency limit,
// and the envelope unwrapped. Parameters of GET/DELETE travel in the query string, never
// with a JSON content type (pfSense would then ignore the query string); writes send JSON.
import type { DeviceTarget } from '../driver.js';
import { DeviceError } from '../driver.js';
import { replyError } from './errors.js';
import type { RequestLimiter } from '../limits.js';
import { HttpTransport, type RawReply } from '../shared/http-transport.js';
import { quoteCounters } from '../shared/json-counters.js';

export type { RawReply } from '../shared/http-transport.js';

export type Query = Record<string, string | number | boolean>;

/** "+", "/" and "=" in keys must not reach pfSense's form decoder raw ("+" would become a space). */
export function encodeQuery(query: Query): string {
  return Object.entries(query).map(([name, value]) => `${encodeURIComponent(name)}=${encodeURIComponent(String(value))}`).join('&');
}

export type Auth = { kind: 'basic'; username: string; password: string } | { kind: 'key'; key: string };

/** Basic auth when a username is configured (a fresh pfSense accepts only Basic), else the secret is an API key. */
export function authOf(target: DeviceTarget): Auth {
  const secret = target.secret ?? '';
  if (target.secretKind === 'API_KEY' || (target.secretKind === undefined && target.username === null)) return { kind: 'key', key: secret };
  return { kind: 'basic', username: target.username ?? '', password: secret };
}

export class PfSenseClient {
  private readonly transport: HttpTransport;
  private readonly auth: Auth;

  /** `limiter`: the device's shared one (devices/limits.ts); without it, this client limits only itself. */
  constructor(private readonly target: DeviceTarget, limiter?: RequestLimiter) {
    this.transport = new HttpTransport(target, { kind: 'PFSENSE', label: `pfSense ${target.name}`, limiter });
    this.auth = authOf(target);
  }

  private headers(json: boolean): Record<string, string> {
    const headers: Record<string, string> = { accept: 'application/json' };
    if (this.auth.kind === 'key') headers['x-api-key'] = this.auth.key;
    else headers.authorization = `Basic ${Buffer.from(`${this.auth.username}:${this.auth.password}`).toString('base64')}`;
    if (json) headers['content-type'] = 'application/json';
    return headers;
  }

  /** One request; the reply as text, whatever its status. */
  async raw(method: 'GET' | 'POST' | 'PATCH' | 'DELETE', path: string, options: { query?: Query; body?: unknown } = {}): Promise<RawReply> {
    const query = options.query && Object.keys(options.query).length > 0 ? `?${encodeQuery(options.query)}` : '';
    return this.transport.send({
      method,
      path: `/api/v2/${path}${query}`,
      headers: this.headers(options.body !== undefined),
      body: options.body === undefined ? undefined : JSON.stringify(options.body),
    });
  }

  /** The envelope's `data`, or a DeviceError for error replies and non-JSON answers. */
  async call<T = unknown>(method: 'GET' | 'POST' | 'PATCH' | 'DELETE', path: string, options: { query?: Query; body?: unknown; counters?: readonly string[] } = {}): Promise<T> {
    return this.unwrap<T>(await this.raw(method, path, options), path, options.counters);
  }

  /** The envelope's `data` of a reply already received. */
  unwrap<T = unknown>(reply: RawReply, path: string, counters?: readonly string[]): T {
    let envelope: { code?: unknown; response_id?: unknown; message?: unknown; data?: unknown };
    try {
      envelope = JSON.parse(counters ? quoteCounters(reply.text, counters) : reply.text);
    } catch {
      throw new DeviceError('PROTOCOL', `${this.target.name}: /api/v2/${path} answered HTTP ${reply.status} without JSON (${reply.status === 404 ? 'endpoint missing: is the REST API package installed and recent enough?' : 'not the pfSense REST API?'})`);
    }
    if (reply.status !== 200) {
      throw replyError(reply.status, String(envelope.response_id ?? 'UNKNOWN'), String(envelope.message ?? ''), this.auth.kind === 'key');
    }
    return envelope.data as T;
  }

  close(): Promise<void> {
    return this.transport.close();
  }
}
