// uhttpd's front for /ubus (ref §1.2): the legacy JSON-RPC endpoint (single requests and
// batches, processed in order), the RESTful /ubus/call/<object> with a Bearer session, the
// unauthenticated /ubus/list, uhttpd's 404/400/OPTIONS answers, -32700 with the connection
// closed for a body over 64 KiB or one that is not JSON, 307 from plain HTTP, the
// max_requests queue, and the management cut (live sockets destroyed, new ones unanswered).
// The request log keeps object, method and status only: args carry passwords and keys.
import http from 'node:http';
import https from 'node:https';
import net from 'node:net';
import type { IncomingMessage, ServerResponse } from 'node:http';
import { setTimeout as sleep } from 'node:timers/promises';
import { endOneByteAtATime } from '../shared/fragmented-body.js';
import { takeCallFault, takeDrop, type OpenWrtFaults } from './faults.js';
import { RPC_ERRORS, encode, errorReply, listReply, parseRequest, resultReply, NULL_SID, type RpcErrorCode } from './jsonrpc.js';
import type { UbusContext, UbusObject, UbusReply } from './model.js';
import type { Sessions } from './sessions.js';

/** ubus objects (other than rpcd's `session`, which sessions.ts answers): name → function → method. */
export type ObjectRegistry = ReadonlyMap<string, UbusObject>;

export interface RequestRecord {
  /** "(list)" for a JSON-RPC list; "(http)" for what never reached ubus. */
  object: string;
  method: string;
  /** The ubus status (result[0]) or the JSON-RPC error code. */
  status: number;
}

export interface ServerParts {
  faults: OpenWrtFaults;
  sessions: Sessions;
  objects(): ObjectRegistry;
  managementCut(): boolean;
  msPerSecond(): number;
  log: RequestRecord[];
}

/** uhttpd's limit for a /ubus POST body. */
export const MAX_BODY = 65536;
/** uhttpd script_timeout: a ubus call slower than this answers -32003. */
export const SCRIPT_TIMEOUT_SECONDS = 60;
const UBUS_STRERROR = ['Success', 'Invalid command', 'Invalid argument', 'Method not found', 'Not found', 'No response', 'Permission denied',
  'Request timed out', 'Operation not supported', 'Unknown error', 'Connection failed', 'Out of memory', 'Parsing message data failed', 'System error'];

class DroppedConnection extends Error {}

/** A handler's answer with the JSON-RPC error reduced to its code (the message is uhttpd's own). */
type Reply = { status: number; data?: unknown } | { rpcError: number };

function normalise(reply: UbusReply): Reply {
  return 'rpcError' in reply ? { rpcError: reply.rpcError.code } : reply;
}

const SESSION_SIGNATURES: Record<string, Record<string, string>> = {
  access: { scope: 'string', object: 'string', function: 'string' },
  destroy: {},
  list: {},
  login: { username: 'string', password: 'string', timeout: 'number' },
};

class Gate {
  private inFlight = 0;
  private readonly waiting: Array<() => void> = [];
  constructor(private readonly limit: () => number | null) {}

  async run<T>(work: () => Promise<T>): Promise<T> {
    const limit = this.limit();
    if (limit !== null && this.inFlight >= limit) await new Promise<void>((resolve) => this.waiting.push(resolve));
    this.inFlight++;
    try {
      return await work();
    } finally {
      this.inFlight--;
      this.waiting.shift()?.();
    }
  }
}

function readBody(request: IncomingMessage): Promise<{ text: string; tooLarge: boolean }> {
  return new Promise((resolve, reject) => {
    const chunks: Buffer[] = [];
    let size = 0;
    let done = false;
    request.on('data', (chunk: Buffer) => {
      if (done) return;
      size += chunk.length;
      if (size > MAX_BODY) {
        done = true;
        request.pause();
        resolve({ text: '', tooLarge: true });
        return;
      }
      chunks.push(chunk);
    });
    request.on('end', () => {
      if (!done) resolve({ text: Buffer.concat(chunks).toString('utf8'), tooLarge: false });
    });
    request.on('error', reject);
  });
}

export class UbusFront {
  private readonly gate: Gate;

  constructor(private readonly parts: ServerParts) {
    this.gate = new Gate(() => parts.faults.maxConcurrent);
  }

  private record(object: string, method: string, status: number): void {
    this.parts.log.push({ object, method, status });
  }

  /** One `call`: ACL, object lookup, faults, then the handler. */
  private async call(socket: net.Socket, sid: string, object: string, method: string, args: Record<string, unknown>): Promise<Reply> {
    const { faults, sessions } = this.parts;
    if (takeDrop(faults, 'dropAfterCalls')) {
      socket.destroy();
      throw new DroppedConnection();
    }
    if (!sessions.access(sid, 'ubus', object, method)) return { rpcError: RPC_ERRORS.ACCESS_DENIED };
    const target = object === 'session' ? null : this.parts.objects().get(object);
    if (object !== 'session' && !target) return { rpcError: RPC_ERRORS.OBJECT_NOT_FOUND };
    const fault = takeCallFault(faults, object, method);
    if (fault) return fault.rpcError !== undefined ? { rpcError: fault.rpcError } : { status: fault.status ?? 9 };
    const ctx: UbusContext = { sid, access: (scope, obj, fn) => sessions.access(sid, scope, obj, fn) };
    let reply: Reply;
    if (object === 'session') reply = await sessions.call(sid, method, args);
    else {
      const entry = target![method];
      reply = entry ? normalise(await entry.handler(ctx, args)) : { status: 3 };
    }
    const slow = faults.slowCall;
    if (slow && slow.object === object && slow.method === method) {
      // The callee ran (its effect stays) and answers that much later; past script_timeout
      // uhttpd stops waiting for it then and answers -32003 instead.
      await sleep(Math.min(slow.seconds, SCRIPT_TIMEOUT_SECONDS) * this.parts.msPerSecond());
      if (slow.seconds > SCRIPT_TIMEOUT_SECONDS) return { rpcError: RPC_ERRORS.TIMEOUT };
    }
    return reply;
  }

  private listing(paths: string[] | null): unknown {
    const registry = this.parts.objects();
    const names = ['session', ...registry.keys()].sort();
    if (paths === null) return names;
    const listing: Record<string, Record<string, Record<string, string>>> = {};
    for (const name of names) {
      if (!paths.includes(name)) continue;
      listing[name] = name === 'session'
        ? SESSION_SIGNATURES
        : Object.fromEntries(Object.entries(registry.get(name) ?? {}).map(([method, entry]) => [method, { ...entry.args }]));
    }
    return listing;
  }

  /** One element of a JSON-RPC request (or batch), as its reply object. */
  private async rpc(socket: net.Socket, value: unknown): Promise<Record<string, unknown>> {
    const parsed = parseRequest(value);
    if (parsed.kind === 'error') {
      this.record('(rpc)', '(envelope)', parsed.code);
      return errorReply(parsed.id, parsed.code);
    }
    if (parsed.kind === 'list') {
      this.record('(list)', 'list', 0);
      return listReply(parsed.id, this.listing(parsed.paths));
    }
    const reply = await this.call(socket, parsed.sid, parsed.object, parsed.method, parsed.args);
    if ('rpcError' in reply) {
      this.record(parsed.object, parsed.method, reply.rpcError);
      return errorReply(parsed.id, reply.rpcError as RpcErrorCode);
    }
    this.record(parsed.object, parsed.method, reply.status);
    return resultReply(parsed.id, reply.status, reply.data);
  }

  private async send(response: ServerResponse, status: number, body: string, headers: Record<string, string> = {}): Promise<void> {
    if (this.parts.faults.delayMs > 0) await sleep(this.parts.faults.delayMs);
    if (response.destroyed) return;
    // blobmsg JSON goes out chunked (no content-length), as uhttpd_ubus does.
    response.writeHead(status, { 'content-type': 'application/json', ...headers });
    if (this.parts.faults.fragmentOutput) return endOneByteAtATime(response, body);
    response.write(body);
    response.end();
  }

  private async jsonRpc(request: IncomingMessage, response: ServerResponse): Promise<void> {
    const body = await readBody(request);
    let value: unknown;
    let parsed = !body.tooLarge;
    if (parsed) {
      try {
        value = JSON.parse(body.text);
      } catch {
        parsed = false;
      }
    }
    if (!parsed) {
      this.record('(rpc)', '(body)', RPC_ERRORS.PARSE);
      // Since uhttpd 7b1bec4 the connection is closed after a parse error.
      await this.send(response, 200, encode(errorReply(null, RPC_ERRORS.PARSE)), { connection: 'close' });
      response.once('finish', () => request.socket.destroy());
      return;
    }
    if (Array.isArray(value)) {
      const replies: Array<Record<string, unknown>> = [];
      for (const element of value) replies.push(await this.rpc(request.socket, element));
      return this.send(response, 200, encode(replies));
    }
    return this.send(response, 200, encode(await this.rpc(request.socket, value)));
  }

  /** POST /ubus/call/<object> with `Authorization: Bearer <sid>` (uhttpd 1172357). */
  private async restCall(object: string, request: IncomingMessage, response: ServerResponse): Promise<void> {
    const body = await readBody(request);
    let value: { id?: unknown; method?: unknown; params?: unknown };
    try {
      value = body.tooLarge ? null : JSON.parse(body.text);
      if (typeof value !== 'object' || value === null || typeof value.method !== 'string') throw new Error('shape');
    } catch {
      this.record('(rest)', '(body)', RPC_ERRORS.PARSE);
      return this.send(response, 200, encode(errorReply(null, RPC_ERRORS.PARSE)));
    }
    const bearer = /^Bearer\s+(\S+)$/i.exec(request.headers.authorization ?? '')?.[1] ?? NULL_SID;
    const params = typeof value.params === 'object' && value.params !== null && !Array.isArray(value.params) ? value.params as Record<string, unknown> : {};
    if ('ubus_rpc_session' in params) return this.send(response, 200, encode(errorReply(value.id, RPC_ERRORS.INVALID_PARAMS)));
    const reply = await this.call(request.socket, bearer, object, value.method, params);
    const id = value.id ?? null;
    if ('rpcError' in reply) {
      this.record(object, value.method, reply.rpcError);
      return this.send(response, 200, encode(errorReply(id, reply.rpcError as RpcErrorCode)));
    }
    this.record(object, value.method, reply.status);
    if (reply.status !== 0) {
      return this.send(response, 200, encode({ jsonrpc: '2.0', id, error: { code: reply.status, message: UBUS_STRERROR[reply.status] ?? 'Unknown error' } }));
    }
    return this.send(response, 200, encode({ jsonrpc: '2.0', id, result: reply.data ?? null }));
  }

  async handle(request: IncomingMessage, response: ServerResponse): Promise<void> {
    const { faults } = this.parts;
    if (takeDrop(faults, 'dropAfterRequests')) {
      request.socket.destroy();
      return;
    }
    if (faults.rfc1918Filter403) {
      response.writeHead(403, 'Forbidden', { 'content-type': 'text/plain' });
      response.end('Rejected request from RFC1918 IP to public server address');
      return;
    }
    const method = (request.method ?? 'GET').toUpperCase();
    const path = new URL(request.url ?? '/', 'https://openwrt.invalid').pathname;
    if (method === 'OPTIONS') {
      response.writeHead(200, { 'content-length': '0' });
      response.end();
      return;
    }
    if (method !== 'GET' && method !== 'POST') {
      response.writeHead(400, 'Bad Request', { 'content-type': 'text/plain' });
      response.end('Invalid Request');
      return;
    }
    await this.gate.run(async () => {
      try {
        if (method === 'POST' && (path === '/ubus' || path === '/ubus/')) return await this.jsonRpc(request, response);
        const rest = /^\/ubus\/call\/([^/]+)$/.exec(path);
        if (method === 'POST' && rest) return await this.restCall(decodeURIComponent(rest[1]!), request, response);
        const list = /^\/ubus\/list(?:\/(.+))?$/.exec(path);
        if (method === 'GET' && list) {
          const name = list[1] === undefined ? null : decodeURIComponent(list[1]);
          const listing = this.listing(name === null ? null : [name]);
          if (name === null) return await this.send(response, 200, encode(this.listing([...(listing as string[])])));
          const entry = (listing as Record<string, unknown>)[name];
          if (entry === undefined) return await this.send(response, 500, encode({ code: 4, message: 'Not found' }));
          return await this.send(response, 200, encode(entry));
        }
        response.writeHead(404, 'Not Found', { 'content-length': '0' });
        response.end();
      } catch (error) {
        if (error instanceof DroppedConnection) return;
        throw error;
      }
    });
  }
}

export interface Listeners {
  https: net.Server;
  http: net.Server;
  /** Destroys live sockets and stops listening. */
  close(): Promise<void>;
}

/**
 * The TLS and plain listeners, each a TCP front that hands sockets to the HTTP server only
 * while the management path is up: a cut destroys the live sockets and leaves new ones
 * unanswered (held, as SYNs a router drops), released when the cut goes away.
 */
export function listen(front: UbusFront, parts: ServerParts, tls: { keyPem: string; certPem: string }, httpsPortOf: () => number): Listeners {
  const onError = (response: ServerResponse) => (error: unknown) => {
    if (!response.headersSent) {
      response.writeHead(500, { 'content-type': 'text/plain' });
      response.end(String((error as Error)?.message ?? error));
    } else response.destroy();
  };
  const secure = https.createServer({ key: tls.keyPem, cert: tls.certPem }, (request, response) => {
    front.handle(request, response).catch(onError(response));
  });
  const plain = http.createServer((request, response) => {
    if (parts.faults.httpsRedirect307) {
      const host = (request.headers.host ?? '127.0.0.1').replace(/:\d+$/, '');
      response.writeHead(307, 'Temporary Redirect', { location: `https://${host}:${httpsPortOf()}${request.url ?? '/'}`, 'content-length': '0' });
      response.end();
      return;
    }
    front.handle(request, response).catch(onError(response));
  });
  for (const server of [secure, plain]) server.keepAliveTimeout = 20_000;

  const live = new Set<net.Socket>();
  const held: Array<{ socket: net.Socket; server: http.Server }> = [];
  const admit = (socket: net.Socket, server: http.Server) => {
    live.add(socket);
    socket.once('close', () => live.delete(socket));
    server.emit('connection', socket);
  };
  const front4 = (server: http.Server) => net.createServer((socket) => {
    socket.on('error', () => socket.destroy());
    if (parts.managementCut()) held.push({ socket, server });
    else admit(socket, server);
  });
  const tcpSecure = front4(secure);
  const tcpPlain = front4(plain);
  let wasCut = false;
  const watch = setInterval(() => {
    const cut = parts.managementCut();
    if (cut && !wasCut) for (const socket of [...live]) socket.destroy();
    if (!cut) for (const entry of held.splice(0)) if (!entry.socket.destroyed) admit(entry.socket, entry.server);
    wasCut = cut;
  }, 10);
  watch.unref();

  return {
    https: tcpSecure,
    http: tcpPlain,
    close: async () => {
      clearInterval(watch);
      for (const socket of [...live, ...held.map((entry) => entry.socket)]) socket.destroy();
      await Promise.all([tcpSecure, tcpPlain].map((server) => new Promise<void>((resolve) => server.close(() => resolve()))));
      secure.close();
      plain.close();
    },
  };
}
