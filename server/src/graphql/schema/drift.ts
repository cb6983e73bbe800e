// The drift watch's findings (services/monitor/drift-watch.ts): per peer, how its device differs
// from what Meshplane last put there; per WAN, how many peers drift; per device, the opt-in
// auto-repair. Changes reach subscribers through wanChanged (the peer is reloaded with its drift).
import { builder } from '../builder.js';
import { DriftItemRef } from './deploy.js';
import { storedDrift } from '../../services/monitor/drift-watch.js';
import type { NamedDriftItem } from '../../services/deploy/deployments.js';

interface PeerDrift {
  checkedAt: Date;
  since: Date | null;
  items: NamedDriftItem[];
}

const PeerDriftRef = builder.objectRef<PeerDrift>('PeerDrift').implement({
  description: 'The drift watch\'s last comparison of the peer\'s device with what Meshplane last deployed there.',
  fields: (t) => ({
    checkedAt: t.expose('checkedAt', { type: 'DateTime', description: 'When the device was last compared (or a deploy put it right).' }),
    since: t.expose('since', { type: 'DateTime', nullable: true, description: 'Since when the device has differed without a break; null while in sync.' }),
    items: t.field({ type: [DriftItemRef], description: 'What differs, named as plans and verify name it (secrets masked); empty: in sync.', resolve: (drift) => drift.items }),
    drifted: t.boolean({ resolve: (drift) => drift.items.length > 0 }),
  }),
});

builder.prismaObjectFields('Peer', (t) => ({
  drift: t.field({
    type: PeerDriftRef,
    nullable: true,
    authScopes: { role: 'VIEWER' },
    description: 'What the drift watch last found on the peer\'s device; null: never compared (no device, or never deployed there). A change made in Meshplane and not deployed yet is configStatus STALE, not drift.',
    resolve: (peer) => {
      const items = storedDrift(peer.driftItems);
      return items === null || !peer.driftCheckedAt ? null : { checkedAt: peer.driftCheckedAt, since: peer.driftSince, items };
    },
  }),
}));

builder.prismaObjectFields('Wan', (t) => ({
  driftedCount: t.int({
    description: 'Peers whose device the drift watch last found differing from what Meshplane deployed there.',
    resolve: async (wan, _args, ctx) => {
      const peers = await ctx.prisma.peer.findMany({ where: { wanId: wan.id, driftItems: { not: null } }, select: { driftItems: true } });
      return peers.filter((peer) => (storedDrift(peer.driftItems)?.length ?? 0) > 0).length;
    },
  }),
}));

builder.prismaObjectFields('Device', (t) => ({
  autoRepair: t.exposeBoolean('autoRepair', { description: 'When the drift watch finds this device\'s Meshplane items changed, deploy them back without asking (at most once per drift episode, backing off when the drift keeps coming back).' }),
}));
