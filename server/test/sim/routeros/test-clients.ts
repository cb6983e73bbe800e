// Clients for the simulator's own tests: node-routeros (the library the driver uses) and
// a tiny undici REST helper that trusts the simulator's CA. Each returns a closer so tests
// can clean up what they open.
import { RouterOSAPI } from 'node-routeros';
import { Agent, request } from 'undici';
import type { RouterOsSimulator } from './simulator.js';

export interface NodeRouterosOptions {
  tls?: boolean;
  password?: string;
  /** Seconds; node-routeros' idle timeout. */
  timeout?: number;
}

/** A connected node-routeros client; errors are collected instead of crashing the test run. */
export async function connectNodeRouteros(sim: RouterOsSimulator, options: NodeRouterosOptions = {}) {
  const api = new RouterOSAPI({
    host: sim.host,
    port: options.tls ? sim.apiTlsPort : sim.apiPort,
    user: sim.username,
    password: options.password ?? sim.password,
    timeout: options.timeout ?? 10,
    ...(options.tls ? { tls: { ca: sim.caPem } } : {}),
  });
  const errors: unknown[] = [];
  api.on('error', (error: unknown) => errors.push(error));
  await api.connect();
  return { api, errors };
}

export interface RestResponse {
  status: number;
  /** Parsed JSON, or undefined for an empty body. */
  body: unknown;
}

export function restClient(sim: RouterOsSimulator, credentials = { username: sim.username, password: sim.password }) {
  const agent = new Agent({ connect: { ca: sim.caPem } });
  const authorization = `Basic ${Buffer.from(`${credentials.username}:${credentials.password}`).toString('base64')}`;
  async function call(method: 'GET' | 'PUT' | 'PATCH' | 'DELETE' | 'POST', path: string, body?: unknown, extra: { headersTimeout?: number; auth?: boolean } = {}): Promise<RestResponse> {
    const response = await request(`https://${sim.host}:${sim.restPort}${path}`, {
      method,
      dispatcher: agent,
      headersTimeout: extra.headersTimeout,
      headers: {
        ...(extra.auth === false ? {} : { authorization }),
        ...(body === undefined ? {} : { 'content-type': 'application/json' }),
      },
      body: body === undefined ? undefined : JSON.stringify(body),
    });
    const text = await response.body.text();
    return { status: response.statusCode, body: text === '' ? undefined : (JSON.parse(text) as unknown) };
  }
  return { call, close: () => agent.close() };
}
