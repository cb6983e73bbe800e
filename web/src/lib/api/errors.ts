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

export interface PlacedProblem {
  /** For the top of the form: problems about no field of this form (or about several). */
  top?: string;
  /** Keyed by the form's field names; the `field: ` prefix is dropped, the label says it. */
  byField: Record<string, string>;
}

/** Shows a problem beside the field it is about when the form has that field, else on top. */
export function placeProblem(problem: ApiProblem | undefined, fields: readonly string[]): PlacedProblem {
  if (!problem) return { byField: {} };
  const { field, message } = problem;
  if (!field || !fields.includes(field)) return { top: message, byField: {} };
  const prefix = `${field}: `;
  return { byField: { [field]: message.startsWith(prefix) ? message.slice(prefix.length) : message } };
}
