// A peer's configuration is stale when what would be rendered for it now differs from
// what it last downloaded or had deployed. The hash covers the whole compiled peer (the
// input of every renderer) in a canonical form, so it changes exactly when some
// rendering of that peer changes, and not because of anything that only concerns others.
import { createHash } from 'node:crypto';
import type { CompiledFirewallRule, CompiledOverlay, CompiledPeer, CompiledRemote } from './compiled.js';
import { findCompiledPeer } from './compile.js';

/**
 * Everything a renderer may write for the peer, as positional arrays: the field order is
 * fixed here rather than by how the object was built, and native JSON.stringify keeps a
 * 5,000-peer WAN fast. `lans` is left out: it describes the peer for others and no
 * renderer writes it.
 */
function renderedContent(compiled: CompiledOverlay, peer: CompiledPeer): unknown[] {
  const { interface: iface } = peer;
  const content: unknown[] = [
    1, // format version: bump when this projection changes
    compiled.wan.id, compiled.wan.name,
    peer.peerId, peer.name, peer.role, peer.forwarding,
    [iface.name, iface.addresses, iface.listenPort, iface.mtu, iface.privateKey, iface.publicKey],
    peer.peers.map(remoteContent),
    peer.routes.map((r) => [r.destination, r.via, r.gatewayTunnelIp]),
    peer.nat.map((n) => [n.kind, n.translated, n.real]),
    peer.services.map((s) => [s.serviceIp, s.servicePort, s.protocol, s.localIp, s.localPort]),
    peer.firewall.map(firewallContent),
  ];
  // Only WANs with redundant hubs have these; without them the hash stays what it always was.
  if (peer.links) {
    content.push(iface.peerAddress ?? null, peer.links.map((link) => [
      [link.interface.name, link.interface.addresses, link.interface.listenPort, link.interface.mtu, link.interface.peerAddress ?? null],
      link.peers.map(remoteContent),
      link.firewall.map(firewallContent),
    ]));
  }
  if (peer.routing) content.push(peer.routing);
  if (peer.disabled) content.push('disabled');
  return content;
}

function remoteContent(r: CompiledRemote): unknown[] {
  return [r.peerId, r.name, r.publicKey, r.presharedKey, r.endpoint, r.allowedIps, r.persistentKeepalive];
}

function firewallContent(f: CompiledFirewallRule): unknown[] {
  return [f.chain, f.action, f.protocol, f.dstPort, f.src, f.dst, f.inInterface, f.outInterface, f.comment];
}

/** Hex sha256 of everything rendered for the peer. */
export function configHash(compiled: CompiledOverlay, peerId: string): string {
  const content = JSON.stringify(renderedContent(compiled, findCompiledPeer(compiled, peerId)));
  return createHash('sha256').update(content).digest('hex');
}
