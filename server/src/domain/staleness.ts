// A peer's configuration is stale when what would be rendered for it now differs from
// what it last downloaded or had deployed. The hash covers the whole compiled peer (the
// input of every renderer) in a canonical form, so it changes exactly when some
// rendering of that peer changes, and not because of anything that only concerns others.
import { createHash } from 'node:crypto';
import type { CompiledOverlay, CompiledPeer } from './compiled.js';
import { findCompiledPeer } from './compile.js';

/**
 * Everything a renderer may write for the peer, as positional arrays: the field order is
 * fixed here rather than by how the object was built, and native JSON.stringify keeps a
 * 5,000-peer WAN fast. `lans` is left out: it describes the peer for others and no
 * renderer writes it.
 */
function renderedContent(compiled: CompiledOverlay, peer: CompiledPeer): unknown[] {
  const { interface: iface } = peer;
  return [
    1, // format version: bump when this projection changes
    compiled.wan.id, compiled.wan.name,
    peer.peerId, peer.name, peer.role, peer.forwarding,
    [iface.name, iface.addresses, iface.listenPort, iface.mtu, iface.privateKey, iface.publicKey],
    peer.peers.map((r) => [r.peerId, r.name, r.publicKey, r.presharedKey, r.endpoint, r.allowedIps, r.persistentKeepalive]),
    peer.routes.map((r) => [r.destination, r.via, r.gatewayTunnelIp]),
    peer.nat.map((n) => [n.kind, n.translated, n.real]),
    peer.services.map((s) => [s.serviceIp, s.servicePort, s.protocol, s.localIp, s.localPort]),
    peer.firewall.map((f) => [f.chain, f.action, f.protocol, f.dstPort, f.src, f.dst, f.inInterface, f.outInterface, f.comment]),
  ];
}

/** Hex sha256 of everything rendered for the peer. */
export function configHash(compiled: CompiledOverlay, peerId: string): string {
  const content = JSON.stringify(renderedContent(compiled, findCompiledPeer(compiled, peerId)));
  return createHash('sha256').update(content).digest('hex');
}
