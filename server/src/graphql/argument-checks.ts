// Checks of the arguments many fields share, run before the field's resolver (and after its
// authorization): without them Pothos and Prisma throw on a negative `first`, a cursor that
// is not one of ours or a second cursor as on a bug, and the client gets INTERNAL_SERVER_ERROR.
//   - relay connections: `first`/`last` from 0 to MAX_PAGE_SIZE and not both; `after`/`before`
//     not both, `first` not with `before`, `last` not with `after`; a cursor must be one this
//     list issued: the cursors handed out name their list (the field, and the parent row of a
//     nested list: Wan.peers of one WAN) around Pothos's own (base64 of `GPC:S:<id>`), so a
//     cursor of another list is refused before anything reads it; and a page that comes back
//     empty after a cursor is refused when its row is gone (Prisma answers "nothing after it").
//     A connection with `extensions: { ownCursors: true }` (Wan.peers) issues and reads its own
//     cursors inside the list's name: they are only checked to be this list's here;
//   - every ID, in an argument or inside an input object: at most MAX_ID_LENGTH characters.
// Each refusal is BAD_USER_INPUT with `details.field` naming the argument (errors.ts inputError).
import SchemaBuilder, { BasePlugin, type PothosOutputFieldConfig, type SchemaTypes } from '@pothos/core';
import type { GraphQLFieldResolver, GraphQLInputType, GraphQLOutputType, GraphQLResolveInfo } from 'graphql';
import { clientError, inputError } from './errors.js';

/** The largest page of any connection (the WAN page lists 1,000 peers at once). */
export const MAX_PAGE_SIZE = 1000;
/** Our ids are cuids (25 characters); anything much longer is not an id of ours. */
export const MAX_ID_LENGTH = 128;

const CURSOR = /^GPC:S:[A-Za-z0-9_-]{1,128}$/;
const BASE64 = /^[A-Za-z0-9+/]+={0,2}$/;

interface Issue {
  path: string[];
  message: string;
}

function cursorId(value: string): string | null {
  if (value.length > 256 || !BASE64.test(value)) return null;
  const decoded = Buffer.from(value, 'base64').toString('utf8');
  return CURSOR.test(decoded) ? decoded.slice('GPC:S:'.length) : null;
}

/** The list a cursor belongs to: the field and, for a nested list, its parent row. */
function listOf(parent: unknown, info: GraphQLResolveInfo): string {
  const id = (parent as { id?: unknown } | null | undefined)?.id;
  return `${info.parentType.name}.${info.fieldName}${typeof id === 'string' ? `/${id}` : ''}`;
}

const ourCursor = (list: string, inner: string) => Buffer.from(`${list}|${inner}`, 'utf8').toString('base64');

const OWN_CURSOR = /^[A-Za-z0-9_-]{1,900}$/;

/** The cursor inside one of ours (Pothos's, or the field's own: base64url), if `value` is one this list handed out. */
function innerCursor(list: string, value: string, own: boolean): string | null {
  if (value.length > 1400 || !BASE64.test(value)) return null;
  const decoded = Buffer.from(value, 'base64').toString('utf8');
  if (!decoded.startsWith(`${list}|`)) return null;
  const inner = decoded.slice(list.length + 1);
  return (own ? OWN_CURSOR.test(inner) : cursorId(inner) !== null) ? inner : null;
}

/** Names the list in every cursor of a page (edges and pageInfo) Pothos built. */
function handOut(result: unknown, list: string): void {
  const page = result as { edges?: unknown; pageInfo?: { startCursor?: unknown; endCursor?: unknown } } | null;
  if (!page || !Array.isArray(page.edges)) return;
  for (const edge of page.edges as Array<{ cursor?: unknown } | null>) if (edge && typeof edge.cursor === 'string') edge.cursor = ourCursor(list, edge.cursor);
  if (typeof page.pageInfo?.startCursor === 'string') page.pageInfo.startCursor = ourCursor(list, page.pageInfo.startCursor);
  if (typeof page.pageInfo?.endCursor === 'string') page.pageInfo.endCursor = ourCursor(list, page.pageInfo.endCursor);
}

function connectionIssues(args: Record<string, unknown>, list: string, own: boolean): Issue[] {
  const issues: Issue[] = [];
  const given = (name: string) => args[name] !== undefined && args[name] !== null;
  for (const name of ['first', 'last']) {
    const value = args[name];
    if (typeof value === 'number' && (value < 0 || value > MAX_PAGE_SIZE)) issues.push({ path: [name], message: `must be from 0 to ${MAX_PAGE_SIZE}` });
  }
  for (const name of ['after', 'before']) {
    const value = args[name];
    if (typeof value === 'string' && innerCursor(list, value, own) === null) issues.push({ path: [name], message: 'is not a cursor of this list (pass an edge cursor or pageInfo.endCursor/startCursor unchanged)' });
  }
  if (given('first') && given('last')) issues.push({ path: ['last'], message: 'cannot be combined with first' });
  if (given('after') && given('before')) issues.push({ path: ['before'], message: 'cannot be combined with after' });
  else if (given('before') && given('first')) issues.push({ path: ['before'], message: 'pages backwards: use it with last, not first' });
  else if (given('after') && given('last')) issues.push({ path: ['after'], message: 'pages forwards: use it with first, not last' });
  return issues;
}

const tagOf = (type: unknown): string => (type as { [Symbol.toStringTag]?: string })[Symbol.toStringTag] ?? '';

/** Every ID in `value` (of GraphQL type `type`) that is too long, with its path. */
function idIssues(type: GraphQLInputType, value: unknown, path: string[], issues: Issue[], depth = 0): void {
  if (value === null || value === undefined || depth > 8) return;
  const tag = tagOf(type);
  if (tag === 'GraphQLNonNull') return idIssues((type as { ofType: GraphQLInputType }).ofType, value, path, issues, depth);
  if (tag === 'GraphQLList') {
    if (Array.isArray(value)) value.forEach((item, index) => idIssues((type as { ofType: GraphQLInputType }).ofType, item, [...path, String(index)], issues, depth + 1));
    return;
  }
  if (tag === 'GraphQLScalarType' && (type as { name: string }).name === 'ID') {
    if (String(value).length > MAX_ID_LENGTH) issues.push({ path, message: `must have at most ${MAX_ID_LENGTH} characters` });
    return;
  }
  if (tag === 'GraphQLInputObjectType' && typeof value === 'object') {
    const fields = (type as { getFields(): Record<string, { type: GraphQLInputType }> }).getFields();
    for (const [name, field] of Object.entries(fields)) idIssues(field.type, (value as Record<string, unknown>)[name], [...path, name], issues, depth + 1);
  }
}

/** Throws the client error for the arguments of this call, if any is refused. */
export function checkArguments(args: Record<string, unknown>, info: GraphQLResolveInfo, list: string | null, ownCursors = false): void {
  const issues = list ? connectionIssues(args, list, ownCursors) : [];
  for (const arg of info.parentType.getFields()[info.fieldName]?.args ?? []) idIssues(arg.type, args[arg.name], [arg.name], issues);
  if (!issues.length) return;
  // Several problems: all listed in details.fields, and details.field still names one (the first).
  const error = inputError(issues);
  const details = error.extensions.details as { field?: string };
  throw details.field ? error : clientError('BAD_USER_INPUT', error.message, { ...details, field: issues[0]!.path.at(-1) });
}

type Fields = { getFields(): Record<string, { type: GraphQLOutputType }> };
const unwrap = (type: unknown): unknown => ((type as { ofType?: unknown }).ofType ? unwrap((type as { ofType: unknown }).ofType) : type);

/** The Prisma model of a connection's nodes (plugin-prisma marks its object types), if any. */
function nodeModel(connection: GraphQLOutputType): string | null {
  const edge = unwrap((unwrap(connection) as Fields).getFields().edges?.type) as Fields | undefined;
  const node = unwrap(edge?.getFields().node?.type) as { extensions?: { pothosPrismaModel?: unknown } } | undefined;
  return typeof node?.extensions?.pothosPrismaModel === 'string' ? node.extensions.pothosPrismaModel : null;
}

type Delegate = { findUnique(args: { where: { id: string }; select: { id: true } }): Promise<unknown> };

/** After an empty page: refuses the (inner) cursor when no row of the list's model has its id any more. */
async function checkCursorTarget(args: Record<string, unknown>, context: unknown, info: GraphQLResolveInfo): Promise<void> {
  const name = typeof args.after === 'string' ? 'after' : typeof args.before === 'string' ? 'before' : null;
  const model = name ? nodeModel(info.returnType) : null;
  if (!name || !model) return;
  const delegate = (context as { prisma: Record<string, Delegate | undefined> }).prisma[model.charAt(0).toLowerCase() + model.slice(1)];
  if (delegate && !(await delegate.findUnique({ where: { id: cursorId(args[name] as string)! }, select: { id: true } }))) {
    throw inputError([{ path: [name], message: 'points at an entry that is gone: start again without it' }]);
  }
}

const isEmptyPage = (result: unknown) => Array.isArray((result as { edges?: unknown } | null)?.edges) && (result as { edges: unknown[] }).edges.length === 0;

const isConnection = (args: object) => ['first', 'last', 'after', 'before'].every((name) => name in args);
const ownsCursors = (config: { extensions?: Readonly<Record<string, unknown>> | null }) => config.extensions?.ownCursors === true;

export class ArgumentChecksPlugin<Types extends SchemaTypes> extends BasePlugin<Types> {
  override wrapResolve(resolver: GraphQLFieldResolver<unknown, Types['Context'], object>, fieldConfig: PothosOutputFieldConfig<Types>): GraphQLFieldResolver<unknown, Types['Context'], object> {
    if (Object.keys(fieldConfig.args).length === 0) return resolver;
    const connection = isConnection(fieldConfig.args);
    if (!connection) {
      return (parent, args, context, info) => {
        checkArguments(args as Record<string, unknown>, info, null);
        return resolver(parent, args, context, info);
      };
    }
    const own = ownsCursors(fieldConfig);
    return async (parent, args, context, info) => {
      const list = listOf(parent, info);
      const given = args as Record<string, unknown>;
      checkArguments(given, info, list, own);
      const inner = { ...given };
      for (const name of ['after', 'before']) if (typeof given[name] === 'string') inner[name] = innerCursor(list, given[name], own);
      const result: unknown = await resolver(parent, inner, context, info);
      // An own cursor is a position, not a row: an empty page after it is the end of the list.
      if (!own && isEmptyPage(result)) await checkCursorTarget(inner, context, info);
      handOut(result, list);
      return result;
    };
  }

  override wrapSubscribe(subscribe: GraphQLFieldResolver<unknown, Types['Context'], object> | undefined, fieldConfig: PothosOutputFieldConfig<Types>) {
    if (!subscribe || Object.keys(fieldConfig.args).length === 0) return subscribe;
    const connection = isConnection(fieldConfig.args);
    return (parent: unknown, args: object, context: Types['Context'], info: GraphQLResolveInfo) => {
      checkArguments(args as Record<string, unknown>, info, connection ? listOf(parent, info) : null, ownsCursors(fieldConfig));
      return subscribe(parent, args, context, info);
    };
  }
}

const pluginName = 'argumentChecks';
SchemaBuilder.registerPlugin(pluginName, ArgumentChecksPlugin);

declare global {
  // eslint-disable-next-line @typescript-eslint/no-namespace
  export namespace PothosSchemaTypes {
    export interface Plugins<Types extends SchemaTypes> {
      argumentChecks: ArgumentChecksPlugin<Types>;
    }
  }
}

export default pluginName;
