// Abuse limits of the GraphQL endpoint, applied before any resolver runs (HTTP and, through
// yoga's envelop, graphql-ws too):
//   - CSRF: a POST whose content type a browser may send cross-site without a preflight
//     (form, multipart, text/plain) or a GET must carry `x-graphql-csrf` (or an Authorization
//     header, which a page cannot add without a preflight either); CORS is off, so no other
//     origin passes a preflight;
//   - document size (tokens), depth, aliases and cost (request-cost.ts: what its fields
//     really cost, with the request's variables), each refused with QUERY_TOO_COMPLEX;
//   - the request body size is yoga's `maxRequestBodySize` (REQUEST_BODY_LIMIT_BYTES).
import { useCSRFPrevention } from '@graphql-yoga/plugin-csrf-prevention';
import { maxDepthPlugin } from '@escape.tech/graphql-armor-max-depth';
import { maxAliasesPlugin } from '@escape.tech/graphql-armor-max-aliases';
import { maxTokensPlugin } from '@escape.tech/graphql-armor-max-tokens';
import { createGraphQLError, type Plugin } from 'graphql-yoga';
import type { GraphQLError, ValidationContext } from 'graphql';
import { DEFAULT_REQUEST_COST_LIMIT, requestCostLimit } from './request-cost.js';

/** The header browsers' clients send on every GraphQL request (any non-empty value). */
export const CSRF_HEADER = 'x-graphql-csrf';
export const REQUEST_BODY_LIMIT_BYTES = 1_000_000;

/**
 * The web UI's documents reach depth 8; test/abuse-limits.test.ts checks they stay within
 * these. The cost limit is request-cost.ts's (MESHPLANE_REQUEST_COST_LIMIT).
 */
export const QUERY_LIMITS = { depth: 12, aliases: 30, tokens: 3000 } as const;

export function queryTooComplex(message: string): GraphQLError {
  return createGraphQLError(message.replace(/^Syntax Error: /, ''), { extensions: { code: 'QUERY_TOO_COMPLEX', http: { status: 400 } } });
}

// Validation rules report (instead of throw) so the client gets every problem with a code.
const report = {
  propagateOnRejection: false,
  onReject: [(context: ValidationContext | null, error: GraphQLError) => context?.reportError(queryTooComplex(error.message))],
};

function csrfPrevention(): Plugin {
  const inner = useCSRFPrevention({ requestHeaders: [CSRF_HEADER, 'authorization'] });
  return {
    onRequestParse(payload) {
      try {
        return inner.onRequestParse?.(payload);
      } catch {
        throw createGraphQLError(`Send the ${CSRF_HEADER} header (or Content-Type: application/json) with this request`, {
          extensions: { code: 'CSRF_REJECTED', http: { status: 403 } },
        });
      }
    },
  };
}

// eslint-disable-next-line @typescript-eslint/no-explicit-any
export function requestGuards({ costLimit = DEFAULT_REQUEST_COST_LIMIT }: { costLimit?: number } = {}): Plugin<any>[] {
  return [
    csrfPrevention(),
    maxTokensPlugin({ n: QUERY_LIMITS.tokens, onReject: [(_context, error) => { throw queryTooComplex(error.message); }] }),
    maxDepthPlugin({ n: QUERY_LIMITS.depth, ...report }),
    maxAliasesPlugin({ n: QUERY_LIMITS.aliases, ...report }),
    requestCostLimit(costLimit, queryTooComplex),
  ];
}
