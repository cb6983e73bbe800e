// Liveness and first-run state: readable without signing in.
import { builder } from '../builder.js';

const SetupState = builder.objectRef<{ needsFirstUser: boolean }>('SetupState').implement({
  fields: (t) => ({
    needsFirstUser: t.exposeBoolean('needsFirstUser', { description: 'No user exists yet: the first to register becomes admin.' }),
  }),
});

builder.queryFields((t) => ({
  health: t.string({
    description: '"ok" when the server and its database answer.',
    resolve: async (_root, _args, ctx) => {
      await ctx.prisma.$queryRawUnsafe('SELECT 1');
      return 'ok';
    },
  }),
  setupState: t.field({
    type: SetupState,
    resolve: async (_root, _args, ctx) => ({ needsFirstUser: await ctx.services.accounts.needsFirstUser() }),
  }),
}));
