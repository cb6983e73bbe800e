// The OPNsense API over the shared HTTP transport: HTTP Basic with the API key as user and
// the secret as password, JSON replies. Every POST carries a JSON body ({} when it has
// none): OPNsense answers an empty body sent as JSON with 400 "Invalid JSON syntax".
import type { DeviceTarget } from '../driver.js';
import { DeviceError } from '../driver.js';
import type { RequestLimiter } from '../limits.js';
import { HttpTransport, type DedicatedConnection, type RawReply } from '../shared/http-transport.js';
import { quoteCounters } from '../shared/json-counters.js';
import { replyError, savedOrError } from './errors.js';

export type Method = 'GET' | 'POST';

export interface CallOptions {
  body?: unknown;
  /** Integer fields to keep exact (quoted before parsing). */
  counters?: readonly string[];
}

export class OpnSenseClient {
  readonly transport: HttpTransport;
  private readonly authorization: string;

  constructor(private readonly target: DeviceTarget, limiter?: RequestLimiter) {
    this.transport = new HttpTransport(target, { kind: 'OPNSENSE', label: `OPNsense ${target.name}`, limiter });
    this.authorization = `Basic ${Buffer.from(`${target.username ?? ''}:${target.secret ?? ''}`).toString('base64')}`;
  }

  get name(): string {
    return this.target.name;
  }

  /** The request as sent: `path` is relative to /api/ ("wireguard/server/searchServer"). */
  request(method: Method, path: string, body?: unknown) {
    const headers: Record<string, string> = { accept: 'application/json', authorization: this.authorization };
    if (method === 'POST') headers['content-type'] = 'application/json';
    return { method, path: `/api/${path}`, headers, body: method === 'POST' ? JSON.stringify(body ?? {}) : undefined };
  }

  /** One request; the reply as text, whatever its status. */
  raw(method: Method, path: string, body?: unknown): Promise<RawReply> {
    return this.transport.send(this.request(method, path, body));
  }

  /** The reply's JSON, or a DeviceError for error statuses and non-JSON answers. */
  async call<T = Record<string, unknown>>(method: Method, path: string, options: CallOptions = {}): Promise<T> {
    return this.parse<T>(method, path, await this.raw(method, path, options.body), options.counters);
  }

  parse<T>(method: Method, path: string, reply: RawReply, counters?: readonly string[]): T {
    const failure = replyError(this.target.name, method, path, reply.status, reply.text);
    if (failure) throw failure;
    try {
      return JSON.parse(counters ? quoteCounters(reply.text, counters) : reply.text) as T;
    } catch {
      throw new DeviceError('PROTOCOL', `${this.target.name}: /api/${path} answered HTTP ${reply.status} without JSON (not the OPNsense API?)`);
    }
  }

  get<T = Record<string, unknown>>(path: string): Promise<T> {
    return this.call<T>('GET', path);
  }

  /** A save (add/set/del/general set): anything but saved/deleted is refused with OPNsense's validation messages. */
  async save(path: string, body: unknown = {}): Promise<Record<string, unknown>> {
    const reply = await this.call('POST', path, { body });
    savedOrError(this.target.name, path, reply);
    return reply;
  }

  /** A connection of its own for one probe (see HttpTransport.freshClient). */
  freshClient(): DedicatedConnection {
    return this.transport.freshClient();
  }

  lifeline(): DedicatedConnection {
    return this.transport.lifeline();
  }

  close(): Promise<void> {
    return this.transport.close();
  }
}
