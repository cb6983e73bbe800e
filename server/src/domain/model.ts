// The overlay as the operator describes it: plain data, no behaviour. Services build an
// OverlaySpec from the database; everything in the domain derives from it.

export type Topology = 'MESH' | 'HUB_SPOKE' | 'HYBRID';
export type PeerRole = 'HUB' | 'SITE' | 'CLIENT';
export type ServiceProtocol = 'tcp' | 'udp';

export interface WanSpec {
  id: string;
  name: string;
  /** Where tunnel addresses come from, e.g. 10.0.0.0/24. */
  tunnelCidr: string;
  /** Shared range on which peers publish services, e.g. 10.0.5.0/24. */
  servicesCidr: string;
  /** Where auto-NAT takes translated ranges from, e.g. 172.16.0.0/12. */
  natPool: string;
  /**
   * Dual-stack: the IPv6 counterparts of the three ranges (e.g. a ULA /64 for tunnel
   * addresses), all set or all absent. Absent: an IPv4-only overlay, rendered exactly as
   * before IPv6 existed.
   */
  tunnelCidr6?: string | null;
  servicesCidr6?: string | null;
  natPool6?: string | null;
  topology: Topology;
  listenPort: number;
  mtu: number;
  /** PersistentKeepalive (seconds) used by peers behind NAT that set none. */
  keepalive: number;
  interfaceName: string;
  /**
   * Opt-in: with HUB_SPOKE and two or more hubs (each with an endpoint), every spoke gets an
   * interface per hub and BGP with BFD picks among them, so losing a hub loses no path.
   * Absent or false: hubs are rendered exactly as before (the first one relays).
   */
  hubRedundancy?: boolean;
}

export interface SubnetSpec {
  id: string;
  /** IPv4 or IPv6. */
  cidr: string;
  /** Whether the overlay routes to this LAN at all. */
  routed: boolean;
  /**
   * When set, the rest of the overlay sees the LAN under this equally sized range of the same
   * family: NETMAP for IPv4, NPTv6 (RFC 6296 prefix translation) for IPv6.
   */
  natCidr: string | null;
  description: string;
}

export interface ServiceSpec {
  id: string;
  name: string;
  protocol: ServiceProtocol;
  /** Same family as serviceIp. */
  localIp: string;
  localPort: number;
  /** From the services range of its family. */
  serviceIp: string;
  servicePort: number;
}

export interface PeerSpec {
  id: string;
  name: string;
  role: PeerRole;
  tunnelIp: string;
  /** The peer's IPv6 tunnel address in a dual-stack WAN; absent or null otherwise. */
  tunnelIp6?: string | null;
  publicKey: string;
  /** null = bring-your-own key: the server never sees the private key. */
  privateKey: string | null;
  /** null = no reachable endpoint (behind CGNAT). */
  endpointHost: string | null;
  /** Port others dial; null = the listen port. */
  endpointPort: number | null;
  /** null = the WAN default. */
  listenPort: number | null;
  /** null = the WAN default when behind NAT, none otherwise. */
  keepalive: number | null;
  /** The upstream router forwards endpointPort to listenPort, so they may differ. */
  portForwarded: boolean;
  subnets: SubnetSpec[];
  services: ServiceSpec[];
  /**
   * With redundant hubs: false when the peer's platform cannot run BGP (pfSense through its
   * REST API). Such a spoke fails over by gateway monitoring; the hubs route its prefixes
   * statically and announce them for it. Absent = true.
   */
  runsBgp?: boolean;
}

export interface PresharedKeySpec {
  peerAId: string;
  peerBId: string;
  key: string;
}

export interface OverlaySpec {
  wan: WanSpec;
  /** The peers that take part: every other part of the domain sees only these. */
  peers: PeerSpec[];
  presharedKeys: PresharedKeySpec[];
  /**
   * Peers switched off (disabled by an operator or expired): in no other peer's
   * configuration, tunnels, routes, reachability or conflicts. Each still compiles, alone, to
   * an interface without tunnels, so its own configuration takes its tunnels down.
   */
  disabledPeers?: PeerSpec[];
}
