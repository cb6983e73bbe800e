// Live status from the handshake monitor: per peer, and as a subscription per WAN that
// sends the current statuses first, then every change.
import { builder } from '../builder.js';
import { JoinedReads, readEventThrough } from '../event-reader.js';
import { currentThenChanges } from '../current-then-changes.js';
import { ONLINE_THRESHOLD_SECONDS, type PeerStatus } from '../../services/monitor/monitor.js';

const PeerStatusRef = builder.objectRef<PeerStatus>('PeerStatus').implement({
  fields: (t) => ({
    online: t.exposeBoolean('online', { description: `A handshake less than ${ONLINE_THRESHOLD_SECONDS} s ago (WireGuard's rekey window).` }),
    lastHandshake: t.expose('lastHandshake', { type: 'DateTime', nullable: true }),
    rxBytes: t.exposeString('rxBytes', { description: 'Bytes this peer received over the overlay, as a decimal string.' }),
    txBytes: t.exposeString('txBytes', { description: 'Bytes this peer sent over the overlay, as a decimal string.' }),
    endpoint: t.exposeString('endpoint', { nullable: true, description: 'Where a device last saw this peer coming from.' }),
    observedAt: t.expose('observedAt', { type: 'DateTime' }),
  }),
});

const MonitorSettings = builder.objectRef<{ intervalMs: number }>('MonitorSettings').implement({
  fields: (t) => ({
    intervalSeconds: t.float({ resolve: (settings) => settings.intervalMs / 1000 }),
    onlineThresholdSeconds: t.int({ resolve: () => ONLINE_THRESHOLD_SECONDS }),
  }),
});

builder.prismaObjectFields('Peer', (t) => ({
  status: t.field({
    type: PeerStatusRef,
    nullable: true,
    description: 'Live status as the devices that see this peer report it; null until a device has reported, and for a disabled peer (no peer has a tunnel to it: see Peer.enabled).',
    resolve: (peer, _args, ctx) => (peer.enabled ? ctx.services.monitor.status(peer.id) : null),
  }),
}));

builder.queryFields((t) => ({
  monitor: t.field({
    type: MonitorSettings,
    authScopes: { role: 'VIEWER' },
    resolve: (_root, _args, ctx) => ({ intervalMs: ctx.services.monitor.options.intervalMs }),
  }),
}));

/** Per status-change event: the peers read for it, by the shape of the selection. */
const sharedReads = new WeakMap<object, Map<string, Promise<unknown>>>();
/** The current peers of a WAN by the shape of the selection, for subscriptions starting together. */
export const initialReads = new JoinedReads();

builder.subscriptionFields((t) => ({
  peerStatusChanged: t.prismaField({
    type: ['Peer'],
    authScopes: { role: 'VIEWER' },
    description: 'The peers of the WAN with their status now, then the peers whose status changed, each time it changes.',
    args: { wanId: t.arg.id({ required: true }) },
    subscribe: (_root, { wanId }, ctx) => {
      const changes = ctx.services.localPubsub.subscribe('peerStatusChanged:byWan', String(wanId));
      // The current value: every peer of the WAN (peerIds null), then the changed ones.
      return currentThenChanges<{ wanId: string; peerIds: string[] | null }>(changes, async () => [{ wanId: String(wanId), peerIds: null }]);
    },
    resolve: (query, event, _args, ctx) => {
      readEventThrough(ctx, event);
      const load = () => ctx.prisma.peer.findMany({ ...query, where: event.peerIds ? { id: { in: event.peerIds } } : { wanId: event.wanId }, orderBy: { tunnelIp: 'asc' } });
      // The rows depend on the WAN and the selection only (the scope was checked when the
      // subscription started; fields check theirs per subscriber as they resolve), so
      // subscribers asking for the same fields share them. Starting together, they share
      // one read of the WAN's peers (200 subscribers were 200 reads of 1,000 peers at once,
      // the server's peak memory); a change reaches every subscriber of the WAN as the same
      // event object (local pub/sub), read once for all of them.
      const shape = JSON.stringify(query);
      if (!event.peerIds) return initialReads.read(`${event.wanId}\n${shape}`, load);
      let byShape = sharedReads.get(event);
      if (!byShape) {
        byShape = new Map();
        sharedReads.set(event, byShape);
      }
      let rows = byShape.get(shape) as ReturnType<typeof load> | undefined;
      if (!rows) {
        rows = load();
        byShape.set(shape, rows);
      }
      return rows;
    },
  }),
}));
