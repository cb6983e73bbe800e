// Which tunnels of a WAN have a preshared key, by the two peers' ids and names: what
// setPresharedKey wrote, readable again (the WAN-as-code export needs it), never the key.
import { builder } from '../builder.js';

interface PresharedPair {
  peerAId: string;
  peerAName: string;
  peerBId: string;
  peerBName: string;
}

const PresharedKeyPairRef = builder.objectRef<PresharedPair>('PresharedKeyPair').implement({
  description: 'A tunnel with a preshared key (the key itself is never shown). peerA and peerB as setPresharedKey stored them (ids in sorted order).',
  fields: (t) => ({
    peerAId: t.exposeID('peerAId'),
    peerAName: t.exposeString('peerAName'),
    peerBId: t.exposeID('peerBId'),
    peerBName: t.exposeString('peerBName'),
  }),
});

builder.prismaObjectFields('Wan', (t) => ({
  presharedKeyPairs: t.field({
    type: [PresharedKeyPairRef],
    description: 'The tunnels that have a preshared key (setPresharedKey), by peer ids and names; never the keys.',
    resolve: async (wan, _args, ctx) => {
      const rows = await ctx.prisma.presharedKey.findMany({
        where: { wanId: wan.id },
        select: { peerAId: true, peerBId: true, peerA: { select: { name: true } }, peerB: { select: { name: true } } },
        orderBy: [{ peerAId: 'asc' }, { peerBId: 'asc' }],
      });
      return rows.map((row) => ({ peerAId: row.peerAId, peerAName: row.peerA.name, peerBId: row.peerBId, peerBName: row.peerB.name }));
    },
  }),
}));
