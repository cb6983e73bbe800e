// A minimal GraphQL client for tests: HTTP with a cookie jar or a Bearer token, and graphql-ws.
import { createClient, type Client } from 'graphql-ws';
import WebSocket from 'ws';

export interface GraphQLResult<T = Record<string, unknown>> {
  data?: T | null;
  errors?: Array<{ message: string; path?: string[]; extensions?: { code?: string; [key: string]: unknown } }>;
}

export class GraphQLTestClient {
  /** Cookies the server set (name -> "name=value"), sent back like a browser's jar. */
  private readonly cookies = new Map<string, string>();
  constructor(
    readonly url: string,
    private token: string | null = null,
  ) {}

  withToken(token: string): GraphQLTestClient {
    return new GraphQLTestClient(this.url, token);
  }

  /** The "mp_session=…" pair, usable as a Cookie header, or null when signed out. */
  get sessionCookie(): string | null {
    return this.cookies.get('mp_session') ?? null;
  }

  /** The "mp_device=…" pair (a known device for the account it signed in to), or null. */
  get deviceCookie(): string | null {
    return this.cookies.get('mp_device') ?? null;
  }

  async request<T = Record<string, unknown>>(query: string, variables: Record<string, unknown> = {}): Promise<GraphQLResult<T>> {
    const headers: Record<string, string> = { 'content-type': 'application/json' };
    if (this.token) headers.authorization = `Bearer ${this.token}`;
    if (this.cookies.size) headers.cookie = [...this.cookies.values()].join('; ');
    const response = await fetch(this.url, { method: 'POST', headers, body: JSON.stringify({ query, variables }) });
    for (const setCookie of response.headers.getSetCookie()) {
      const [pair] = setCookie.split(';');
      const name = pair?.split('=')[0];
      if (!pair || !name) continue;
      if (/=$/.test(pair) || /Max-Age=0/.test(setCookie)) this.cookies.delete(name);
      else this.cookies.set(name, pair);
    }
    return (await response.json()) as GraphQLResult<T>;
  }

  /** Like request, but fails the test with the errors when there are any. */
  async ok<T = Record<string, unknown>>(query: string, variables: Record<string, unknown> = {}): Promise<T> {
    const result = await this.request<T>(query, variables);
    if (result.errors?.length) throw new Error(`GraphQL errors: ${JSON.stringify(result.errors)}`);
    return result.data as T;
  }

  /** Error codes of a request that is expected to fail. */
  async errorCodes(query: string, variables: Record<string, unknown> = {}): Promise<string[]> {
    const result = await this.request(query, variables);
    return (result.errors ?? []).map((error) => String(error.extensions?.code));
  }

  ws(connectionParams?: Record<string, unknown>): Client {
    return createClient({
      url: this.url.replace(/^http/, 'ws'),
      webSocketImpl: WebSocket,
      connectionParams: connectionParams ?? (this.token ? { authorization: `Bearer ${this.token}` } : undefined),
      retryAttempts: 0,
      lazy: true,
    });
  }
}

/** A graphql-ws client whose handshake carries the given headers (as a browser's would). */
export function wsClient(url: string, headers: Record<string, string>, connectionParams?: Record<string, unknown>): Client {
  class HeaderSocket extends WebSocket {
    constructor(address: string, protocols?: string | string[]) {
      super(address, protocols, { headers });
    }
  }
  return createClient({ url: url.replace(/^http/, 'ws'), webSocketImpl: HeaderSocket, retryAttempts: 0, lazy: true, ...(connectionParams ? { connectionParams } : {}) });
}

/** Signs up the first user (admin) and returns a client holding its session cookie. */
export async function registerAdmin(url: string, email = 'admin@example.net'): Promise<GraphQLTestClient> {
  const client = new GraphQLTestClient(url);
  await client.ok(`mutation ($input: RegisterInput!) { register(input: $input) { user { id } } }`, {
    input: { email, name: 'Admin', password: 'correct horse battery staple' },
  });
  return client;
}
