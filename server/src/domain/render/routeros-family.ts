// The two address families as RouterOS menus, shared by the .rsc script (routeros.ts) and the
// device driver (devices/routeros/resources.ts), so both put the same item in the same menu:
// IPv4 in /ip/..., IPv6 in the /ipv6/... twin with the same properties, except that the NAT
// target is `to-address` in /ipv6/firewall/nat where /ip/firewall/nat has `to-addresses`
// [terraform-provider-routeros resource_ipv6_firewall_nat.go], and an IPv6 address has no
// `network` but `advertise` (on by default for a /64: router advertisements into the tunnel,
// so Meshplane turns it off).
import { familyOfValue, type CompiledFirewallRule } from '../compiled.js';
import type { IpFamily } from '../ip.js';

export type RouterOsFamily = IpFamily;

export const FAMILY_MENUS = {
  4: { address: '/ip/address', route: '/ip/route', filter: '/ip/firewall/filter', nat: '/ip/firewall/nat', natTarget: 'to-addresses' },
  6: { address: '/ipv6/address', route: '/ipv6/route', filter: '/ipv6/firewall/filter', nat: '/ipv6/firewall/nat', natTarget: 'to-address' },
} as const satisfies Record<RouterOsFamily, Record<string, string>>;

/** A firewall rule without addresses applies to both families (forwarding and the listen port); one with addresses to theirs. */
export function ruleAppliesTo(rule: CompiledFirewallRule, family: RouterOsFamily): boolean {
  const address = rule.src ?? rule.dst;
  return address === undefined || familyOfValue(address) === family;
}
