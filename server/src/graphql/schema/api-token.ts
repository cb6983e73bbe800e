import { z } from 'zod';
import { builder } from '../builder.js';

export const ApiToken = builder.prismaObject('ApiToken', {
  fields: (t) => ({
    id: t.exposeID('id'),
    name: t.exposeString('name'),
    prefix: t.exposeString('prefix', { description: 'The first characters of the token, to tell tokens apart.' }),
    createdAt: t.expose('createdAt', { type: 'DateTime' }),
    expiresAt: t.expose('expiresAt', { type: 'DateTime', nullable: true }),
    lastUsedAt: t.expose('lastUsedAt', { type: 'DateTime', nullable: true }),
    revokedAt: t.expose('revokedAt', { type: 'DateTime', nullable: true }),
  }),
});

const CreateApiTokenInput = builder.inputType('CreateApiTokenInput', {
  fields: (t) => ({
    name: t.string({ required: true, validate: { schema: z.string().trim().min(1, 'must not be empty').max(100).regex(/^[^\p{Cc}\p{Cf}\p{Zl}\p{Zp}]*$/u, 'must not contain control or formatting characters') } }),
    expiresInDays: t.int({ validate: { schema: z.number().int().min(1).max(3650) } }),
  }),
});

const CreateApiTokenPayload = builder.objectRef<{ tokenId: string; token: string }>('CreateApiTokenPayload').implement({
  fields: (t) => ({
    token: t.exposeString('token', { description: 'The secret, shown only now: send it as `Authorization: Bearer <token>`.' }),
    apiToken: t.prismaField({ type: 'ApiToken', resolve: (query, payload, _args, ctx) => ctx.prisma.apiToken.findUniqueOrThrow({ ...query, where: { id: payload.tokenId } }) }),
  }),
});

builder.queryFields((t) => ({
  myApiTokens: t.prismaConnection({
    type: 'ApiToken',
    cursor: 'id',
    authScopes: { authenticated: true },
    resolve: (query, _root, _args, ctx) => ctx.prisma.apiToken.findMany({ ...query, where: { userId: ctx.identity!.user.id }, orderBy: { createdAt: 'desc' } }),
  }),
}));

builder.mutationFields((t) => ({
  createApiToken: t.field({
    type: CreateApiTokenPayload,
    authScopes: { authenticated: true },
    args: { input: t.arg({ type: CreateApiTokenInput, required: true }) },
    resolve: async (_root, { input }, ctx) => {
      const { apiToken, token } = await ctx.services.accounts.createApiToken(ctx.identity!, input);
      return { tokenId: apiToken.id, token };
    },
  }),
  revokeApiToken: t.prismaField({
    type: 'ApiToken',
    authScopes: { authenticated: true },
    args: { id: t.arg.id({ required: true }) },
    resolve: async (query, _root, { id }, ctx) => {
      await ctx.services.accounts.revokeApiToken(ctx.identity!, String(id));
      return ctx.prisma.apiToken.findUniqueOrThrow({ ...query, where: { id: String(id) } });
    },
  }),
}));
