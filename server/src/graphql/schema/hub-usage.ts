// Which hub each spoke of a WAN with redundant hubs uses now, and which hubs are lost, derived
// from the tunnel states (domain/hub-usage.ts): a query field and a subscription that fires
// when a hub is lost or back, or a spoke moves between hubs.
import { builder } from '../builder.js';
import type { Context } from '../context.js';
import type { HubStatus, HubUsage, SpokeHubUsage } from '../../domain/hub-usage.js';
import { wanHubUsage } from '../../services/monitor/tunnels.js';
import { tunnelChanges } from './overlay.js';

type NamedUsage = HubUsage & { names: ReadonlyMap<string, string> };

const HubStateEnum = builder.enumType('HubState', {
  values: {
    UP: { description: "A device reports a fresh handshake on at least one of the hub's tunnels." },
    LOST: { description: "Devices report every one of the hub's tunnels down: spokes have moved to their backup hubs." },
    UNKNOWN: { description: "Not every tunnel of the hub is reported and none is up: Meshplane cannot tell (see reason)." },
  } as const,
});

const SpokeHubStateEnum = builder.enumType('SpokeHubState', {
  values: {
    PRIMARY: { description: 'The tunnel to its primary hub is up: traffic goes there.' },
    BACKUP: { description: 'Devices report the better-ranked hubs down and this backup up: traffic goes there.' },
    CUT_OFF: { description: 'Devices report the tunnels to every hub down.' },
    UNKNOWN: { description: 'The state of a better-ranked tunnel is unknown, so the hub in use is too (see reason).' },
  } as const,
});

const HubStatusRef = builder.objectRef<HubStatus & { name: string }>('HubStatus').implement({
  fields: (t) => ({
    hubId: t.exposeID('hubId'),
    name: t.exposeString('name'),
    state: t.expose('state', { type: HubStateEnum }),
    spokesUsing: t.exposeInt('spokesUsing', { description: 'Spokes the devices confirm on this hub now.' }),
    reason: t.exposeString('reason'),
  }),
});

const SpokeHubRef = builder.objectRef<SpokeHubUsage & { name: string; hubName: string | null }>('SpokeHub').implement({
  fields: (t) => ({
    spokeId: t.exposeID('spokeId'),
    name: t.exposeString('name'),
    state: t.expose('state', { type: SpokeHubStateEnum }),
    hubId: t.exposeID('hubId', { nullable: true }),
    hubName: t.exposeString('hubName', { nullable: true }),
    hubRank: t.exposeInt('hubRank', { nullable: true, description: '1 = primary.' }),
    reason: t.exposeString('reason'),
  }),
});

const HubUsageRef = builder.objectRef<NamedUsage>('HubUsage').implement({
  description: 'WANs with redundant hubs: the state of each hub and the hub each spoke uses now, as the devices report the tunnels (empty lists elsewhere).',
  fields: (t) => ({
    hubs: t.field({ type: [HubStatusRef], resolve: (usage) => usage.hubs.map((hub) => ({ ...hub, name: usage.names.get(hub.hubId) ?? hub.hubId })) }),
    spokes: t.field({
      type: [SpokeHubRef],
      resolve: (usage) => usage.spokes.map((spoke) => ({ ...spoke, name: usage.names.get(spoke.spokeId) ?? spoke.spokeId, hubName: spoke.hubId ? usage.names.get(spoke.hubId) ?? spoke.hubId : null })),
    }),
  }),
});

async function usageOf(ctx: Context, wanId: string): Promise<NamedUsage> {
  const { usage, view } = await wanHubUsage(ctx.overlays, ctx.services.monitor, wanId);
  return { ...usage, names: new Map(view.compiled.peers.map((peer) => [peer.peerId, peer.name])) };
}

const usageKey = (usage: NamedUsage): string => JSON.stringify([usage.hubs.map((hub) => [hub.hubId, hub.state, hub.spokesUsing]), usage.spokes.map((spoke) => [spoke.spokeId, spoke.state, spoke.hubId])]);

builder.prismaObjectFields('Wan', (t) => ({
  hubUsage: t.field({ type: HubUsageRef, resolve: (wan, _args, ctx) => usageOf(ctx, wan.id) }),
}));

builder.subscriptionFields((t) => ({
  hubUsageChanged: t.field({
    type: HubUsageRef,
    authScopes: { role: 'VIEWER' },
    description: 'The hub usage now, then again whenever a hub is lost or back or a spoke moves to another hub (as the devices report the tunnels).',
    args: { wanId: t.arg.id({ required: true }) },
    subscribe: (_root, { wanId }, ctx) => usageChanges(ctx, String(wanId)),
    resolve: (usage) => usage,
  }),
}));

async function* usageChanges(ctx: Context, wanId: string): AsyncGenerator<NamedUsage> {
  const tunnels = tunnelChanges(ctx, wanId);
  let last: string | null = null;
  try {
    for await (const _changed of { [Symbol.asyncIterator]: () => tunnels }) {
      const usage = await usageOf(ctx, wanId);
      const key = usageKey(usage);
      if (key !== last) yield usage;
      last = key;
    }
  } finally {
    await tunnels.return?.();
  }
}
