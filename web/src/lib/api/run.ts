// One mutation (or network-only query) from a component: the data, or what went wrong.
import type { AnyVariables, CombinedError, TypedDocumentNode } from '@urql/core';
import { browserClient } from './client';
import { describeError, type ApiProblem } from './errors';

export type Outcome<D> = { data: D; problem?: undefined } | { data?: undefined; problem: ApiProblem };

/**
 * Any error wins over data: a nullable field that failed comes back as `null` beside its
 * error (peerStatistics on an unreachable device is `null` + DEVICE_UNREACHABLE), and that
 * null must not be read as an answer ("no statistics").
 */
function outcome<D>(result: { data?: D | null; error?: CombinedError }): Outcome<D> {
  return result.data && !result.error ? { data: result.data } : { problem: describeError(result.error) };
}

export async function mutate<D, V extends AnyVariables>(document: TypedDocumentNode<D, V>, variables: V): Promise<Outcome<D>> {
  return outcome(await browserClient().mutation(document, variables).toPromise());
}

export async function fetchFresh<D, V extends AnyVariables>(document: TypedDocumentNode<D, V>, variables: V): Promise<Outcome<D>> {
  return outcome(await browserClient().query(document, variables, { requestPolicy: 'network-only' }).toPromise());
}

/** A mutation whose success only needs the page's data reloaded: the problem's message, or undefined once reloaded. */
export async function mutateThen<D, V extends AnyVariables>(document: TypedDocumentNode<D, V>, variables: V, reload: () => Promise<unknown>): Promise<string | undefined> {
  const outcome = await mutate(document, variables);
  if (outcome.problem) return outcome.problem.message;
  await reload();
  return undefined;
}
