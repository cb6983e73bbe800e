// From what exists (one interface of a device, or a set of wg-quick files) to a WAN with
// peers, and a list of everything that does not fit. Pure: the adopt service feeds it a
// device reading or parsed files and stores what applyChoices returns.
//
// Each public key is one peer, whatever view it is seen from: a hub's [Interface] is the hub
// and each of its [Peer]s a peer; a site's file is matched to the hub's [Peer] by the public
// key its PrivateKey derives, so the site keeps its private key and its own settings. The
// "primary" view (the device's interface, or the file with the most peers: the hub's) says
// which AllowedIPs are a peer's LANs; what another view routes that nothing explains is an
// issue of its own. Nothing is dropped without an issue naming it: every option of an issue
// carries the effects it has, the proposal shows the defaults' result, and applyChoices
// applies the operator's choices (the default for the rest) to the same candidates.
import { DomainError } from '../errors.js';
import { allocateTunnelIps } from '../addressing.js';
import { compareRanges, contains, familyOf, formatAddress, formatCidr, hostRange, maxPrefix, overlaps, printable, rangeOf, tryParseAddress, tryParseCidr, type IpFamily, type IpRange } from '../ip.js';
import { isWireGuardKey, publicKeyFromPrivate } from '../keys.js';
import { maskKeys } from '../secret-masking.js';
import { isInterfaceName, isPort, isSafeName, isValidHost, endpointProblem, NAME_MAX_LENGTH } from '../validation.js';
import type { ConnectedNetwork, DiscoveredInterface, UnmodelledSetting } from './discovery.js';
import type {
  AppliedProposal, Choice, ChoiceOutcome, IssueKind, IssueOption, PresharedPair, Proposal, ProposalIssue, ProposedPeer, ProposedRole, ProposedTopology, ProposedWan,
} from './proposal-types.js';

export type * from './proposal-types.js';
export { ISSUE_KINDS } from './proposal-types.js';

export interface ProposalSource {
  kind: 'device' | 'files';
  /** Device: the one interface; files: one per file. */
  interfaces: DiscoveredInterface[];
  /** Device only: networks on its other interfaces (candidate LANs of its own end). */
  connectedNetworks: ConnectedNetwork[];
  /** Lines the file parser could not read, each with where it is. */
  problems: Array<{ subject: string; message: string }>;
  /** "device edge-1", "3 files". */
  label: string;
  /** Device: its name (the own end's name when the interface has no comment). */
  deviceName: string | null;
}

export interface ExistingPeer {
  id: string;
  name: string;
  publicKey: string;
  tunnelIp: string;
  tunnelIp6: string | null;
  endpointHost: string | null;
  endpointPort: number | null;
  listenPort: number | null;
  lans: string[];
  deviceId: string | null;
}

export interface ExistingWan extends ProposedWan {
  wanId: string;
  peers: ExistingPeer[];
}

export interface NewWanSettings {
  name: string;
  tunnelCidr?: string | null;
  tunnelCidr6?: string | null;
  topology?: ProposedTopology | null;
  listenPort?: number | null;
  mtu?: number | null;
  keepalive?: number | null;
}

export interface ProposalContext {
  target: { newWan: NewWanSettings } | { existing: ExistingWan };
  /** WAN names in use (a new WAN's name must be free). */
  takenWanNames: readonly string[];
  /** IPv6 services range and NAT pool for a new dual-stack WAN (a random ULA /48 the caller draws). */
  ula: { servicesCidr6: string; natPool6: string };
  maxPeers: number;
}

type Effect =
  | { type: 'none' }
  | { type: 'skipPeer'; peer: string }
  | { type: 'dropLan'; peer: string; cidr: string }
  | { type: 'addLan'; peer: string; cidr: string }
  | { type: 'widen'; address: string }
  | { type: 'allocate'; peer: string; family: IpFamily }
  | { type: 'rename'; peer: string; name: string }
  | { type: 'disable'; peer: string }
  | { type: 'clearEndpoint'; peer: string }
  | { type: 'dropPsk'; a: string; b: string };

/** An issue with what each of its options does (kept out of the API answer). */
interface DraftIssue extends ProposalIssue {
  effects: Record<string, Effect[]>;
}

/** The proposal with its candidates: what applyChoices works from. */
export interface DraftProposal extends Proposal {
  issues: DraftIssue[];
  candidates: { wan: ProposedWan; baseRange: string; baseRange6: string | null; peers: ProposedPeer[]; presharedKeys: PresharedPair[]; existing: ExistingWan | null };
}

const DEFAULT_SERVICES = ['10.0.5.0/24', '10.255.5.0/24', '172.31.255.0/24', '192.168.255.0/24', '100.127.255.0/24'];
const DEFAULT_NAT_POOLS = ['172.16.0.0/12', '100.96.0.0/12', '10.128.0.0/12'];
const DEFAULT_TUNNEL = '10.0.0.0/24';

const peerIdOf = (publicKey: string) => `key:${publicKey}`;

function option(id: string, label: string): IssueOption {
  return { id, label };
}

/** One peer as its views describe it, before the proposal decides. */
interface Node {
  id: string;
  publicKey: string;
  privateKey: string | null;
  names: string[];
  /** A file's or device's name: used when no comment names it. */
  fallbackName: string | null;
  /** Its own addresses, from its own [Interface] (a view of its own). */
  ownAddresses: string[];
  ownView: boolean;
  listenPort: number | null;
  mtu: number | null;
  keepalive: number | null;
  endpointHost: string | null;
  endpointPort: number | null;
  lans: string[];
  /** Host routes that are candidates for its tunnel address (from the primary view's entry, else any). */
  local: boolean;
  disabled: boolean;
  refs: string[];
  order: number;
}

class Builder {
  readonly issues: DraftIssue[] = [];
  readonly nodes = new Map<string, Node>();
  readonly psks: PresharedPair[] = [];
  private order = 0;

  issue(kind: IssueKind, key: string, subject: string, message: string, options: Array<[IssueOption, Effect[]]>, defaultOption: string, needsChoice: boolean, peerId: string | null = null): void {
    const id = `${kind}:${key}`;
    if (this.issues.some((issue) => issue.id === id)) return;
    this.issues.push({
      id, kind, subject, message, options: options.map(([item]) => item), defaultOption, needsChoice, peerId,
      effects: Object.fromEntries(options.map(([item, effects]) => [item.id, effects])),
    });
  }

  /** A fact that has one outcome: reported, nothing to choose. */
  note(kind: IssueKind, key: string, subject: string, message: string, outcome: string, peerId: string | null = null): void {
    this.issue(kind, key, subject, message, [[option('ok', outcome), [{ type: 'none' }]]], 'ok', false, peerId);
  }

  node(publicKey: string): Node {
    let node = this.nodes.get(publicKey);
    if (!node) {
      node = {
        id: peerIdOf(publicKey), publicKey, privateKey: null, names: [], fallbackName: null, ownAddresses: [], ownView: false, listenPort: null, mtu: null, keepalive: null,
        endpointHost: null, endpointPort: null, lans: [], local: false, disabled: false, refs: [], order: this.order++,
      };
      this.nodes.set(publicKey, node);
    }
    return node;
  }
}

/** A safe display name from what the source offers, or null (the value is reported, not used). */
function safeName(value: string | null | undefined): string | null {
  if (!value) return null;
  const trimmed = value.trim().slice(0, NAME_MAX_LENGTH).trim();
  return isSafeName(trimmed) ? trimmed : null;
}

function fileBase(name: string): string {
  return name.replace(/\s\(\d+\)$/, '').replace(/\.conf$/i, '');
}

const isDefaultRoute = (range: IpRange) => range.prefix === 0;

/** The smallest prefix that holds `range` and `address`. */
function widened(range: IpRange, address: bigint): IpRange {
  let prefix = range.prefix;
  while (prefix > 0 && !contains(rangeOf(range.start, prefix), hostRange(address))) prefix--;
  return rangeOf(range.start, prefix);
}

function hostOf(address: string): string {
  return address.split('/')[0] as string;
}

function pickFree(candidates: readonly string[], used: readonly IpRange[]): string {
  return candidates.find((cidr) => !used.some((range) => overlaps(range, tryParseCidr(cidr)!))) ?? (candidates[0] as string);
}

/**
 * The proposal for `source` into the target: the WAN, the peers as the defaults make them,
 * and every issue with its options.
 */
export function proposeWan(source: ProposalSource, context: ProposalContext): DraftProposal {
  const b = new Builder();
  const existing = 'existing' in context.target ? context.target.existing : null;
  const newWan = 'newWan' in context.target ? context.target.newWan : null;

  for (const problem of source.problems) b.note('INVALID_VALUE', `problem:${problem.subject}`, problem.subject, problem.message, 'Left out (the line is not imported)');

  // Own ends first: a file's [Interface] (or the device's interface) is that peer itself.
  const views: Array<{ iface: DiscoveredInterface; own: Node }> = [];
  for (const iface of source.interfaces) {
    const publicKey = iface.privateKey && isWireGuardKey(iface.privateKey) ? publicKeyFromPrivate(iface.privateKey) : iface.publicKey;
    if (!publicKey || !isWireGuardKey(publicKey)) {
      b.note('INVALID_VALUE', `nokey:${iface.ref}`, `interface ${iface.name} (${iface.source})`, 'It has no valid key, so it cannot be a peer: only its [Peer] entries are read.', 'Its own end is left out');
      views.push({ iface, own: null as unknown as Node });
      continue;
    }
    if (b.nodes.get(publicKey)?.ownView) {
      b.note('DUPLICATE_PUBLIC_KEY', `own:${iface.ref}`, `interface ${iface.name} (${iface.source})`, `Another file or interface has the same key (${publicKey}): the first one read is used.`, 'The second is left out', peerIdOf(publicKey));
      continue;
    }
    const own = b.node(publicKey);
    own.ownView = true;
    own.privateKey = iface.privateKey && isWireGuardKey(iface.privateKey) ? iface.privateKey : null;
    own.local = source.kind === 'device';
    own.listenPort = iface.listenPort !== null && isPort(iface.listenPort) ? iface.listenPort : null;
    if (iface.listenPort !== null && own.listenPort === null) b.note('INVALID_VALUE', `port:${iface.ref}`, `interface ${iface.name}`, `ListenPort ${iface.listenPort} is not a port`, 'Left out: the WAN default is used', own.id);
    own.mtu = iface.mtu;
    own.refs.push(iface.ref);
    const name = safeName(iface.comment);
    own.fallbackName = source.kind === 'files' ? safeName(fileBase(iface.source.replace(/^file /, ''))) : safeName(source.deviceName);
    if (iface.comment && !safeName(iface.comment)) b.note('INVALID_VALUE', `name:${iface.ref}`, `interface ${iface.name}`, `Its name "${printable(iface.comment).slice(0, 80)}" has characters names may not have`, 'Named otherwise', own.id);
    if (name) own.names.push(name);
    for (const address of iface.addresses) {
      const position = tryParseAddress(hostOf(address));
      if (position === null || !tryParseCidr(address)) {
        b.note('INVALID_VALUE', `addr:${iface.ref}:${address}`, `interface ${iface.name}`, `Address "${printable(address).slice(0, 60)}" is not an address with a prefix`, 'Left out', own.id);
        continue;
      }
      own.ownAddresses.push(`${formatAddress(position)}/${tryParseCidr(address)!.prefix}`);
    }
    if (iface.disabled) b.note('DISABLED_ITEM', `iface:${iface.ref}`, `interface ${iface.name}`, 'The interface is disabled on the device', 'Adopted; it stays as it is until a deploy, which enables it', own.id);
    if (own.privateKey === null) {
      b.note('PRIVATE_KEY_HIDDEN', `own:${own.id}`, `interface ${iface.name}`, source.kind === 'device'
        ? 'The device does not show its private key to this user: Meshplane keeps only the public key (bring-your-own key). The device keeps its key; Meshplane cannot re-key it or create the interface again.'
        : 'The file has no private key: Meshplane keeps only the public key (bring-your-own key).', 'Kept as bring-your-own key (public key only)', own.id);
    }
    views.push({ iface, own });
  }

  const primary = source.kind === 'device'
    ? views[0]
    : [...views].sort((x, y) => y.iface.peers.length - x.iface.peers.length)[0];
  if (!primary) throw new DomainError('INVALID_INPUT', 'Nothing to adopt: the source has no WireGuard interface', { field: 'source' });

  // The tunnel ranges: the target's, the operator's, or the primary interface's own prefix.
  const ownRangeOf = (family: IpFamily): IpRange | null => {
    const address = (primary.own?.ownAddresses ?? []).map((text) => tryParseCidr(text)!).find((range) => range.family === family);
    return address ?? null;
  };
  const fixedRange = existing ? tryParseCidr(existing.tunnelCidr) : newWan?.tunnelCidr ? tryParseCidr(newWan.tunnelCidr) : null;
  const fixedRange6 = existing ? (existing.tunnelCidr6 ? tryParseCidr(existing.tunnelCidr6) : null) : newWan?.tunnelCidr6 ? tryParseCidr(newWan.tunnelCidr6) : null;
  let range: IpRange = fixedRange ?? ownRangeOf(4) ?? tryParseCidr(DEFAULT_TUNNEL)!;
  if (range.prefix > 30) range = rangeOf(range.start, 30);
  const range6: IpRange | null = existing ? fixedRange6 : fixedRange6 ?? ownRangeOf(6);
  const rangeFor = (family: IpFamily) => (family === 4 ? range : range6);
  const inTunnel = (cidr: IpRange) => [range, range6].some((item) => item !== null && overlaps(item, cidr));

  // Every [Peer] entry of every view.
  const entries: Array<{ view: (typeof views)[number]; node: Node; allowed: IpRange[]; ref: string }> = [];
  for (const view of views) {
    const seen = new Set<string>();
    for (const peer of view.iface.peers) {
      const where = `peer ${peer.comment && safeName(peer.comment) ? safeName(peer.comment) : peer.ref} of ${view.iface.source}`;
      if (!isWireGuardKey(peer.publicKey)) {
        b.note('INVALID_VALUE', `key:${view.iface.ref}:${peer.ref}`, where, `Its public key "${printable(peer.publicKey).slice(0, 60)}" is not a WireGuard key`, 'Left out');
        continue;
      }
      if (seen.has(peer.publicKey) || (view.own && peer.publicKey === view.own.publicKey)) {
        b.note('DUPLICATE_PUBLIC_KEY', `${view.iface.ref}:${peer.ref}`, where, `Public key ${peer.publicKey} is listed ${seen.has(peer.publicKey) ? 'twice in this interface' : 'as a peer of itself'}: only the first entry is read`, 'The repeated entry is left out', peerIdOf(peer.publicKey));
        continue;
      }
      seen.add(peer.publicKey);
      const node = b.node(peer.publicKey);
      node.refs.push(peer.ref);
      // A key kept beside the peer (wg-portal's hub config) counts only when it is this peer's.
      if (peer.privateKey && isWireGuardKey(peer.privateKey) && publicKeyFromPrivate(peer.privateKey) === peer.publicKey) node.privateKey ??= peer.privateKey;
      const name = safeName(peer.comment);
      if (peer.comment && !name) b.note('INVALID_VALUE', `name:${view.iface.ref}:${peer.ref}`, where, `Its name "${printable(peer.comment).slice(0, 80)}" has characters names may not have`, 'Named otherwise', node.id);
      if (name) node.names.push(name);
      if (peer.endpointHost) {
        const host = peer.endpointHost.replace(/^\[(.*)\]$/, '$1');
        const valid = isValidHost(host) && endpointProblem(host) === null && (peer.endpointPort === null || isPort(peer.endpointPort));
        if (!valid) b.note('INVALID_VALUE', `endpoint:${view.iface.ref}:${peer.ref}`, where, `Endpoint "${printable(peer.endpointHost).slice(0, 80)}" is not a host other peers can dial`, 'Left out: the peer has no endpoint', node.id);
        else if (node.endpointHost === null) {
          node.endpointHost = tryParseAddress(host) !== null ? formatAddress(tryParseAddress(host)!) : host.toLowerCase();
          node.endpointPort = peer.endpointPort;
        }
      }
      if (view.own && peer.persistentKeepalive !== null && peer.persistentKeepalive > 0 && peer.persistentKeepalive <= 3600) view.own.keepalive ??= peer.persistentKeepalive;
      if (view.own && peer.presharedKey && isWireGuardKey(peer.presharedKey)) {
        const [a, bId] = [view.own.id, node.id].sort() as [string, string];
        if (!b.psks.some((pair) => pair.a === a && pair.b === bId)) b.psks.push({ a, b: bId, key: peer.presharedKey });
      } else if (peer.hasPresharedKey && view.own) {
        b.issue('PRIVATE_KEY_HIDDEN', `psk:${view.own.id}:${node.id}`, `preshared key of ${where}`,
          'The tunnel has a preshared key the source does not show: Meshplane cannot hold it, so the WAN has this tunnel without one (configurations Meshplane renders for the other end have none).',
          [[option('without', 'Adopt the tunnel without its preshared key'), [{ type: 'none' }]], [option('skip', 'Leave this peer out'), [{ type: 'skipPeer', peer: node.id }]]], 'without', true, node.id);
      }
      if (peer.disabled) {
        node.disabled = true;
        b.issue('DISABLED_ITEM', `peer:${view.iface.ref}:${peer.ref}`, where, 'The peer is disabled there',
          [[option('disabled', 'Adopt it as a disabled peer'), [{ type: 'disable', peer: node.id }]], [option('skip', 'Leave it out'), [{ type: 'skipPeer', peer: node.id }]]], 'disabled', false, node.id);
      }
      const allowed: IpRange[] = [];
      for (const text of peer.allowedIps) {
        const parsed = tryParseCidr(text.includes('/') ? text : `${text}/${text.includes(':') ? 128 : 32}`);
        if (!parsed) {
          b.note('INVALID_VALUE', `allowed:${view.iface.ref}:${peer.ref}:${text}`, where, `AllowedIPs entry "${printable(text).slice(0, 60)}" is not a CIDR`, 'Left out', node.id);
          continue;
        }
        allowed.push(parsed);
      }
      entries.push({ view, node, allowed, ref: peer.ref });
    }
    for (const setting of view.iface.unmodelled) unmodelledIssue(b, source, view.iface, setting);
  }

  // Tunnel addresses: a peer's own [Interface] address; else a host route of its entries (the
  // primary view's first), one inside the tunnel range before one outside it.
  const ownAddress = (node: Node, family: IpFamily) => node.ownAddresses.map((text) => tryParseAddress(hostOf(text))!).find((position) => familyOf(position) === family) ?? null;
  const tunnelOf = new Map<string, Partial<Record<IpFamily, string>>>();
  for (const node of b.nodes.values()) {
    const chosen: Partial<Record<IpFamily, string>> = {};
    for (const family of [4, 6] as const) {
      const own = ownAddress(node, family);
      if (own !== null) {
        chosen[family] = formatAddress(own);
        continue;
      }
      const hosts = [...entries.filter((entry) => entry.node === node && entry.view === primary), ...entries.filter((entry) => entry.node === node && entry.view !== primary)]
        .flatMap((entry) => entry.allowed.filter((cidr) => cidr.family === family && cidr.prefix === maxPrefix(family)));
      const target = rangeFor(family);
      const pick = hosts.find((cidr) => target !== null && contains(target, cidr)) ?? hosts[0];
      if (pick) chosen[family] = formatAddress(pick.start);
    }
    tunnelOf.set(node.id, chosen);
  }
  // LANs: the primary view's AllowedIPs other than the tunnel address and the tunnel itself.
  for (const entry of entries) {
    const tunnel = tunnelOf.get(entry.node.id)!;
    for (const cidr of entry.allowed) {
      if (cidr.prefix === maxPrefix(cidr.family) && tunnel[cidr.family] === formatAddress(cidr.start)) continue;
      if (isDefaultRoute(cidr)) {
        b.note('DEFAULT_ROUTE', `${entry.node.id}:${entry.view.iface.ref}:${formatCidr(cidr)}`, `AllowedIPs ${formatCidr(cidr)} of ${nameOfNode(entry.node)} in ${entry.view.iface.source}`,
          'Routes everything through this peer: that is not a LAN, and Meshplane does not model a full tunnel', 'Not imported as a LAN (a deploy stops routing everything through it)', entry.node.id);
        continue;
      }
      if (inTunnel(cidr)) continue; // the route to the tunnel itself: what every WAN gives
      if (entry.view === primary && !entry.node.lans.includes(formatCidr(cidr))) entry.node.lans.push(formatCidr(cidr));
    }
  }
  // What a non-primary view routes that no LAN explains.
  for (const entry of entries.filter((item) => item.view !== primary)) {
    for (const cidr of entry.allowed) {
      if (isDefaultRoute(cidr) || inTunnel(cidr)) continue;
      const text = formatCidr(cidr);
      if (cidr.prefix === maxPrefix(cidr.family) && tunnelOf.get(entry.node.id)![cidr.family] === formatAddress(cidr.start)) continue;
      const explained = [...b.nodes.values()].some((node) => node.lans.some((lan) => contains(tryParseCidr(lan)!, cidr)));
      if (explained) continue;
      b.issue('UNMODELLED_SETTING', `route:${entry.node.id}:${entry.view.iface.ref}:${text}`, `AllowedIPs ${text} of ${nameOfNode(entry.node)} in ${entry.view.iface.source}`,
        'Routed through this peer here, but no LAN of the primary configuration explains it',
        [[option('skip', 'Not imported'), [{ type: 'none' }]], [option('lan', `Import it as a LAN of ${nameOfNode(entry.node)}`), [{ type: 'addLan', peer: entry.node.id, cidr: text }]]], 'skip', false, entry.node.id);
    }
  }

  // The device's other networks: LANs its own end could host.
  if (source.kind === 'device' && primary.own) {
    for (const network of source.connectedNetworks) {
      const cidr = tryParseCidr(network.cidr);
      if (!cidr) continue;
      const why = network.uplink ? 'the uplink (default route)' : inTunnel(cidr) ? 'inside the tunnel range' : null;
      const options: Array<[IssueOption, Effect[]]> = [[option('skip', 'Not a LAN of the WAN'), [{ type: 'none' }]]];
      if (!why) options.push([option('add', `Host it at ${nameOfNode(primary.own)}`), [{ type: 'addLan', peer: primary.own.id, cidr: formatCidr(cidr) }]]);
      b.issue('CONNECTED_NETWORK', `net:${formatCidr(cidr)}`, `network ${formatCidr(cidr)} on ${network.interfaceName}`,
        why ? `Connected here, ${why}: not offered as a LAN` : 'Connected to this device: the WAN can route to it through this peer (every other peer then reaches it)', options, 'skip', false, primary.own.id);
    }
  }

  // A router's own public address is not among its WireGuard settings, but peers without an
  // endpoint (phones, laptops) dial it: propose the uplink's address, for the operator to confirm.
  const uplink = source.kind === 'device' ? source.connectedNetworks.find((network) => network.uplink && tryParseCidr(network.address)?.family === 4) : undefined;
  if (source.kind === 'device' && primary.own && primary.own.endpointHost === null && uplink) {
    const own = primary.own;
    const host = hostOf(uplink.address);
    const port = own.listenPort;
    own.endpointHost = host;
    own.endpointPort = port;
    const at = port === null ? host : `${host}:${port}`;
    b.issue('NO_ENDPOINT', `guess:${own.id}`, nameOfNode(own),
      `The device's own endpoint is not part of its WireGuard settings; proposed: its uplink address ${at} (${uplink.interfaceName}), so that peers without an endpoint keep their tunnel to it. Behind a NAT, give its public address on its peer page after adopting.`,
      [
        [option('use', `Use ${at}`), [{ type: 'none' }]],
        [option('none', 'No endpoint (peers without one of their own get no tunnel to it)'), [{ type: 'clearEndpoint', peer: own.id }]],
      ], 'use', true, own.id);
  }

  const nodes = [...b.nodes.values()].sort((x, y) => x.order - y.order);
  if (nodes.length > context.maxPeers) {
    throw new DomainError('INVALID_INPUT', `The source has ${nodes.length} peers; one adoption takes at most ${context.maxPeers}`, { field: 'source', limit: context.maxPeers });
  }

  // Tunnel addresses: own ones first, then host routes; outside the range: widen or leave out.
  const peers: ProposedPeer[] = [];
  const primaryOwn = primary.own;
  const hubOfPrimary = primaryOwn ? (primary.iface.peers.length >= 2 ? primaryOwn : primary.iface.peers.length === 1 ? b.nodes.get(primary.iface.peers[0]!.publicKey) ?? null : null) : null;
  for (const [index, node] of nodes.entries()) {
    const addresses: Partial<Record<IpFamily, string | null>> = {};
    const merged = existing?.peers.find((item) => item.publicKey === node.publicKey) ?? null;
    for (const family of [4, 6] as const) {
      const target = rangeFor(family);
      const address = tunnelOf.get(node.id)![family] ?? null;
      if (merged) {
        addresses[family] = address;
        continue;
      }
      if (target === null) {
        if (address !== null) b.note('ADDRESS_OUTSIDE_RANGE', `v6:${node.id}`, nameOfNode(node), `Its IPv6 tunnel address ${address} has no IPv6 tunnel range in this WAN`, 'The WAN stays IPv4-only: the address is not imported', node.id);
        continue;
      }
      if (address === null) {
        addresses[family] = null;
        b.issue('NO_TUNNEL_ADDRESS', `${family}:${node.id}`, nameOfNode(node), `No ${family === 4 ? 'IPv4' : 'IPv6'} tunnel address is known for it (no address, no host route in ${formatCidr(target)})`,
          [[option('allocate', 'Give it the next free address of the range (its own configuration must then change)'), [{ type: 'allocate', peer: node.id, family }]], [option('skip', 'Leave it out'), [{ type: 'skipPeer', peer: node.id }]]],
          'allocate', true, node.id);
        continue;
      }
      const position = tryParseAddress(address)!;
      if (!contains(target, hostRange(position))) {
        const wider = widened(target, position);
        const canWiden = existing === null && !(family === 4 ? newWan?.tunnelCidr : newWan?.tunnelCidr6);
        const options: Array<[IssueOption, Effect[]]> = [];
        if (canWiden) options.push([option('widen', `Widen the tunnel range to ${formatCidr(wider)}`), [{ type: 'widen', address }]]);
        options.push([option('allocate', `Give it a new address inside ${formatCidr(target)} (its own configuration must then change)`), [{ type: 'allocate', peer: node.id, family }]]);
        options.push([option('skip', 'Leave it out'), [{ type: 'skipPeer', peer: node.id }]]);
        b.issue('ADDRESS_OUTSIDE_RANGE', `${family}:${node.id}`, nameOfNode(node), `Its tunnel address ${address} is outside the tunnel range ${formatCidr(target)}`, options, canWiden ? 'widen' : 'allocate', true, node.id);
      }
      addresses[family] = address;
    }
    peers.push({
      id: node.id,
      name: node.names[0] ?? node.fallbackName ?? `peer-${index + 1}`,
      role: 'SITE',
      publicKey: node.publicKey,
      privateKey: node.privateKey,
      tunnelIp: addresses[4] ?? null,
      tunnelIp6: addresses[6] ?? null,
      endpointHost: node.endpointHost,
      endpointPort: node.endpointPort,
      // Without its own ListenPort, the port other peers dial it at (absent a NAT, the one it listens on).
      listenPort: node.listenPort ?? node.endpointPort,
      keepalive: node.keepalive,
      lans: [...node.lans].sort((x, y) => compareRanges(tryParseCidr(x)!, tryParseCidr(y)!)),
      local: node.local,
      existingPeerId: null,
      enabled: true,
      refs: node.refs,
    });
  }

  // Roles: the primary's own end is the hub of its peers when it has several; its one peer is its hub otherwise.
  for (const peer of peers) {
    if (hubOfPrimary && peer.id === hubOfPrimary.id) peer.role = 'HUB';
    else if (peer.lans.length === 0 && peer.endpointHost === null && !peer.local && !b.nodes.get(peer.publicKey)?.ownView) peer.role = 'CLIENT';
  }

  // Duplicate names within the proposal: the later ones get a number.
  const used = new Set<string>();
  for (const peer of peers) {
    let name = peer.name;
    for (let n = 2; used.has(name.toLowerCase()); n++) name = `${peer.name.slice(0, NAME_MAX_LENGTH - 4)}-${n}`;
    if (name !== peer.name) b.note('NAME_TAKEN', `dup:${peer.id}`, `peer ${peer.name}`, `Another peer of the source is named ${peer.name} too`, `Named ${name}`, peer.id);
    peer.name = name;
    used.add(name.toLowerCase());
  }

  // A pair the source connects where neither end has an endpoint: Meshplane gives such a pair
  // no tunnel (neither could send the first handshake), so say so instead of losing it quietly.
  const byId = new Map(peers.map((peer) => [peer.id, peer]));
  for (const entry of entries) {
    const own = entry.view.own ? byId.get(entry.view.own.id) : undefined;
    const other = byId.get(entry.node.id);
    if (!own || !other || own.endpointHost !== null || other.endpointHost !== null) continue;
    const [first, second] = [own, other].sort((x, y) => x.id.localeCompare(y.id)) as [ProposedPeer, ProposedPeer];
    const leaveOut = b.nodes.get(other.publicKey)?.ownView ? own : other;
    b.issue('NO_ENDPOINT', `${first.id}:${second.id}`, `tunnel ${own.name} ↔ ${other.name}`,
      `${entry.view.iface.source} connects ${own.name} and ${other.name}, but the source gives neither an endpoint, so neither can send the first handshake in Meshplane's configurations: there is no tunnel between them until one gets an endpoint. The device's own entry for it stays as it is (not Meshplane's) until then; give ${own.role === 'HUB' ? own.name : 'one of them'} its endpoint on its peer page and adopt on the device again.`,
      [
        [option('later', 'Adopt both; the tunnel waits for an endpoint'), [{ type: 'none' }]],
        [option('skip', `Leave ${leaveOut.name} out`), [{ type: 'skipPeer', peer: leaveOut.id }]],
      ], 'later', true, leaveOut.id);
  }

  overlapIssues(b, peers);

  // Merge: the same key is the same peer; a name or address already used is someone else's.
  if (existing) mergeIssues(b, peers, existing);

  const wanName = newWan?.name ?? existing!.name;
  if (newWan && context.takenWanNames.some((name) => name.toLowerCase() === newWan.name.toLowerCase())) {
    throw new DomainError('CONFLICT', `A WAN named "${newWan.name}" already exists: choose another name, or merge into it (target.wanId)`, { field: 'target.newWan.name' });
  }
  const localIface = primary.iface;
  const interfaceName = existing?.interfaceName ?? (isInterfaceName(localIface.name) ? localIface.name : 'wg0');
  if (existing && source.kind === 'device' && existing.interfaceName !== localIface.name) {
    b.issue('SETTING_DIFFERS', 'interfaceName', `interface ${localIface.name}`, `The WAN names its interface ${existing.interfaceName}: the device's ${localIface.name} cannot be taken over in place, and a deploy would create ${existing.interfaceName} beside it`,
      [[option('continue', 'Adopt the peers anyway'), [{ type: 'none' }]]], 'continue', true);
  } else if (!existing && !isInterfaceName(localIface.name)) {
    b.note('INVALID_VALUE', 'interfaceName', `interface ${printable(localIface.name).slice(0, 40)}`, 'Its name is not one Meshplane can use for an interface', 'The WAN uses wg0');
  }
  const used4 = [range, ...peers.flatMap((peer) => peer.lans.map((lan) => tryParseCidr(lan)!))];
  const wan: ProposedWan = existing
    ? { ...existing, wanId: existing.wanId }
    : {
      wanId: null,
      name: wanName,
      tunnelCidr: formatCidr(range),
      tunnelCidr6: range6 ? formatCidr(range6) : null,
      servicesCidr: pickFree(DEFAULT_SERVICES, used4),
      natPool: pickFree(DEFAULT_NAT_POOLS, used4),
      topology: newWan?.topology ?? (peers.some((peer) => peer.role === 'HUB') ? 'HUB_SPOKE' : 'MESH'),
      listenPort: newWan?.listenPort ?? primaryOwn?.listenPort ?? 51820,
      mtu: newWan?.mtu ?? (localIface.mtu !== null && localIface.mtu >= 1280 && localIface.mtu <= 9000 ? localIface.mtu : 1420),
      keepalive: newWan?.keepalive ?? 25,
      interfaceName,
      servicesCidr6: range6 ? context.ula.servicesCidr6 : null,
      natPool6: range6 ? context.ula.natPool6 : null,
    };

  // Source text quoted in issues (hooks, comments, values refused) never carries a key: only public keys are shown.
  const publicKeys = new Set(b.nodes.keys());
  for (const issue of b.issues) {
    issue.subject = maskKeys(issue.subject, publicKeys);
    issue.message = maskKeys(issue.message, publicKeys);
    for (const item of issue.options) item.label = maskKeys(item.label, publicKeys);
  }
  const draft: DraftProposal = {
    wan, peers, presharedKeys: b.psks, issues: b.issues, source: source.label,
    candidates: { wan, baseRange: formatCidr(range), baseRange6: range6 ? formatCidr(range6) : null, peers, presharedKeys: b.psks, existing },
  };
  // What the proposal shows: the defaults applied.
  const applied = applyChoices(draft, []);
  return { ...draft, wan: applied.wan, peers: applied.peers, presharedKeys: applied.presharedKeys };
}

function nameOfNode(node: Node): string {
  return node.names[0] ?? node.fallbackName ?? `peer ${node.publicKey.slice(0, 8)}…`;
}

function unmodelledIssue(b: Builder, source: ProposalSource, iface: DiscoveredInterface, setting: UnmodelledSetting): void {
  const owner = setting.owner === 'interface' ? `interface ${iface.name}` : `peer ${setting.owner}`;
  const outcome = source.kind === 'device' ? 'Kept on the device as it is; Meshplane does not manage it' : 'Not imported';
  b.note('UNMODELLED_SETTING', `${iface.ref}:${setting.owner}:${setting.name}`, `${setting.name} of ${owner} (${iface.source})`, `${setting.name} = ${printable(setting.value).slice(0, 200)}: Meshplane has no place for it`, outcome);
}

/** Two peers claiming overlapping ranges: one keeps it, or neither. */
function overlapIssues(b: Builder, peers: ProposedPeer[]): void {
  const claims = peers.flatMap((peer) => peer.lans.map((lan) => ({ peer, lan, range: tryParseCidr(lan)! })));
  for (const [i, first] of claims.entries()) {
    for (const second of claims.slice(i + 1)) {
      if (first.peer.id === second.peer.id || !overlaps(first.range, second.range)) continue;
      b.issue('OVERLAPPING_ALLOWED_IPS', `${first.lan}|${second.lan}|${first.peer.id}|${second.peer.id}`, `${first.lan} of ${first.peer.name} and ${second.lan} of ${second.peer.name}`,
        'Both peers claim these addresses: WireGuard sends them to one peer only',
        [
          [option(`keep-first`, `${first.peer.name} keeps ${first.lan}`), [{ type: 'dropLan', peer: second.peer.id, cidr: second.lan }]],
          [option(`keep-second`, `${second.peer.name} keeps ${second.lan}`), [{ type: 'dropLan', peer: first.peer.id, cidr: first.lan }]],
          [option('drop', 'Drop it from both'), [{ type: 'dropLan', peer: first.peer.id, cidr: first.lan }, { type: 'dropLan', peer: second.peer.id, cidr: second.lan }]],
        ], 'keep-first', true, second.peer.id);
    }
  }
}

function mergeIssues(b: Builder, peers: ProposedPeer[], existing: ExistingWan): void {
  for (const peer of peers) {
    const same = existing.peers.find((item) => item.publicKey === peer.publicKey);
    if (same) {
      peer.existingPeerId = same.id;
      const differences = [
        peer.tunnelIp && peer.tunnelIp !== same.tunnelIp ? `tunnel address ${same.tunnelIp} here, ${peer.tunnelIp} in the source` : null,
        peer.endpointHost && peer.endpointHost !== same.endpointHost ? `endpoint ${same.endpointHost ?? 'none'} here, ${peer.endpointHost} in the source` : null,
        peer.listenPort && same.listenPort !== null && peer.listenPort !== same.listenPort ? `listen port ${same.listenPort} here, ${peer.listenPort} in the source` : null,
        ...peer.lans.filter((lan) => !same.lans.includes(lan)).map((lan) => `LAN ${lan} only in the source`),
      ].filter((item): item is string => item !== null);
      if (differences.length > 0) {
        const newLans = peer.lans.filter((lan) => !same.lans.includes(lan));
        const options: Array<[IssueOption, Effect[]]> = [[option('keep', `Keep ${same.name} as Meshplane has it`), newLans.map((lan) => ({ type: 'dropLan' as const, peer: peer.id, cidr: lan }))]];
        if (newLans.length > 0) options.push([option('add-lans', `Keep it, and add ${newLans.join(', ')} as its LANs`), []]);
        b.issue('SETTING_DIFFERS', `merge:${peer.id}`, `peer ${same.name}`, `Already in the WAN with this key; it differs: ${differences.join('; ')}. Nothing of it is overwritten.`, options, 'keep', newLans.length > 0, peer.id);
      }
      continue;
    }
    const sameName = existing.peers.find((item) => item.name.toLowerCase() === peer.name.toLowerCase());
    const sameAddress = existing.peers.find((item) => (peer.tunnelIp !== null && item.tunnelIp === peer.tunnelIp) || (peer.tunnelIp6 !== null && item.tunnelIp6 === peer.tunnelIp6));
    if (sameName && sameAddress && sameName.id === sameAddress.id) {
      b.issue('KEY_DIFFERS', `key:${peer.id}`, `peer ${peer.name}`, `The WAN has a peer ${sameName.name} at ${sameName.tunnelIp} with another key (${sameName.publicKey}): the same site re-keyed by hand, or another one`,
        [[option('skip', `Leave it out (the WAN's ${sameName.name} stays as it is)`), [{ type: 'skipPeer', peer: peer.id }]],
          [option('add', 'Add it as another peer, renamed and with a new address'), [{ type: 'rename', peer: peer.id, name: freeName(peer.name, existing, peers) }, { type: 'allocate', peer: peer.id, family: 4 }, ...(peer.tunnelIp6 ? [{ type: 'allocate' as const, peer: peer.id, family: 6 as const }] : [])]]],
        'skip', true, peer.id);
      continue;
    }
    if (sameName) {
      const renamed = freeName(peer.name, existing, peers);
      b.issue('NAME_TAKEN', `name:${peer.id}`, `peer ${peer.name}`, `The WAN already has a peer named ${sameName.name} (another key)`,
        [[option('rename', `Name it ${renamed}`), [{ type: 'rename', peer: peer.id, name: renamed }]], [option('skip', 'Leave it out'), [{ type: 'skipPeer', peer: peer.id }]]], 'rename', false, peer.id);
    }
    if (sameAddress) {
      const family: IpFamily = peer.tunnelIp !== null && sameAddress.tunnelIp === peer.tunnelIp ? 4 : 6;
      b.issue('TUNNEL_IP_TAKEN', `ip:${peer.id}`, `peer ${peer.name}`, `Its tunnel address ${family === 4 ? peer.tunnelIp : peer.tunnelIp6} is ${sameAddress.name}'s in the WAN`,
        [[option('allocate', 'Give it the next free address (its own configuration must then change)'), [{ type: 'allocate', peer: peer.id, family }]], [option('skip', 'Leave it out'), [{ type: 'skipPeer', peer: peer.id }]]], 'allocate', true, peer.id);
    }
    for (const lan of peer.lans) {
      const holder = existing.peers.find((item) => item.lans.some((other) => overlaps(tryParseCidr(other)!, tryParseCidr(lan)!)));
      if (!holder) continue;
      b.issue('OVERLAPPING_ALLOWED_IPS', `wan:${peer.id}:${lan}`, `${lan} of ${peer.name}`, `${holder.name} already hosts an overlapping LAN in the WAN`,
        [[option('drop', `${holder.name} keeps it; not imported for ${peer.name}`), [{ type: 'dropLan', peer: peer.id, cidr: lan }]], [option('skip', `Leave ${peer.name} out`), [{ type: 'skipPeer', peer: peer.id }]]], 'drop', true, peer.id);
    }
  }
}

function freeName(name: string, existing: ExistingWan, peers: readonly ProposedPeer[]): string {
  const taken = new Set([...existing.peers.map((item) => item.name.toLowerCase()), ...peers.map((item) => item.name.toLowerCase())]);
  for (let n = 2; ; n++) {
    const candidate = `${name.slice(0, NAME_MAX_LENGTH - 4)}-${n}`;
    if (!taken.has(candidate.toLowerCase())) return candidate;
  }
}

/**
 * The peers to create (or merge) with each issue's chosen option (its default when not
 * chosen), and a report line per issue saying what it did. Refuses a choice of an issue or
 * option the proposal does not have.
 */
export function applyChoices(proposal: DraftProposal, choices: readonly Choice[], overrides: ReadonlyArray<{ id: string; name: string | null; role: ProposedRole | null }> = []): AppliedProposal {
  const chosen = new Map<string, string>();
  for (const [index, choice] of choices.entries()) {
    const issue = proposal.issues.find((item) => item.id === choice.issueId);
    if (!issue) throw new DomainError('INVALID_INPUT', `choices #${index + 1}: the proposal has no issue ${printable(choice.issueId).slice(0, 120)}`, { field: 'choices', issueId: choice.issueId });
    if (!issue.options.some((item) => item.id === choice.optionId)) {
      throw new DomainError('INVALID_INPUT', `choices #${index + 1}: issue ${issue.id} has no option ${printable(choice.optionId).slice(0, 40)} (it has ${issue.options.map((item) => item.id).join(', ')})`, { field: 'choices', issueId: issue.id });
    }
    chosen.set(issue.id, choice.optionId);
  }
  const { candidates } = proposal;
  const peers = candidates.peers.map((peer) => ({ ...peer, lans: [...peer.lans] }));
  const byId = new Map(peers.map((peer) => [peer.id, peer]));
  const skipped = new Set<string>();
  const allocate: Array<{ peer: string; family: IpFamily }> = [];
  let range = tryParseCidr(candidates.baseRange)!;
  let range6 = candidates.baseRange6 ? tryParseCidr(candidates.baseRange6) : null;
  const droppedPsks = new Set<string>();
  const report: ChoiceOutcome[] = [];
  for (const issue of proposal.issues) {
    const optionId = chosen.get(issue.id) ?? issue.defaultOption;
    for (const effect of issue.effects[optionId] ?? []) {
      const peer = 'peer' in effect ? byId.get(effect.peer) : undefined;
      switch (effect.type) {
        case 'skipPeer': skipped.add(effect.peer); break;
        case 'dropLan': if (peer) peer.lans = peer.lans.filter((lan) => lan !== effect.cidr); break;
        case 'addLan': if (peer && !peer.lans.includes(effect.cidr)) peer.lans.push(effect.cidr); break;
        case 'widen': {
          const position = tryParseAddress(effect.address)!;
          if (familyOf(position) === 4) range = widened(range, position);
          else if (range6) range6 = widened(range6, position);
          break;
        }
        case 'allocate': allocate.push({ peer: effect.peer, family: effect.family }); break;
        case 'rename': if (peer) peer.name = effect.name; break;
        case 'disable': if (peer) peer.enabled = false; break;
        case 'clearEndpoint': if (peer) { peer.endpointHost = null; peer.endpointPort = null; } break;
        case 'dropPsk': droppedPsks.add(`${effect.a}|${effect.b}`); break;
        case 'none': break;
      }
    }
    const label = issue.options.find((item) => item.id === optionId)?.label ?? optionId;
    report.push({ issueId: issue.id, kind: issue.kind, subject: issue.subject, optionId, chosen: chosen.has(issue.id), outcome: label });
  }
  for (const override of overrides) {
    const peer = byId.get(override.id);
    if (!peer) throw new DomainError('INVALID_INPUT', `peers: the proposal has no peer ${printable(override.id).slice(0, 120)}`, { field: 'peers' });
    if (override.name !== null) {
      if (!isSafeName(override.name)) throw new DomainError('INVALID_NAME', `peers: "${printable(override.name).slice(0, 80)}" is not a valid name`, { field: 'peers' });
      peer.name = override.name;
    }
    if (override.role !== null) peer.role = override.role;
  }
  const kept = peers.filter((peer) => !skipped.has(peer.id));
  // Addresses: those kept inside the (possibly widened) range; new ones for the rest.
  const existing = candidates.existing;
  for (const family of [4, 6] as const) {
    const target = family === 4 ? range : range6;
    if (target === null) continue;
    const key = family === 4 ? 'tunnelIp' : 'tunnelIp6';
    const needs = kept.filter((peer) => peer.existingPeerId === null && (peer[key] === null || allocate.some((item) => item.peer === peer.id && item.family === family) || !contains(target, hostRange(tryParseAddress(peer[key]!)!))));
    for (const peer of needs) peer[key] = null;
    const taken = [...kept.map((peer) => peer[key]).filter((value): value is string => value !== null), ...(existing?.peers.map((peer) => peer[key]).filter((value): value is string => value !== null) ?? [])];
    const fresh = allocateTunnelIps(formatCidr(target), taken, needs.length);
    for (const [i, peer] of needs.entries()) peer[key] = fresh[i] as string;
  }
  const names = new Map<string, string>();
  for (const peer of kept) {
    const clash = names.get(peer.name.toLowerCase());
    if (clash) throw new DomainError('CONFLICT', `Two peers would be named ${peer.name}: rename one (peers)`, { field: 'peers' });
    names.set(peer.name.toLowerCase(), peer.id);
  }
  const keptIds = new Set(kept.map((peer) => peer.id));
  const presharedKeys = candidates.presharedKeys.filter((pair) => keptIds.has(pair.a) && keptIds.has(pair.b) && !droppedPsks.has(`${pair.a}|${pair.b}`));
  const wan: ProposedWan = existing ? candidates.wan : { ...candidates.wan, tunnelCidr: formatCidr(range), tunnelCidr6: range6 ? formatCidr(range6) : null };
  return { wan, peers: kept, presharedKeys, report };
}
