// Every request: who is signed in (the `me` query with the request's session cookie) goes on
// `locals`, and SvelteKit's `fetch` to /graphql reaches the GraphQL API of this same process.
import type { Handle, HandleFetch, RequestEvent } from '@sveltejs/kit';
import { createApiClient, GRAPHQL_PATH } from '$lib/api/client';
import { meQuery } from '$lib/graphql/session';

export const handle: Handle = async ({ event, resolve }) => {
  const { data } = await createApiClient({ fetch: event.fetch }).query(meQuery, {}).toPromise();
  // An unreachable API counts as signed out: /login then says what is wrong.
  event.locals.user = data?.me ?? null;
  // urql reads content-type from responses that server rendering replays in the browser.
  return resolve(event, { filterSerializedResponseHeaders: (name) => name === 'content-type' });
};

/**
 * Where this process's GraphQL endpoint listens. In production the Meshplane server mounts
 * this app and serves /graphql itself, so the socket the request came in on leads back to it
 * (whatever Host header or proxy sits in front). Under `vite dev`, the dev server's /graphql
 * proxy (vite.config.ts) forwards to the API.
 */
function apiOrigin(event: RequestEvent): string {
  const socket = event.platform?.req?.socket;
  if (socket?.localAddress && socket.localPort) {
    const host = socket.localAddress.includes(':') ? `[${socket.localAddress}]` : socket.localAddress;
    return `http://${host}:${socket.localPort}`;
  }
  return event.url.origin;
}

export const handleFetch: HandleFetch = async ({ event, request, fetch }) => {
  const url = new URL(request.url);
  if (url.origin !== event.url.origin || url.pathname !== GRAPHQL_PATH) return fetch(request);
  // SvelteKit would route a same-origin fetch to its own pages; send it over HTTP to the API.
  const headers = new Headers(request.headers);
  const cookie = event.request.headers.get('cookie');
  if (cookie) headers.set('cookie', cookie);
  const body = request.method === 'GET' || request.method === 'HEAD' ? undefined : await request.arrayBuffer();
  return globalThis.fetch(new Request(`${apiOrigin(event)}${GRAPHQL_PATH}${url.search}`, { method: request.method, headers, body, signal: request.signal }));
};
