// A raw HTTPS client for the simulator's own tests: sends exactly what it is told (method,
// headers, body bytes), so tests can exercise the API's pitfalls directly.
import { Agent, request } from 'undici';
import type { OpnSenseSimulator } from './index.js';

export interface RawReply {
  status: number;
  headers: Record<string, string | string[] | undefined>;
  text: string;
  /** How many pieces the body arrived in (the fragmentOutput fault makes it many). */
  chunks: number;
  json: any;
}

export interface RawRequest {
  method?: 'GET' | 'POST';
  /** An object is sent as JSON with Content-Type application/json; a string as is. */
  body?: unknown;
  /** Overrides the content type (null: none). */
  contentType?: string | null;
  auth?: 'key' | 'none' | { key: string; secret: string };
}

export class RawClient {
  private readonly agent: Agent;

  constructor(private readonly sim: OpnSenseSimulator) {
    this.agent = new Agent({ connect: { ca: sim.caPem } });
  }

  async send(path: string, options: RawRequest = {}): Promise<RawReply> {
    const headers: Record<string, string> = { accept: 'application/json' };
    const auth = options.auth ?? 'key';
    const pair = auth === 'key' ? { key: this.sim.key, secret: this.sim.secret } : auth === 'none' ? null : auth;
    if (pair) headers.authorization = `Basic ${Buffer.from(`${pair.key}:${pair.secret}`).toString('base64')}`;
    let body: string | undefined;
    if (options.body !== undefined) {
      body = typeof options.body === 'string' ? options.body : JSON.stringify(options.body);
      headers['content-type'] = 'application/json';
    }
    if (options.contentType === null) delete headers['content-type'];
    else if (options.contentType !== undefined) headers['content-type'] = options.contentType;
    const method = options.method ?? (body === undefined ? 'GET' : 'POST');
    const reply = await request(`${this.sim.url}${path}`, { method, headers, body, dispatcher: this.agent });
    const pieces: Buffer[] = [];
    for await (const piece of reply.body) pieces.push(piece as Buffer);
    const text = Buffer.concat(pieces).toString('utf8');
    let json: unknown = null;
    try {
      json = JSON.parse(text);
    } catch {
      json = null;
    }
    return { status: reply.statusCode, headers: reply.headers, text, chunks: pieces.length, json };
  }

  /** POST with a JSON body (`{}` when none), as the reference's worked example does. */
  post(path: string, body: unknown = {}): Promise<RawReply> {
    return this.send(path, { method: 'POST', body });
  }

  get(path: string): Promise<RawReply> {
    return this.send(path);
  }

  close(): Promise<void> {
    return this.agent.close();
  }
}
