// The overlay after compilation: for each peer, exactly what its configuration contains.
// Renderers, device drivers, staleness hashes and reachability all read only this.
import type { IpFamily } from './ip.js';
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

/**
 * A 1:1 prefix translation, host bits kept: NETMAP for IPv4, NPTv6 for IPv6 (RFC 6296 prefix
 * translation; every device kind maps the same address to the same address, so the
 * checksum-neutral variant that rewrites a host word is not used).
 */
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
  /**
   * The IPv4 tunnelIp/prefix first, then in a dual-stack WAN the IPv6 one, then the host
   * service addresses this peer publishes (/32, /128). A peer with an IPv6 address here is
   * dual-stack: its address-less firewall rules and forwarding apply to both families.
   */
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
  /**
   * Point-to-point: the far end's tunnel IP, reached through this interface only (the local
   * address is then a /32). Set on the interfaces of a WAN with redundant hubs, where one
   * peer has an interface per hub and a routing engine picks among them.
   */
  peerAddress?: string;
  /** Dual-stack point-to-point: the far end's IPv6 tunnel address (the local IPv6 address is then a /128). */
  peerAddress6?: string;
}

/**
 * A further WireGuard interface of a peer in a WAN with redundant hubs, carrying exactly one
 * remote: a spoke's interface to each hub beyond its primary, a hub's interface to each
 * other hub. WireGuard picks the remote by AllowedIPs, so two remotes that may carry the
 * same prefixes cannot share an interface; the routing engine chooses the interface.
 */
export interface CompiledLink {
  interface: CompiledInterface;
  peers: CompiledRemote[];
  firewall: CompiledFirewallRule[];
}

/** One BGP session over a tunnel. */
export interface CompiledBgpNeighbour {
  peerId: string;
  name: string;
  role: PeerRole;
  /** The neighbour's tunnel IP: the session runs between the two tunnel IPs, one hop apart. */
  address: string;
  /**
   * Dual-stack WANs: the neighbour's IPv6 tunnel address. A second session, between the two
   * IPv6 tunnel addresses over the same tunnel and with the same ASNs, preference and BFD,
   * carries the IPv6 prefixes; the IPv4 session carries the IPv4 ones. Absent: IPv4 only.
   */
  address6?: string;
  asn: number;
  /** The local interface the neighbour sits behind. */
  interfaceName: string;
  /**
   * Higher wins over every route of lower preference, whatever the path: a spoke's primary
   * hub outranks its backups, so traffic moves only when the primary's session is down.
   */
  preference: number;
  /** 1 for the primary hub, 2 for the first backup…; null where AS-path length decides (hubs). */
  hubRank: number | null;
}

/**
 * The routing a peer runs in a WAN with redundant hubs: eBGP with BFD over every tunnel.
 * Each peer originates its own prefixes; hubs pass on what they learn (transit), spokes
 * never do. Routes follow session health, so failover needs no control plane.
 */
export interface CompiledRouting {
  /**
   * 'bgp': the peer runs eBGP+BFD as described below. 'gateway-monitor': a spoke whose
   * platform cannot run BGP; it sends the overlay to the best hub (by `hubRank`) whose tunnel
   * IP answers its gateway monitor, and the hubs route its prefixes for it (`staticRoutes`).
   */
  protocol: 'bgp' | 'gateway-monitor';
  /** Private 4-byte ASN, unique in the WAN (derived from the tunnel IP). */
  asn: number;
  routerId: string;
  /**
   * Own tunnel IPs (/32, /128), routed LANs as the overlay sees them, service IPs (/32, /128),
   * IPv4 before IPv6. Hubs also originate the tunnel and services ranges (of both families), so peers that announce nothing (a phone on its
   * standalone config) stay reachable through them; announced /32s are more specific.
   */
  originate: string[];
  /**
   * Hubs only: prefixes of spokes that do not run BGP, routed to the spoke's tunnel IP of the
   * prefix's family on the main interface and announced like learned routes. Such a route does not follow the
   * spoke's link state: only the spoke itself notices a dead hub.
   */
  staticRoutes: { destination: string; gateway: string; peerId: string }[];
  transit: boolean;
  neighbours: CompiledBgpNeighbour[];
  /**
   * Tunnel IPs (/32, and /128 in a dual-stack WAN) of the direct neighbours. A route to one of them is accepted only from
   * that neighbour itself: learned through another, it would draw the session's own packets
   * away from its link and the session could never come back up there.
   */
  pinned: string[];
  bfd: { intervalMs: number; multiplier: number };
  timers: { holdSeconds: number; keepaliveSeconds: number; connectRetrySeconds: number };
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
  /** WANs with redundant hubs only: the interfaces beyond `interface` (see CompiledLink). */
  links?: CompiledLink[];
  /** WANs with redundant hubs only: routes come from this engine, and `routes` is empty. */
  routing?: CompiledRouting;
  /** A disabled peer (OverlaySpec.disabledPeers): its interface alone, with no tunnels, routes, NAT, services or rules. */
  disabled?: true;
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
    peers: compiled.peers.map((peer) => withSecretsMapped(peer, withheldKey, withoutPsks)),
  };
}

/**
 * `peer` with the secrets of every interface (its own and its links') and of every remote
 * replaced by `iface` and `remotes`; everything else shared. What a preview or a deployed
 * configuration shows instead of a key is the caller's choice.
 */
export function withSecretsMapped(peer: CompiledPeer, iface: (value: CompiledInterface) => CompiledInterface, remotes: (list: CompiledRemote[]) => CompiledRemote[]): CompiledPeer {
  const shown: CompiledPeer = { ...peer, interface: iface(peer.interface), peers: remotes(peer.peers) };
  if (peer.links) shown.links = peer.links.map((link) => ({ ...link, interface: iface(link.interface), peers: remotes(link.peers) }));
  return shown;
}

function withheldKey(iface: CompiledInterface): CompiledInterface {
  return iface.privateKey === null ? iface : { ...iface, privateKey: null, privateKeyWithheld: true };
}

function withoutPsks(remotes: CompiledRemote[]): CompiledRemote[] {
  return remotes.some((remote) => remote.presharedKey !== null)
    ? remotes.map((remote) => (remote.presharedKey === null ? remote : { ...remote, presharedKey: null }))
    : remotes;
}

/**
 * Every interface of a peer as a peer of its own: the main one, then one per link, each with
 * the remotes, firewall and (for the main one) routes it carries. NAT and services apply on
 * every interface, since traffic for them may arrive on any. Renderers and drivers that know
 * one interface handle a peer with links by handling each of these.
 */
export function interfacesOf(peer: CompiledPeer): CompiledPeer[] {
  if (!peer.links || peer.links.length === 0) return [peer];
  const views: CompiledPeer[] = [{ ...peer, links: [] }];
  for (const link of peer.links) views.push({ ...peer, interface: link.interface, peers: link.peers, firewall: link.firewall, routes: [], links: [] });
  return views;
}

/** The family of a compiled address or prefix: compiled values are canonical, IPv6 is the one with a colon. */
export function familyOfValue(value: string): IpFamily {
  return value.includes(':') ? 6 : 4;
}

/**
 * The families a peer's items are written for, IPv4 first: IPv6 too once one of its interfaces
 * has an IPv6 address (a dual-stack WAN), so its address-less rules (listen port, forwarding)
 * and forwarding itself apply to both; an IPv4-only peer renders as it always did.
 */
export function familiesOf(peer: CompiledPeer): IpFamily[] {
  return interfacesOf(peer).some((view) => view.interface.addresses.some((address) => familyOfValue(address) === 6)) ? [4, 6] : [4];
}
