// A raw HTTPS client for the simulator's own tests: sends exactly what it is told
// (headers, query string, body), so tests can exercise the API's pitfalls directly.
import { Agent, request } from 'undici';
import type { PfSenseSimulator } from './index.js';

export interface RawReply {
  status: number;
  headers: Record<string, string | string[] | undefined>;
  text: string;
  /** How many pieces the body arrived in (the fragmentOutput fault makes it many). */
  chunks: number;
  json: { code: number; status: string; response_id: string; message: string; data: any } | null;
}

export interface RawRequest {
  method?: string;
  query?: string;
  body?: unknown;
  contentType?: string | null;
  auth?: 'basic' | 'key' | 'none' | { user: string; pass: string } | { key: string };
}

export class RawClient {
  private readonly agent: Agent;

  constructor(private readonly sim: PfSenseSimulator) {
    this.agent = new Agent({ connect: { ca: sim.caPem } });
  }

  async send(path: string, options: RawRequest = {}): Promise<RawReply> {
    const headers: Record<string, string> = {};
    const auth = options.auth ?? 'basic';
    if (auth === 'basic') headers.authorization = `Basic ${Buffer.from(`${this.sim.username}:${this.sim.password}`).toString('base64')}`;
    else if (auth === 'key') headers['x-api-key'] = this.sim.apiKey;
    else if (typeof auth === 'object' && 'key' in auth) headers['x-api-key'] = auth.key;
    else if (typeof auth === 'object') headers.authorization = `Basic ${Buffer.from(`${auth.user}:${auth.pass}`).toString('base64')}`;
    let body: string | undefined;
    if (options.body !== undefined) {
      body = typeof options.body === 'string' ? options.body : JSON.stringify(options.body);
      headers['content-type'] = 'application/json';
    }
    if (options.contentType !== undefined) {
      if (options.contentType === null) delete headers['content-type'];
      else headers['content-type'] = options.contentType;
    }
    const url = `${this.sim.url}${path}${options.query ? `?${options.query}` : ''}`;
    const reply = await request(url, { method: (options.method ?? 'GET') as 'GET', headers, body, dispatcher: this.agent });
    const pieces: Buffer[] = [];
    for await (const piece of reply.body) pieces.push(piece as Buffer);
    const text = Buffer.concat(pieces).toString('utf8');
    let json: RawReply['json'] = null;
    try {
      json = JSON.parse(text);
    } catch {
      json = null;
    }
    return { status: reply.statusCode, headers: reply.headers, text, chunks: pieces.length, json };
  }

  close(): Promise<void> {
    return this.agent.close();
  }
}
