// HTTP(S) transport for the device APIs spoken over HTTP (pfSense REST, OPNsense, OpenWrt
// ubus): one undici Agent per device with its own CA or verification switch, timeouts that
// tell a stalled TLS handshake from silence, the device's shared request limiter, and
// transport failures as DeviceErrors with a code the UI can act on. What a request means
// (paths, auth, envelopes) stays with each driver.
import { Agent, Client, request, type Dispatcher } from 'undici';
import type { DeviceKind, DeviceTarget } from '../driver.js';
import { DeviceError } from '../driver.js';
import { Semaphore } from '../../infra/semaphore.js';
import { requestLimit, type RequestLimiter } from '../limits.js';
import { HandshakeWatch } from '../tls-handshake.js';

export type HttpMethod = 'GET' | 'POST' | 'PUT' | 'PATCH' | 'DELETE';

export interface RawReply {
  status: number;
  text: string;
}

export interface HttpRequest {
  method: HttpMethod;
  /** Path and query after the origin, starting with "/". */
  path: string;
  headers?: Record<string, string>;
  body?: string;
}

const TLS_CODES = new Set([
  'DEPTH_ZERO_SELF_SIGNED_CERT', 'SELF_SIGNED_CERT_IN_CHAIN', 'UNABLE_TO_VERIFY_LEAF_SIGNATURE', 'UNABLE_TO_GET_ISSUER_CERT_LOCALLY',
  'CERT_HAS_EXPIRED', 'CERT_NOT_YET_VALID', 'ERR_TLS_CERT_ALTNAME_INVALID', 'CERT_SIGNATURE_FAILURE', 'ERR_SSL_WRONG_VERSION_NUMBER',
]);
const TIMEOUT_CODES = new Set(['UND_ERR_CONNECT_TIMEOUT', 'UND_ERR_HEADERS_TIMEOUT', 'UND_ERR_BODY_TIMEOUT', 'ETIMEDOUT']);

function codeOf(error: unknown): string {
  for (let current = error, depth = 0; current && depth < 4; current = (current as { cause?: unknown }).cause, depth++) {
    const code = (current as { code?: unknown }).code;
    if (typeof code === 'string') return code;
    const name = (current as { name?: unknown }).name;
    if (name === 'TimeoutError' || name === 'AbortError') return 'ETIMEDOUT';
  }
  return '';
}

/** A failed request as TIMEOUT, TLS or UNREACHABLE; `where` names the device and the request. */
export function transportError(error: unknown, where: string): DeviceError {
  if (error instanceof DeviceError) return error;
  const code = codeOf(error);
  const detail = `${where}: ${(error as Error)?.message ?? String(error)}${code ? ` (${code})` : ''}`;
  if (TIMEOUT_CODES.has(code)) return new DeviceError('TIMEOUT', `no answer in time from ${detail}`);
  if (TLS_CODES.has(code) || code.startsWith('ERR_SSL') || code.startsWith('ERR_TLS')) return new DeviceError('TLS', `TLS verification failed for ${detail}`);
  return new DeviceError('UNREACHABLE', `cannot talk to ${detail}`);
}

export interface HttpTransportOptions {
  /** The device kind, for the TLS hint of a stalled handshake. */
  kind: DeviceKind;
  /** Names the device in messages ("pfSense edge1"). */
  label: string;
  /** The device's shared limiter (devices/limits.ts); without it, this transport limits only itself. */
  limiter?: RequestLimiter;
}

/** A single connection of its own, outside the Agent's pool (see HttpTransport.freshClient/lifeline). */
export interface DedicatedConnection {
  send(req: HttpRequest, timeoutMs?: number): Promise<RawReply>;
  close(): Promise<void>;
}

export class HttpTransport {
  readonly origin: string;
  private readonly agent: Agent;
  private readonly handshakes: HandshakeWatch;
  private readonly limiter: RequestLimiter;

  constructor(private readonly target: DeviceTarget, options: HttpTransportOptions) {
    this.handshakes = new HandshakeWatch({ kind: options.kind, label: options.label, timeoutMs: target.timeoutMs, ca: target.caPem, rejectUnauthorized: target.tlsVerify });
    this.agent = new Agent({ connect: this.handshakes.connector, headersTimeout: target.timeoutMs, bodyTimeout: target.timeoutMs });
    this.limiter = options.limiter ?? new Semaphore(requestLimit(target.concurrency));
    const host = target.host.includes(':') && !target.host.startsWith('[') ? `[${target.host}]` : target.host;
    this.origin = `${target.tls ? 'https' : 'http'}://${host}:${target.port ?? (target.tls ? 443 : 80)}`;
  }

  private where(req: HttpRequest): string {
    return `${this.target.name} (${req.method} ${req.path.split('?')[0]})`;
  }

  private async dispatch(dispatcher: Dispatcher, req: HttpRequest, timeoutMs: number, reset = false): Promise<RawReply> {
    try {
      const reply = await request(`${this.origin}${req.path}`, {
        method: req.method, headers: req.headers, body: req.body, dispatcher, reset, signal: AbortSignal.timeout(timeoutMs),
      });
      return { status: reply.statusCode, text: await reply.body.text() };
    } catch (error) {
      const failure = transportError(error, this.where(req));
      throw (failure.code === 'TIMEOUT' && this.handshakes.stalled()) || failure;
    }
  }

  /** One request through the pooled, kept-alive connections, within the device's request limit. */
  send(req: HttpRequest): Promise<RawReply> {
    return this.limiter.run(() => this.dispatch(this.agent, req, this.target.timeoutMs));
  }

  /**
   * A connection opened for one request and closed after it: a probe that must prove a new
   * connection gets through (a kept-alive socket would ride on an established firewall state).
   */
  freshClient(): DedicatedConnection {
    const client = new Client(this.origin, { connect: this.handshakes.connector, pipelining: 0, headersTimeout: this.target.timeoutMs, bodyTimeout: this.target.timeoutMs });
    return {
      send: (req, timeoutMs = this.target.timeoutMs) => this.dispatch(client, req, timeoutMs, true),
      close: () => client.close(),
    };
  }

  /**
   * One connection kept open for as long as the caller pings it: it survives a firewall change
   * that cuts new connections, so a revert can still be sent through it.
   */
  lifeline(keepAliveMs = 10 * 60_000): DedicatedConnection {
    const client = new Client(this.origin, {
      connect: this.handshakes.connector, pipelining: 1, keepAliveTimeout: keepAliveMs, keepAliveMaxTimeout: keepAliveMs,
      headersTimeout: this.target.timeoutMs, bodyTimeout: this.target.timeoutMs,
    });
    return {
      send: (req, timeoutMs = this.target.timeoutMs) => this.dispatch(client, req, timeoutMs),
      close: () => client.close(),
    };
  }

  close(): Promise<void> {
    return this.agent.close();
  }
}
