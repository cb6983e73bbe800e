// Reads the built Pothos schema for the hardening tests: every mutation with its declared
// auth scope, minimal valid-shaped arguments generated from the input types, documents that
// call a field with those arguments, and the output fields that carry secrets.
import type {
  GraphQLArgument,
  GraphQLEnumType,
  GraphQLField,
  GraphQLInputObjectType,
  GraphQLInputType,
  GraphQLList,
  GraphQLNamedType,
  GraphQLNonNull,
  GraphQLObjectType,
  GraphQLOutputType,
  GraphQLScalarType,
  GraphQLSchema,
  GraphQLType,
} from 'graphql';
import { schema } from '../../src/graphql/schema/index.js';

// The server's schema comes from graphql's ESM build, a test file's `graphql` import may be the
// CommonJS one: instanceof-based predicates would throw, so these look at the tag instead.
const tagOf = (type: unknown): string => (type as { [Symbol.toStringTag]?: string } | null)?.[Symbol.toStringTag] ?? '';
export const isNonNullType = (type: unknown): type is GraphQLNonNull<GraphQLType> => tagOf(type) === 'GraphQLNonNull';
export const isListType = (type: unknown): type is GraphQLList<GraphQLType> => tagOf(type) === 'GraphQLList';
export const isEnumType = (type: unknown): type is GraphQLEnumType => tagOf(type) === 'GraphQLEnumType';
export const isScalarType = (type: unknown): type is GraphQLScalarType => tagOf(type) === 'GraphQLScalarType';
export const isObjectType = (type: unknown): type is GraphQLObjectType => tagOf(type) === 'GraphQLObjectType';
export const isInputObjectType = (type: unknown): type is GraphQLInputObjectType => tagOf(type) === 'GraphQLInputObjectType';
const isCompositeType = (type: unknown): boolean => ['GraphQLObjectType', 'GraphQLInterfaceType', 'GraphQLUnionType'].includes(tagOf(type));
export function getNamedType(type: GraphQLType): GraphQLNamedType {
  let inner: GraphQLType = type;
  while (isNonNullType(inner) || isListType(inner)) inner = inner.ofType;
  return inner as GraphQLNamedType;
}

export { schema };

export type Role = 'SELF_SERVICE' | 'VIEWER' | 'OPERATOR' | 'ADMIN';
export const ROLES: Role[] = ['SELF_SERVICE', 'VIEWER', 'OPERATOR', 'ADMIN'];
const RANK: Record<Role, number> = { SELF_SERVICE: 0, VIEWER: 1, OPERATOR: 2, ADMIN: 3 };

/** What a field declares through scope-auth: no identity needed, any identity, or at least a role. */
export type DeclaredScope = { kind: 'public' } | { kind: 'authenticated' } | { kind: 'role'; role: Role } | { kind: 'undeclared'; raw: unknown };

export function declaredScope(field: GraphQLField<unknown, unknown>): DeclaredScope {
  const raw = (field.extensions as { pothosOptions?: { authScopes?: unknown } }).pothosOptions?.authScopes;
  if (raw && typeof raw === 'object' && !Array.isArray(raw)) {
    const keys = Object.keys(raw);
    const scopes = raw as Record<string, unknown>;
    if (keys.length === 1 && scopes.public === true) return { kind: 'public' };
    if (keys.length === 1 && scopes.authenticated === true) return { kind: 'authenticated' };
    if (keys.length === 1 && typeof scopes.role === 'string' && scopes.role in RANK) return { kind: 'role', role: scopes.role as Role };
  }
  return { kind: 'undeclared', raw };
}

/** Whether a caller (null: anonymous) passes the scope. */
export function allows(scope: DeclaredScope, caller: Role | null): boolean {
  switch (scope.kind) {
    case 'public':
      return true;
    case 'authenticated':
      return caller !== null;
    case 'role':
      return caller !== null && RANK[caller] >= RANK[scope.role];
    default:
      return false;
  }
}

export function mutationFields(): Array<GraphQLField<unknown, unknown>> {
  const mutation = schema.getMutationType();
  if (!mutation) throw new Error('the schema has no Mutation type');
  return Object.values(mutation.getFields()).sort((a, b) => a.name.localeCompare(b.name));
}

export const UNKNOWN_ID = 'hardening-unknown-id';

/** A minimal value of the right shape: required input fields only, the first enum value, "x" for strings. */
export function minimalValue(type: GraphQLInputType): unknown {
  if (isNonNullType(type)) return minimalValue(type.ofType as GraphQLInputType);
  if (isListType(type)) return [minimalValue(type.ofType as GraphQLInputType)];
  if (isEnumType(type)) return type.getValues()[0]!.name;
  if (isInputObjectType(type)) {
    const value: Record<string, unknown> = {};
    for (const field of Object.values(type.getFields())) {
      if (isNonNullType(field.type) && field.defaultValue === undefined) value[field.name] = minimalValue(field.type);
    }
    return value;
  }
  if (isScalarType(type)) {
    switch (type.name) {
      case 'ID':
        return UNKNOWN_ID;
      case 'String':
        return 'x';
      case 'Int':
      case 'Float':
        return 1;
      case 'Boolean':
        return false;
      case 'DateTime':
        return new Date(0).toISOString();
      default:
        throw new Error(`no minimal value for scalar ${type.name}: teach schema-walk.ts`);
    }
  }
  throw new Error(`no minimal value for ${String(type)}`);
}

export function minimalArgs(field: GraphQLField<unknown, unknown>): Record<string, unknown> {
  return Object.fromEntries(field.args.filter((arg) => isNonNullType(arg.type)).map((arg) => [arg.name, minimalValue(arg.type)]));
}

/** The cheapest selection that makes a field valid to query: `{ __typename }` for objects. */
export function minimalSelection(type: GraphQLOutputType): string {
  const named = getNamedType(type);
  return isCompositeType(named) ? ' { __typename }' : '';
}

/** `mutation ($a: T!, …) { field(a: $a, …) { __typename } }` over the given variables' names. */
export function documentFor(operation: 'query' | 'mutation', field: GraphQLField<unknown, unknown>, args: Record<string, unknown>, selection = minimalSelection(field.type)): string {
  const used = field.args.filter((arg: GraphQLArgument) => arg.name in args);
  const definitions = used.map((arg) => `$${arg.name}: ${String(arg.type)}`).join(', ');
  const call = used.map((arg) => `${arg.name}: $${arg.name}`).join(', ');
  return `${operation}${definitions ? ` (${definitions})` : ''} { ${field.name}${call ? `(${call})` : ''}${selection} }`;
}

/** Output fields that carry a secret: keys, passwords, tokens, rendered configs (String-typed, by name). */
const SECRET_NAME = /private|preshared|secret|password|token|apikey|content|qr/i;

export function secretBearingFields(target: GraphQLSchema = schema): string[] {
  const found: string[] = [];
  for (const type of Object.values(target.getTypeMap())) {
    if (!isObjectType(type) || type.name.startsWith('__')) continue;
    for (const field of Object.values(type.getFields())) {
      const named = getNamedType(field.type);
      if (SECRET_NAME.test(field.name) && isScalarType(named) && named.name === 'String') found.push(`${type.name}.${field.name}`);
    }
  }
  return found.sort();
}

/**
 * Every root field (Query/Mutation/Subscription) from which `typeName` can be reached through
 * object fields, with the path taken (first found, breadth first).
 */
export function rootFieldsReaching(typeName: string, target: GraphQLSchema = schema): Array<{ root: GraphQLField<unknown, unknown>; rootType: string; path: string[] }> {
  const roots = [target.getQueryType(), target.getMutationType(), target.getSubscriptionType()].filter((type): type is GraphQLObjectType => Boolean(type));
  const found: Array<{ root: GraphQLField<unknown, unknown>; rootType: string; path: string[] }> = [];
  for (const rootType of roots) {
    for (const root of Object.values(rootType.getFields())) {
      const start = getNamedType(root.type);
      const queue: Array<{ type: GraphQLNamedType; path: string[] }> = [{ type: start, path: [root.name] }];
      const seen = new Set<string>([start.name]);
      while (queue.length) {
        const { type, path } = queue.shift()!;
        if (type.name === typeName) {
          found.push({ root, rootType: rootType.name, path });
          break;
        }
        if (!isObjectType(type)) continue;
        for (const field of Object.values(type.getFields())) {
          const next = getNamedType(field.type);
          if (seen.has(next.name)) continue;
          seen.add(next.name);
          queue.push({ type: next, path: [...path, field.name] });
        }
      }
    }
  }
  return found;
}

/**
 * A selection of every field of `type`, entering each object type once (breadth of the whole
 * reachable graph, depth bounded by the schema's types), with required arguments filled by `argFor`.
 */
export function fullSelection(type: GraphQLOutputType, argFor: (field: GraphQLField<unknown, unknown>, arg: GraphQLArgument) => unknown, visited = new Set<string>()): string {
  const named = getNamedType(type);
  if (!isObjectType(named)) return '';
  visited.add(named.name);
  const parts: string[] = [];
  for (const field of Object.values(named.getFields())) {
    const inner = getNamedType(field.type);
    const required = field.args.filter((arg) => isNonNullType(arg.type));
    const literal = (arg: GraphQLArgument) => (isEnumType(getNamedType(arg.type)) ? String(argFor(field, arg)) : JSON.stringify(argFor(field, arg)));
    const args = required.length ? `(${required.map((arg) => `${arg.name}: ${literal(arg)}`).join(', ')})` : '';
    if (isObjectType(inner)) {
      if (visited.has(inner.name)) continue;
      const sub = fullSelection(field.type, argFor, visited);
      if (sub) parts.push(`${field.name}${args}${sub}`);
    } else {
      parts.push(`${field.name}${args}`);
    }
  }
  return parts.length ? ` { ${parts.join(' ')} }` : '';
}
