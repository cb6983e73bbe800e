// A raw JSON-RPC client for the simulator's own tests: sends exactly the bytes it is told
// (one request, a batch, or text that is not JSON) and returns the reply as text and JSON.
import { Agent, request } from 'undici';

export interface RawUbusReply {
  status: number;
  headers: Record<string, string | string[] | undefined>;
  text: string;
  json: any;
}

export class UbusTestClient {
  private readonly agent: Agent;
  private nextId = 1;

  constructor(private readonly url: string, caPem: string) {
    this.agent = new Agent({ connect: { ca: caPem } });
  }

  /** POSTs `body` (a string as is, anything else as JSON) to `path` (default /ubus). */
  async post(body: unknown, path = '/ubus', headers: Record<string, string> = {}): Promise<RawUbusReply> {
    return this.send('POST', path, typeof body === 'string' ? body : JSON.stringify(body), headers);
  }

  async send(method: string, path: string, body?: string, headers: Record<string, string> = {}): Promise<RawUbusReply> {
    const reply = await request(`${this.url}${path}`, {
      method: method as 'POST',
      headers: { ...(body === undefined ? {} : { 'content-type': 'application/json' }), ...headers },
      body,
      dispatcher: this.agent,
    });
    const text = await reply.body.text();
    let json: unknown = null;
    try {
      json = JSON.parse(text);
    } catch {
      json = null;
    }
    return { status: reply.statusCode, headers: reply.headers, text, json };
  }

  /** One `call` request object with the next id. */
  request(sid: string, object: string, method: string, args: Record<string, unknown> = {}): Record<string, unknown> {
    return { jsonrpc: '2.0', id: this.nextId++, method: 'call', params: [sid, object, method, args] };
  }

  /** A call's `result` array, or its `error`. */
  async call(sid: string, object: string, method: string, args: Record<string, unknown> = {}): Promise<{ result?: [number, any?]; error?: { code: number; message: string } }> {
    return (await this.post(this.request(sid, object, method, args))).json;
  }

  /** Logs in and returns the session id (throws on a refused login). */
  async login(username: string, password: string, timeout?: number): Promise<string> {
    const reply = await this.call('00000000000000000000000000000000', 'session', 'login', { username, password, ...(timeout === undefined ? {} : { timeout }) });
    if (reply.result?.[0] !== 0) throw new Error(`login refused: ${JSON.stringify(reply)}`);
    return reply.result[1].ubus_rpc_session as string;
  }

  close(): Promise<void> {
    return this.agent.close();
  }
}
