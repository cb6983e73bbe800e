import { Kind, type GraphQLResolveInfo, type SelectionSetNode } from 'graphql';
import { builder } from '../builder.js';
import { TopologyEnum } from './enums.js';
import { notFound } from '../errors.js';
import { anyCidrText, cidrText, keepaliveSeconds, nameText, port, text, wholeNumber } from './input-rules.js';
import { Peer } from './peer.js';
import { PEER_FIELDS_FROM_VIEW } from './overlay.js';
import { SELF_SERVICE_PEER_LIMIT_MAX } from '../../domain/wan-settings.js';
import { PEER_SEARCH_DESCRIPTION, PeerFilterInput, PeerOrderInput, peerPage, peerSearchArg, type PeerPage } from './wan-peers.js';

const SUBNETS: ReadonlySet<string> = new Set(['subnets']);

/** Whether the document asks, of the nodes of this connection, any of `names` (through fragments). */
function asksOfNodes(info: GraphQLResolveInfo, names: ReadonlySet<string>): boolean {
  const fieldsIn = (set: SelectionSetNode | undefined, visit: (name: string, selections: SelectionSetNode | undefined) => boolean): boolean =>
    (set?.selections ?? []).some((selection) => {
      if (selection.kind === Kind.FIELD) return visit(selection.name.value, selection.selectionSet);
      const inner = selection.kind === Kind.INLINE_FRAGMENT ? selection.selectionSet : info.fragments[selection.name.value]?.selectionSet;
      return fieldsIn(inner, visit);
    });
  return info.fieldNodes.some((field) =>
    fieldsIn(field.selectionSet, (edges, edgeSet) => edges === 'edges' && fieldsIn(edgeSet, (node, nodeSet) => node === 'node' && fieldsIn(nodeSet, (name) => names.has(name)))));
}

const HUB_REDUNDANCY = 'Opt-in redundant hubs (HUB_SPOKE only, interface name of at most 12 characters): spokes get one interface per hub and every peer runs eBGP with BFD, so the loss of a hub or of a link to one fails over without Meshplane. Active with two or more hubs that have endpoints; the conflicts say why not otherwise.';

export const Wan = builder.prismaObject('Wan', {
  fields: (t) => ({
    id: t.exposeID('id'),
    name: t.exposeString('name'),
    tunnelCidr: t.exposeString('tunnelCidr', { description: 'Tunnel addresses of the peers come from this range.' }),
    servicesCidr: t.exposeString('servicesCidr', { description: 'Published services get addresses from this range.' }),
    natPool: t.exposeString('natPool', { description: 'Overlapping LANs are translated into free ranges of this pool.' }),
    topology: t.expose('topology', { type: TopologyEnum }),
    listenPort: t.exposeInt('listenPort'),
    mtu: t.exposeInt('mtu'),
    keepalive: t.exposeInt('keepalive'),
    interfaceName: t.exposeString('interfaceName'),
    hubRedundancy: t.exposeBoolean('hubRedundancy', { description: HUB_REDUNDANCY }),
    selfService: t.exposeBoolean('selfService', { description: SELF_SERVICE }),
    selfServicePeerLimit: t.exposeInt('selfServicePeerLimit', { description: SELF_SERVICE_LIMIT }),
    tunnelCidr6: t.exposeString('tunnelCidr6', { nullable: true, description: 'Dual-stack: IPv6 tunnel addresses of the peers come from this range (RFC 5952 form); null: IPv4 only.' }),
    servicesCidr6: t.exposeString('servicesCidr6', { nullable: true, description: 'Dual-stack: services with an IPv6 local address get addresses from this range.' }),
    natPool6: t.exposeString('natPool6', { nullable: true, description: 'Dual-stack: overlapping IPv6 LANs are translated (NPTv6) into free prefixes of this pool.' }),
    createdAt: t.expose('createdAt', { type: 'DateTime' }),
    updatedAt: t.expose('updatedAt', { type: 'DateTime' }),
    peerCount: t.relationCount('peers'),
    // Searched, filtered, ordered and paged in memory from the request's one read of the WAN's
    // peers (shared with staleness and the overlay view) rather than a Pothos-planned relation:
    // Prisma maps 1,000 peers with their relations several times slower than flat rows, and
    // tunnel state and staleness are no SQL column (wan-peers.ts). Asked for the config status
    // or subnets, the list also waits for the view or the WAN's subnets, so each peer's field
    // is a value, not a promise.
    peers: t.connection(
      {
        type: Peer,
        description: 'The WAN\'s peers, by default in tunnel-address order. A cursor continues only the search, filter and order it was issued for.',
        extensions: { ownCursors: true },
        args: {
          search: t.arg.string({ description: PEER_SEARCH_DESCRIPTION, validate: { schema: peerSearchArg } }),
          filter: t.arg({ type: PeerFilterInput }),
          orderBy: t.arg({ type: PeerOrderInput }),
        },
        resolve: (wan, args, ctx, info) =>
          peerPage(wan, args, ctx, { viewForNodes: asksOfNodes(info, PEER_FIELDS_FROM_VIEW), subnetsForNodes: asksOfNodes(info, SUBNETS) }) as never,
      },
      {
        fields: (tc) => ({
          totalCount: tc.int({ description: 'Peers matching the search and filter, on every page.', resolve: (page) => (page as unknown as PeerPage).totalCount }),
        }),
      },
    ),
  }),
});

const SELF_SERVICE = 'Open for self-service: users with the SELF_SERVICE role (and every other signed-in user) may add CLIENT peers of their own here (createMyPeer). Closing it keeps the peers they have.';
const SELF_SERVICE_LIMIT = `How many peers one user may add here through self-service (1 to ${SELF_SERVICE_PEER_LIMIT_MAX}; default 3).`;

const name = nameText(64);

const wanSettingsFields = {
  tunnelCidr: { validate: { schema: cidrText() } },
  servicesCidr: { validate: { schema: cidrText() } },
  natPool: { validate: { schema: cidrText() } },
  listenPort: { validate: { schema: port } },
  mtu: { validate: { schema: wholeNumber(1280, 9000) } },
  keepalive: { validate: { schema: keepaliveSeconds } },
  interfaceName: { validate: { schema: text(15, 'INVALID_NAME') } },
  tunnelCidr6: { description: 'IPv6 tunnel range in any valid form (stored canonical); with servicesCidr6 and natPool6, or with ipv6: true.', validate: { schema: anyCidrText } },
  servicesCidr6: { description: 'IPv6 services range.', validate: { schema: anyCidrText } },
  natPool6: { description: 'IPv6 NAT pool (NPTv6 for overlapping IPv6 LANs).', validate: { schema: anyCidrText } },
  selfServicePeerLimit: { description: SELF_SERVICE_LIMIT, validate: { schema: wholeNumber(1, SELF_SERVICE_PEER_LIMIT_MAX) } },
} as const;

const IPV6 = 'true: dual-stack; the IPv6 ranges not given come from a random unique local /48 (RFC 4193: tunnel ::/64, services :5::/64, NAT pool :8000::/49), and an existing WAN keeps the ones it has and gives every peer an IPv6 tunnel address. false: IPv4 only (refused while IPv6 LANs or services exist; peers lose their IPv6 addresses).';

const CreateWanInput = builder.inputType('CreateWanInput', {
  fields: (t) => ({
    name: t.string({ required: true, validate: { schema: name } }),
    tunnelCidr: t.string(wanSettingsFields.tunnelCidr),
    servicesCidr: t.string(wanSettingsFields.servicesCidr),
    natPool: t.string(wanSettingsFields.natPool),
    topology: t.field({ type: TopologyEnum }),
    listenPort: t.int(wanSettingsFields.listenPort),
    mtu: t.int(wanSettingsFields.mtu),
    keepalive: t.int(wanSettingsFields.keepalive),
    interfaceName: t.string(wanSettingsFields.interfaceName),
    hubRedundancy: t.boolean({ description: HUB_REDUNDANCY }),
    selfService: t.boolean({ description: SELF_SERVICE }),
    selfServicePeerLimit: t.int(wanSettingsFields.selfServicePeerLimit),
    ipv6: t.boolean({ description: IPV6 }),
    tunnelCidr6: t.string(wanSettingsFields.tunnelCidr6),
    servicesCidr6: t.string(wanSettingsFields.servicesCidr6),
    natPool6: t.string(wanSettingsFields.natPool6),
  }),
});

const UpdateWanInput = builder.inputType('UpdateWanInput', {
  fields: (t) => ({
    name: t.string({ validate: { schema: name } }),
    tunnelCidr: t.string(wanSettingsFields.tunnelCidr),
    servicesCidr: t.string(wanSettingsFields.servicesCidr),
    natPool: t.string(wanSettingsFields.natPool),
    topology: t.field({ type: TopologyEnum }),
    listenPort: t.int(wanSettingsFields.listenPort),
    mtu: t.int(wanSettingsFields.mtu),
    keepalive: t.int(wanSettingsFields.keepalive),
    interfaceName: t.string(wanSettingsFields.interfaceName),
    hubRedundancy: t.boolean({ description: HUB_REDUNDANCY }),
    selfService: t.boolean({ description: SELF_SERVICE }),
    selfServicePeerLimit: t.int(wanSettingsFields.selfServicePeerLimit),
    ipv6: t.boolean({ description: IPV6 }),
    tunnelCidr6: t.string(wanSettingsFields.tunnelCidr6),
    servicesCidr6: t.string(wanSettingsFields.servicesCidr6),
    natPool6: t.string(wanSettingsFields.natPool6),
  }),
});

const WanPayload = builder.objectRef<{ wanId: string }>('WanPayload').implement({
  fields: (t) => ({
    wan: t.prismaField({ type: 'Wan', resolve: (query, payload, _args, ctx) => ctx.prisma.wan.findUniqueOrThrow({ ...query, where: { id: payload.wanId } }) }),
  }),
});

builder.queryFields((t) => ({
  wans: t.prismaConnection({
    type: 'Wan',
    cursor: 'id',
    authScopes: { role: 'VIEWER' },
    resolve: (query, _root, _args, ctx) => ctx.prisma.wan.findMany({ ...query, orderBy: { name: 'asc' } }),
  }),
  wan: t.prismaField({
    type: 'Wan',
    authScopes: { role: 'VIEWER' },
    args: { id: t.arg.id({ required: true }) },
    resolve: async (query, _root, { id }, ctx) => (await ctx.prisma.wan.findUnique({ ...query, where: { id: String(id) } })) ?? Promise.reject(notFound('WAN')),
  }),
}));

builder.mutationFields((t) => ({
  createWan: t.field({
    type: WanPayload,
    authScopes: { role: 'OPERATOR' },
    args: { input: t.arg({ type: CreateWanInput, required: true }) },
    resolve: async (_root, { input }, ctx) => ({ wanId: (await ctx.services.wans.create(ctx.identity!, input)).id }),
  }),
  updateWan: t.field({
    type: WanPayload,
    authScopes: { role: 'OPERATOR' },
    args: { id: t.arg.id({ required: true }), input: t.arg({ type: UpdateWanInput, required: true }) },
    resolve: async (_root, { id, input }, ctx) => ({ wanId: (await ctx.services.wans.update(ctx.identity!, String(id), input)).id }),
  }),
  deleteWan: t.id({
    authScopes: { role: 'OPERATOR' },
    description: 'Deletes the WAN with its peers, subnets and services; returns its id.',
    args: { id: t.arg.id({ required: true }) },
    resolve: async (_root, { id }, ctx) => (await ctx.services.wans.delete(ctx.identity!, String(id))).id,
  }),
}));
