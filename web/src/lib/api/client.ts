// The one transport to the Meshplane API: urql over fetch for queries and mutations, and
// graphql-ws on the same /graphql path for subscriptions. The session is the httpOnly
// `mp_session` cookie, sent by the browser to the same origin (and on the WS upgrade).
import { Client, cacheExchange, fetchExchange, subscriptionExchange, type Exchange } from '@urql/core';
import { createClient as createWsClient, type Client as WsClient } from 'graphql-ws';
import { browser } from '$app/environment';
import { goto } from '$app/navigation';

export const GRAPHQL_PATH = '/graphql';

export interface ApiClientOptions {
  /** Endpoint; relative to the page (or to the server request when `fetch` is SvelteKit's). */
  url?: string;
  /** SvelteKit's `fetch` in loads and hooks, so server rendering forwards the session cookie. */
  fetch?: typeof globalThis.fetch;
  /** A graphql-ws connection for subscriptions (browser only). Opened lazily, on the first subscription. */
  ws?: WsClient;
}

export function createApiClient({ url = GRAPHQL_PATH, fetch, ws }: ApiClientOptions = {}): Client {
  const exchanges: Exchange[] = [cacheExchange, fetchExchange];
  if (ws) {
    exchanges.push(
      subscriptionExchange({
        forwardSubscription: (request) => ({
          subscribe: (sink) => ({ unsubscribe: ws.subscribe({ ...request, query: request.query ?? '' }, sink) }),
        }),
      }),
    );
  }
  return new Client({ url, fetch, exchanges, fetchOptions: { credentials: 'include', headers: { 'x-graphql-csrf': '1' } }, preferGetMethod: false });
}

function webSocketUrl(path: string): string {
  const url = new URL(path, location.href);
  url.protocol = url.protocol === 'https:' ? 'wss:' : 'ws:';
  return url.href;
}

let shared: { client: Client; ws: WsClient } | undefined;

/**
 * The server closes a socket with 4403 when the credentials it was opened with stop counting:
 * the session was revoked or signed out (elsewhere too), the user disabled, or their role
 * changed. Retrying would only be refused again.
 */
const CLOSE_FORBIDDEN = 4403;
const closeCode = (event: unknown) => (event && typeof event === 'object' && 'code' in event && typeof event.code === 'number' ? event.code : undefined);

/**
 * Live updates would silently stop: drop this client and go through /login, which says why
 * (`ended`) when the visitor is signed out, and sends them straight back (`next`) when the
 * session still counts (a changed role), with the page loaded afresh under the new rights.
 */
async function accessEnded(ws: WsClient, event: unknown) {
  if (shared?.ws !== ws) return; // already dropped: signing out or in on this page
  const reason = event && typeof event === 'object' && 'reason' in event && typeof event.reason === 'string' ? event.reason : '';
  const query = new URLSearchParams({ ended: reason.replace(/^Forbidden:\s*/, ''), next: location.pathname + location.search });
  await resetBrowserClient();
  await goto(`/login?${query}`, { invalidateAll: true });
}

/** The browser's client, shared by every page so its cache and WebSocket are too. */
export function browserClient(): Client {
  if (!browser) throw new Error('browserClient() runs in the browser only; pass SvelteKit’s fetch to createApiClient on the server');
  if (!shared) {
    const ws: WsClient = createWsClient({
      url: webSocketUrl(GRAPHQL_PATH),
      lazy: true,
      retryAttempts: 5,
      // graphql-ws retries closes (4403 included) by default; a forbidden socket stays closed.
      shouldRetry: (event) => closeCode(event) !== undefined && closeCode(event) !== CLOSE_FORBIDDEN,
      on: {
        closed: (event) => {
          if (closeCode(event) === CLOSE_FORBIDDEN) void accessEnded(ws, event);
        },
      },
    });
    shared = { ws, client: createApiClient({ ws }) };
  }
  return shared.client;
}

/** Before signing out, after signing in: drop the cache and the WebSocket, which belong to the previous session. */
export async function resetBrowserClient(): Promise<void> {
  const old = shared;
  shared = undefined;
  await old?.ws.dispose();
}

/** For universal `load` functions: a per-request client on the server, the shared one in the browser. */
export function loadClient(fetch: typeof globalThis.fetch): Client {
  return browser ? browserClient() : createApiClient({ fetch });
}
