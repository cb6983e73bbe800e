// The overlay after compilation: for each peer, exactly what its configuration contains.
// Renderers, device drivers, staleness hashes and reachability all read only this.
import type { PeerRole, ServiceProtocol, WanSpec } from './model.js';

export interface CompiledRemote {
  peerId: string;
  name: string;
  publicKey: string;
  presharedKey: string | null;
  /** "host:port" (IPv6 in brackets); null when the remote has no endpoint (CGNAT). */
  endpoint: string | null;
  /** Sorted by address; never overlaps the AllowedIPs of another remote of the same peer. */
  allowedIps: string[];
  persistentKeepalive: number | null;
}

export interface CompiledRoute {
  destination: string;
  /** The remote peer whose AllowedIPs carry the destination. */
  via: string;
  gatewayTunnelIp: string;
}

export interface CompiledNetmap {
  kind: 'netmap';
  /** What the rest of the overlay sees. */
  translated: string;
  /** The LAN as it really is behind this peer. */
  real: string;
}

export interface CompiledService {
  serviceIp: string;
  servicePort: number;
  protocol: ServiceProtocol;
  localIp: string;
  localPort: number;
}

export interface CompiledFirewallRule {
  chain: 'input' | 'forward';
  action: 'accept';
  protocol?: 'udp' | 'tcp';
  dstPort?: number;
  src?: string;
  dst?: string;
  /** Interface name the packet arrives on / leaves through (the WAN interface). */
  inInterface?: string;
  outInterface?: string;
  comment: string;
}

export interface CompiledInterface {
  name: string;
  /** tunnelIp/prefix first, then the /32 service IPs this peer publishes. */
  addresses: string[];
  listenPort: number | null;
  mtu: number;
  privateKey: string | null;
  publicKey: string;
  /**
   * Set on previews only: Meshplane holds the private key and left it out of this rendering,
   * so a null privateKey does not mean bring-your-own. Not part of the staleness hash.
   */
  privateKeyWithheld?: true;
}

export interface CompiledPeer {
  peerId: string;
  name: string;
  role: PeerRole;
  interface: CompiledInterface;
  /** Hubs and peers that route for others (LANs, relayed peers, published services). */
  forwarding: boolean;
  /** The routed LANs this peer hosts, as the overlay sees them (translated when NATed). */
  lans: string[];
  peers: CompiledRemote[];
  routes: CompiledRoute[];
  nat: CompiledNetmap[];
  services: CompiledService[];
  firewall: CompiledFirewallRule[];
}

export interface CompiledOverlay {
  wan: WanSpec;
  peers: CompiledPeer[];
}

/**
 * The overlay as a preview shows it: private and preshared keys left out, everything else
 * the same objects (remotes without a preshared key are shared, not copied), so a preview
 * costs O(peers) on top of the one compile a WAN's view already has.
 */
export function withoutSecrets(compiled: CompiledOverlay): CompiledOverlay {
  return {
    wan: compiled.wan,
    peers: compiled.peers.map((peer) => ({
      ...peer,
      interface: peer.interface.privateKey === null ? peer.interface : { ...peer.interface, privateKey: null, privateKeyWithheld: true },
      peers: peer.peers.some((remote) => remote.presharedKey !== null)
        ? peer.peers.map((remote) => (remote.presharedKey === null ? remote : { ...remote, presharedKey: null }))
        : peer.peers,
    })),
  };
}
