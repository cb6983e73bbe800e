// A small overlay built through the API, with every kind of secret Meshplane stores: a WAN,
// a hub and a site with server-held keys (and a preshared key between them), a peer with a
// bring-your-own key, a LAN, a published service and a device with a password.
import type { GraphQLTestClient } from './graphql.js';

export const DEVICE_PASSWORD = 'device-Pa55word;/system reset';

export interface OverlayFixture {
  wanId: string;
  hubId: string;
  siteId: string;
  byoId: string;
  subnetId: string;
  serviceId: string;
  deviceId: string;
}

const ADD_PEER = `mutation ($wanId: ID!, $input: AddPeerInput!) { addPeer(wanId: $wanId, input: $input) { peer { id } } }`;

export async function seedOverlay(admin: GraphQLTestClient, name = 'fixture'): Promise<OverlayFixture> {
  const { createWan } = await admin.ok<{ createWan: { wan: { id: string } } }>(`mutation ($input: CreateWanInput!) { createWan(input: $input) { wan { id } } }`, {
    input: { name, topology: 'HUB_SPOKE' },
  });
  const wanId = createWan.wan.id;
  const addPeer = async (input: Record<string, unknown>) => (await admin.ok<{ addPeer: { peer: { id: string } } }>(ADD_PEER, { wanId, input })).addPeer.peer.id;
  const hubId = await addPeer({ name: 'hub', role: 'HUB', endpointHost: 'hub.example.net', endpointPort: 51820 });
  const siteId = await addPeer({ name: 'site', role: 'SITE' });
  const byoId = await addPeer({ name: 'laptop', role: 'CLIENT', publicKey: 'xTIBA5rboUvnH4htodjb6e697QjLERt1NAB4mZqp8Dg=' });
  await admin.ok(`mutation ($a: ID!, $b: ID!) { setPresharedKey(peerAId: $a, peerBId: $b, enabled: true) }`, { a: hubId, b: siteId });
  const { addSubnet } = await admin.ok<{ addSubnet: { id: string } }>(`mutation ($peerId: ID!) { addSubnet(peerId: $peerId, input: { cidr: "192.168.10.0/24", description: "office" }) { id } }`, { peerId: siteId });
  const { publishService } = await admin.ok<{ publishService: { id: string } }>(
    `mutation ($peerId: ID!) { publishService(peerId: $peerId, input: { name: "web", localIp: "192.168.10.5", localPort: 80 }) { id } }`,
    { peerId: siteId },
  );
  const { createDevice } = await admin.ok<{ createDevice: { id: string } }>(`mutation ($input: CreateDeviceInput!) { createDevice(input: $input) { id } }`, {
    // Loopback on a closed port: a test that polls devices (the monitor) reaches nothing outside this machine.
    input: { name: `${name}-router`, kind: 'ROUTEROS_REST', host: '127.0.0.1', port: 9, tls: true, username: 'admin', secret: DEVICE_PASSWORD },
  });
  return { wanId, hubId, siteId, byoId, subnetId: addSubnet.id, serviceId: publishService.id, deviceId: createDevice.id };
}

/** The wg-quick config of a peer as downloaded, with its private key and preshared keys. */
export async function downloadConfig(client: GraphQLTestClient, peerId: string, format: 'WG_QUICK' | 'ROUTEROS' = 'WG_QUICK'): Promise<string> {
  const { downloadPeerConfig } = await client.ok<{ downloadPeerConfig: { content: string } }>(
    `mutation ($peerId: ID!, $format: ConfigFormat) { downloadPeerConfig(peerId: $peerId, format: $format) { content } }`,
    { peerId, format },
  );
  return downloadPeerConfig.content;
}

/** Values of `Name = value` lines of a wg-quick config (PrivateKey, PresharedKey). */
export function confValues(conf: string, name: string): string[] {
  return [...conf.matchAll(new RegExp(`^${name}\\s*=\\s*(\\S+)\\s*$`, 'gm'))].map((match) => match[1]!);
}
