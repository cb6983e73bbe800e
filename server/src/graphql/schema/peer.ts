import { builder } from '../builder.js';
import { PeerRoleEnum } from './enums.js';
import { notFound } from '../errors.js';
import { addressText, hostText, keepaliveSeconds, keyText, nameText, port } from './input-rules.js';
import { relatedRows } from '../related-rows.js';
import { AddSubnetInput } from './subnet.js';
import { MAX_NEW_PEER_LANS } from '../../services/overlay/peers.js';

const KeyCustodyEnum = builder.enumType('KeyCustody', {
  values: { SERVER: { description: 'Meshplane generated the key pair and holds the private key (encrypted).' }, USER: { description: 'The user brought their own public key; the private key never reached Meshplane.' } } as const,
});

export const Peer = builder.prismaObject('Peer', {
  fields: (t) => ({
    id: t.exposeID('id'),
    // `resolve`: for peers read without their relations (the WAN page's list), one read per list.
    wan: t.relation('wan', {
      resolve: (query, peer, _args, ctx) =>
        relatedRows(ctx, 'Peer.wan', query, 'id', peer.wanId, (q, ids) => ctx.prisma.wan.findMany({ ...q, where: { id: { in: ids } } })).then((rows) => rows[0] ?? Promise.reject(notFound('WAN'))),
    }),
    name: t.exposeString('name'),
    role: t.expose('role', { type: PeerRoleEnum }),
    tunnelIp: t.exposeString('tunnelIp'),
    tunnelIp6: t.exposeString('tunnelIp6', { nullable: true, description: 'The IPv6 tunnel address (RFC 5952 form) in a dual-stack WAN; null in an IPv4-only one.' }),
    publicKey: t.exposeString('publicKey'),
    // Peer reads every column (no `select` on the type), so fields need no `select` of their
    // own: one would make Pothos look up, for each peer of a list, whether it was loaded.
    keyCustody: t.field({ type: KeyCustodyEnum, resolve: (peer) => (peer.privateKeyEnc ? 'SERVER' : 'USER') }),
    endpointHost: t.exposeString('endpointHost', { nullable: true, description: 'null: no reachable endpoint (behind CGNAT).' }),
    endpointPort: t.exposeInt('endpointPort', { nullable: true }),
    listenPort: t.exposeInt('listenPort', { nullable: true, description: 'null: the WAN default.' }),
    keepalive: t.exposeInt('keepalive', { nullable: true }),
    portForwarded: t.exposeBoolean('portForwarded', { description: 'An upstream router forwards endpointPort to listenPort.' }),
    autoDeploy: t.exposeBoolean('autoDeploy'),
    enabled: t.exposeBoolean('enabled', { description: 'false: the peer is in no other peer\'s configuration (nor on their devices after their next deploy), and its own configuration has no tunnels.' }),
    expiresAt: t.expose('expiresAt', { type: 'DateTime', nullable: true, description: 'When Meshplane disables the peer by itself (audited as peer.expire); null: never.' }),
    device: t.relation('device', {
      nullable: true,
      // No promise for a peer without a device: most of a WAN's peers have none.
      resolve: (query, peer, _args, ctx) =>
        peer.deviceId ? relatedRows(ctx, 'Peer.device', query, 'id', peer.deviceId, (q, ids) => ctx.prisma.device.findMany({ ...q, where: { id: { in: ids } } })).then((rows) => rows[0] ?? null) : null,
    }),
    owner: t.relation('owner', {
      nullable: true,
      description: 'The user who added this peer through self-service (createMyPeer) and may download and delete it; null for peers an operator added.',
      resolve: (query, peer, _args, ctx) =>
        peer.ownerId ? relatedRows(ctx, 'Peer.owner', query, 'id', peer.ownerId, (q, ids) => ctx.prisma.user.findMany({ ...q, where: { id: { in: ids } } })).then((rows) => rows[0] ?? null) : null,
    }),
    subnets: t.relation('subnets', {
      query: { orderBy: { cidr: 'asc' } },
      // From the request's one read of the WAN's subnets (every column, by address), which the
      // WAN page's list waits for: a value per peer, not a promise. Relations asked beneath a
      // subnet are not in those rows, and Pothos loads them for each subnet's field as usual.
      resolve: (_query, peer, _args, ctx) => ctx.overlays.subnetsOf(peer),
    }),
    services: t.relation('services', {
      query: { orderBy: { serviceIp: 'asc' } },
      resolve: (query, peer, _args, ctx) => relatedRows(ctx, 'Peer.services', query, 'peerId', peer.id, (q, ids) => ctx.prisma.publishedService.findMany({ ...q, where: { peerId: { in: ids } } })),
    }),
    deliveredAt: t.expose('deliveredAt', { type: 'DateTime', nullable: true, description: 'When what configStatus compares was confirmed: a deploy or verify on the device (a manual peer: its last download).' }),
    deliveredVia: t.exposeString('deliveredVia', { nullable: true, description: 'deploy, verify, or download (manual peers, or a download kept when the device was unbound).' }),
    createdAt: t.expose('createdAt', { type: 'DateTime' }),
    updatedAt: t.expose('updatedAt', { type: 'DateTime' }),
  }),
});


const AddPeerInput = builder.inputType('AddPeerInput', {
  fields: (t) => ({
    name: t.string({ required: true, validate: { schema: nameText() } }),
    role: t.field({ type: PeerRoleEnum, description: 'Default SITE.' }),
    publicKey: t.string({ description: 'Bring your own key: Meshplane then never holds the private key.', validate: { schema: keyText } }),
    tunnelIp: t.string({ description: 'A specific tunnel address; default the first free one.', validate: { schema: addressText } }),
    tunnelIp6: t.string({ description: 'A specific IPv6 tunnel address, any valid form (dual-stack WANs); default the first free one.', validate: { schema: addressText } }),
    endpointHost: t.string({ description: 'Public address or hostname others dial; omit when behind CGNAT.', validate: { schema: hostText } }),
    endpointPort: t.int({ validate: { schema: port } }),
    listenPort: t.int({ validate: { schema: port } }),
    keepalive: t.int({ validate: { schema: keepaliveSeconds } }),
    portForwarded: t.boolean(),
    autoDeploy: t.boolean(),
    deviceId: t.id(),
    enabled: t.boolean({ description: 'Default true.' }),
    expiresAt: t.field({ type: 'DateTime', description: 'Disable the peer at this moment (in the future); default never.' }),
    subnets: t.field({ type: [AddSubnetInput], description: `LANs the peer hosts, created with it (at most ${MAX_NEW_PEER_LANS}): one refused LAN refuses the whole peer, naming that LAN.` }),
  }),
});

const UpdatePeerInput = builder.inputType('UpdatePeerInput', {
  description: 'Fields left out stay as they are; endpointHost, endpointPort, listenPort, keepalive, deviceId and expiresAt may be set to null to clear them.',
  fields: (t) => ({
    name: t.string({ validate: { schema: nameText() } }),
    role: t.field({ type: PeerRoleEnum }),
    publicKey: t.string({ description: 'Switch to a user-held key (the server forgets its private key).', validate: { schema: keyText } }),
    endpointHost: t.string({ validate: { schema: hostText } }),
    endpointPort: t.int({ validate: { schema: port } }),
    listenPort: t.int({ validate: { schema: port } }),
    keepalive: t.int({ validate: { schema: keepaliveSeconds } }),
    portForwarded: t.boolean(),
    autoDeploy: t.boolean(),
    deviceId: t.id(),
    enabled: t.boolean({ description: 'false takes the peer out of every other peer\'s configuration; true brings it back.' }),
    expiresAt: t.field({ type: 'DateTime', description: 'Disable the peer at this moment (in the future); null: never.' }),
  }),
});

const PeerPayload = builder.objectRef<{ peerId: string }>('PeerPayload').implement({
  fields: (t) => ({
    peer: t.prismaField({ type: 'Peer', resolve: (query, payload, _args, ctx) => ctx.prisma.peer.findUniqueOrThrow({ ...query, where: { id: payload.peerId } }) }),
  }),
});

builder.queryFields((t) => ({
  peer: t.prismaField({
    type: 'Peer',
    authScopes: { role: 'VIEWER' },
    args: { id: t.arg.id({ required: true }) },
    resolve: async (query, _root, { id }, ctx) => (await ctx.prisma.peer.findUnique({ ...query, where: { id: String(id) } })) ?? Promise.reject(notFound('Peer')),
  }),
}));

builder.mutationFields((t) => ({
  addPeer: t.field({
    type: PeerPayload,
    authScopes: { role: 'OPERATOR' },
    description: 'Adds a peer with the first free tunnel address (or the one asked for) and a new key pair unless publicKey is given.',
    args: { wanId: t.arg.id({ required: true }), input: t.arg({ type: AddPeerInput, required: true }) },
    resolve: async (_root, { wanId, input }, ctx) => ({
      peerId: (await ctx.services.peers.add(ctx.identity!, String(wanId), { ...input, deviceId: input.deviceId == null ? input.deviceId : String(input.deviceId) })).id,
    }),
  }),
  updatePeer: t.field({
    type: PeerPayload,
    authScopes: { role: 'OPERATOR' },
    args: { id: t.arg.id({ required: true }), input: t.arg({ type: UpdatePeerInput, required: true }) },
    resolve: async (_root, { id, input }, ctx) => ({
      peerId: (await ctx.services.peers.update(ctx.identity!, String(id), { ...input, deviceId: input.deviceId == null ? input.deviceId : String(input.deviceId) })).id,
    }),
  }),
  rotatePeerKey: t.field({
    type: PeerPayload,
    authScopes: { role: 'OPERATOR' },
    description: 'Generates a new key pair held by Meshplane; every config containing the old key becomes stale.',
    args: { id: t.arg.id({ required: true }) },
    resolve: async (_root, { id }, ctx) => ({ peerId: (await ctx.services.peers.rotateKey(ctx.identity!, String(id))).id }),
  }),
  setPresharedKey: t.boolean({
    authScopes: { role: 'OPERATOR' },
    description: 'Adds (enabled: true) or removes a preshared key on the tunnel between two peers; both configs become stale.',
    args: { peerAId: t.arg.id({ required: true }), peerBId: t.arg.id({ required: true }), enabled: t.arg.boolean({ required: true }) },
    resolve: (_root, args, ctx) => ctx.services.peers.setPresharedKey(ctx.identity!, String(args.peerAId), String(args.peerBId), args.enabled),
  }),
  deletePeer: t.id({
    authScopes: { role: 'OPERATOR' },
    args: { id: t.arg.id({ required: true }) },
    resolve: async (_root, { id }, ctx) => (await ctx.services.peers.delete(ctx.identity!, String(id))).id,
  }),
}));
