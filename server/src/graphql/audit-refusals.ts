// Refused mutations reach the audit trail too. Services record what they did (outcome "ok",
// inside their transaction); a mutation refused before or inside its service (authorization,
// input validation, a domain rule, an unknown id) leaves nothing there. This plugin records
// one entry per refused root mutation field: action `mutation.<field>`, outcome "denied"
// (authentication/authorization/rate limit) or "failed", and the error code, never the
// message or the arguments (they may quote what was typed, a password in the wrong field).
// A field whose service already audits some refusals names their codes in
// `extensions.auditsRefusals` (login: wrong password, rate limit) so they are not counted twice.
// Anonymous refusals cost nothing to send, so each client address may add at most
// ANONYMOUS_REFUSALS_PER_MINUTE of them: a flood cannot grow the log without bound.
import { Kind, type DocumentNode, type GraphQLError, type GraphQLSchema, type OperationDefinitionNode } from 'graphql';
import type { Plugin } from 'graphql-yoga';
import type { Context } from './context.js';
import { hasCode, isGraphQLErrorLike, toClientError } from './errors.js';
import { recordAudit } from '../services/audit.js';
import type { Logger } from '../infra/logger.js';
import { RateLimiterMemory } from 'rate-limiter-flexible';

export const ANONYMOUS_REFUSALS_PER_MINUTE = 60;

const DENIED = new Set(['UNAUTHENTICATED', 'FORBIDDEN', 'RATE_LIMITED', 'CSRF_REJECTED']);

/** The code a client sees for this error (the same walk as the masking in yoga.ts). */
export function clientCodeOf(error: unknown): string {
  for (let cause: unknown = error, depth = 0; cause && depth < 5; cause = (cause as { originalError?: unknown }).originalError, depth++) {
    const known = toClientError(cause);
    if (known) return String(known.extensions.code);
    if (hasCode(cause)) return String((cause as GraphQLError).extensions.code);
  }
  if (isGraphQLErrorLike(error) && !(error as GraphQLError).path) return /^Variable "\$/.test((error as GraphQLError).message) ? 'BAD_USER_INPUT' : 'GRAPHQL_VALIDATION_FAILED';
  return 'INTERNAL_SERVER_ERROR';
}

function operationOf(document: DocumentNode, name: string | null | undefined): OperationDefinitionNode | undefined {
  const operations = document.definitions.filter((definition): definition is OperationDefinitionNode => definition.kind === Kind.OPERATION_DEFINITION);
  return name ? operations.find((operation) => operation.name?.value === name) : operations.length === 1 ? operations[0] : undefined;
}

function ownRefusals(schema: GraphQLSchema, field: string): string[] {
  const declared = schema.getMutationType()?.getFields()[field]?.extensions?.auditsRefusals;
  return Array.isArray(declared) ? declared.map(String) : [];
}

function fieldPaths(error: GraphQLError): string[] {
  const fields = (error.extensions?.details as { fields?: Array<{ path?: unknown }> } | undefined)?.fields;
  return Array.isArray(fields) ? fields.map((entry) => String(entry.path ?? '')).filter(Boolean) : [];
}

export function auditRefusedMutations(log: Logger): Plugin<Context> {
  const anonymousBudget = new RateLimiterMemory({ points: ANONYMOUS_REFUSALS_PER_MINUTE, duration: 60 });
  const withinBudget = (context: Context, entries: number): Promise<boolean> =>
    context.identity ? Promise.resolve(true) : anonymousBudget.consume(context.clientAddress, entries).then(() => true, () => false);
  return {
    onExecute({ args }) {
      const operation = operationOf(args.document, args.operationName);
      if (operation?.operation !== 'mutation') return undefined;
      const fields = operation.selectionSet.selections.flatMap((selection) =>
        selection.kind === Kind.FIELD ? [{ key: selection.alias?.value ?? selection.name.value, name: selection.name.value }] : []);
      const context = args.contextValue as Context;
      return {
        onExecuteDone({ result }) {
          if (!('errors' in result) || !result.errors?.length) return;
          const errors = result.errors;
          const entries = fields.flatMap(({ key, name }) => {
            // An error without a path (variables that do not coerce) refuses every field.
            const own = errors.filter((error) => !error.path || error.path[0] === key);
            if (own.length === 0) return [];
            const codes = [...new Set(own.map(clientCodeOf))];
            const audited = ownRefusals(args.schema, name);
            if (codes.every((code) => audited.includes(code))) return [];
            const outcome: 'denied' | 'failed' = codes.some((code) => DENIED.has(code)) ? 'denied' : 'failed';
            const paths = [...new Set(own.flatMap(fieldPaths))];
            return [{ action: `mutation.${name}`, outcome, details: { codes, ...(paths.length ? { fields: paths } : {}), clientAddress: context.clientAddress } }];
          });
          if (entries.length === 0) return;
          // Written before the response goes out, so a client that reads the log next sees it.
          return withinBudget(context, entries.length).then((allowed) => (allowed ? Promise.all(entries.map((entry) => recordAudit(context.prisma, context.identity, entry))) : [])).then(
            () => undefined,
            (error: unknown) => log.error({ err: error }, 'could not audit a refused mutation'),
          );
        },
      };
    },
  };
}
