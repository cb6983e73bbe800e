// For `load` functions: run a query fresh, or turn its failure into SvelteKit's answer
// (sign in again, 404 for something deleted, 403, 503 when the API is unreachable).
import { error, redirect } from '@sveltejs/kit';
import type { AnyVariables, TypedDocumentNode } from '@urql/core';
import { loadClient } from './client';
import { describeError } from './errors';

export async function loadQuery<D, V extends AnyVariables>(fetch: typeof globalThis.fetch, document: TypedDocumentNode<D, V>, variables: V): Promise<D> {
  const result = await loadClient(fetch).query(document, variables, { fetch, requestPolicy: 'network-only' }).toPromise();
  if (result.data) return result.data;
  const problem = describeError(result.error);
  if (problem.code === 'UNAUTHENTICATED') redirect(303, '/login');
  const status = { NOT_FOUND: 404, FORBIDDEN: 403, NETWORK: 503 }[problem.code] ?? 500;
  error(status, { message: problem.message, code: problem.code });
}

/** A page's query: reloaded by `invalidate(key)`, after the layout (which signs the visitor in) has run. */
export async function loadPageQuery<D, V extends AnyVariables>(
  event: { fetch: typeof globalThis.fetch; depends: (...keys: `${string}:${string}`[]) => void; parent: () => Promise<unknown> },
  key: `meshplane:${string}`,
  document: TypedDocumentNode<D, V>,
  variables: V,
): Promise<D> {
  event.depends(key);
  await event.parent();
  return loadQuery(event.fetch, document, variables);
}
