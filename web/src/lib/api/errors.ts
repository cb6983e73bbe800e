// Turns urql's CombinedError into what a person should read, and where: a GraphQL error
// carries `extensions.code` and a message meant for people; `details.field` (when the server
// names the input field at fault) lets a form show it beside that field.
import type { CombinedError } from '@urql/core';

export interface ApiProblem {
  message: string;
  /** UNAUTHENTICATED, FORBIDDEN, BAD_USER_INPUT, INVALID_CIDR, CONFLICT, …; NETWORK when unreachable. */
  code: string;
  field?: string;
  /** Every input field the server refused, each with its own message (one submit, all problems). */
  issues?: FieldIssue[];
}

export interface FieldIssue {
  field: string;
  message: string;
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

/**
 * The refused fields of `details.fields`: the edge's `{ path, field, message }` and the domain's
 * `{ field, message }` (several fields, or one rule about two). Other shapes (a CONFLICT's
 * column names) say no message per field: none.
 */
function issuesOf(extensions: Record<string, unknown>): FieldIssue[] | undefined {
  const fields = (extensions.details as Record<string, unknown> | undefined)?.fields;
  if (!Array.isArray(fields)) return undefined;
  const issues = fields.flatMap((entry: unknown) => {
    const { field, path, message } = (entry ?? {}) as { field?: unknown; path?: unknown; message?: unknown };
    const name = typeof field === 'string' ? field : typeof path === 'string' ? path.split('.').filter((part) => !/^\d+$/.test(part)).at(-1) : undefined;
    return name && typeof message === 'string' ? [{ field: name, message }] : [];
  });
  return issues.length > 0 ? issues : undefined;
}

export function describeError(error: CombinedError | undefined): ApiProblem {
  const first = error?.graphQLErrors[0];
  if (first) {
    const extensions = (first.extensions ?? {}) as Record<string, unknown>;
    const code = typeof extensions.code === 'string' ? extensions.code : 'ERROR';
    return { message: first.message, code, field: fieldOf(extensions), issues: issuesOf(extensions) };
  }
  if (error?.networkError) return unreachable;
  return { code: 'ERROR', message: error?.message ?? 'The server sent an empty answer.' };
}

export interface PlacedProblem {
  /** For the top of the form: problems about no field of this form. */
  top?: string;
  /**
   * Keyed by the form's field names. The API's field name at the start is dropped (the label
   * says it): a message that then reads as a predicate ("must be …") is completed with the
   * label by Field.svelte.
   */
  byField: Record<string, string>;
}

/** The message without the API's name of its field in front ("listenPort: …", "tunnelCidr must …"). */
export function withoutFieldName(field: string, message: string): string {
  for (const prefix of [`${field}: `, `${field} `]) if (message.startsWith(prefix)) return message.slice(prefix.length);
  return message;
}

/**
 * Shows each problem beside the field it is about when the form has that field, all of them at
 * once (a rule about two fields marks both); what no field of the form shows goes on top.
 */
export function placeProblem(problem: ApiProblem | undefined, fields: readonly string[]): PlacedProblem {
  if (!problem) return { byField: {} };
  const issues = problem.issues ?? (problem.field ? [{ field: problem.field, message: problem.message }] : []);
  const byField: Record<string, string> = {};
  const elsewhere: string[] = [];
  for (const { field, message } of issues) {
    if (fields.includes(field)) byField[field] = byField[field] ? `${byField[field]} ${withoutFieldName(field, message)}` : withoutFieldName(field, message);
    else elsewhere.push(/^[a-z]/.test(message) && !message.startsWith(`${field}`) ? `${field} ${message}` : message);
  }
  if (issues.length === 0) return { top: problem.message, byField };
  return { top: elsewhere.length > 0 ? elsewhere.join('; ') : undefined, byField };
}
