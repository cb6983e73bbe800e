import { z } from 'zod';
import { builder } from '../builder.js';
import { TopologyEnum } from './enums.js';
import { notFound } from '../errors.js';
import { cidrText, keepaliveSeconds, nameText, port, text } from './input-rules.js';

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
    createdAt: t.expose('createdAt', { type: 'DateTime' }),
    updatedAt: t.expose('updatedAt', { type: 'DateTime' }),
    peerCount: t.relationCount('peers'),
    // The WAN page lists up to 1,000 peers at once (relay's default cap is 100).
    peers: t.relatedConnection('peers', { cursor: 'id', maxSize: 1000, query: { orderBy: { tunnelIp: 'asc' } } }),
  }),
});

const name = nameText(64);

const wanSettingsFields = {
  tunnelCidr: { validate: { schema: cidrText() } },
  servicesCidr: { validate: { schema: cidrText() } },
  natPool: { validate: { schema: cidrText() } },
  listenPort: { validate: { schema: port } },
  mtu: { validate: { schema: z.number().int().min(1280, 'must be at least 1280').max(9000, 'must be at most 9000') } },
  keepalive: { validate: { schema: keepaliveSeconds } },
  interfaceName: { validate: { schema: text(15, 'INVALID_NAME') } },
} as const;

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
