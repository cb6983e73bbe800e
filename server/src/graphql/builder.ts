// The one typed Pothos builder. It defines no types itself: those live in schema/.
import SchemaBuilder from '@pothos/core';
import PrismaPlugin from '@pothos/plugin-prisma';
import RelayPlugin from '@pothos/plugin-relay';
import ScopeAuthPlugin from '@pothos/plugin-scope-auth';
import ZodPlugin from '@pothos/plugin-zod';
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
  plugins: [ScopeAuthPlugin, PrismaPlugin, RelayPlugin, ZodPlugin],
  defaultFieldNullability: false,
  prisma: {
    client: (ctx) => ctx.prisma,
    dmmf: getDatamodel(),
    exposeDescriptions: true,
    filterConnectionTotalCount: true,
  },
  relay: {
    clientMutationId: 'omit',
    cursorType: 'String',
  },
  scopeAuth: {
    // `public: true` says on purpose that a field needs no identity (sign-in, registration):
    // test/hardening/authz-matrix.test.ts fails for a mutation that declares no scope at all.
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

builder.scalarType('DateTime', {
  serialize: (value) => value.toISOString(),
  parseValue: (value) => {
    const date = new Date(String(value));
    if (Number.isNaN(date.getTime())) throw invalidInput('DateTime must be an ISO-8601 string');
    return date;
  },
});

builder.queryType({});
builder.mutationType({});
builder.subscriptionType({});
