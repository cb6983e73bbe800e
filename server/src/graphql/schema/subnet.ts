import { builder } from '../builder.js';
import { addressText, anyCidrText, nameText, port, text } from './input-rules.js';

export const Subnet = builder.prismaObject('Subnet', {
  description: 'A LAN that its peer HOSTS (not one it wants to reach).',
  fields: (t) => ({
    id: t.exposeID('id'),
    peer: t.relation('peer'),
    cidr: t.exposeString('cidr'),
    routed: t.exposeBoolean('routed', { description: 'Whether the overlay routes to this LAN.' }),
    natCidr: t.exposeString('natCidr', { nullable: true, description: 'The rest of the overlay reaches this LAN at this translated range.' }),
    description: t.exposeString('description'),
    createdAt: t.expose('createdAt', { type: 'DateTime' }),
  }),
});

export const PublishedService = builder.prismaObject('PublishedService', {
  description: "A peer's local IP:port exposed to the whole overlay on an address of the services range.",
  fields: (t) => ({
    id: t.exposeID('id'),
    peer: t.relation('peer'),
    name: t.exposeString('name'),
    protocol: t.exposeString('protocol'),
    localIp: t.exposeString('localIp'),
    localPort: t.exposeInt('localPort'),
    serviceIp: t.exposeString('serviceIp'),
    servicePort: t.exposeInt('servicePort'),
  }),
});

const ProtocolEnum = builder.enumType('ServiceProtocol', { values: { TCP: { value: 'tcp' }, UDP: { value: 'udp' } } as const });

export const AddSubnetInput = builder.inputType('AddSubnetInput', {
  fields: (t) => ({
    cidr: t.string({ required: true, validate: { schema: anyCidrText } }),
    routed: t.boolean({ description: 'Default true.' }),
    description: t.string({ validate: { schema: text(200) } }),
    autoNat: t.boolean({ description: 'Translate the LAN into a free range of the NAT pool (resolves overlaps with other sites).' }),
  }),
});

const UpdateSubnetInput = builder.inputType('UpdateSubnetInput', {
  fields: (t) => ({
    cidr: t.string({ validate: { schema: anyCidrText } }),
    routed: t.boolean(),
    description: t.string({ validate: { schema: text(200) } }),
    autoNat: t.boolean({ description: 'Pick a translated range from the NAT pool now.' }),
    natCidr: t.string({ description: 'Set a translated range explicitly, or null to stop translating.', validate: { schema: anyCidrText } }),
  }),
});

const PublishServiceInput = builder.inputType('PublishServiceInput', {
  fields: (t) => ({
    name: t.string({ required: true, validate: { schema: nameText() } }),
    protocol: t.field({ type: ProtocolEnum, description: 'Default TCP.' }),
    localIp: t.string({ required: true, validate: { schema: addressText } }),
    localPort: t.int({ required: true, validate: { schema: port } }),
    servicePort: t.int({ description: 'Default: the local port.', validate: { schema: port } }),
    serviceIp: t.string({ description: "Default: the first free address of the services range of localIp's family (IPv6: the WAN's servicesCidr6).", validate: { schema: addressText } }),
  }),
});

builder.mutationFields((t) => ({
  addSubnet: t.prismaField({
    type: 'Subnet',
    authScopes: { role: 'OPERATOR' },
    args: { peerId: t.arg.id({ required: true }), input: t.arg({ type: AddSubnetInput, required: true }) },
    resolve: async (query, _root, { peerId, input }, ctx) => {
      const subnet = await ctx.services.subnets.add(ctx.identity!, String(peerId), input);
      return ctx.prisma.subnet.findUniqueOrThrow({ ...query, where: { id: subnet.id } });
    },
  }),
  updateSubnet: t.prismaField({
    type: 'Subnet',
    authScopes: { role: 'OPERATOR' },
    args: { id: t.arg.id({ required: true }), input: t.arg({ type: UpdateSubnetInput, required: true }) },
    resolve: async (query, _root, { id, input }, ctx) => {
      await ctx.services.subnets.update(ctx.identity!, String(id), input);
      return ctx.prisma.subnet.findUniqueOrThrow({ ...query, where: { id: String(id) } });
    },
  }),
  deleteSubnet: t.id({
    authScopes: { role: 'OPERATOR' },
    args: { id: t.arg.id({ required: true }) },
    resolve: async (_root, { id }, ctx) => (await ctx.services.subnets.delete(ctx.identity!, String(id))).id,
  }),
  publishService: t.prismaField({
    type: 'PublishedService',
    authScopes: { role: 'OPERATOR' },
    args: { peerId: t.arg.id({ required: true }), input: t.arg({ type: PublishServiceInput, required: true }) },
    resolve: async (query, _root, { peerId, input }, ctx) => {
      const service = await ctx.services.subnets.publishService(ctx.identity!, String(peerId), input);
      return ctx.prisma.publishedService.findUniqueOrThrow({ ...query, where: { id: service.id } });
    },
  }),
  unpublishService: t.id({
    authScopes: { role: 'OPERATOR' },
    args: { id: t.arg.id({ required: true }) },
    resolve: async (_root, { id }, ctx) => (await ctx.services.subnets.unpublishService(ctx.identity!, String(id))).id,
  }),
}));
