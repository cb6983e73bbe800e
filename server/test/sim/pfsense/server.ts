// The HTTPS front: faults, routing (unknown paths get pfSense's HTML 404, as nginx's
// try_files does), authentication, method check, request data, then the handler, with
// every JSON reply in the envelope. Nothing is logged: requests carry credentials.
import https from 'node:https';
import type { IncomingMessage, ServerResponse } from 'node:http';
import { authenticate, type Credentials } from './auth.js';
import type { Call, Method, Routes } from './call.js';
import { ApiError, HTML_NOT_FOUND, encodeEnvelope } from './envelope.js';
import { endOneByteAtATime } from '../shared/fragmented-body.js';
import { passConnectionFaults, readBody } from '../shared/https-front.js';
import { takeEndpointFault } from '../shared/endpoint-fault.js';
import type { PfSenseFaults } from './faults.js';
import type { ApplyArea, PfSenseModel } from './model.js';
import { readRequestData, takeControlParameters } from './request-data.js';

export interface RequestRecord {
  method: string;
  path: string;
  query: string;
  contentType: string | null;
  auth: 'basic' | 'key' | 'none';
}

export interface ServerParts {
  model: PfSenseModel;
  routes: Routes;
  faults: PfSenseFaults;
  credentials: Credentials;
  requestApply: (area: ApplyArea, async: boolean) => void;
  /** Every request seen, without credentials or bodies. */
  log: RequestRecord[];
}

async function sendJson(response: ServerResponse, faults: PfSenseFaults, code: number, responseId: string, message: string, data: unknown, headers: Record<string, string> = {}): Promise<void> {
  const body = encodeEnvelope(code, responseId, message, data);
  if (faults.fragmentOutput) {
    // Without a content-length Node sends the body chunked: one HTTP chunk per byte.
    response.writeHead(code, { 'content-type': 'application/json', ...headers });
    await endOneByteAtATime(response, body);
    return;
  }
  response.writeHead(code, { 'content-type': 'application/json', 'content-length': Buffer.byteLength(body), ...headers });
  response.end(body);
}

async function handle(parts: ServerParts, request: IncomingMessage, response: ServerResponse): Promise<void> {
  const { model, routes, faults } = parts;
  if (!(await passConnectionFaults(faults, request))) return;

  const url = new URL(request.url ?? '/', 'https://pfsense.invalid');
  const path = url.pathname.length > 1 ? url.pathname.replace(/\/+$/, '') : url.pathname;
  const query = url.search.replace(/^\?/, '');
  const method = (request.method ?? 'GET').toUpperCase();
  parts.log.push({
    method,
    path,
    query,
    contentType: request.headers['content-type'] ?? null,
    auth: request.headers['x-api-key'] ? 'key' : request.headers.authorization ? 'basic' : 'none',
  });
  const body = await readBody(request, () => new ApiError(400, 'ENDPOINT_REQUEST_TOO_LARGE', 'Request body too large.'));

  const handlers = routes.get(path);
  if (!handlers) {
    response.writeHead(404, { 'content-type': 'text/html' });
    response.end(HTML_NOT_FOUND);
    return;
  }
  const allowed = ['OPTIONS', ...Object.keys(handlers)].join(', ');
  if (method === 'OPTIONS') {
    response.writeHead(200, { allow: allowed, 'access-control-allow-methods': allowed });
    response.end();
    return;
  }
  const methods = model.restapi.auth_methods as string[];
  if (faults.refuseAuth || !authenticate(request.headers, methods, parts.credentials, model.version)) {
    const challenge: Record<string, string> = methods.includes('BasicAuth') ? { 'www-authenticate': 'Basic realm="Login for pfSense REST API"' } : {};
    return sendJson(response, faults, 401, 'AUTH_AUTHENTICATION_FAILED', 'Authentication failed.', [], challenge);
  }
  const handler = handlers[method as Method];
  if (!handler) {
    return sendJson(response, faults, 405, 'ENDPOINT_METHOD_NOT_ALLOWED', `Resource at ${path} does not support the requested HTTP method '${method}'`, []);
  }
  const fault = takeEndpointFault(faults, method, path);
  if (fault) {
    return sendJson(response, faults, fault.status ?? 500, fault.responseId ?? 'ENDPOINT_RECEIVED_UNEXPECTED_ERROR', fault.echoBody ? `Simulated failure. Received: ${body}` : 'Simulated failure.', []);
  }
  let reply: unknown;
  try {
    const data = readRequestData(method, request.headers['content-type'], query, body);
    const control = takeControlParameters(Array.isArray(data) ? {} : data);
    const call: Call = { method, data, control, model, requestApply: parts.requestApply };
    reply = handler(call);
  } catch (error) {
    if (error instanceof ApiError) return sendJson(response, faults, error.code, error.responseId, error.message, error.data, error.headers);
    return sendJson(response, faults, 500, 'ENDPOINT_RECEIVED_UNEXPECTED_ERROR', `Unexpected error: ${(error as Error).message}`, []);
  }
  return sendJson(response, faults, 200, 'SUCCESS', '', reply);
}

export function createServer(parts: ServerParts, tls: { keyPem: string; certPem: string }): https.Server {
  return https.createServer({ key: tls.keyPem, cert: tls.certPem }, (request, response) => {
    handle(parts, request, response).catch((error: unknown) => {
      if (!response.headersSent) void sendJson(response, parts.faults, 500, 'ENDPOINT_RECEIVED_UNEXPECTED_ERROR', String((error as Error).message), []);
      else response.destroy();
    });
  });
}
