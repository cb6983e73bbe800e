// What already exists, in one shape whatever it came from: a device's reading (a driver's
// discover()) or wg-quick files someone uploaded (wg-quick.ts). The proposal (proposal.ts)
// reads only this, so adopting a router and importing a hub's .conf go through one path.
//
// Secrets: `privateKey` and `presharedKey` hold real key material when the source shows it
// (a RouterOS user with the `sensitive` policy, pfSense with sensitive fields exposed, a
// local root reading `wg showconf`, an uploaded file). They are sealed by the service that
// stores them and never leave the server: GraphQL types expose only whether one is known.

import { contains, formatCidr, tryParseCidr, type IpRange } from '../ip.js';

/** One WireGuard peer of an existing interface. */
export interface DiscoveredPeer {
  /** The source's own id for the item (RouterOS ".id", pfSense id, Linux "<ifname>/<public key>", "<file>#<n>"). */
  ref: string;
  publicKey: string;
  /** As the source lists them, CIDR notation; order kept. */
  allowedIps: string[];
  endpointHost: string | null;
  endpointPort: number | null;
  persistentKeepalive: number | null;
  /**
   * The peer's own private key, when the source keeps it beside the peer: wg-portal writes it
   * as a `# -WGP- PrivateKey:` comment in the hub's config. Only files carry it, and only when
   * it is the key of `publicKey`.
   */
  privateKey?: string | null;
  /** The preshared key when the source shows it; null when there is none or it is hidden (see hasPresharedKey). */
  presharedKey: string | null;
  hasPresharedKey: boolean;
  /** The item's comment / description / `# name` line: the best name the source offers. */
  comment: string | null;
  disabled: boolean;
  /** Meshplane's managed key when the item already carries its tag; null when hand-made. */
  managedKey: string | null;
  /** The latest handshake the source reports (devices only). */
  lastHandshake: Date | null;
  /** Decimal strings (counters exceed 2^53); null when the source has none. */
  rxBytes: string | null;
  txBytes: string | null;
}

/** A line or field the model has no place for (DNS, PostUp, Table, a RouterOS property …): reported, never dropped silently. */
export interface UnmodelledSetting {
  /** Where it is: "interface", or the peer's ref. */
  owner: string;
  name: string;
  /** The value as written; secrets never appear here (a source masks them before). */
  value: string;
}

/** One WireGuard interface with its peers. */
export interface DiscoveredInterface {
  ref: string;
  name: string;
  listenPort: number | null;
  mtu: number | null;
  publicKey: string | null;
  /** Null when the source hides it (then the key can only be kept as bring-your-own: public key only). */
  privateKey: string | null;
  /** The interface's own addresses with prefix length ("10.0.0.1/24", "fd00::1/64"). */
  addresses: string[];
  disabled: boolean;
  comment: string | null;
  managedKey: string | null;
  peers: DiscoveredPeer[];
  unmodelled: UnmodelledSetting[];
  /** Where it came from, for messages: "device edge-1", "file hub.conf". */
  source: string;
}

/** A network directly connected to the device on a non-WireGuard interface: a LAN it can host. */
export interface ConnectedNetwork {
  /** The network ("192.168.10.0/24"), host bits cleared. */
  cidr: string;
  /** The device's address in it ("192.168.10.1/24"). */
  address: string;
  interfaceName: string;
  /** Whether the interface looks like the uplink (it holds the default route): offered last, never pre-selected. */
  uplink: boolean;
}

export interface DiscoveredRoute {
  ref: string;
  destination: string;
  gateway: string | null;
  interfaceName: string | null;
  /** Made by hand (static), as opposed to connected/kernel/dynamic ones. */
  static: boolean;
  disabled: boolean;
  comment: string | null;
  managedKey: string | null;
}

/** Everything a discover() read from one device. */
export interface DeviceDiscovery {
  interfaces: DiscoveredInterface[];
  connectedNetworks: ConnectedNetwork[];
  routes: DiscoveredRoute[];
  /** What the device could not show, in words ("private keys hidden: the API user lacks the sensitive policy"). */
  notes: string[];
}

const LINK_LOCAL = [tryParseCidr('169.254.0.0/16'), tryParseCidr('fe80::/10')].filter((range): range is IpRange => range !== null);

/**
 * The network an interface address puts the device on, when it is one a peer could host as a
 * LAN; null for a host address (/32, /128: a loopback, a PPP end), a link-local one, or text
 * that is no address with a prefix. Every driver's discover() reads connected networks
 * through this, so they agree on what counts.
 */
export function hostableNetwork(address: string): string | null {
  const range = tryParseCidr(address);
  if (range === null || range.start === range.end) return null;
  if (LINK_LOCAL.some((local) => local.family === range.family && contains(local, range))) return null;
  return formatCidr(range);
}
