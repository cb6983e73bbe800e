// What the WAN page shows first, at any size: counts and a summary of the topology instead of
// every peer and every tunnel. The counts are one grouped SQL statement (no peer object is
// made); the tunnel count comes from the WAN's overlay view, which the conflicts load anyway.
import { builder } from '../builder.js';
import type { Context } from '../context.js';

/** Hub names listed in the summary: a hub-and-spoke WAN has a handful; a mesh of hubs is cut here. */
export const SUMMARY_HUB_NAMES = 20;

interface TopologySummary {
  wanId: string;
  peers: number;
  enabled: number;
  hubs: number;
  sites: number;
  clients: number;
  withDevice: number;
  withoutEndpoint: number;
}

const TopologySummaryRef = builder.objectRef<TopologySummary>('WanTopologySummary').implement({
  description: 'The WAN\'s peers counted by role and kind, and its tunnels: what the topology graph shows, without its nodes and edges.',
  fields: (t) => ({
    peers: t.exposeInt('peers'),
    enabled: t.exposeInt('enabled', { description: 'Peers that are part of the overlay (disabled ones are left out of every configuration).' }),
    disabled: t.int({ resolve: (summary) => summary.peers - summary.enabled }),
    hubs: t.exposeInt('hubs'),
    sites: t.exposeInt('sites'),
    clients: t.exposeInt('clients'),
    withDevice: t.exposeInt('withDevice', { description: 'Peers bound to a device (their configuration is deployed there).' }),
    withoutEndpoint: t.exposeInt('withoutEndpoint', { description: 'Peers without a public endpoint (CGNAT): they dial out, others cannot dial them.' }),
    hubNames: t.stringList({
      description: `The names of the first ${SUMMARY_HUB_NAMES} hubs by name.`,
      resolve: async (summary, _args, ctx) =>
        (await ctx.prisma.peer.findMany({ where: { wanId: summary.wanId, role: 'HUB' }, select: { name: true }, orderBy: { name: 'asc' }, take: SUMMARY_HUB_NAMES })).map((peer) => peer.name),
    }),
    tunnels: t.int({
      description: 'Tunnels between enabled peers, as the configurations are rendered now (the topology graph\'s edges).',
      resolve: async (summary, _args, ctx) => (await ctx.overlays.view(summary.wanId)).graph().edges.length,
    }),
  }),
});

async function summaryOf(wanId: string, ctx: Context): Promise<TopologySummary> {
  const groups = await ctx.prisma.peer.groupBy({ by: ['role', 'enabled'], where: { wanId }, _count: { _all: true, deviceId: true, endpointHost: true } });
  const summary: TopologySummary = { wanId, peers: 0, enabled: 0, hubs: 0, sites: 0, clients: 0, withDevice: 0, withoutEndpoint: 0 };
  for (const group of groups) {
    const count = group._count._all;
    summary.peers += count;
    if (group.enabled) summary.enabled += count;
    if (group.role === 'HUB') summary.hubs += count;
    else if (group.role === 'SITE') summary.sites += count;
    else summary.clients += count;
    summary.withDevice += group._count.deviceId;
    summary.withoutEndpoint += count - group._count.endpointHost;
  }
  return summary;
}

builder.prismaObjectFields('Wan', (t) => ({
  topologySummary: t.field({
    type: TopologySummaryRef,
    resolve: (wan, _args, ctx) => summaryOf(wan.id, ctx),
  }),
  conflictCount: t.int({
    description: 'How many conflicts the WAN has (conflicts(first:) may list fewer).',
    resolve: async (wan, _args, ctx) => (await ctx.overlays.view(wan.id)).conflicts().length,
  }),
}));
