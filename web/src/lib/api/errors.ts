// Turns urql's CombinedError into what a person should read, and where: a GraphQL error
// carries `extensions.code` and a message meant for people; `details.field` (when the server
// names the input field at fault) lets a form show it beside that field.
import type { CombinedError } from '@urql/core';

export interface ApiProblem {
  message: string;
  /** UNAUTHENTICATED, FORBIDDEN, BAD_USER_INPUT, INVALID_CIDR, CONFLICT, …; NETWORK when unreachable. */
  code: string;
  field?: string;
}

export const unreachable: ApiProblem = {
  code: 'NETWORK',
  message: 'Cannot reach the Meshplane server. Check that it is running, then try again.',
};

function fieldOf(extensions: Record<string, unknown>): string | undefined {
  const details = extensions.details as Record<string, unknown> | undefined;
  const field = details?.field ?? extensions.field;
  return typeof field === 'string' ? field : undefined;
}

export function describeError(error: CombinedError | undefined): ApiProblem {
  const first = error?.graphQLErrors[0];
  if (first) {
    const extensions = (first.extensions ?? {}) as Record<string, unknown>;
    const code = typeof extensions.code === 'string' ? extensions.code : 'ERROR';
    return { message: first.message, code, field: fieldOf(extensions) };
  }
  if (error?.networkError) return unreachable;
  return { code: 'ERROR', message: error?.message ?? 'The server sent an empty answer.' };
}
