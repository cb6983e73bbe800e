// rpcd/ubus JSON-RPC over uhttpd's /ubus (ref §2–§3), on the shared HTTP transport: one
// session per client (logged in on first use, `session.destroy` on close, which also purges
// any uci deltas left staged in it), calls batched into as few HTTP requests as uhttpd
// accepts (≤ 40 calls, ≤ 48 KiB; its limit is 64 KiB), and a -32002 answered once by logging
// in again (sessions expire 300 s after their last use; while an apply is pending, rpcd hands
// the same username its apply session back). Still -32002 after that = an ACL denial,
// AUTH_FAILED naming object.method. Arguments and replies carry keys and passwords: nothing
// here logs them, and no error quotes them.
import type { DeviceTarget } from '../driver.js';
import { DeviceError } from '../driver.js';
import type { RequestLimiter } from '../limits.js';
import { HttpTransport, type DedicatedConnection, type RawReply } from '../shared/http-transport.js';
import { RPC_ACCESS_DENIED, UbusStatusError, httpError, rpcError } from './errors.js';

export const NULL_SID = '00000000000000000000000000000000';
export const MAX_BATCH_CALLS = 40;
export const MAX_BATCH_BYTES = 48 * 1024;
/** uhttpd refuses a body over this with -32700 and closes the connection. */
export const UHTTPD_MAX_BODY = 65536;
/** Session lifetime asked for at login (seconds; sliding). */
export const SESSION_TIMEOUT = 600;

export interface UbusCall {
  object: string;
  method: string;
  args?: Record<string, unknown>;
}

/** What one call answered: `result` [status, data?]. JSON-RPC errors are thrown, never returned. */
export interface UbusResult<T = any> {
  status: number;
  data: T | undefined;
}

interface Envelope {
  id?: unknown;
  result?: unknown;
  error?: { code?: unknown };
}

export interface UbusClientOptions {
  limiter?: RequestLimiter;
  /** Session lifetime asked for at login, seconds. */
  sessionTimeout?: number;
}

export class UbusClient {
  private readonly transport: HttpTransport;
  private readonly device: string;
  private sid: string | null = null;
  private loggingIn: Promise<string> | null = null;
  private nextId = 1;
  private closed = false;
  /** Counts logins: a caller that staged uci deltas compares it to know its session (and deltas) were replaced. */
  generation = 0;

  constructor(private readonly target: DeviceTarget, private readonly options: UbusClientOptions = {}) {
    this.device = `OpenWrt ${target.name}`;
    this.transport = new HttpTransport(target, { kind: 'OPENWRT', label: this.device, limiter: options.limiter });
  }

  /** The current session id (null before the first call). */
  get session(): string | null {
    return this.sid;
  }

  private encode(sid: string, calls: readonly UbusCall[], ids: number[]): string {
    return JSON.stringify(calls.map((call, index) => ({ jsonrpc: '2.0', id: ids[index], method: 'call', params: [sid, call.object, call.method, call.args ?? {}] })));
  }

  private async post(body: string, connection?: DedicatedConnection): Promise<Envelope[]> {
    const req = { method: 'POST' as const, path: '/ubus', headers: { 'content-type': 'application/json', accept: 'application/json' }, body };
    const reply: RawReply = connection ? await connection.send(req) : await this.transport.send(req);
    if (reply.status !== 200) throw httpError(reply.status, this.device);
    let parsed: unknown;
    try {
      parsed = JSON.parse(reply.text);
    } catch {
      throw new DeviceError('PROTOCOL', `${this.device}: /ubus answered without JSON (is this OpenWrt's uhttpd-mod-ubus?)`);
    }
    if (!Array.isArray(parsed)) {
      // A body uhttpd could not parse is answered with one error object, not a batch.
      const code = (parsed as Envelope)?.error?.code;
      throw new DeviceError('PROTOCOL', `${this.device}: /ubus refused the request${typeof code === 'number' ? ` (${code})` : ''}`);
    }
    return parsed as Envelope[];
  }

  private async loginNow(): Promise<string> {
    const username = this.target.username ?? '';
    const args = { username, password: this.target.secret ?? '', timeout: this.options.sessionTimeout ?? SESSION_TIMEOUT };
    const id = this.nextId++;
    const [reply] = await this.post(JSON.stringify([{ jsonrpc: '2.0', id, method: 'call', params: [NULL_SID, 'session', 'login', args] }]));
    const result = this.resultOf(reply, 'session', 'login');
    if (result.status !== 0) throw new UbusStatusError('session.login', result.status);
    const sid = (result.data as { ubus_rpc_session?: unknown } | undefined)?.ubus_rpc_session;
    if (typeof sid !== 'string' || !/^[0-9a-f]{32}$/.test(sid)) throw new DeviceError('PROTOCOL', `${this.device}: session.login answered without a session id`);
    this.sid = sid;
    this.generation++;
    return sid;
  }

  /** Logs in (once, even when several callers ask at the same time) and returns the session id. */
  login(): Promise<string> {
    this.loggingIn ??= this.loginNow().finally(() => {
      this.loggingIn = null;
    });
    return this.loggingIn;
  }

  private resultOf(reply: Envelope | undefined, object: string, method: string): UbusResult {
    if (!reply || typeof reply !== 'object') throw new DeviceError('PROTOCOL', `${this.device}: no answer for ${object}.${method} in the batch reply`);
    if (reply.error) {
      const code = typeof reply.error.code === 'number' ? reply.error.code : 0;
      throw rpcError(code, object, method);
    }
    const result = reply.result;
    if (!Array.isArray(result) || typeof result[0] !== 'number') throw new DeviceError('PROTOCOL', `${this.device}: ${object}.${method} answered without a result array`);
    return { status: result[0], data: result[1] };
  }

  /** Splits calls into HTTP requests of ≤ 40 calls and ≤ 48 KiB (a single larger call goes alone, up to uhttpd's 64 KiB). */
  private chunks(sid: string, calls: readonly UbusCall[]): UbusCall[][] {
    const chunks: UbusCall[][] = [];
    let current: UbusCall[] = [];
    let size = 2;
    for (const call of calls) {
      const one = this.encode(sid, [call], [0]).length + 12;
      if (one > UHTTPD_MAX_BODY) throw new DeviceError('REFUSED', `${call.object}.${call.method}: the request would exceed uhttpd's 64 KiB limit`);
      if (current.length > 0 && (current.length >= MAX_BATCH_CALLS || size + one > MAX_BATCH_BYTES)) {
        chunks.push(current);
        current = [];
        size = 2;
      }
      current.push(call);
      size += one;
    }
    if (current.length > 0) chunks.push(current);
    return chunks;
  }

  /**
   * The calls in order, each answered with its status and data (a status ≠ 0 is returned, not
   * thrown: `uci get` of a missing section, `uci apply` with nothing to apply are answers).
   * JSON-RPC errors throw: -32002 after one fresh login is an ACL denial (AUTH_FAILED).
   * `connection`: send over that connection instead of the pooled ones (a fresh probe).
   */
  async batch(calls: readonly UbusCall[], connection?: DedicatedConnection): Promise<UbusResult[]> {
    if (calls.length === 0) return [];
    const results: UbusResult[] = [];
    let sid = this.sid ?? (await this.login());
    let relogged = false;
    let pending = [...calls];
    while (pending.length > 0) {
      const [chunk] = this.chunks(sid, pending) as [UbusCall[]];
      const ids = chunk.map(() => this.nextId++);
      const replies = await this.post(this.encode(sid, chunk, ids), connection);
      const byId = new Map(replies.map((reply) => [reply.id, reply]));
      let done = 0;
      let denied = false;
      for (const [index, call] of chunk.entries()) {
        const reply = byId.get(ids[index]);
        if (reply?.error?.code === RPC_ACCESS_DENIED && !relogged) {
          denied = true;
          break;
        }
        results.push(this.resultOf(reply, call.object, call.method));
        done++;
      }
      pending = pending.slice(done);
      if (denied) {
        // An expired session looks exactly like a denial: a fresh login tells them apart.
        relogged = true;
        sid = await this.login();
      } else if (done > 0) relogged = false;
    }
    return results;
  }

  async call<T = any>(object: string, method: string, args: Record<string, unknown> = {}): Promise<UbusResult<T>> {
    const [result] = await this.batch([{ object, method, args }]);
    return result as UbusResult<T>;
  }

  /** A call that must answer 0: its data, or a UbusStatusError naming the status. */
  async ok<T = any>(object: string, method: string, args: Record<string, unknown> = {}): Promise<T> {
    const result = await this.call<T>(object, method, args);
    if (result.status !== 0) throw new UbusStatusError(`${object}.${method}`, result.status);
    return result.data as T;
  }

  /**
   * Ends this session on the router, its staged uci deltas with it; the next call logs in
   * afresh. For deltas `uci revert` cannot drop: rpcd refuses every revert while any session's
   * protected apply is pending. Never throws: a session that cannot be destroyed is no longer
   * used, and expires with whatever it holds (nothing applies another session's deltas).
   */
  async dropSession(): Promise<void> {
    const sid = this.sid;
    this.sid = null;
    if (sid === null) return;
    await this.post(JSON.stringify([{ jsonrpc: '2.0', id: this.nextId++, method: 'call', params: [sid, 'session', 'destroy', {}] }])).catch(() => undefined);
  }

  /** One connection opened for a probe and closed after it (see HttpTransport.freshClient). */
  freshConnection(): DedicatedConnection {
    return this.transport.freshClient();
  }

  /** Ends the session (its staged deltas go with it) and closes the connections; never throws; a second call does nothing. */
  async close(): Promise<void> {
    if (this.closed) return;
    this.closed = true;
    const sid = this.sid;
    this.sid = null;
    if (sid !== null) {
      try {
        await this.post(JSON.stringify([{ jsonrpc: '2.0', id: this.nextId++, method: 'call', params: [sid, 'session', 'destroy', {}] }]));
      } catch {
        // Unreachable or denied: the session expires on its own after SESSION_TIMEOUT.
      }
    }
    await this.transport.close();
  }
}
