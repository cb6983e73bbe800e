// The WAN file: one WAN, its peers with their LANs and services, and the tunnels that have a
// preshared key. Field names are the GraphQL input fields they are written to (GRAPHQL_TARGETS
// says which; a test holds them against server/schema.graphql), so the file reads like the API.
// Never a secret: a peer's publicKey appears only when the peer brought its own key.
import { z } from 'zod';

const name = z.string().min(1).max(200);
const port = z.number().int().min(1).max(65535);

export const WanSettingsSchema = z
  .object({
    name: name.describe('The WAN, matched by name on the server.'),
    topology: z.enum(['HUB_SPOKE', 'HYBRID', 'MESH']).optional(),
    tunnelCidr: z.string().optional(),
    tunnelCidr6: z.string().optional().describe('IPv6 tunnel range (dual-stack WANs).'),
    servicesCidr: z.string().optional(),
    servicesCidr6: z.string().optional(),
    natPool: z.string().optional(),
    natPool6: z.string().optional(),
    listenPort: port.optional(),
    mtu: z.number().int().optional(),
    keepalive: z.number().int().min(0).optional(),
    interfaceName: z.string().optional(),
    hubRedundancy: z.boolean().optional(),
    selfService: z.boolean().optional(),
    selfServicePeerLimit: z.number().int().min(1).max(50).optional(),
  })
  .strict()
  .describe('WAN settings. A setting left out keeps the server\'s value (its default when the WAN is created).');

export const LanSchema = z
  .object({
    cidr: z.string().min(1).describe('The LAN, matched by CIDR within its peer.'),
    description: z.string().optional().describe('Default: empty.'),
    routed: z.boolean().optional().describe('Default true.'),
    natCidr: z.string().optional().describe('The translated range (NAT) the overlay sees; left out: not translated.'),
  })
  .strict();

export const ServiceSchema = z
  .object({
    name: name.describe('The service, matched by name within its peer.'),
    protocol: z.enum(['TCP', 'UDP']).optional().describe('Default TCP.'),
    localIp: z.string().min(1),
    localPort: port,
    serviceIp: z.string().optional().describe('Left out: whatever address the server gives it.'),
    servicePort: port.optional().describe('Left out: whatever port the server gives it (the local port).'),
  })
  .strict();

export const PeerSchema = z
  .object({
    name: name.describe('The peer, matched by name within the WAN.'),
    role: z.enum(['CLIENT', 'HUB', 'SITE']).optional().describe('Default SITE.'),
    tunnelIp: z.string().optional().describe('Fixed once the peer exists; left out: the first free address.'),
    tunnelIp6: z.string().optional().describe('Fixed once the peer exists (dual-stack WANs).'),
    publicKey: z.string().optional().describe('Only for a peer that brings its own key (Meshplane never holds its private key). Left out: Meshplane makes and holds the key pair.'),
    endpointHost: z.string().optional(),
    endpointPort: port.optional(),
    listenPort: port.optional(),
    keepalive: z.number().int().min(0).max(3600).optional().describe('Left out: the WAN\'s keepalive.'),
    portForwarded: z.boolean().optional().describe('Default false.'),
    autoDeploy: z.boolean().optional().describe('Default false.'),
    enabled: z.boolean().optional().describe('Default true.'),
    expiresAt: z.string().datetime({ offset: true }).optional().describe('When Meshplane disables the peer; left out: never.'),
    device: z.string().min(1).optional().describe('The name of the device (already on the server) the peer is deployed to; left out: none.'),
    lans: z.array(LanSchema).optional(),
    services: z.array(ServiceSchema).optional(),
  })
  .strict();

export const WanFileSchema = z
  .object({
    wan: WanSettingsSchema,
    peers: z.array(PeerSchema).optional(),
    presharedKeys: z
      .array(z.tuple([name, name]))
      .optional()
      .describe('Tunnels with a preshared key, as pairs of peer names (Meshplane makes and keeps the keys).'),
  })
  .strict()
  .superRefine((file, ctx) => {
    const peers = file.peers ?? [];
    duplicates(peers.map((peer) => peer.name)).forEach((dup) => ctx.addIssue({ code: 'custom', path: ['peers'], message: `peer "${dup}" is listed twice` }));
    peers.forEach((peer, index) => {
      duplicates((peer.lans ?? []).map((lan) => lan.cidr)).forEach((dup) => ctx.addIssue({ code: 'custom', path: ['peers', index, 'lans'], message: `peer "${peer.name}": LAN ${dup} is listed twice` }));
      duplicates((peer.services ?? []).map((service) => service.name)).forEach((dup) => ctx.addIssue({ code: 'custom', path: ['peers', index, 'services'], message: `peer "${peer.name}": service "${dup}" is listed twice` }));
    });
    const names = new Set(peers.map((peer) => peer.name));
    (file.presharedKeys ?? []).forEach(([a, b], index) => {
      if (a === b) ctx.addIssue({ code: 'custom', path: ['presharedKeys', index], message: `a preshared key joins two different peers, not "${a}" with itself` });
      for (const peer of [a, b]) if (!names.has(peer)) ctx.addIssue({ code: 'custom', path: ['presharedKeys', index], message: `presharedKeys: peer "${peer}" is not listed in peers` });
    });
  });

export type WanFile = z.infer<typeof WanFileSchema>;
export type WanSettings = z.infer<typeof WanSettingsSchema>;
export type PeerSpec = z.infer<typeof PeerSchema>;
export type LanSpec = z.infer<typeof LanSchema>;
export type ServiceSpec = z.infer<typeof ServiceSchema>;

function duplicates(values: string[]): string[] {
  const seen = new Set<string>();
  const twice = new Set<string>();
  for (const value of values) (seen.has(value) ? twice : seen).add(value);
  return [...twice];
}

/**
 * Where each field of the file goes in the GraphQL API: `Type.field` of an input type, or
 * `Mutation.name(argument)`. Every field must be listed (test/schema.test.ts checks both ways
 * against server/schema.graphql), so renaming an API field breaks the build, not a user's apply.
 */
export const GRAPHQL_TARGETS = {
  wan: Object.fromEntries(Object.keys(WanSettingsSchema.shape).map((field) => [field, [`CreateWanInput.${field}`, `UpdateWanInput.${field}`]])),
  peer: {
    name: ['AddPeerInput.name', 'UpdatePeerInput.name'],
    role: ['AddPeerInput.role', 'UpdatePeerInput.role'],
    tunnelIp: ['AddPeerInput.tunnelIp'],
    tunnelIp6: ['AddPeerInput.tunnelIp6'],
    publicKey: ['AddPeerInput.publicKey', 'UpdatePeerInput.publicKey'],
    endpointHost: ['AddPeerInput.endpointHost', 'UpdatePeerInput.endpointHost'],
    endpointPort: ['AddPeerInput.endpointPort', 'UpdatePeerInput.endpointPort'],
    listenPort: ['AddPeerInput.listenPort', 'UpdatePeerInput.listenPort'],
    keepalive: ['AddPeerInput.keepalive', 'UpdatePeerInput.keepalive'],
    portForwarded: ['AddPeerInput.portForwarded', 'UpdatePeerInput.portForwarded'],
    autoDeploy: ['AddPeerInput.autoDeploy', 'UpdatePeerInput.autoDeploy'],
    enabled: ['AddPeerInput.enabled', 'UpdatePeerInput.enabled'],
    expiresAt: ['AddPeerInput.expiresAt', 'UpdatePeerInput.expiresAt'],
    device: ['AddPeerInput.deviceId', 'UpdatePeerInput.deviceId'],
    lans: ['AddPeerInput.subnets', 'Mutation.addSubnet(input)'],
    services: ['Mutation.publishService(input)'],
  },
  lan: {
    cidr: ['AddSubnetInput.cidr'],
    description: ['AddSubnetInput.description', 'UpdateSubnetInput.description'],
    routed: ['AddSubnetInput.routed', 'UpdateSubnetInput.routed'],
    natCidr: ['UpdateSubnetInput.natCidr'],
  },
  service: Object.fromEntries(Object.keys(ServiceSchema.shape).map((field) => [field, [`PublishServiceInput.${field}`]])),
  file: {
    wan: ['Mutation.createWan(input)', 'Mutation.updateWan(input)'],
    peers: ['Mutation.addPeer(input)', 'Mutation.updatePeer(input)'],
    presharedKeys: ['Mutation.setPresharedKey(peerAId)', 'Mutation.setPresharedKey(peerBId)'],
  },
} as const satisfies Record<string, Record<string, readonly string[]>>;

/** The objects of the file whose fields GRAPHQL_TARGETS maps, with their zod shapes. */
export const MAPPED_SHAPES = {
  wan: WanSettingsSchema.shape,
  peer: PeerSchema.shape,
  lan: LanSchema.shape,
  service: ServiceSchema.shape,
  file: WanFileSchema.shape,
} as const;

/** The file's JSON Schema (editors complete and check the YAML with it). */
export function wanJsonSchema(): Record<string, unknown> {
  const schema = z.toJSONSchema(WanFileSchema, { io: 'input', target: 'draft-2020-12' }) as Record<string, unknown>;
  return { ...schema, title: 'Meshplane WAN file (meshplane export / plan / apply)' };
}
