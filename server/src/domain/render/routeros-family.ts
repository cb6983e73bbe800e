// The two address families as RouterOS menus, shared by the .rsc script (routeros.ts) and the
// device driver (devices/routeros/resources.ts), so both put the same item in the same menu:
// IPv4 in /ip/..., IPv6 in the /ipv6/... twin with the same properties, except that the NAT
// target is `to-address` in /ipv6/firewall/nat where /ip/firewall/nat has `to-addresses`
// [terraform-provider-routeros resource_ipv6_firewall_nat.go], and an IPv6 address has no
// `network` but `advertise` (on by default for a /64: router advertisements into the tunnel,
// so Meshplane turns it off).
import type { CompiledFirewallRule, CompiledPeer } from '../compiled.js';

export type RouterOsFamily = 4 | 6;

export const FAMILY_MENUS = {
  4: { address: '/ip/address', route: '/ip/route', filter: '/ip/firewall/filter', nat: '/ip/firewall/nat', natTarget: 'to-addresses' },
  6: { address: '/ipv6/address', route: '/ipv6/route', filter: '/ipv6/firewall/filter', nat: '/ipv6/firewall/nat', natTarget: 'to-address' },
} as const satisfies Record<RouterOsFamily, Record<string, string>>;

/**
 * The family of a compiled address or prefix. Compiled values are canonical (IPv6 always has a
 * colon, IPv4 never); every value is still checked by a safe-value guard before it is written.
 */
export function familyOfValue(value: string): RouterOsFamily {
  return value.includes(':') ? 6 : 4;
}

/** A peer with an IPv6 address on its interface is dual-stack: it gets the IPv6 twins of its items. */
export function isDualStackPeer(peer: CompiledPeer): boolean {
  return peer.interface.addresses.some((address) => familyOfValue(address) === 6);
}

/** The families a peer's items are written for, IPv4 first. */
export function familiesOf(peer: CompiledPeer): RouterOsFamily[] {
  return isDualStackPeer(peer) ? [4, 6] : [4];
}

/** A firewall rule without addresses applies to both families (forwarding and the listen port); one with addresses to theirs. */
export function ruleAppliesTo(rule: CompiledFirewallRule, family: RouterOsFamily): boolean {
  const address = rule.src ?? rule.dst;
  return address === undefined || familyOfValue(address) === family;
}
