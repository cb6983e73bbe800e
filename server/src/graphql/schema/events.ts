// Subscriptions: events carry ids only; the WAN itself is reloaded through the same
// resolvers (and authorization) as queries.
import { builder } from '../builder.js';
import { readEventThrough } from '../event-reader.js';
import type { WanChange } from '../../infra/pubsub/topics.js';

const ChangeKindEnum = builder.enumType('ChangeKind', { values: ['CREATED', 'UPDATED', 'DELETED'] as const });
const ChangedEntityEnum = builder.enumType('ChangedEntity', { values: ['WAN', 'PEER', 'SUBNET', 'SERVICE'] as const });

const WanChangeEvent = builder.objectRef<WanChange>('WanChangeEvent').implement({
  fields: (t) => ({
    kind: t.expose('kind', { type: ChangeKindEnum }),
    entity: t.expose('entity', { type: ChangedEntityEnum }),
    entityId: t.exposeID('entityId'),
    wanId: t.exposeID('wanId'),
    wan: t.prismaField({
      type: 'Wan',
      nullable: true,
      description: 'The WAN as it is now; null once deleted.',
      resolve: (query, event, _args, ctx) => ctx.prisma.wan.findUnique({ ...query, where: { id: event.wanId } }),
    }),
  }),
});

builder.subscriptionFields((t) => ({
  wanChanged: t.field({
    type: WanChangeEvent,
    description: 'Changes to any WAN, or to one WAN and what it contains when wanId is given.',
    authScopes: { role: 'VIEWER' },
    args: { wanId: t.arg.id() },
    subscribe: (_root, { wanId }, ctx) => (wanId ? ctx.services.pubsub.subscribe('wanChanged:byId', String(wanId)) : ctx.services.pubsub.subscribe('wanChanged')),
    resolve: (event, _args, ctx) => {
      // What is asked beneath the WAN (previews, statuses) reads it once per event for all subscribers.
      readEventThrough(ctx, event);
      return event;
    },
  }),
}));
