// The iptables rules a compiled peer needs on Linux, as data: the same rules the wg-quick
// renderer puts in PostUp lines (forwarding accepts, NETMAP for translated LANs, DNAT for
// published services) plus the input accept for the listen port. Each rule's key is
// "<ifname>/<label>@<digest of the rule>": iptables rewrites rules into its own canonical
// form, so the key, not the printed text, says whether a rule on the host is the one wanted;
// a changed rule gets a new key (insert the new, delete the old).
import { createHash } from 'node:crypto';
import type { CompiledFirewallRule, CompiledPeer } from '../../domain/compiled.js';
import { safeCidr, safeIp, safePort, safeProtocol } from '../../domain/render/safe-values.js';
import type { DesiredResource } from '../../domain/plan.js';
import type { IptablesTable } from './iptables.js';
import { KIND, linuxInterfaceName, memberKey } from './names.js';

export interface FirewallRuleSpec {
  label: string;
  table: IptablesTable;
  chain: string;
  matches: string[];
  target: string[];
}

function address(value: string): string {
  return value.includes('/') ? safeCidr(value) : `${safeIp(value)}/32`;
}

function filterRule(rule: CompiledFirewallRule): FirewallRuleSpec {
  const matches: string[] = [];
  const label: string[] = [rule.chain];
  if (rule.src !== undefined) matches.push('-s', address(rule.src));
  if (rule.dst !== undefined) matches.push('-d', address(rule.dst));
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
  return { label: label.join('-'), table: 'filter', chain: rule.chain === 'input' ? 'INPUT' : 'FORWARD', matches, target: ['-j', 'ACCEPT'] };
}

export function firewallRuleSpecs(peer: CompiledPeer): FirewallRuleSpec[] {
  const ifname = linuxInterfaceName(peer.interface.name);
  const rules = peer.firewall.map(filterRule);
  for (const { translated, real } of peer.nat) {
    rules.push({ label: `netmap-in-${safeCidr(translated)}`, table: 'nat', chain: 'PREROUTING', matches: ['-i', ifname, '-d', translated], target: ['-j', 'NETMAP', '--to', safeCidr(real)] });
    rules.push({ label: `netmap-out-${translated}`, table: 'nat', chain: 'POSTROUTING', matches: ['-s', real, '-o', ifname], target: ['-j', 'NETMAP', '--to', translated] });
  }
  for (const service of peer.services) {
    const destination = `${safeIp(service.serviceIp)}:${safePort(service.servicePort)}`;
    rules.push({
      label: `service-${safeProtocol(service.protocol)}-${destination}`,
      table: 'nat',
      chain: 'PREROUTING',
      matches: ['-i', ifname, '-d', `${service.serviceIp}/32`, '-p', service.protocol, '--dport', String(service.servicePort)],
      target: ['-j', 'DNAT', '--to-destination', `${safeIp(service.localIp)}:${safePort(service.localPort)}`],
    });
  }
  return rules;
}

function digest(rule: FirewallRuleSpec): string {
  return createHash('sha256').update(JSON.stringify([rule.table, rule.chain, rule.matches, rule.target])).digest('hex').slice(0, 12);
}

/** The resource for one rule; its comment is "<prefix>:<key>" and sits before the target. */
export function firewallResource(prefix: string, ifname: string, rule: FirewallRuleSpec): DesiredResource {
  const key = memberKey(ifname, `${rule.label}@${digest(rule)}`);
  const args = [...rule.matches, '-m', 'comment', '--comment', `${prefix}:${key}`, ...rule.target];
  return { kind: KIND.firewall, key, props: { table: rule.table, chain: rule.chain, args: JSON.stringify(args) } };
}
