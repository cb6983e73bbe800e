// wg-quick(8) configuration files. Every value that reaches a PostUp/PostDown shell line
// is a re-checked CIDR, address, port or protocol; names only appear in # comments.
import type { CompiledPeer, CompiledOverlay } from '../compiled.js';
import { findCompiledPeer } from '../compile.js';
import {
  commentText, safeCidr, safeEndpoint, safeInteger, safeInterfaceName, safeIp, safeKey, safePort, safeProtocol,
} from './safe-values.js';

/**
 * Written in place of a private key the server never saw. It is not base64 of 32 bytes,
 * so wg-quick refuses to bring the interface up until the user replaces it.
 */
export const PRIVATE_KEY_PLACEHOLDER = '<REPLACE-WITH-YOUR-PRIVATE-KEY>';

/** A command run on up, and its inverse (if any) run on down. */
interface HookCommand {
  up: string;
  down: string | null;
}

function hookCommands(peer: CompiledPeer): HookCommand[] {
  const commands: HookCommand[] = [];
  if (peer.forwarding) {
    // Not undone on down: other services on the host may rely on forwarding too.
    commands.push({ up: 'sysctl -w net.ipv4.ip_forward=1', down: null });
  }
  for (const rule of peer.firewall) {
    if (rule.chain !== 'forward') continue;
    const match = rule.inInterface !== undefined ? '-i %i' : rule.outInterface !== undefined ? '-o %i' : null;
    if (match) commands.push(both(`iptables -A FORWARD ${match} -j ACCEPT`));
  }
  for (const { translated, real } of peer.nat) {
    commands.push(both(`iptables -t nat -A PREROUTING -i %i -d ${safeCidr(translated)} -j NETMAP --to ${safeCidr(real)}`));
    commands.push(both(`iptables -t nat -A POSTROUTING -s ${safeCidr(real)} -o %i -j NETMAP --to ${safeCidr(translated)}`));
  }
  for (const service of peer.services) {
    commands.push(both(`iptables -t nat -A PREROUTING -i %i -d ${safeIp(service.serviceIp)}/32 -p ${safeProtocol(service.protocol)}`
      + ` --dport ${safePort(service.servicePort)} -j DNAT --to-destination ${safeIp(service.localIp)}:${safePort(service.localPort)}`));
  }
  return commands;
}

/** The same iptables command with -A turned into -D for PostDown. */
function both(up: string): HookCommand {
  return { up, down: up.replace(' -A ', ' -D ') };
}

function interfaceSection(peer: CompiledPeer): string[] {
  const { interface: iface } = peer;
  const lines = ['[Interface]', `Address = ${iface.addresses.map(addressEntry).join(', ')}`];
  if (iface.listenPort !== null) lines.push(`ListenPort = ${safePort(iface.listenPort)}`);
  lines.push(`MTU = ${safeInteger(iface.mtu, 'MTU')}`);
  if (iface.privateKey === null) {
    lines.push('# Bring-your-own key: Meshplane never saw this peer\'s private key.');
    lines.push(`# Replace the placeholder below with it (public key ${safeKey(iface.publicKey)}).`);
    lines.push(`PrivateKey = ${PRIVATE_KEY_PLACEHOLDER}`);
  } else {
    lines.push(`PrivateKey = ${safeKey(iface.privateKey)}`);
  }
  const commands = hookCommands(peer);
  for (const command of commands) lines.push(`PostUp = ${command.up}`);
  // Undo in reverse order so NAT rules go before the forwarding they depend on.
  for (const command of [...commands].reverse()) if (command.down !== null) lines.push(`PostDown = ${command.down}`);
  return lines;
}

function addressEntry(address: string): string {
  const [ip, prefix] = address.split('/');
  safeIp(ip ?? '');
  safeInteger(Number(prefix), 'prefix length');
  return `${ip}/${Number(prefix)}`;
}

function peerSections(peer: CompiledPeer): string[] {
  const lines: string[] = [];
  for (const remote of peer.peers) {
    lines.push('', `# ${commentText(remote.name)} (${commentText(remote.peerId)})`, '[Peer]', `PublicKey = ${safeKey(remote.publicKey)}`);
    if (remote.presharedKey !== null) lines.push(`PresharedKey = ${safeKey(remote.presharedKey)}`);
    if (remote.endpoint !== null) {
      const { host, port } = safeEndpoint(remote.endpoint);
      lines.push(`Endpoint = ${host.includes(':') ? `[${host}]` : host}:${port}`);
    }
    lines.push(`AllowedIPs = ${remote.allowedIps.map(safeCidr).join(', ')}`);
    if (remote.persistentKeepalive !== null) lines.push(`PersistentKeepalive = ${safeInteger(remote.persistentKeepalive, 'keepalive')}`);
  }
  return lines;
}

export function renderCompiledPeerWgQuick(compiled: CompiledOverlay, peer: CompiledPeer): string {
  safeInterfaceName(peer.interface.name);
  const header = [
    `# Meshplane: peer ${commentText(peer.name)} on WAN ${commentText(compiled.wan.name)}`,
    `# Interface ${peer.interface.name}. Generated; changes are overwritten on the next download.`,
  ];
  return [...header, ...interfaceSection(peer), ...peerSections(peer), ''].join('\n');
}

/** The wg-quick .conf of one peer (save as /etc/wireguard/<interface>.conf). */
export function renderWgQuick(compiled: CompiledOverlay, peerId: string): string {
  return renderCompiledPeerWgQuick(compiled, findCompiledPeer(compiled, peerId));
}
