// Errors clients may see. Everything else is masked by graphql-yoga ("Unexpected error.")
// and logged; these carry a stable `extensions.code` and a message meant for people.
import { createGraphQLError } from 'graphql-yoga';
import { Kind, parse, visit, type ASTNode, type GraphQLError } from 'graphql';
import { DomainError } from '../domain/errors.js';

export type ErrorCode =
  | 'UNAUTHENTICATED'
  | 'FORBIDDEN'
  | 'BAD_USER_INPUT'
  | 'NOT_FOUND'
  | 'CONFLICT'
  | 'RATE_LIMITED'
  | 'QUERY_TOO_COMPLEX'
  | 'CSRF_REJECTED'
  | 'GRAPHQL_VALIDATION_FAILED'
  | 'INTERNAL_SERVER_ERROR';

export function clientError(code: string, message: string, details?: Record<string, unknown>): GraphQLError {
  return createGraphQLError(message, { extensions: { code, ...(details ? { details } : {}) } });
}

export const unauthenticated = (message = 'Sign in or send an API token to do this', details?: Record<string, unknown>) => clientError('UNAUTHENTICATED', message, details);
export const forbidden = (message: string, details?: Record<string, unknown>) => clientError('FORBIDDEN', message, details);
export const invalidInput = (message: string, details?: Record<string, unknown>) => clientError('BAD_USER_INPUT', message, details);
export const notFound = (what: string) => clientError('NOT_FOUND', `${what} not found`);
/** Too many attempts: `extensions.retryAfterSeconds` says when to try again. */
export const rateLimited = (message: string, retryAfterSeconds: number) =>
  createGraphQLError(message, { extensions: { code: 'RATE_LIMITED', retryAfterSeconds, http: { headers: { 'Retry-After': String(retryAfterSeconds) } } } });

interface InputIssue {
  path: readonly PropertyKey[];
  message: string;
  code?: string;
  params?: unknown;
}

/** The last name in an issue's path (`input.lans.0.cidr` → cidr): list indexes are skipped. */
const fieldOfPath = (path: readonly PropertyKey[]): string | undefined => path.filter((part) => typeof part === 'string' && !/^\d+$/.test(part)).at(-1) as string | undefined;

const ACRONYMS: Readonly<Record<string, string>> = { cidr: 'CIDR', cidr6: 'CIDR (IPv6)', ip: 'IP', ip6: 'IPv6', mtu: 'MTU', tls: 'TLS', ca: 'CA', api: 'API', id: 'ID', lans: 'LANs', url: 'URL' };

/** An issue's path in words for the message (`input.lans.0.cidr` → "LANs #1 CIDR", `input.listenPort` → "Listen port"). */
function pathInWords(path: readonly PropertyKey[]): string {
  const words = path
    .map(String)
    .filter((part, index) => !(index === 0 && part === 'input'))
    .flatMap((part) => (/^\d+$/.test(part) ? [`#${Number(part) + 1}`] : part.replace(/([a-z0-9])([A-Z])/g, '$1 $2').split(' ').map((word) => ACRONYMS[word.toLowerCase()] ?? word.toLowerCase())));
  const text = words.join(' ');
  return text.charAt(0).toUpperCase() + text.slice(1);
}

/**
 * The client error for input refused at the edge. When every issue comes from a rule that
 * carries an overlay code (schema/input-rules.ts: INVALID_PORT, INVALID_CIDR, ...), that code;
 * otherwise BAD_USER_INPUT. `details.field` names the field when there is exactly one, so a
 * form can show the message beside it; `details.fields` lists every issue.
 */
export function inputError(issues: readonly InputIssue[]): GraphQLError {
  const codes = new Set(issues.map((issue) => {
    const code = issue.code === 'custom' ? (issue.params as { code?: unknown } | undefined)?.code : undefined;
    return typeof code === 'string' ? code : 'BAD_USER_INPUT';
  }));
  // `field` is the input field's own name (the last step of its path), what a form keys its inputs by.
  const fields = issues.map((issue) => ({ path: issue.path.map(String).join('.'), field: fieldOfPath(issue.path), message: issue.message }));
  const fieldNames = new Set(issues.map((issue) => issue.path.at(-1)).filter((name): name is string => typeof name === 'string'));
  return clientError(codes.size === 1 ? [...codes][0]! : 'BAD_USER_INPUT', issues.map((issue) => `${pathInWords(issue.path)}: ${issue.message}`).join('; '), {
    ...(fieldNames.size === 1 ? { field: [...fieldNames][0] } : {}),
    fields,
  });
}

interface PrismaKnownError {
  code: string;
  meta?: { target?: unknown; modelName?: string; driverAdapterError?: { cause?: { constraint?: { fields?: unknown; index?: unknown } } } };
}

/** What people call a model in messages. */
const MODEL_LABELS: Record<string, string> = { Wan: 'WAN', ApiToken: 'API token', PresharedKey: 'preshared key', ServiceBinding: 'service' };

/**
 * The columns a unique constraint covers, as input fields: Prisma's engine gives `target`,
 * a driver adapter gives the constraint's fields (SQLite: `Wan.name`) or its index name
 * (PostgreSQL: `Wan_name_key`). The scoping foreign key of a compound key (`wanId` of
 * `wanId + name`) is left out: the client chose the name, not the WAN.
 */
function uniqueFields(error: PrismaKnownError): string[] {
  const constraint = error.meta?.driverAdapterError?.cause?.constraint;
  const target = error.meta?.target ?? constraint?.fields;
  let fields: string[] = Array.isArray(target) ? target.map(String) : typeof target === 'string' ? [target] : [];
  if (fields.length === 0 && typeof constraint?.index === 'string') {
    const match = /^[A-Za-z]+_(.+)_key$/.exec(constraint.index);
    if (match) fields = match[1]!.split('_');
  }
  fields = fields.map((field) => field.replace(/^"?[A-Za-z]+"?\./, '').replace(/"/g, ''));
  const chosen = fields.filter((field) => !/Id$/.test(field));
  return chosen.length > 0 ? chosen : fields;
}

function isPrismaKnownError(error: unknown): error is PrismaKnownError {
  return typeof error === 'object' && error !== null && typeof (error as { code?: unknown }).code === 'string' && /^P\d{4}$/.test((error as { code: string }).code);
}

export function isGraphQLErrorLike(error: unknown): error is { message: string; originalError?: unknown; extensions?: Record<string, unknown> } {
  return typeof error === 'object' && error !== null && (error as Error).name === 'GraphQLError';
}

/** A GraphQL error that already carries a client-facing code. */
export function hasCode(error: unknown): boolean {
  return isGraphQLErrorLike(error) && typeof error.extensions?.code === 'string';
}

function isDomainError(error: unknown): error is DomainError {
  return error instanceof DomainError || (typeof error === 'object' && error !== null && (error as Error).name === 'DomainError' && typeof (error as DomainError).code === 'string');
}

/** Turns the errors our code raises on purpose into client errors; returns null for the rest. */
export function toClientError(error: unknown): GraphQLError | null {
  // INVALID_INPUT is the domain's name for what the API calls BAD_USER_INPUT: one code for
  // "this input is refused" whichever layer noticed it.
  if (isDomainError(error)) return clientError(error.code === 'INVALID_INPUT' ? 'BAD_USER_INPUT' : error.code, error.message, error.details);
  if (isPrismaKnownError(error)) {
    if (error.code === 'P2002') {
      const names = uniqueFields(error);
      const model = error.meta?.modelName;
      const label = model ? (MODEL_LABELS[model] ?? model.toLowerCase()) : 'record';
      if (names.length === 0) return clientError('CONFLICT', `Another ${label} already has these values`);
      const fields = names.join(', ');
      return clientError('CONFLICT', `Another ${label} already uses this ${names.join(' and ')}`, { ...(names.length === 1 ? { field: names[0] } : {}), fields });
    }
    if (error.code === 'P2025') return clientError('NOT_FOUND', 'The record does not exist (it may have been deleted)');
    if (error.code === 'P2003') return clientError('CONFLICT', 'The record is still referenced by another one');
  }
  return null;
}

/**
 * Where, in the arguments, the value graphql-js could not coerce sits: for a variable error
 * (`Variable "$f" got invalid value … at "f.since"`), where the document uses the variable, then
 * the path inside it (filter.since); for a literal, the argument or input fields around the
 * value node the error points at (a scalar's parseLiteral throws with that node). Null when
 * the error says neither.
 */
export function coercedArgumentPath(error: GraphQLError): string[] | null {
  const variable = /^Variable "\$([^"]+)" got invalid value[\s\S]*? at "([^"]+)"; /.exec(error.message) ?? /^Variable "\$([^"]+)" /.exec(error.message);
  const value = error.nodes?.[0];
  const isTarget = (node: ASTNode) =>
    variable ? node.kind === Kind.VARIABLE && node.name.value === variable[1] : node.loc !== undefined && node.loc.start === value?.loc?.start && node.loc.end === value.loc.end;
  const path: string[] = [];
  let found: string[] | null = null;
  if (error.source && (variable || value?.loc)) {
    try {
      // The text, not the Source object: that may belong to another copy of the graphql module.
      visit(parse(error.source.body), {
        enter(node: ASTNode) {
          if (node.kind === Kind.ARGUMENT || node.kind === Kind.OBJECT_FIELD) path.push(node.name.value);
          if (!found && path.length && isTarget(node)) found = [...path];
        },
        leave(node: ASTNode) {
          if (node.kind === Kind.ARGUMENT || node.kind === Kind.OBJECT_FIELD) path.pop();
        },
      });
    } catch {
      found = null;
    }
  }
  if (!variable) return found;
  const inside = (variable[2]?.split('.') ?? [variable[1]!]).slice(1);
  return [...(found ?? [variable[1]!]), ...inside];
}

/**
 * A scalar's refusal (DateTime out of range) knows nothing of the argument it was in: name it
 * from graphql-js's wrapping error (`outer`), as the edge's other input errors do (`details.field`).
 */
export function namingArgument(known: GraphQLError, outer: GraphQLError): GraphQLError {
  if (known.extensions.code !== 'BAD_USER_INPUT' || (known.extensions.details as { field?: unknown } | undefined)?.field) return known;
  const path = coercedArgumentPath(outer);
  if (!path) return known;
  // graphql-js copies the scalar's extensions onto its "Variable … got invalid value" wrapper: the scalar's own message is the one for people.
  const reason = known === outer && hasCode(outer.originalError) ? (outer.originalError as GraphQLError).message : known.message;
  const named = inputError([{ path: path.filter((part) => !/^\d+$/.test(part)), message: reason }]);
  return createGraphQLError(named.message, { nodes: outer.nodes, extensions: named.extensions });
}
