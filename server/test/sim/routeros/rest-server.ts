// RouterOS REST API (routeros.md §2) over HTTPS with Basic auth on every request, mapped
// onto the same model as the binary API: GET=print, PUT=add, PATCH=set, DELETE=remove,
// POST /<menu>/<command>=any command. Every value is a string; errors are JSON with a
// numeric `error`, the reason phrase as `message` and the trap text as `detail`.
import https from 'node:https';
import type { IncomingMessage, ServerResponse } from 'node:http';
import type { Socket } from 'node:net';
import { endOneByteAtATime } from '../shared/fragmented-body.js';
import type { Faults } from './faults.js';
import { closeServer, listen, normaliseAddress } from './listening.js';
import type { CommandRequest, CommandResult, RouterOsModel } from './model.js';
import { PING_COMMANDS } from './ping.js';
import type { Row } from './query.js';
import type { TlsCredentials } from './tls-certificate.js';
import { RouterOsTrap, traps } from './trap.js';

export interface RestServerOptions {
  model: RouterOsModel;
  faults: Faults;
  tls: TlsCredentials;
  port?: number;
  /** REST cuts commands off after this long with 400 "Session closed" (RouterOS: 60 s, §2.7). */
  sessionTimeoutMs?: number;
  /** Print singletons as a one-element array, as 7.1beta4 did (§2.8); default: bare object. */
  singletonAsArray?: boolean;
}

export interface RestServer {
  port: number;
  close(): Promise<void>;
}

type Json = Row | Row[] | undefined;

class HttpError extends Error {
  constructor(
    readonly status: number,
    readonly detail?: string,
  ) {
    super(detail ?? String(status));
  }
}

const REASONS: Record<number, string> = {
  400: 'Bad Request',
  401: 'Unauthorized',
  404: 'Not Found',
  406: 'Not Acceptable',
  500: 'Internal Server Error',
  501: 'Not Implemented',
};

const VERBS = new Set(['print', 'getall', 'add', 'set', 'remove', 'enable', 'disable', 'move']);
/** HTTP methods that stand for a verb: when the menu lacks it, REST answers 406 (§2.6). */
const VERB_OF_METHOD: Record<string, string> = { PUT: 'add', PATCH: 'set', DELETE: 'remove' };

export async function startRestServer(options: RestServerOptions): Promise<RestServer> {
  const sockets = new Set<Socket>();
  const handler = new RestHandler(options);
  const server = https.createServer({ key: options.tls.key, cert: options.tls.cert }, (req, res) => {
    void handler.handle(req, res);
  });
  server.on('secureConnection', (socket: Socket) => {
    sockets.add(socket);
    socket.on('close', () => sockets.delete(socket));
  });
  server.on('tlsClientError', () => undefined);
  const port = await listen(server, options.port ?? 0);
  return {
    port,
    close: () => {
      handler.closing.abort();
      return closeServer(server, sockets);
    },
  };
}

class RestHandler {
  /** Aborted on close, so delayed replies do not keep timers running after stop(). */
  readonly closing = new AbortController();

  constructor(private readonly options: RestServerOptions) {}

  async handle(req: IncomingMessage, res: ServerResponse): Promise<void> {
    const { model, faults } = this.options;
    const remote = normaliseAddress(req.socket.remoteAddress);
    if (!model.serviceAccepts('www-ssl', remote)) {
      req.socket.destroy();
      return;
    }
    try {
      const body = await readBody(req);
      const user = this.authorised(req, remote);
      if (user === null) throw new HttpError(401);
      if (faults.consumeCommand()) {
        req.socket.destroy();
        return;
      }
      if (faults.replyDelayMs > 0) await sleep(faults.replyDelayMs, this.closing.signal);
      const { status, json } = await this.route(req.method ?? 'GET', new URL(req.url ?? '/', 'https://router'), body, user);
      await this.respond(res, status, json);
    } catch (error) {
      await this.respond(res, ...errorResponse(error, req.method ?? 'GET'));
    }
  }

  /** The user the request authenticates as, or null. */
  private authorised(req: IncomingMessage, remote: string): string | null {
    if (this.options.faults.refuseLogin) return null;
    const header = req.headers.authorization ?? '';
    if (!header.startsWith('Basic ')) return null;
    const decoded = Buffer.from(header.slice('Basic '.length), 'base64').toString('utf8');
    const colon = decoded.indexOf(':');
    if (colon === -1) return null;
    const name = decoded.slice(0, colon);
    return this.options.model.authenticate(name, decoded.slice(colon + 1), remote, 'rest') ? name : null;
  }

  private async route(method: string, url: URL, body: unknown, user: string): Promise<{ status: number; json: Json }> {
    const { model } = this.options;
    const segments = url.pathname.split('/').filter(Boolean).map(decodeURIComponent);
    if (segments[0] !== 'rest' || segments.length < 2) throw new HttpError(404);
    const path = `/${segments.slice(1).join('/')}`;
    const parent = `/${segments.slice(1, -1).join('/')}`;
    const last = segments[segments.length - 1]!;

    if (model.menu(path)) return this.onMenu(method, path, url.searchParams, body, user);
    if (PING_COMMANDS.includes(path) || (model.menu(parent) && VERBS.has(last))) {
      if (method !== 'POST') throw traps.noSuchCommand();
      return this.command(path, body, user);
    }
    if (model.menu(parent)) return this.onItem(method, parent, last, body, user);
    // Unknown path: let the model name the first unknown segment.
    model.resolveCommand(`${path}/print`);
    throw traps.noSuchCommand();
  }

  private onMenu(method: string, menuPath: string, params: URLSearchParams, body: unknown, user: string): { status: number; json: Json } {
    const { model } = this.options;
    const singleton = model.menu(menuPath)!.kind === 'singleton';
    if (method === 'GET') {
      const attributes: Record<string, string> = {};
      const queries: string[] = [];
      for (const [name, value] of params) {
        if (name === '.proplist') attributes['.proplist'] = value;
        else queries.push(`${name}=${value}`);
      }
      const { rows } = this.execute({ command: `${menuPath}/print`, attributes, queries, user });
      if (singleton && !this.options.singletonAsArray) return { status: 200, json: rows[0] ?? {} };
      return { status: 200, json: rows };
    }
    if (method === 'PUT') {
      const { ret } = this.execute({ command: `${menuPath}/add`, attributes: toAttributes(body), user });
      return { status: 200, json: model.lookup(menuPath, ret!, user) };
    }
    if (method === 'PATCH' && singleton) {
      this.execute({ command: `${menuPath}/set`, attributes: toAttributes(body), user });
      return { status: 200, json: model.rows(menuPath, user)[0] };
    }
    if (method === 'PATCH' || method === 'DELETE') throw traps.noSuchItem();
    throw new HttpError(501);
  }

  private onItem(method: string, menuPath: string, reference: string, body: unknown, user: string): { status: number; json: Json } {
    const { model } = this.options;
    const existing = model.lookup(menuPath, reference, user);
    if (method === 'GET') {
      if (!existing) throw traps.noSuchItem();
      return { status: 200, json: existing };
    }
    if (method === 'PATCH') {
      if (!existing) throw traps.noSuchItem();
      this.execute({ command: `${menuPath}/set`, attributes: { ...toAttributes(body), '.id': existing['.id'] ?? reference }, user });
      return { status: 200, json: model.lookup(menuPath, existing['.id'] ?? reference, user) };
    }
    if (method === 'DELETE') {
      // The verb check comes first: DELETE on a menu without `remove` is 406 even for real rows.
      model.resolveCommand(`${menuPath}/remove`);
      if (!existing) throw traps.noSuchItem();
      this.execute({ command: `${menuPath}/remove`, attributes: { '.id': existing['.id'] ?? reference }, user });
      return { status: 204, json: undefined };
    }
    if (method === 'PUT') throw traps.noSuchDirectory(reference);
    throw new HttpError(501);
  }

  /** POST /rest/<menu>/<command>: list of rows, `{ret}` when `!done` carried data, else `[]`. */
  private async command(command: string, body: unknown, user: string): Promise<{ status: number; json: Json }> {
    const { model } = this.options;
    const { '.proplist': proplist, '.query': query, ...rest } = asObject(body);
    const attributes = toAttributes(rest);
    if (proplist !== undefined) attributes['.proplist'] = Array.isArray(proplist) ? proplist.join(',') : String(proplist);
    const queries = Array.isArray(query) ? query.map(String) : [];
    if (PING_COMMANDS.includes(command) && attributes.count === undefined) {
      // An endless command: REST gives up after its session timeout (§2.7).
      model.startPing(attributes);
      await sleep(this.options.sessionTimeoutMs ?? 60_000, this.closing.signal);
      throw new HttpError(400, 'Session closed');
    }
    return { status: 200, json: shapeCommandResult(this.execute({ command, attributes, queries, user })) };
  }

  /** The model, behind the "make this command trap" fault switch. */
  private execute(request: CommandRequest): CommandResult {
    const injected = this.options.faults.trapCommands.get(request.command);
    if (injected !== undefined) throw traps.injected(injected);
    return this.options.model.execute(request);
  }

  private async respond(res: ServerResponse, status: number, json: Json | Record<string, unknown>): Promise<void> {
    if (res.destroyed) return;
    const text = json === undefined ? '' : JSON.stringify(json);
    res.statusCode = status;
    if (text !== '') res.setHeader('content-type', 'application/json');
    if (this.options.faults.fragmentOutput) await endOneByteAtATime(res, text);
    else res.end(text);
  }
}

function shapeCommandResult(result: CommandResult): Json {
  if (result.rows.length > 0) return result.rows;
  if (result.ret !== undefined) return { ret: result.ret };
  return [];
}

function errorResponse(error: unknown, method: string): [number, Record<string, unknown>] {
  if (error instanceof HttpError) return [error.status, errorBody(error.status, error.detail)];
  if (error instanceof RouterOsTrap) {
    if (error.code === 'NO_SUCH_ITEM') return [404, errorBody(404)];
    const status = error.code === 'NO_SUCH_DIRECTORY' && VERB_OF_METHOD[method] ? 406 : 400;
    return [status, errorBody(status, error.message)];
  }
  return [500, errorBody(500, error instanceof Error ? error.message : String(error))];
}

function errorBody(status: number, detail?: string): Record<string, unknown> {
  return { error: status, message: REASONS[status] ?? 'Error', ...(detail !== undefined ? { detail } : {}) };
}

function asObject(body: unknown): Record<string, unknown> {
  if (body === undefined) return {};
  if (typeof body !== 'object' || body === null || Array.isArray(body)) throw new HttpError(400, 'expected a JSON object');
  return body as Record<string, unknown>;
}

/** JSON values → RouterOS strings: numbers in decimal, booleans as true/false (§2.2). */
function toAttributes(body: unknown): Record<string, string> {
  const attributes: Record<string, string> = {};
  for (const [name, value] of Object.entries(asObject(body))) {
    if (typeof value === 'string') attributes[name] = value;
    else if (typeof value === 'number' || typeof value === 'boolean') attributes[name] = String(value);
    else throw traps.invalidValue(name, JSON.stringify(value));
  }
  return attributes;
}

const MAX_BODY_BYTES = 1024 * 1024;

async function readBody(req: IncomingMessage): Promise<unknown> {
  const chunks: Buffer[] = [];
  let size = 0;
  for await (const chunk of req as AsyncIterable<Buffer>) {
    size += chunk.length;
    if (size > MAX_BODY_BYTES) throw new HttpError(400, 'request body too large');
    chunks.push(chunk);
  }
  const text = Buffer.concat(chunks).toString('utf8').trim();
  if (text === '') return undefined;
  try {
    return JSON.parse(text) as unknown;
  } catch {
    throw new HttpError(400, 'JSON parse error');
  }
}

/** Resolves after `ms`, or rejects at once when the server closes. */
function sleep(ms: number, signal: AbortSignal): Promise<void> {
  return new Promise((resolve, reject) => {
    if (signal.aborted) return reject(new Error('server closing'));
    const timer = setTimeout(() => {
      signal.removeEventListener('abort', onAbort);
      resolve();
    }, ms);
    const onAbort = () => {
      clearTimeout(timer);
      reject(new Error('server closing'));
    };
    signal.addEventListener('abort', onAbort, { once: true });
  });
}
