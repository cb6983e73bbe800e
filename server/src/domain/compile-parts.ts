// The parts of a compiled peer that do not depend on which tunnels it has: keepalive, NAT,
// published services and the firewall rules an interface needs.
import { familyOfValue, type CompiledFirewallRule, type CompiledNetmap, type CompiledService } from './compiled.js';
import { formatCidr } from './ip.js';
import type { OverlayFacts, PeerFacts } from './overlay-facts.js';

/** Behind NAT a peer must keep its mapping open; elsewhere only an explicit setting applies. */
export function keepaliveOf(peer: PeerFacts, wanKeepalive: number): number | null {
  const seconds = peer.spec.keepalive ?? (peer.hasEndpoint ? null : wanKeepalive);
  return seconds === null || seconds === 0 ? null : seconds;
}

/** Sorted IPv4 before IPv6, then as before by address text, port and protocol. */
export function compileServices(peer: PeerFacts): CompiledService[] {
  if (peer.spec.services.length === 0) return [];
  return peer.spec.services
    .map(({ serviceIp, servicePort, protocol, localIp, localPort }) => ({ serviceIp, servicePort, protocol, localIp, localPort }))
    .sort((a, b) => familyOfValue(a.serviceIp) - familyOfValue(b.serviceIp) || compareText(a.serviceIp, b.serviceIp)
      || a.servicePort - b.servicePort || compareText(a.protocol, b.protocol));
}

/**
 * A peer's interface addresses: its IPv4 tunnel address with the range's prefix, in a
 * dual-stack WAN its IPv6 one, then each service address as a host prefix. `pointToPoint`:
 * the tunnel addresses as host prefixes too (the far end is reached as the interface's peer).
 */
export function interfaceAddresses(facts: OverlayFacts, peer: PeerFacts, services: readonly CompiledService[], pointToPoint = false): string[] {
  const addresses = [`${peer.tunnelIpText}/${pointToPoint ? 32 : facts.tunnelRange.prefix}`];
  if (peer.tunnelIp6Text !== null && facts.tunnelRange6) addresses.push(`${peer.tunnelIp6Text}/${pointToPoint ? 128 : facts.tunnelRange6.prefix}`);
  for (const service of services) {
    const host = `${service.serviceIp}/${familyOfValue(service.serviceIp) === 6 ? 128 : 32}`;
    if (!addresses.includes(host)) addresses.push(host);
  }
  return addresses;
}

function compareText(a: string, b: string): number {
  return a < b ? -1 : a > b ? 1 : 0;
}

export function compileNat(peer: PeerFacts): CompiledNetmap[] {
  if (peer.subnets.length === 0) return [];
  return peer.subnets
    .filter((subnet) => subnet.spec.routed && subnet.translated !== null)
    .map((subnet) => ({ kind: 'netmap' as const, translated: formatCidr(subnet.effective), real: formatCidr(subnet.real) }))
    .sort((a, b) => compareText(a.translated, b.translated));
}

export function compileFirewall(interfaceName: string, listenPort: number | null, forwarding: boolean): CompiledFirewallRule[] {
  const rules: CompiledFirewallRule[] = [];
  if (listenPort !== null) {
    rules.push({ chain: 'input', action: 'accept', protocol: 'udp', dstPort: listenPort, comment: 'WireGuard handshakes and data' });
  }
  if (forwarding) {
    rules.push({ chain: 'forward', action: 'accept', inInterface: interfaceName, comment: 'overlay traffic leaving the tunnel' });
    rules.push({ chain: 'forward', action: 'accept', outInterface: interfaceName, comment: 'traffic entering the overlay' });
  }
  return rules;
}
