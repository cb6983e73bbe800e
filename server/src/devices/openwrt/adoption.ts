// Pure: which hand-made OpenWrt sections are the ones a desired state describes, so adoption
// tags them in place instead of the first deploy creating them again beside them.
//
// Natural identities, computed the same way from desired and read props:
// - interface: its section name (netifd names the device after it) and `proto wireguard`;
// - peer: its interface (the section type `wireguard_<if>`) and public key;
// - route / route6: interface and target;
// - firewall rule: an enabled ACCEPT of udp to one port with no destination zone and no device
//   (LuCI's "Allow-WireGuard"); left beside ours it would keep the port open after the WAN left;
// - the nft include and the rules on the tunnel device: never adopted (Meshplane's own).
// The tag goes into `mp_tag` (network) or before the admin's rule name, so the section keeps its
// name, which is its id. A hand-made peer is usually anonymous (`cfgNNHHHH`, renumbered when an
// earlier section goes): the executor finds it again by type and public key, never by that name.
// Sections of another Meshplane WAN are never candidates, whatever they look like.
import { planAdoption, type AdoptionPlan, type AdoptionRules } from '../../domain/adoption/adoption-plan.js';
import type { ActualResource, DesiredResource } from '../../domain/plan.js';
import { KIND, KIND_ORDER } from './kinds.js';
import { adminText, parseDescr, ruleName, tagOf, TAG_OPTION } from './names.js';

function naturalIdentity(kind: string, props: Readonly<Record<string, string>>): string | null {
  const field = (name: string) => props[name] ?? '';
  switch (kind) {
    case KIND.iface:
      return field('proto') === 'wireguard' && field('name') !== '' ? field('name') : null;
    case KIND.peer:
      return field('public_key') === '' ? null : `${field('interface')}|${field('public_key')}`;
    case KIND.route:
    case KIND.route6:
      return field('target') === '' ? null : `${field('interface')}|${field('target')}`;
    case KIND.rule:
      if (field('enabled') === '0' || field('target') !== 'ACCEPT' || field('proto') !== 'udp' || field('dest_port') === '') return null;
      if (field('dest') !== '' || field('device') !== '' || field('src_ip') !== '' || field('dest_ip') !== '') return null;
      return `udp|${field('dest_port')}`;
    default:
      return null;
  }
}

/** Props that find an adopted section again by content (its anonymous name may have shifted). */
export const WITNESSES: Readonly<Record<string, readonly string[]>> = {
  [KIND.peer]: ['public_key'],
  [KIND.route]: ['interface', 'target'],
  [KIND.route6]: ['interface', 'target'],
  [KIND.rule]: ['proto', 'dest_port'],
};

export function adoptionRules(desired: readonly DesiredResource[], actual: readonly ActualResource[], prefix: string): AdoptionRules {
  const candidate = (resource: DesiredResource) => {
    const wanted = naturalIdentity(resource.kind, resource.props);
    const matches = actual.filter((item) => item.kind === resource.kind && item.key === null && wanted !== null && naturalIdentity(item.kind, item.props) === wanted);
    return matches.length === 1 ? matches[0] as ActualResource : null;
  };
  return {
    identity: naturalIdentity,
    kindOrder: KIND_ORDER,
    tagProps: (resource): Record<string, string> => {
      const tag = tagOf(prefix, resource.key);
      // The admin's rule name stays, after the tag.
      if (resource.kind === KIND.rule) return { name: ruleName(tag, adminText(candidate(resource)?.props.name, prefix)) };
      return { [TAG_OPTION]: tag };
    },
  };
}

/** Tagged by another Meshplane WAN (read as unmanaged here): never a candidate. */
function isOtherWans(item: ActualResource, prefix: string): boolean {
  if (item.key !== null) return false;
  return (item.props[TAG_OPTION] ?? '').startsWith(`${prefix}:`) || (item.kind === KIND.rule && parseDescr(item.props.name, prefix).tag !== null);
}

export function adoptionPlanOpenWrt(desired: readonly DesiredResource[], actual: readonly ActualResource[], prefix: string): AdoptionPlan {
  const own = actual.filter((item) => !isOtherWans(item, prefix));
  return planAdoption(desired.filter((resource) => resource.kind !== KIND.include), own, adoptionRules(desired, own, prefix));
}
