// Pure: which hand-made OPNsense items are the ones a desired state describes, so adoption
// tags them in place instead of the first deploy creating them again beside them.
//
// Natural identities, computed the same way from desired and read props:
// - instance: the public key of its private key (a reading shows "pub:<key>", derived from
//   the private key itself: the stored `pubkey` may be stale or empty), or the bring-your-own
//   public key. Its name and wgN number are the admin's; the key pair is what the peers know.
// - peer: its instance and public key (OPNsense refuses the same key with the same endpoint
//   twice). A peer may sit on several instances: it is this instance's peer when this
//   instance is among them, and its other memberships stay (the executor sends the current
//   `servers` with every peer save, and the planner compares only Meshplane's instances).
// - firewall rule: the enabled pass rule for the listen port on WAN (UDP, to the firewall
//   itself: `(self)`, `wanip` or `any`), and a pass rule on the `wireguard` group with exactly
//   the sources and destination Meshplane's has. A group rule passing any source is shared by
//   every instance of the firewall (the admin's too), so it is never taken: narrowing it to
//   this WAN's allowed IPs would cut the others off.
// - interface assignment, 1:1 NAT, NPTv6: never adopted (created by the next deploy).
// Items of another Meshplane WAN are never candidates, whatever they look like.
//
// The tag: an instance's and peer's `name` (OPNsense has no other text field for them, so
// the admin's name is replaced; the ADOPT job logs it), a rule's `description` with the
// admin's text kept after the tag.
import { planAdoption, type AdoptionPlan, type AdoptionRules } from '../../domain/adoption/adoption-plan.js';
import type { ActualResource, DesiredResource } from '../../domain/plan.js';
import { sortedList } from './codec.js';
import { KIND, KIND_ORDER } from './kinds.js';
import { normalizeProp } from './planning.js';
import { adminText, keyOfName, parseDescr, withAdminText } from './tags.js';

/** OPNsense's description field holds at most 255 characters. */
const DESCRIPTION_MAX = 255;

/** Destinations that mean "the firewall itself" in a hand-made WAN rule. */
const FIREWALL_ITSELF = new Set(['(self)', 'wanip', 'any']);

/** An instance's public key: from a private key (desired), a "pub:" marker (read), else the public key written beside it. */
function instanceKey(props: Readonly<Record<string, string>>): string | null {
  const fromPrivate = props.privatekey ? normalizeProp(KIND.server, 'privatekey', props.privatekey) : '';
  const key = fromPrivate !== '' ? fromPrivate : props.pubkey ?? '';
  return key === '' ? null : key;
}

function single<T>(items: readonly T[]): T | null {
  return items.length === 1 ? items[0] as T : null;
}

function ruleIdentity(props: Readonly<Record<string, string>>): string | null {
  const field = (name: string) => props[name] ?? '';
  if (field('enabled') !== '1' || field('action') !== 'pass' || (field('direction') !== 'in' && field('direction') !== '')) return null;
  const iface = sortedList(field('interface'));
  const protocol = field('protocol').toUpperCase() || 'ANY';
  if (iface === 'wan' && protocol === 'UDP' && field('destination_port') !== '' && FIREWALL_ITSELF.has(field('destination_net'))) {
    return `wan|UDP|port ${field('destination_port')}`;
  }
  if (iface === 'wireguard' && protocol === 'ANY' && field('destination_port') === '') {
    const sources = sortedList(field('source_net'));
    return sources === '' || sources === 'any' ? null : `wireguard|any|${sources}|${sortedList(field('destination_net')) || 'any'}`;
  }
  return null;
}

export function adoptionRules(desired: readonly DesiredResource[], actual: readonly ActualResource[], prefix: string): AdoptionRules {
  const unmanaged = (kind: string) => actual.filter((item) => item.kind === kind && item.key === null);
  // The desired instance ("@<its name tag>" in its peers' `servers`) → the hand-made one it is.
  const instances = new Map<string, string>();
  for (const server of desired.filter((item) => item.kind === KIND.server)) {
    const managed = actual.find((item) => item.kind === KIND.server && item.key === server.key);
    const key = instanceKey(server.props);
    const match = managed ?? (key === null ? null : single(unmanaged(KIND.server).filter((item) => instanceKey(item.props) === key)));
    if (match && server.props.name) instances.set(`@${server.props.name}`, managed ? `@${managed.props.name ?? ''}` : match.id);
  }
  const matched = new Set(instances.values());

  const identity = (kind: string, props: Readonly<Record<string, string>>): string | null => {
    switch (kind) {
      case KIND.server:
        return instanceKey(props);
      case KIND.client: {
        const pubkey = props.pubkey ?? '';
        if (pubkey === '') return null;
        const servers = sortedList(props.servers ?? '').split(',').filter((entry) => entry !== '').map((entry) => instances.get(entry) ?? entry);
        // A peer of several instances is this one's when this one is among them.
        const mine = servers.filter((entry) => matched.has(entry));
        return `${mine.length === 1 ? mine[0] : servers.join(',')}|${pubkey}`;
      }
      case KIND.rule:
        return ruleIdentity(props);
      default:
        return null;
    }
  };
  const candidate = (resource: DesiredResource): ActualResource | null => {
    const wanted = identity(resource.kind, resource.props);
    return wanted === null ? null : single(unmanaged(resource.kind).filter((item) => identity(item.kind, item.props) === wanted));
  };

  return {
    identity,
    kindOrder: KIND_ORDER,
    tagProps: (resource): Record<string, string> => {
      if (resource.kind === KIND.rule) {
        const tag = resource.props.description ?? '';
        return { description: withAdminText(tag, adminText(candidate(resource)?.props.description, prefix), DESCRIPTION_MAX) };
      }
      // The name is the tag. A peer's save carries its current `servers` (executor), so the
      // write keeps every instance it is attached to.
      return { name: resource.props.name ?? '' };
    },
  };
}

/** Items of another Meshplane WAN read as unmanaged here (their key is not this WAN's), yet they are Meshplane's. */
function isOtherWans(item: ActualResource, prefix: string): boolean {
  if (item.key !== null) return false;
  if (item.kind === KIND.server || item.kind === KIND.client) return keyOfName(item.props.name, prefix) !== null;
  return parseDescr(item.props.description, prefix).tag !== null;
}

export function adoptionPlanOpnSense(desired: readonly DesiredResource[], actual: readonly ActualResource[], prefix: string): AdoptionPlan {
  const own = actual.filter((item) => !isOtherWans(item, prefix));
  return planAdoption(desired, own, adoptionRules(desired, own, prefix));
}

