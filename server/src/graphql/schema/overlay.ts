// What the overlay engine derives from a WAN: conflicts, topology graph, reachability,
// per-peer staleness and rendered configs. Everything is computed from one compile of the
// WAN per request (ctx.overlays).
import { completeValue } from '@pothos/core';
import { z } from 'zod';
import { builder } from '../builder.js';
import { PeerRoleEnum } from './enums.js';
import type { Conflict } from '../../domain/conflicts.js';
import type { Reach } from '../../domain/reachability.js';
import type { TopologyGraph, TopologyNode } from '../../domain/graph.js';
import { freshUntil } from '../../domain/tunnel-state.js';
import { Repeater } from 'graphql-yoga';
import { TUNNEL_FRESH_MS, tunnelEdges, type TunnelEdge } from '../../services/monitor/tunnels.js';
import { OverlayReader, statusOf, type OverlayView, type PeerQrCode, type RenderedConfig } from '../../services/overlay/overlays.js';
import type { Context } from '../context.js';
import type { WanChange } from '../../infra/pubsub/topics.js';
import { endingWith } from '../current-then-changes.js';
import { renderQrPng, renderQrSvg } from '../../domain/render/qr.js';
import { readEventThrough } from '../event-reader.js';

const SeverityEnum = builder.enumType('ConflictSeverity', { values: ['CRITICAL', 'WARNING', 'INFO'] as const });
const ReachKindEnum = builder.enumType('ReachKind', { values: ['TUNNEL_IP', 'LAN', 'SERVICE'] as const });
const ReachSourceKindEnum = builder.enumType('ReachSourceKind', {
  values: {
    TUNNEL_IP: { description: 'The peer itself, from its tunnel IP.' },
    LAN: { description: 'A host on one of its routed LANs.' },
  } as const,
});
export const ConfigFormatEnum = builder.enumType('ConfigFormat', {
  values: {
    WG_QUICK: { description: 'wg-quick .conf (also as QR code). With redundant hubs: the interface to the primary hub (a CLIENT\'s is standalone; a hub\'s or site\'s is part of its Linux bundle).' },
    ROUTEROS: { description: 'idempotent RouterOS v7 .rsc script' },
    LINUX_BUNDLE: { description: 'One POSIX sh script for an unmanaged Linux host (`sh meshplane-<peer>.sh up`): every wg-quick interface of the peer and, with redundant hubs, the BIRD 2 configuration; without them it holds the one wg-quick interface.' },
  } as const,
});
export const ConfigStatusEnum = builder.enumType('ConfigStatus', {
  values: {
    NEVER_DELIVERED: { description: 'Nothing confirmed yet: a peer with a device has had no deploy or verify there; a manual peer has not been downloaded.' },
    CURRENT: { description: 'What the peer has is what would be rendered now: its device got it by deploy or showed it on verify (a manual peer: it was downloaded).' },
    STALE: { description: 'The rendering changed since the peer got its configuration, or a verify found its device differs.' },
  } as const,
});

/** A peer's last download: what was handed out, not what a device runs. */
type DownloadRecord = { peerId: string; wanId: string; hash: string; at: Date };

const ConfigDownloadRef = builder.objectRef<DownloadRecord>('ConfigDownload').implement({
  description: 'The configuration last downloaded for a peer. For a peer with a device this is an inspection: configStatus says what the device has.',
  fields: (t) => ({
    at: t.expose('at', { type: 'DateTime' }),
    hash: t.exposeString('hash'),
    status: t.field({
      type: ConfigStatusEnum,
      description: 'CURRENT when the download is what would be rendered now, else STALE.',
      resolve: (download, _args, ctx) => ctx.overlays.configStatus({ id: download.peerId, wanId: download.wanId, deliveredHash: download.hash }),
    }),
  }),
});

const ConflictRef = builder.objectRef<Conflict>('Conflict').implement({
  fields: (t) => ({
    severity: t.expose('severity', { type: SeverityEnum }),
    code: t.exposeString('code'),
    message: t.exposeString('message'),
    peerIds: t.exposeIDList('peerIds'),
    subnetIds: t.exposeIDList('subnetIds'),
    cidrs: t.exposeStringList('cidrs'),
    autoNatSubnetIds: t.exposeIDList('autoNatSubnetIds', { description: "LANs whose auto-NAT resolves this; auto-NAT translates a LAN's whole overlap group." }),
  }),
});

/** A node with the peer's IPv6 tunnel address, which the domain's graph does not carry. */
type NodeView = TopologyNode & { tunnelIp6: string | null };

const TopologyNodeRef = builder.objectRef<NodeView>('TopologyNode').implement({
  fields: (t) => ({
    peerId: t.exposeID('peerId'),
    name: t.exposeString('name'),
    role: t.expose('role', { type: PeerRoleEnum }),
    tunnelIp: t.exposeString('tunnelIp'),
    tunnelIp6: t.exposeString('tunnelIp6', { nullable: true, description: 'The IPv6 tunnel address in a dual-stack WAN.' }),
    endpoint: t.exposeString('endpoint', { nullable: true }),
    cgnat: t.exposeBoolean('cgnat', { description: 'No reachable endpoint: others cannot dial it.' }),
  }),
});

export const TunnelStateEnum = builder.enumType('TunnelState', {
  values: {
    UP: { description: "An end's device reports a handshake with the other end within WireGuard's rekey window." },
    DOWN: { description: "An end's device reports and has no fresh handshake with the other end (or does not have it as a peer)." },
    UNKNOWN: { description: 'No end can report: neither is on a device Meshplane reads, or its device is not read yet, reports no statistics or cannot be read now (see reason).' },
  } as const,
});

const SessionStateEnum = builder.enumType('RoutingSessionState', {
  values: {
    ESTABLISHED: { description: "An end's routing (BIRD, RouterOS BGP) reports the session established." },
    DOWN: { description: 'An end reports the session and neither reports it established.' },
  } as const,
});

const TunnelRoleEnum = builder.enumType('TunnelRole', {
  values: {
    PRIMARY: { description: "A spoke's tunnel to its primary hub: its traffic goes here while the BGP session over it is up." },
    BACKUP: { description: "A spoke's tunnel to a backup hub: used when the hubs ranked before it are unreachable." },
    HUB_LINK: { description: 'A tunnel between two hubs: carries traffic for spokes that lost their link to one of them.' },
  } as const,
});

const TopologyEdgeRef = builder.objectRef<TunnelEdge>('TopologyEdge').implement({
  description: 'One tunnel between two peers, with its state as the devices at its ends report it.',
  fields: (t) => ({
    from: t.exposeID('from'),
    to: t.exposeID('to'),
    state: t.expose('state', { type: TunnelStateEnum }),
    lastHandshake: t.expose('lastHandshake', { type: 'DateTime', nullable: true, description: 'The newest handshake either end reported for this pair.' }),
    reportedBy: t.exposeID('reportedBy', { nullable: true, description: 'The peer whose device the state comes from (null when UNKNOWN).' }),
    reason: t.exposeString('reason'),
    role: t.field({
      type: TunnelRoleEnum,
      nullable: true,
      description: 'WANs with redundant hubs: a spoke\'s tunnel to its primary hub, to a backup hub, or a hub-to-hub tunnel (null elsewhere).',
      resolve: (edge) => edge.role ?? null,
    }),
    session: t.field({
      type: SessionStateEnum,
      nullable: true,
      description: 'Redundant hubs: the BGP session over this tunnel as a device\'s routing reports it (null when no end reports one). It decides where traffic goes, and notices a dead hub within a second.',
      resolve: (edge) => edge.session,
    }),
    sessionReportedBy: t.exposeID('sessionReportedBy', { nullable: true }),
    hubRank: t.int({ nullable: true, description: 'Redundant hubs, spoke-to-hub tunnels: the hub\'s rank for the spoke (1 = primary).', resolve: (edge) => edge.hubRank ?? null }),
  }),
});

type WanGraph = TopologyGraph & { wanId: string };

const TopologyGraphRef = builder.objectRef<WanGraph>('TopologyGraph').implement({
  fields: (t) => ({
    nodes: t.field({
      type: [TopologyNodeRef],
      // From the request's one read of the WAN's peers (the edges read it too).
      resolve: async (graph, _args, ctx) => {
        const ipv6 = new Map((await ctx.overlays.peers(graph.wanId)).map((peer) => [peer.id, peer.tunnelIp6]));
        return graph.nodes.map((node) => ({ ...node, tunnelIp6: ipv6.get(node.peerId) ?? null }));
      },
    }),
    edges: t.field({ type: [TopologyEdgeRef], resolve: (graph, _args, ctx) => edgesOf(ctx, ctx.overlays, graph) }),
  }),
});

/** The graph's edges with their tunnel state now, from the monitor state this replica holds. */
async function edgesOf(ctx: Context, reader: OverlayReader, graph: WanGraph): Promise<TunnelEdge[]> {
  return tunnelEdges(graph.edges, await reader.peers(graph.wanId), ctx.services.monitor, new Date());
}

type ReachRow = Reach & { targetPeerName: string; nextHopPeerName: string; backupNextHopPeerName: string | null };

const ReachRef = builder.objectRef<ReachRow>('Reach').implement({
  description: 'One path: from a source of the peer to a target, that every hop routes and whose far end accepts the source (so the replies come back).',
  fields: (t) => ({
    from: t.exposeString('from', { description: 'Where the traffic starts, as the overlay sees it: the tunnel IP (/32) or a routed LAN (its translated range when NATed).' }),
    fromKind: t.expose('fromKind', { type: ReachSourceKindEnum }),
    kind: t.expose('kind', { type: ReachKindEnum }),
    target: t.exposeString('target', { description: 'A tunnel IP, a LAN (as the peer addresses it) or a service IP.' }),
    targetPeerId: t.exposeID('targetPeerId'),
    targetPeerName: t.exposeString('targetPeerName'),
    nextHopPeerId: t.exposeID('nextHopPeerId', { description: 'The tunnel the traffic leaves through.' }),
    nextHopPeerName: t.exposeString('nextHopPeerName'),
    backupNextHopPeerId: t.id({
      nullable: true,
      description: 'WANs with redundant hubs: the tunnel the traffic takes once the one to nextHop fails (that hub lost, or the link to it); null when nothing carries the path then, or without redundant hubs.',
      resolve: (reach) => reach.backupNextHopPeerId ?? null,
    }),
    backupNextHopPeerName: t.exposeString('backupNextHopPeerName', { nullable: true }),
  }),
});

const PeerReachabilityRef = builder.objectRef<{ peerId: string; peerName: string; reaches: ReachRow[] }>('PeerReachability').implement({
  fields: (t) => ({
    peerId: t.exposeID('peerId'),
    peerName: t.exposeString('peerName'),
    reaches: t.field({ type: [ReachRef], resolve: (entry) => entry.reaches }),
  }),
});

/** The QR renderers the download's fields call, through this object so a test can count the calls (test/qr-on-demand.test.ts). */
export const qrRenderers = { svg: renderQrSvg, png: renderQrPng };

export const RenderedConfigRef = builder.objectRef<RenderedConfig>('RenderedConfig').implement({
  fields: (t) => ({
    format: t.expose('format', { type: ConfigFormatEnum }),
    filename: t.exposeString('filename'),
    content: t.exposeString('content', { description: 'The configuration, private key included when Meshplane holds it.' }),
    hash: t.exposeString('hash'),
    // Rendered only when asked for (~100 ms of CPU for a code).
    qrSvg: t.string({
      nullable: true,
      description: 'QR code of a wg-quick config, for the WireGuard mobile apps; null when the config is too long for one (a hub with many peers).',
      resolve: (config) => (config.format === 'WG_QUICK' ? qrRenderers.svg(config.content) : null),
    }),
    qrPngBase64: t.string({ nullable: true, resolve: async (config) => (config.format === 'WG_QUICK' ? ((await qrRenderers.png(config.content))?.toString('base64') ?? null) : null) }),
  }),
});

export const PeerQrCodeRef = builder.objectRef<PeerQrCode>('PeerQrCode').implement({
  description: 'A peer\'s wg-quick configuration as a QR code (comment lines left out), for the WireGuard mobile apps.',
  fields: (t) => ({
    peerId: t.exposeID('peerId'),
    peerName: t.exposeString('peerName'),
    filename: t.exposeString('filename', { description: 'The interface the apps name the tunnel after.' }),
    qrSvg: t.exposeString('qrSvg', { nullable: true, description: 'SVG of the code; it holds the private key. null when the config is too long for one (a hub with many peers).' }),
  }),
});

function reachabilityOf(view: OverlayView, peerId?: string) {
  return view.reachability(peerId).map((entry) => ({
    peerId: entry.peerId,
    peerName: view.peerName(entry.peerId),
    reaches: entry.reaches.map((reach) => ({
      ...reach,
      targetPeerName: view.peerName(reach.targetPeerId),
      nextHopPeerName: view.peerName(reach.nextHopPeerId),
      backupNextHopPeerName: reach.backupNextHopPeerId ? view.peerName(reach.backupNextHopPeerId) : null,
    })),
  }));
}

builder.prismaObjectFields('Wan', (t) => ({
  conflicts: t.field({
    type: [ConflictRef],
    description: 'Problems of the overlay as configured, most severe first; with `first`, only the first ones (conflictCount counts them all).',
    args: { first: t.arg.int({ validate: { schema: z.number().int().min(1).max(1000) } }) },
    resolve: async (wan, { first }, ctx) => {
      const all = (await ctx.overlays.view(wan.id)).conflicts();
      return first ? all.slice(0, first) : all;
    },
  }),
  topologyGraph: t.field({
    type: TopologyGraphRef,
    resolve: async (wan, _args, ctx) => ({ ...(await ctx.overlays.view(wan.id)).graph(), wanId: wan.id }),
  }),
  reachability: t.field({
    type: [PeerReachabilityRef],
    description: 'For each peer, what its tunnel IP and the hosts on its LANs can reach and through which tunnel, from the rendered AllowedIPs of both ends: a path is listed only when every hop routes it and accepts its source.',
    resolve: async (wan, _args, ctx) => reachabilityOf(await ctx.overlays.view(wan.id)),
  }),
  staleCount: t.int({
    // Only peers that got a configuration can be stale: read just their ids and delivered
    // hashes (none in a WAN nothing was delivered to yet), not every peer's row.
    resolve: async (wan, _args, ctx) => {
      const [view, delivered] = await Promise.all([
        ctx.overlays.view(wan.id),
        ctx.prisma.peer.findMany({ where: { wanId: wan.id, deliveredHash: { not: null } }, select: { id: true, deliveredHash: true } }),
      ]);
      // A peer added after the view was read is not in it: it has had no delivery of this WAN's state yet.
      return delivered.filter((peer) => view.peerName(peer.id) !== peer.id && statusOf(view.hashOf(peer.id), peer.deliveredHash) === 'STALE').length;
    },
  }),
}));

/** The Peer fields that read the WAN's overlay view: the WAN's peer list loads the view with the peers when one is asked for. */
export const PEER_FIELDS_FROM_VIEW: ReadonlySet<string> = new Set(['configStatus', 'stale', 'reachability', 'download']);

builder.prismaObjectFields('Peer', (t) => ({
  configStatus: t.field({
    type: ConfigStatusEnum,
    description: 'With a device: whether the device has the configuration rendered now (by deploy or verify; a download does not count). Without: whether the last download is.',
    resolve: (peer, _args, ctx) => ctx.overlays.configStatus(peer),
  }),
  download: t.field({
    type: ConfigDownloadRef,
    nullable: true,
    description: 'The last download of this peer\'s configuration (null: never downloaded).',
    resolve: (peer) => (peer.downloadedHash && peer.downloadedAt ? { peerId: peer.id, wanId: peer.wanId, hash: peer.downloadedHash, at: peer.downloadedAt } : null),
  }),
  stale: t.boolean({
    description: 'True when the peer got a configuration that differs from what would be rendered now.',
    resolve: (peer, _args, ctx) => completeValue(ctx.overlays.configStatus(peer), (status) => status === 'STALE'),
  }),
  configPreview: t.string({
    description: 'The configuration with private and preshared keys left out.',
    args: { format: t.arg({ type: ConfigFormatEnum, defaultValue: 'WG_QUICK' }) },
    // From the request's view of the WAN: N previews in a list are one compile, not N.
    resolve: (peer, { format }, ctx) => ctx.overlays.preview(peer, format ?? 'WG_QUICK'),
  }),
  reachability: t.field({
    type: PeerReachabilityRef,
    nullable: true,
    resolve: async (peer, _args, ctx) => (await reachabilityOf(await ctx.overlays.view(peer.wanId), peer.id))[0] ?? null,
  }),
}));

builder.mutationFields((t) => ({
  downloadPeerConfig: t.field({
    type: RenderedConfigRef,
    authScopes: { role: 'OPERATOR' },
    description: "Renders the peer's configuration with its keys and records the download (Peer.download). It clears stale only for a peer without a device: a device's configStatus changes by deploy or verify.",
    args: { peerId: t.arg.id({ required: true }), format: t.arg({ type: ConfigFormatEnum, defaultValue: 'WG_QUICK' }) },
    resolve: (_root, { peerId, format }, ctx) => ctx.services.configs.download(ctx.identity!, String(peerId), format ?? 'WG_QUICK'),
  }),
  showPeerQrCode: t.field({
    type: PeerQrCodeRef,
    authScopes: { role: 'OPERATOR' },
    description: 'Renders the peer\'s wg-quick configuration as a QR code, anew for each call: each showing is audited (peer.qr.view) and recorded as a download. Refused (BAD_USER_INPUT) for a peer with its own key.',
    args: { peerId: t.arg.id({ required: true }) },
    resolve: (_root, { peerId }, ctx) => ctx.services.configs.qrCode(ctx.identity!, String(peerId)),
  }),
}));

/** The WAN's change events; `endingWith` ends them when the client unsubscribes. */
function wanChanges(ctx: Context, wanId: string) {
  return ctx.services.pubsub.subscribe('wanChanged:byId', wanId)[Symbol.asyncIterator]();
}

/**
 * Re-evaluates a WAN after each change to it and yields only when `derive` gives something new.
 * The subscription's context reads through the event's reader until the next event, so the
 * fields resolved for a yield (configStatus, configPreview) use the view that was derived.
 */
async function* onWanChange<T>(ctx: Context, wanId: string, changes: AsyncIterator<WanChange>, derive: (view: OverlayView, reader: OverlayReader) => Promise<T>, key: (value: T) => string) {
  const evaluate = (reader: OverlayReader) => reader.view(wanId).then((view) => derive(view, reader));
  let last = await evaluate(ctx.overlays);
  yield last;
  for await (const change of { [Symbol.asyncIterator]: () => changes }) {
    if (change.kind === 'DELETED' && change.entity === 'WAN') return;
    const next = await evaluate(readEventThrough(ctx, change));
    if (key(next) !== key(last)) yield next;
    last = next;
  }
}

/** A Prisma query of Pothos's that asks for nothing beyond the row's own columns. */
function isEmptyQuery(query: object): boolean {
  return Object.values(query).every((part) => part === undefined || (typeof part === 'object' && part !== null && Object.keys(part).length === 0));
}

/** From the peers the view was read with: one read of them per change, not two. */
async function configStatuses(view: OverlayView, reader: OverlayReader): Promise<Map<string, string>> {
  const rows = await reader.peers(view.spec.wan.id);
  return new Map(rows.map((row) => [row.id, statusOf(view.hashOf(row.id), row.deliveredHash)]));
}

builder.subscriptionFields((t) => ({
  stalenessChanged: t.prismaField({
    type: ['Peer'],
    authScopes: { role: 'VIEWER' },
    description: 'The peers of the WAN with their configStatus now, then the peers whose configStatus changed, after each change to the WAN.',
    args: { wanId: t.arg.id({ required: true }) },
    subscribe: (_root, { wanId }, ctx) => {
      const changes = wanChanges(ctx, String(wanId));
      return endingWith(changes, (async function* () {
        let previous = new Map<string, string>();
        for await (const statuses of onWanChange(ctx, String(wanId), changes, configStatuses, (map) => JSON.stringify([...map]))) {
          const changed = [...statuses].filter(([id, status]) => previous.get(id) !== status).map(([id]) => id);
          previous = statuses;
          if (changed.length > 0) yield changed;
        }
      })());
    },
    resolve: async (query, peerIds, { wanId }, ctx) => {
      // Without relations asked beneath the peers, the rows the statuses were derived from (every
      // column, read once per event for all the WAN's subscriptions) are the answer: no read per
      // subscription, and no statement for a list of ids that differs on every event.
      if (isEmptyQuery(query)) {
        const wanted = new Set(peerIds);
        return (await ctx.overlays.peers(String(wanId))).filter((peer) => wanted.has(peer.id));
      }
      return ctx.prisma.peer.findMany({ ...query, where: { id: { in: peerIds } }, orderBy: { tunnelIp: 'asc' } });
    },
  }),
  topologyChanged: t.field({
    type: TopologyGraphRef,
    authScopes: { role: 'VIEWER' },
    description: 'The topology graph now, then again whenever a change to the WAN changes it.',
    args: { wanId: t.arg.id({ required: true }) },
    subscribe: (_root, { wanId }, ctx) => {
      const changes = wanChanges(ctx, String(wanId));
      return endingWith(changes, onWanChange(ctx, String(wanId), changes, async (view) => ({ ...view.graph(), wanId: String(wanId) }), (graph) => JSON.stringify(graph)));
    },
    resolve: (graph) => graph,
  }),
  tunnelStateChanged: t.field({
    type: [TopologyEdgeRef],
    authScopes: { role: 'VIEWER' },
    description: "Every tunnel of the WAN with its state now, then the tunnels whose state, reporting end or last handshake changed: after a device's report or health changes, after a change to the WAN, and when a handshake stops being fresh.",
    args: { wanId: t.arg.id({ required: true }) },
    subscribe: (_root, { wanId }, ctx) => tunnelChanges(ctx, String(wanId)),
    resolve: (edges) => edges,
  }),
}));

const tunnelKey = (edge: TunnelEdge) => `${edge.from}|${edge.to}`;
const tunnelValue = (edge: TunnelEdge) => `${edge.state}|${edge.reportedBy}|${edge.lastHandshake?.getTime() ?? ''}|${edge.session ?? ''}|${edge.sessionReportedBy ?? ''}`;

/**
 * The WAN's tunnels now, then the changed ones. Re-derived when a monitor report for the WAN
 * or its devices' health changes (in-process topic, fed on every replica), when the WAN
 * changes (its edges), and at the moment the freshest UP tunnel's handshake stops being fresh
 * (no event says so). Derivations run one at a time; return() stops listening at once.
 */
export function tunnelChanges(ctx: Context, wanId: string): AsyncIterableIterator<TunnelEdge[]> {
  return new Repeater<TunnelEdge[]>(async (push, stop) => {
    const wanEvents = ctx.services.pubsub.subscribe('wanChanged:byId', wanId)[Symbol.asyncIterator]();
    const reports = ctx.services.localPubsub.subscribe('tunnelReports:byWan', wanId)[Symbol.asyncIterator]();
    let last: Map<string, string> | null = null;
    let timer: NodeJS.Timeout | null = null;
    let running = Promise.resolve();
    let closed = false;
    const evaluate = (event: object) => {
      running = running.then(async () => {
        if (closed) return;
        const reader = readEventThrough(ctx, event);
        const edges = await edgesOf(ctx, reader, { ...(await reader.view(wanId)).graph(), wanId });
        const changed = last ? edges.filter((edge) => last!.get(tunnelKey(edge)) !== tunnelValue(edge)) : edges;
        const first = last === null;
        last = new Map(edges.map((edge) => [tunnelKey(edge), tunnelValue(edge)]));
        if (first || changed.length > 0) await push(changed);
        if (timer) clearTimeout(timer);
        // Only expiries still ahead: an edge UP by its BGP session may carry an older handshake.
        const expiries = edges.map((edge) => freshUntil(edge, TUNNEL_FRESH_MS)?.getTime()).filter((at): at is number => at !== undefined && at > Date.now());
        if (expiries.length > 0 && !closed) {
          timer = setTimeout(() => evaluate({}), Math.max(0, Math.min(...expiries) - Date.now()) + 50);
          timer.unref();
        }
      }).catch((error: unknown) => stop(error));
    };
    const pump = async <T>(events: AsyncIterator<T>, handle: (event: T) => void) => {
      for (let next = await events.next(); !next.done; next = await events.next()) handle(next.value);
    };
    void pump(wanEvents, (change) => (change.kind === 'DELETED' && change.entity === 'WAN' ? stop() : evaluate(change))).catch((error: unknown) => stop(error));
    void pump(reports, (event) => evaluate(event)).catch((error: unknown) => stop(error));
    evaluate({});
    await stop;
    closed = true;
    if (timer) clearTimeout(timer);
    await Promise.all([wanEvents.return?.(), reports.return?.()]);
  });
}
