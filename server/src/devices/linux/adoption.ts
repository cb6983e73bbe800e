// Taking over a hand-made WireGuard interface on a Linux host in place (pure). Linux has no
// comment on peers or addresses: what makes them Meshplane's is the tag on their link (the
// ifalias, names.ts), so writing the tag onto the link adopts its peers and addresses with it,
// untouched. Routes carry Meshplane's routing protocol number instead: a hand-made route to
// a remote LAN through the adopted link is adopted by `ip route replace` with that protocol
// (steps.ts), which swaps the route atomically — no packet meets a table without it.
//
// Identities (the same from desired and read resources):
//   link     its name, when it is a WireGuard link on this host that carries no Meshplane tag
//            (another WAN's link already has one: never a candidate)
//   wg-peer  "<ifname>/<public key>"        address  "<ifname>/<address item>"
//   route    "<destination> dev <ifname>"   (not the kernel's prefix routes: they belong to
//            their address and go with it)
// A peer, address or route is adopted only together with its link (adopted now, or already
// this WAN's): on a link left alone they stay as they are.
//
// Firewall rules are never adopted. A hand-made rule (a PostUp `iptables -A FORWARD -i wg0 -j
// ACCEPT`) has no natural identity to match Meshplane's against (iptables prints its own
// canonical form, and one intent has many spellings), and it cannot take a tag without being
// deleted and inserted again. Leaving it costs nothing: the next deploy inserts Meshplane's own
// tagged rules ahead of it, nothing is removed, and the hand-made rule stays unmanaged.
import { planAdoption, type AdoptionPlan, type AdoptionRules } from '../../domain/adoption/adoption-plan.js';
import type { ActualResource, DesiredResource, PlanOperation } from '../../domain/plan.js';
import type { DesiredDeviceState } from '../driver.js';
import { isMeshplaneAlias, KIND, KIND_ORDER, parseRouteId, splitMemberKey } from './names.js';
import { desiredLinkAlias } from './resources.js';

function desiredIdentity(resource: DesiredResource): string | null {
  switch (resource.kind) {
    case KIND.link:
    case KIND.peer:
    case KIND.address:
      return resource.key;
    case KIND.route:
      return resource.props.dev === undefined ? null : `${resource.key} dev ${resource.props.dev}`;
    default:
      return null;
  }
}

function actualIdentity(resource: ActualResource, commentPrefix: string): string | null {
  switch (resource.kind) {
    case KIND.link: {
      const { type, namespace, alias } = resource.props;
      const handMade = type === 'wireguard' && namespace === undefined && !isMeshplaneAlias(alias || null, commentPrefix);
      return handMade ? resource.id : null;
    }
    case KIND.peer:
    case KIND.address:
      return resource.id;
    case KIND.route: {
      const route = parseRouteId(resource.id);
      return resource.props.protocol === 'kernel' || route.dev === '' ? null : `${route.destination} dev ${route.dev}`;
    }
    default:
      return null;
  }
}

/** The link a resource lives on, for the kinds that go with their link. */
function linkOf(kind: string, key: string, id: string): string | null {
  if (kind === KIND.peer || kind === KIND.address) return splitMemberKey(key).ifname;
  if (kind === KIND.route) return parseRouteId(id).dev;
  return null;
}

export function linuxAdoptionPlan(desired: DesiredDeviceState, resources: readonly DesiredResource[], actual: readonly ActualResource[], routeProtocol: number): AdoptionPlan {
  // planAdoption asks for an identity from props alone; a Linux resource's name is its key or
  // id, so each one's identity is worked out here, once, and looked up by its props object.
  const identities = new WeakMap<object, string | null>();
  for (const resource of resources) identities.set(resource.props, desiredIdentity(resource));
  for (const resource of actual) identities.set(resource.props, actualIdentity(resource, desired.commentPrefix));
  const alias = desiredLinkAlias(desired);
  const rules: AdoptionRules = {
    identity: (_kind, props) => identities.get(props) ?? null,
    tagProps: (resource): Record<string, string> => {
      if (resource.kind === KIND.link) return { alias };
      if (resource.kind === KIND.route) return { protocol: String(routeProtocol) };
      return {};
    },
    kindOrder: KIND_ORDER,
  };
  const plan = planAdoption(resources, actual, rules);

  const links = new Set([
    ...actual.filter((resource) => resource.kind === KIND.link && resource.key !== null).map((resource) => resource.id),
    ...plan.adopted.filter((item) => item.kind === KIND.link).map((item) => item.id),
  ]);
  const withItsLink = (kind: string, key: string | null, id: string): boolean => {
    const link = key === null ? null : linkOf(kind, key, id);
    return link === null || links.has(link);
  };
  const operations = plan.plan.operations.filter((operation: PlanOperation) => operation.op !== 'update' || withItsLink(operation.kind, operation.key, operation.id));
  return {
    plan: { operations, unchanged: 0 },
    adopted: plan.adopted.filter((item) => withItsLink(item.kind, item.key, item.id)),
    ambiguous: plan.ambiguous,
  };
}
