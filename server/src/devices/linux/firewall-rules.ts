// The iptables rules a compiled peer needs on Linux, as data: the same rules the wg-quick
// renderer puts in PostUp lines (forwarding accepts, NETMAP for translated LANs, DNAT for
// published services) plus the input accept for the listen port, each in ip6tables too where
// it applies to IPv6 (a dual-stack peer's address-less rules, IPv6 NAT and services). Each rule's key is
// "<ifname>/<label>@<digest of the rule>": iptables rewrites rules into its own canonical
// form, so the key, not the printed text, says whether a rule on the host is the one wanted;
// a changed rule gets a new key (insert the new, delete the old).
import { createHash } from 'node:crypto';
import type { CompiledFirewallRule, CompiledPeer } from '../../domain/compiled.js';
import { safeCidr, safeIp, safePort, safeProtocol } from '../../domain/render/safe-values.js';
import type { DesiredResource } from '../../domain/plan.js';
import { DeviceError } from '../driver.js';
import type { IptablesTable } from './iptables.js';
import { familiesOf, familyOfValue, KIND, linuxInterfaceName, memberKey, type Family } from './names.js';

export interface FirewallRuleSpec {
  /** iptables (4) or ip6tables (6). */
  family: Family;
  label: string;
  table: IptablesTable;
  chain: string;
  matches: string[];
  target: string[];
}

const HOST_PREFIX: Readonly<Record<Family, number>> = { 4: 32, 6: 128 };

function address(value: string): string {
  return value.includes('/') ? safeCidr(value) : `${safeIp(value)}/${HOST_PREFIX[familyOfValue(value)]}`;
}

/** The family both halves of a translation share; a mixed pair is refused, not applied. */
function sameFamily(a: string, b: string, what: string): Family {
  const family = familyOfValue(a);
  if (familyOfValue(b) !== family) throw new DeviceError('PROTOCOL', `${what} between ${a} and ${b}: not of one address family`);
  return family;
}

/**
 * A compiled rule in each family it applies to: the family of its addresses, or, with none
 * (the listen port, the forwarding accepts), every family of the peer.
 */
function filterRules(rule: CompiledFirewallRule, families: readonly Family[]): FirewallRuleSpec[] {
  const matches: string[] = [];
  const label: string[] = [rule.chain];
  if (rule.src !== undefined) matches.push('-s', address(rule.src));
  if (rule.dst !== undefined) matches.push('-d', address(rule.dst));
  const addressed = rule.src ?? rule.dst;
  if (rule.inInterface !== undefined) {
    matches.push('-i', linuxInterfaceName(rule.inInterface));
    label.push('in');
  }
  if (rule.outInterface !== undefined) {
    matches.push('-o', linuxInterfaceName(rule.outInterface));
    label.push('out');
  }
  if (rule.protocol !== undefined) {
    matches.push('-p', safeProtocol(rule.protocol));
    label.push(rule.protocol);
    if (rule.dstPort !== undefined) matches.push('--dport', String(safePort(rule.dstPort)));
  }
  const chain = rule.chain === 'input' ? 'INPUT' : 'FORWARD';
  return (addressed === undefined ? families : [familyOfValue(addressed)])
    .map((family) => ({ family, label: label.join('-'), table: 'filter', chain, matches, target: ['-j', 'ACCEPT'] }));
}

export function firewallRuleSpecs(peer: CompiledPeer, families: readonly Family[] = familiesOf(peer)): FirewallRuleSpec[] {
  const ifname = linuxInterfaceName(peer.interface.name);
  const rules = peer.firewall.flatMap((rule) => filterRules(rule, families));
  // IPv6 prefixes map 1:1 with host bits kept (NPTv6 as NETMAP does it), like IPv4 ones.
  for (const { translated, real } of peer.nat) {
    const family = sameFamily(safeCidr(translated), safeCidr(real), 'NETMAP');
    rules.push({ family, label: `netmap-in-${translated}`, table: 'nat', chain: 'PREROUTING', matches: ['-i', ifname, '-d', translated], target: ['-j', 'NETMAP', '--to', real] });
    rules.push({ family, label: `netmap-out-${translated}`, table: 'nat', chain: 'POSTROUTING', matches: ['-s', real, '-o', ifname], target: ['-j', 'NETMAP', '--to', translated] });
  }
  for (const service of peer.services) {
    const family = sameFamily(safeIp(service.serviceIp), safeIp(service.localIp), 'DNAT');
    const port = safePort(service.localPort);
    rules.push({
      family,
      label: `service-${safeProtocol(service.protocol)}-${family === 4 ? service.serviceIp : `[${service.serviceIp}]`}:${safePort(service.servicePort)}`,
      table: 'nat',
      chain: 'PREROUTING',
      matches: ['-i', ifname, '-d', `${service.serviceIp}/${HOST_PREFIX[family]}`, '-p', service.protocol, '--dport', String(service.servicePort)],
      // ip6tables reads "a:b::c:8080" as an address: with a port the address goes in brackets.
      target: ['-j', 'DNAT', '--to-destination', family === 4 ? `${service.localIp}:${port}` : `[${service.localIp}]:${port}`],
    });
  }
  return rules;
}

/** IPv4 rules keep the digest (so the key) they always had; an IPv6 twin of the same rule differs by its family. */
function digest(rule: FirewallRuleSpec): string {
  const identity: unknown[] = [rule.table, rule.chain, rule.matches, rule.target];
  if (rule.family === 6) identity.push(6);
  return createHash('sha256').update(JSON.stringify(identity)).digest('hex').slice(0, 12);
}

/** The resource for one rule; its comment is "<prefix>:<key>" and sits before the target. */
export function firewallResource(prefix: string, ifname: string, rule: FirewallRuleSpec): DesiredResource {
  const key = memberKey(ifname, `${rule.family === 6 ? 'ip6-' : ''}${rule.label}@${digest(rule)}`);
  const args = [...rule.matches, '-m', 'comment', '--comment', `${prefix}:${key}`, ...rule.target];
  return { kind: KIND.firewall, key, props: { family: String(rule.family), table: rule.table, chain: rule.chain, args: JSON.stringify(args) } };
}
