// wg-quick(8) configuration files. Every value that reaches a PostUp/PostDown shell line
// is a re-checked CIDR, address, port or protocol; names only appear in # comments. A
// dual-stack peer (an IPv6 address on its interface) gets the ip6tables twin of every rule
// and IPv6 forwarding; wg-quick itself adds the addresses and routes of both families.
import { familiesOf, familyOfValue as familyOf, interfacesOf, type CompiledOverlay, type CompiledPeer, type CompiledRemote } from '../compiled.js';
import type { IpFamily } from '../ip.js';
import { findCompiledPeer } from '../compile.js';
import { DomainError } from '../errors.js';
import { RemoteFragments } from './fragments.js';
import {
  commentText, disabledNotice, safeCidr, safeEndpoint, safeInteger, safeInterfaceAddress, safeInterfaceName, safeIp, safeKey, safePort, safeProtocol,
} from './safe-values.js';

/**
 * Written in place of a private key the server never saw. It is not base64 of 32 bytes,
 * so wg-quick refuses to bring the interface up until the user replaces it.
 */
export const PRIVATE_KEY_PLACEHOLDER = '<REPLACE-WITH-YOUR-PRIVATE-KEY>';

/** Written in a preview in place of a private key Meshplane holds; wg-quick refuses it the same way. */
export const PRIVATE_KEY_WITHHELD = '<HELD-BY-MESHPLANE-DOWNLOAD-TO-GET-IT>';

/** A command run on up, and its inverse (if any) run on down. */
interface HookCommand {
  up: string;
  down: string | null;
}

type Family = IpFamily;

const IPTABLES: Record<Family, string> = { 4: 'iptables', 6: 'ip6tables' };

/** The family both halves of a translation share; a mixed pair is refused, not rendered. */
function sameFamily(a: string, b: string, what: string): Family {
  const family = familyOf(a);
  if (familyOf(b) !== family) throw new DomainError('INVALID_INPUT', `refusing to render ${what} between ${a} and ${b}: they are not of one address family`, { field: what });
  return family;
}

function hookCommands(peer: CompiledPeer): HookCommand[] {
  const families = familiesOf(peer);
  const commands: HookCommand[] = [];
  if (peer.forwarding) {
    // Not undone on down: other services on the host may rely on forwarding too. IPv6 has one
    // switch for the host (per-interface forwarding only changes how an interface treats RAs).
    commands.push({ up: 'sysctl -w net.ipv4.ip_forward=1', down: null });
    if (families.includes(6)) commands.push({ up: 'sysctl -w net.ipv6.conf.all.forwarding=1', down: null });
  }
  for (const rule of peer.firewall) {
    if (rule.chain !== 'forward') continue;
    const match = rule.inInterface !== undefined ? '-i %i' : rule.outInterface !== undefined ? '-o %i' : null;
    if (match) for (const family of families) commands.push(both(`${IPTABLES[family]} -A FORWARD ${match} -j ACCEPT`));
  }
  // IPv6 prefixes map 1:1 with host bits kept (NPTv6 as NETMAP does it), like IPv4 ones.
  for (const { translated, real } of peer.nat) {
    const iptables = IPTABLES[sameFamily(safeCidr(translated), safeCidr(real), 'NETMAP')];
    commands.push(both(`${iptables} -t nat -A PREROUTING -i %i -d ${translated} -j NETMAP --to ${real}`));
    commands.push(both(`${iptables} -t nat -A POSTROUTING -s ${real} -o %i -j NETMAP --to ${translated}`));
  }
  for (const service of peer.services) {
    const family = sameFamily(safeIp(service.serviceIp), safeIp(service.localIp), 'DNAT');
    // ip6tables reads "a:b::c:8080" as an address: with a port the address goes in brackets.
    const target = family === 4 ? `${service.localIp}:${safePort(service.localPort)}` : `[${service.localIp}]:${safePort(service.localPort)}`;
    commands.push(both(`${IPTABLES[family]} -t nat -A PREROUTING -i %i -d ${service.serviceIp}/${family === 4 ? 32 : 128} -p ${safeProtocol(service.protocol)}`
      + ` --dport ${safePort(service.servicePort)} -j DNAT --to-destination ${target}`));
  }
  return commands;
}

/** The same iptables command with -A turned into -D for PostDown. */
function both(up: string): HookCommand {
  return { up, down: up.replace(' -A ', ' -D ') };
}

/**
 * How an interface of a peer with a routing engine comes up: the engine installs the routes
 * (`Table = off`), the address is point-to-point where the interface leads to one hub (which
 * wg-quick's Address cannot express), and reverse-path filtering is loose since replies may
 * return over another hub's interface.
 */
function engineCommands(peer: CompiledPeer): HookCommand[] {
  const { interface: iface } = peer;
  const commands: HookCommand[] = [];
  if (iface.peerAddress !== undefined) {
    const [local, ...others] = iface.addresses;
    commands.push({ up: `ip -4 address add ${safeIp((local as string).split('/')[0] as string)}/32 peer ${safeIp(iface.peerAddress)}/32 dev %i`, down: null });
    // Dual-stack: the IPv6 tunnel address (the first IPv6 one; services follow) is point-to-point too.
    const local6 = iface.peerAddress6 === undefined ? -1 : others.findIndex((address) => familyOf(address) === 6);
    others.forEach((address, index) => {
      const checked = safeInterfaceAddress(address);
      commands.push(index === local6
        ? { up: `ip -6 address add ${safeIp(checked.split('/')[0] as string)}/128 peer ${safeIp(iface.peerAddress6 as string)}/128 dev %i`, down: null }
        : { up: `ip -${familyOf(checked)} address add ${checked} dev %i`, down: null });
    });
  }
  commands.push({ up: 'sysctl -w net.ipv4.conf.%i.rp_filter=2', down: null });
  return commands;
}

/** 'engine': routes come from the routing engine (bundle); 'static': wg-quick routes AllowedIPs itself. */
export type WgQuickRouting = 'engine' | 'static';

/** Appends the [Interface] section to the file's lines. */
function writeInterfaceSection(lines: string[], peer: CompiledPeer, routing: WgQuickRouting): void {
  const { interface: iface } = peer;
  const engine = routing === 'engine' && peer.routing !== undefined;
  lines.push('[Interface]');
  if (!engine || iface.peerAddress === undefined) {
    const { addresses } = iface;
    lines.push(`Address = ${addresses.length === 1 ? safeInterfaceAddress(addresses[0] as string) : addresses.map(safeInterfaceAddress).join(', ')}`);
  }
  if (engine) lines.push('Table = off');
  if (iface.listenPort !== null) lines.push(`ListenPort = ${safePort(iface.listenPort)}`);
  lines.push(`MTU = ${safeInteger(iface.mtu, 'MTU')}`);
  if (iface.privateKeyWithheld) {
    lines.push('# PrivateKey held by Meshplane: left out of this preview (download the configuration to get it).');
    lines.push(`PrivateKey = ${PRIVATE_KEY_WITHHELD}`);
  } else if (iface.privateKey === null) {
    lines.push('# Bring-your-own key: Meshplane never saw this peer\'s private key.');
    lines.push(`# Replace the placeholder below with it (public key ${safeKey(iface.publicKey)}).`);
    lines.push(`PrivateKey = ${PRIVATE_KEY_PLACEHOLDER}`);
  } else {
    lines.push(`PrivateKey = ${safeKey(iface.privateKey)}`);
  }
  const commands = engine ? [...engineCommands(peer), ...hookCommands(peer)] : hookCommands(peer);
  for (const command of commands) lines.push(`PostUp = ${command.up}`);
  // Undo in reverse order so NAT rules go before the forwarding they depend on.
  for (let i = commands.length - 1; i >= 0; i--) {
    const { down } = commands[i] as HookCommand;
    if (down !== null) lines.push(`PostDown = ${down}`);
  }
}

/** One remote's [Peer] section, with the empty line before it, as one string. */
function peerSection(remote: CompiledRemote): string {
  const lines = ['', `# ${commentText(remote.name)} (${commentText(remote.peerId)})`, '[Peer]', `PublicKey = ${safeKey(remote.publicKey)}`];
  if (remote.presharedKey !== null) lines.push(`PresharedKey = ${safeKey(remote.presharedKey)}`);
  if (remote.endpoint !== null) {
    const { host, port } = safeEndpoint(remote.endpoint);
    lines.push(`Endpoint = ${host.includes(':') ? `[${host}]` : host}:${port}`);
  }
  lines.push(`AllowedIPs = ${remote.allowedIps.map(safeCidr).join(', ')}`);
  if (remote.persistentKeepalive !== null) lines.push(`PersistentKeepalive = ${safeInteger(remote.persistentKeepalive, 'keepalive')}`);
  return lines.join('\n');
}

// A remote's section is the same in the config of every peer that has a tunnel with it.
const peerSections = new WeakMap<CompiledOverlay, RemoteFragments<string>>();

export function renderCompiledPeerWgQuick(compiled: CompiledOverlay, peer: CompiledPeer, routing: WgQuickRouting = 'engine'): string {
  safeInterfaceName(peer.interface.name);
  // One array for the whole file (disabledNotice gives a new one), joined once.
  const lines = disabledNotice(peer);
  lines.push(
    `# Meshplane: peer ${commentText(peer.name)} on WAN ${commentText(compiled.wan.name)}`,
    `# Interface ${peer.interface.name}. Generated by Meshplane, local edits are lost on the next download.`,
  );
  if (peer.routing && routing === 'engine') {
    lines.push('# Redundant hubs: this is one interface of several, and BIRD installs the routes (Table = off).');
    lines.push('# Download the Linux bundle of this peer to get all of them with the routing (sh <bundle> up).');
  } else if (peer.routing) {
    const primary = peer.routing.neighbours.find((entry) => entry.hubRank === 1);
    lines.push(`# Redundant hubs: this standalone configuration always goes through ${commentText(primary?.name ?? 'the primary hub')}.`);
    lines.push('# For failover between hubs use the Linux bundle of this peer (sh <bundle> up).');
  }
  writeInterfaceSection(lines, peer, routing);
  let sections = peerSections.get(compiled);
  if (!sections) {
    sections = new RemoteFragments(peerSection);
    peerSections.set(compiled, sections);
  }
  for (const remote of peer.peers) lines.push(sections.get(remote));
  lines.push('');
  return lines.join('\n');
}

/**
 * The wg-quick .conf of one peer (save as /etc/wireguard/<interface>.conf). With redundant
 * hubs this is the interface to the primary hub: a client's (a phone scanning the QR code)
 * is standalone and routes the overlay itself; a hub's or site's is the bundle's first part.
 */
export function renderWgQuick(compiled: CompiledOverlay, peerId: string): string {
  const peer = findCompiledPeer(compiled, peerId);
  return renderCompiledPeerWgQuick(compiled, peer, peer.role === 'CLIENT' ? 'static' : 'engine');
}

/** Every interface of a peer (one unless it has links), as wg-quick files for the bundle. */
export function renderWgQuickInterfaces(compiled: CompiledOverlay, peerId: string): { name: string; text: string }[] {
  return interfacesOf(findCompiledPeer(compiled, peerId)).map((view) => ({ name: safeInterfaceName(view.interface.name), text: renderCompiledPeerWgQuick(compiled, view, 'engine') }));
}
