// A WireGuard setup as LuCI writes it, before Meshplane: `config interface '<if>'` (proto
// wireguard, key, port, addresses, mtu), one ANONYMOUS `wireguard_<if>` section per peer with
// route_allowed_ips '1', and an anonymous fw4 rule `Allow-WireGuard` (src wan, udp <port>,
// ACCEPT). Committed through the same store as everything else (so the anonymous ids are the
// router's), the network reloaded, and every peer given a live session. For adoption tests.
import type { OpenWrtModel, PeerStats } from './model.js';

export interface HandMadePeerSpec {
  publicKey: string;
  presharedKey?: string | null;
  allowedIps: string[];
  endpointHost?: string | null;
  endpointPort?: number | null;
  keepalive?: number | null;
  /** LuCI's "Description" (getWgInstances' peer name). */
  description?: string;
  /** The session to fake; default: a recent handshake and some traffic. */
  stats?: PeerStats;
}

export interface HandMadeSpec {
  interfaceName: string;
  privateKey: string;
  listenPort: number;
  addresses: string[];
  mtu?: number;
  peers: HandMadePeerSpec[];
  /** Add the Allow-WireGuard input rule (default true). */
  firewallRule?: boolean;
}

export interface HandMadeResult {
  /** The peers' anonymous section ids as the router numbers them now, in spec order. */
  peerSections: string[];
  /** The rule's anonymous id, or null. */
  ruleSection: string | null;
}

/** LuCI stages in its own session; the sid never reaches a client. */
const LUCI_SID = 'luci0000000000000000000000000000';

export function addHandMadeSetup(model: OpenWrtModel, spec: HandMadeSpec): HandMadeResult {
  const { uci } = model;
  const check = (reply: { status: number }, what: string) => {
    if (reply.status !== 0) throw new Error(`hand-made setup: ${what} answered ${reply.status}`);
  };
  check(
    uci.add(LUCI_SID, 'network', {
      type: 'interface',
      name: spec.interfaceName,
      values: { proto: 'wireguard', private_key: spec.privateKey, listen_port: String(spec.listenPort), addresses: spec.addresses, ...(spec.mtu ? { mtu: String(spec.mtu) } : {}) },
    }),
    'interface',
  );
  for (const peer of spec.peers) {
    const values: Record<string, unknown> = { public_key: peer.publicKey, allowed_ips: peer.allowedIps, route_allowed_ips: '1' };
    if (peer.description) values.description = peer.description;
    if (peer.presharedKey) values.preshared_key = peer.presharedKey;
    if (peer.endpointHost) values.endpoint_host = peer.endpointHost;
    if (peer.endpointHost && peer.endpointPort) values.endpoint_port = String(peer.endpointPort);
    if (peer.keepalive) values.persistent_keepalive = String(peer.keepalive);
    check(uci.add(LUCI_SID, 'network', { type: `wireguard_${spec.interfaceName}`, values }), 'peer');
  }
  if (spec.firewallRule !== false) {
    check(uci.add(LUCI_SID, 'firewall', { type: 'rule', values: { name: 'Allow-WireGuard', src: 'wan', dest_port: String(spec.listenPort), proto: 'udp', target: 'ACCEPT' } }), 'rule');
  }
  uci.commit(LUCI_SID, 'network');
  if (spec.firewallRule !== false) uci.commit(LUCI_SID, 'firewall');
  // LuCI's "Save & Apply" of a new interface brings it up; the peers are live from the start.
  model.runtime.reloadNetwork();
  model.runtime.reloadFirewall();
  const now = model.clock.now();
  spec.peers.forEach((peer, index) => {
    model.runtime.setPeerStats(peer.publicKey, peer.stats ?? { latestHandshake: now - 30 - index, rx: BigInt(10_000 * (index + 1)), tx: BigInt(20_000 * (index + 1)) });
  });
  const network = uci.load('network')!;
  const peerType = `wireguard_${spec.interfaceName}`;
  const peerSections = spec.peers.map((peer) => network.sections.find((section) => section.type === peerType && section.options.get('public_key') === peer.publicKey)!.name);
  const rule = spec.firewallRule === false ? null : uci.load('firewall')!.sections.findLast((section) => section.type === 'rule' && section.options.get('name') === 'Allow-WireGuard');
  return { peerSections, ruleSection: rule?.name ?? null };
}
