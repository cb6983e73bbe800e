// The one typed Pothos builder. It defines no types itself: those live in schema/.
import SchemaBuilder from '@pothos/core';
import PrismaPlugin from '@pothos/plugin-prisma';
import RelayPlugin from '@pothos/plugin-relay';
import ScopeAuthPlugin from '@pothos/plugin-scope-auth';
import ZodPlugin from '@pothos/plugin-zod';
import { z } from 'zod';
import { Kind } from 'graphql';
import { createGraphQLError } from 'graphql-yoga';
import ArgumentChecksPlugin, { MAX_PAGE_SIZE } from './argument-checks.js';
import type PrismaTypes from '../generated/pothos-types.js';
import { getDatamodel } from '../generated/pothos-types.js';
import type { Role } from '../generated/prisma/enums.js';
import type { Context } from './context.js';
import { hasRole } from '../services/auth/roles.js';
import { forbidden, unauthenticated, inputError, invalidInput } from './errors.js';

export const builder = new SchemaBuilder<{
  Context: Context;
  PrismaTypes: PrismaTypes;
  DefaultFieldNullability: false;
  DefaultInputFieldRequiredness: false;
  AuthScopes: { public: boolean; authenticated: boolean; role: Role };
  Scalars: {
    DateTime: { Input: Date; Output: Date };
  };
}>({
  // Scope auth first: a caller who may not use a field learns that before anything about its arguments.
  plugins: [ScopeAuthPlugin, PrismaPlugin, RelayPlugin, ZodPlugin, ArgumentChecksPlugin],
  defaultFieldNullability: false,
  prisma: {
    client: (ctx) => ctx.prisma,
    dmmf: getDatamodel(),
    exposeDescriptions: true,
    filterConnectionTotalCount: true,
    // One page size for every connection, the one argument-checks.ts refuses above.
    maxConnectionSize: MAX_PAGE_SIZE,
  },
  relay: {
    clientMutationId: 'omit',
    cursorType: 'String',
  },
  scopeAuth: {
    // `public: true` says on purpose that a field needs no identity (sign-in, registration):
    // test/hardening/authz-matrix.test.ts fails for a mutation that declares no scope at all.
    // A subscription's scope is checked when it starts, not only on each event: otherwise a
    // caller below its role (a self-service user) could start it, learn from its first answer
    // whether a WAN exists, and hold it open.
    authorizeOnSubscribe: true,
    authScopes: (ctx) => ({
      public: true,
      authenticated: ctx.identity !== null,
      role: (required: Role) => ctx.identity !== null && hasRole(ctx.identity.user.role, required),
    }),
    // `extensions.details.field` marks a refusal by the authorization layer (not by a service).
    unauthorizedError: (_parent, ctx, info, result) => {
      const field = `${info.parentType.name}.${info.fieldName}`;
      if (!ctx.identity) return unauthenticated(undefined, { field });
      return forbidden(`${result.message}: your role ${ctx.identity.user.role} may not use ${field}`, { field });
    },
  },
  zod: {
    validationError: (error) => inputError(error.issues),
  },
});

/** ISO-8601 with a time zone (or a bare date, UTC): a time without one would mean the server's zone. */
const isoDateTime = z.union([z.iso.datetime({ offset: true }), z.iso.date()]);
/** Dates every database we support stores and every client parses (JS Dates reach year 275760). */
const DATE_RANGE = { min: Date.UTC(1970, 0, 1), max: Date.UTC(10000, 0, 1) - 1 };

function parseDateTime(value: unknown): Date {
  if (!isoDateTime.safeParse(value).success) throw invalidInput('DateTime must be an ISO-8601 date-time with a time zone, e.g. 2026-01-31T12:00:00Z');
  const date = new Date(value as string);
  if (!(date.getTime() >= DATE_RANGE.min && date.getTime() <= DATE_RANGE.max)) throw invalidInput('DateTime must be from 1970-01-01 to 9999-12-31 (UTC)');
  return date;
}

builder.scalarType('DateTime', {
  serialize: (value) => value.toISOString(),
  parseValue: parseDateTime,
  // With the literal's node, so the error says where it is (and which argument: yoga.ts withArgument).
  parseLiteral: (node) => {
    try {
      return parseDateTime(node.kind === Kind.STRING ? node.value : undefined);
    } catch (error) {
      throw createGraphQLError((error as Error).message, { nodes: node, extensions: { code: 'BAD_USER_INPUT' } });
    }
  },
});

builder.queryType({});
builder.mutationType({});
builder.subscriptionType({});
