// One mutation (or network-only query) from a component: the data, or what went wrong.
import type { AnyVariables, TypedDocumentNode } from '@urql/core';
import { browserClient } from './client';
import { describeError, type ApiProblem } from './errors';

export type Outcome<D> = { data: D; problem?: undefined } | { data?: undefined; problem: ApiProblem };

export async function mutate<D, V extends AnyVariables>(document: TypedDocumentNode<D, V>, variables: V): Promise<Outcome<D>> {
  const result = await browserClient().mutation(document, variables).toPromise();
  return result.data ? { data: result.data } : { problem: describeError(result.error) };
}

export async function fetchFresh<D, V extends AnyVariables>(document: TypedDocumentNode<D, V>, variables: V): Promise<Outcome<D>> {
  const result = await browserClient().query(document, variables, { requestPolicy: 'network-only' }).toPromise();
  return result.data ? { data: result.data } : { problem: describeError(result.error) };
}

/** A mutation whose success only needs the page's data reloaded: the problem's message, or undefined once reloaded. */
export async function mutateThen<D, V extends AnyVariables>(document: TypedDocumentNode<D, V>, variables: V, reload: () => Promise<unknown>): Promise<string | undefined> {
  const outcome = await mutate(document, variables);
  if (outcome.problem) return outcome.problem.message;
  await reload();
  return undefined;
}
