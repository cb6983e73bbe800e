// The HTTPS front: faults, request log, dispatch (unknown endpoints answer before
// authentication), Basic key:secret, privileges → 403, body rules, then the handler, replies
// as PHP's json_encode writes them. Nothing is logged: requests carry credentials.
import https from 'node:https';
import type { IncomingMessage, ServerResponse } from 'node:http';
import { setTimeout as sleep } from 'node:timers/promises';
import { takeEndpointFault } from '../shared/endpoint-fault.js';
import { endOneByteAtATime } from '../shared/fragmented-body.js';
import { passConnectionFaults, readBody } from '../shared/https-front.js';
import { authenticate, isAllowed, type ApiCredentials } from './auth.js';
import { AUTH_FAILED, FORBIDDEN, dispatchErrorReply, unexpectedErrorReply, userExceptionReply } from './envelope.js';
import type { OpnSenseFaults } from './faults.js';
import { encodePhpJson, parseRequestBody } from './json.js';
import type { OpnSenseModel } from './model.js';
import { PhpError, Reply, UserException, type Call, type Router } from './router.js';

export interface RequestRecord {
  method: string;
  path: string;
  query: string;
  contentType: string | null;
  auth: 'basic' | 'none';
  /** The registered endpoint ("wireguard/server/addServer"), null when dispatch failed. */
  action: string | null;
  /** add/set/del/toggle/reconfigure/apply/…: changes config or running state (search/get/show do not). */
  write: boolean;
  /** HTTP status answered (0 while running or when the connection was dropped). */
  status: number;
}

export interface ServerParts {
  model: OpnSenseModel;
  router: Router;
  faults: OpnSenseFaults;
  credentials: ApiCredentials;
  log: RequestRecord[];
}

async function send(response: ServerResponse, faults: OpnSenseFaults, reply: Reply): Promise<void> {
  const body = encodePhpJson(reply.body);
  const type = { 'content-type': 'application/json; charset=UTF-8' };
  if (faults.fragmentOutput) {
    response.writeHead(reply.status, type);
    await endOneByteAtATime(response, body);
    return;
  }
  response.writeHead(reply.status, { ...type, 'content-length': Buffer.byteLength(body) });
  response.end(body);
}

async function answer(parts: ServerParts, request: IncomingMessage, record: RequestRecord, url: URL): Promise<Reply> {
  const { model, router, faults } = parts;
  const body = await readBody(request, () => new Reply(413, { errorMessage: 'Request Entity Too Large' }));
  const resolved = router.resolve(record.path);
  if ('kind' in resolved) return dispatchErrorReply(model.features, resolved);
  record.action = resolved.action;
  // A write action reached with GET answers "failed" and changes nothing.
  record.write = (resolved.endpoint.write ?? false) && record.method === 'POST';
  if (faults.refuseAuth || !authenticate(request.headers, parts.credentials)) return AUTH_FAILED;
  if (!isAllowed(faults.privileges, request.url ?? '/')) return FORBIDDEN;
  const fault = takeEndpointFault(faults, record.method, record.path);
  if (fault) return new Reply(fault.status ?? 500, fault.body ?? { errorMessage: 'Unexpected error, check log for details' });
  const post = parseRequestBody(request.headers['content-type'], body, faults);
  if (resolved.endpoint.configd && faults.slowConfigdMs > 0) await sleep(faults.slowConfigdMs);
  const call: Call = { method: record.method, params: resolved.params, post, query: url.searchParams, model, faults, features: model.features };
  const result = await resolved.endpoint.handler(call);
  return result instanceof Reply ? result : new Reply(200, result);
}

async function handle(parts: ServerParts, request: IncomingMessage, response: ServerResponse): Promise<void> {
  const { model, faults } = parts;
  if (model.dropsEveryConnection()) {
    request.socket.destroy();
    return;
  }
  if (!(await passConnectionFaults(faults, request))) return;

  const url = new URL(request.url ?? '/', 'https://opnsense.invalid');
  const record: RequestRecord = {
    method: (request.method ?? 'GET').toUpperCase(),
    path: url.pathname.replace(/\/{2,}/g, '/').replace(/(.)\/$/, '$1'),
    query: url.search.replace(/^\?/, ''),
    contentType: request.headers['content-type'] ?? null,
    auth: request.headers.authorization ? 'basic' : 'none',
    action: null,
    write: false,
    status: 0,
  };
  parts.log.push(record);
  let reply: Reply;
  try {
    reply = await answer(parts, request, record, url);
  } catch (error) {
    if (error instanceof Reply) reply = error;
    else if (error instanceof UserException) reply = userExceptionReply(model.features, error.message, error.title, error.level);
    else reply = unexpectedErrorReply(model.features, error instanceof PhpError ? error.message : String(error));
  }
  record.status = reply.status;
  await send(response, faults, reply);
}

export function createServer(parts: ServerParts, tls: { keyPem: string; certPem: string }): https.Server {
  const server = https.createServer({ key: tls.keyPem, cert: tls.certPem }, (request, response) => {
    handle(parts, request, response).catch(() => response.destroy());
  });
  // pf keeps the states of connections opened before a filter cut; new ones are refused.
  server.on('secureConnection', (socket) => {
    if (parts.model.refusesNewConnections()) {
      socket.destroy();
      return;
    }
    parts.model.sockets.add(socket);
    socket.once('close', () => parts.model.sockets.delete(socket));
  });
  return server;
}
