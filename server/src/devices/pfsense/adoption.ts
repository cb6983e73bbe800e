// Pure: which hand-made pfSense objects are the ones a desired state describes, so adoption
// tags them in place (descr) instead of the first deploy creating them again beside them.
//
// Natural identities, computed the same way from desired and read props:
// - tunnel: its public key (the one pfSense derives from the private key, or a bring-your-own
//   key's). pfSense names tunnels itself (tun_wgN) and Meshplane's interface name is nowhere on
//   the device; a key pair is what the tunnel is to every peer, while its listen port is only
//   where it listens (unique on the firewall, but a merge into a WAN may move it).
// - peer: its tunnel and public key (pfSense also refuses one key twice).
// - interface assignment: the tunnel it assigns (`if`). It carries no tag of its own: once its
//   tunnel is tagged it is Meshplane's, so adopting it writes nothing.
// - gateway: interface, family and address, which pfSense keeps unique together. Its name
//   cannot be changed, so the planner keeps the adopted name (planning.ts bindGatewayNames).
// - static route: network and gateway.
// - firewall rule: the pass rule for the listen port on WAN (action, interface, protocol and
//   port, to any address of the firewall itself) and the any-rule on the tunnel's interface.
//   Adopted rather than duplicated: a new rule is appended to the end of the ruleset, where an
//   admin's earlier block rule could shadow it, while the hand-made one is known to pass the
//   traffic where it stands; left beside ours it would keep the port open after the WAN left.
//   Disabled and floating rules are the admin's decisions and never candidates.
// - 1:1 NAT, port forwards, gateway groups: never adopted (created by the next deploy).
// Objects of another Meshplane WAN are never candidates, whatever they look like.
import { ADOPTED_REASON, planAdoption, type AdoptionPlan, type AdoptionRules } from '../../domain/adoption/adoption-plan.js';
import { updateContext, type ActualResource, type DesiredResource, type PlanOperation } from '../../domain/plan.js';
import { KIND, KIND_ORDER } from './kinds.js';
import { normalizeProp } from './planning.js';
import { adminText, interfaceIdRef, interfaceKeyForTunnel, isRef, parseDescr, ref, tagOf, withAdminText } from './tags.js';

/** Destinations that mean "the firewall itself" in a hand-made WAN rule ((self), wan:ip, any). */
function reachesFirewall(destination: string): boolean {
  return destination === '(self)' || destination === 'any' || destination.endsWith(':ip');
}

/** The tunnel's public key, from a private key (desired), a "pub:" marker (read) or a bring-your-own public key. */
function tunnelKey(props: Readonly<Record<string, string>>): string | null {
  const key = props.privatekey ? normalizeProp(KIND.tunnel, 'privatekey', props.privatekey) : props.publickey ?? '';
  return key === '' ? null : key;
}

/** The one unmanaged item of a kind with this identity, or null (none, or look-alikes). */
function single<T>(items: readonly T[]): T | null {
  return items.length === 1 ? items[0] as T : null;
}

/**
 * The desired state names the tunnel, its interface and its gateways by Meshplane's tags and
 * names; a hand-made setup by pfSense's (tun_wg0, "#opt1", WG_SITEB). This maps the first to
 * the second for the items adoption would take, so identities compare like with like.
 */
function translations(desired: readonly DesiredResource[], actual: readonly ActualResource[], prefix: string, identity: (kind: string, props: Readonly<Record<string, string>>) => string | null): Map<string, string> {
  const names = new Map<string, string>();
  const unmanaged = (kind: string) => actual.filter((item) => item.kind === kind && item.key === null);
  for (const tunnel of desired.filter((item) => item.kind === KIND.tunnel)) {
    if (actual.some((item) => item.kind === KIND.tunnel && item.key === tunnel.key)) continue;
    const key = tunnelKey(tunnel.props);
    const match = key === null ? null : single(unmanaged(KIND.tunnel).filter((item) => tunnelKey(item.props) === key));
    if (!match?.props.name) continue;
    names.set(ref(tagOf(prefix, tunnel.key)), match.props.name);
    const interfaceKey = interfaceKeyForTunnel(tunnel.key);
    const assignment = single(unmanaged(KIND.iface).filter((item) => item.props.if === match.props.name));
    if (interfaceKey !== null && assignment !== null) names.set(ref(tagOf(prefix, interfaceKey)), interfaceIdRef(assignment.id));
  }
  for (const gateway of desired.filter((item) => item.kind === KIND.gateway)) {
    const managed = actual.find((item) => item.kind === KIND.gateway && item.key === gateway.key);
    const wanted = identity(KIND.gateway, { ...gateway.props, interface: names.get(gateway.props.interface ?? '') ?? gateway.props.interface ?? '' });
    const match = managed ?? single(unmanaged(KIND.gateway).filter((item) => wanted !== null && identity(KIND.gateway, item.props) === wanted));
    if (match?.props.name && gateway.props.name && match.props.name !== gateway.props.name) names.set(gateway.props.name, match.props.name);
  }
  return names;
}

function naturalIdentity(kind: string, props: Readonly<Record<string, string>>): string | null {
  const field = (name: string) => props[name] ?? '';
  switch (kind) {
    case KIND.tunnel:
      return tunnelKey(props);
    case KIND.peer:
      return field('publickey') === '' ? null : `${field('tun')}|${field('publickey')}`;
    case KIND.iface:
      return field('if') === '' ? null : field('if');
    case KIND.gateway:
      return `${field('interface')}|${field('ipprotocol')}|${field('gateway')}`;
    case KIND.route:
      return `${field('network')}|${field('gateway')}`;
    case KIND.rule:
      if (field('disabled') === 'true' || field('floating') === 'true' || field('type') !== 'pass') return null;
      if (field('destination_port') !== '') {
        return reachesFirewall(field('destination')) ? `${field('interface')}|${field('protocol')}|port ${field('destination_port')}` : null;
      }
      return `${field('interface')}|${field('protocol') || 'any'}|${field('source')}|${field('destination')}`;
    default:
      return null;
  }
}

/** The props whose values name other objects, per kind (translated before identities are compared). */
const REFERENCES: Readonly<Record<string, readonly string[]>> = {
  [KIND.peer]: ['tun'],
  [KIND.iface]: ['if'],
  [KIND.gateway]: ['interface'],
  [KIND.route]: ['gateway'],
  [KIND.rule]: ['interface'],
};

export function adoptionRules(desired: readonly DesiredResource[], actual: readonly ActualResource[], prefix: string): AdoptionRules {
  const names = translations(desired, actual, prefix, naturalIdentity);
  const translate = (kind: string, props: Readonly<Record<string, string>>) => {
    const references = REFERENCES[kind] ?? [];
    return Object.fromEntries(Object.entries(props).map(([name, value]) => [name, references.includes(name) ? names.get(value) ?? value : value]));
  };
  const identity = (kind: string, props: Readonly<Record<string, string>>) => naturalIdentity(kind, translate(kind, props));
  const candidate = (resource: DesiredResource) => {
    const wanted = identity(resource.kind, resource.props);
    return single(actual.filter((item) => item.kind === resource.kind && item.key === null && wanted !== null && identity(item.kind, item.props) === wanted));
  };
  return {
    identity,
    kindOrder: KIND_ORDER,
    tagProps: (resource): Record<string, string> => {
      // The assignment is Meshplane's through its tunnel's tag; its descr is its name.
      if (resource.kind === KIND.iface) return {};
      const tag = tagOf(prefix, resource.key);
      const item = candidate(resource);
      // The admin's description stays, after the tag.
      const admin = adminText(item?.props.descr, prefix);
      if (resource.kind !== KIND.peer) return { descr: withAdminText(tag, admin) };
      // The descr's PSK fingerprint says "this key is on the device": only when the device
      // showed the same key. Otherwise the bare tag, and the next deploy writes the key in place.
      const wanted = normalizeProp(KIND.peer, 'presharedkey', resource.props.presharedkey ?? '');
      const proven = item !== null && normalizeProp(KIND.peer, 'presharedkey', item.props.presharedkey ?? 'fp:') === wanted;
      return { descr: withAdminText(proven ? resource.props.descr ?? tag : tag, admin) };
    },
  };
}

/**
 * Another WAN's objects read as unmanaged here (their key is not this WAN's), yet they are
 * Meshplane's: tagged themselves, or (an assignment) through their tunnel. Never candidates.
 */
function isOtherWans(item: ActualResource, prefix: string): boolean {
  if (item.key !== null) return false;
  return parseDescr(item.props.descr, prefix).tag !== null || (item.kind === KIND.iface && isRef(item.props.if ?? ''));
}

export function adoptionPlanPfSense(desired: readonly DesiredResource[], actual: readonly ActualResource[], prefix: string): AdoptionPlan {
  const own = actual.filter((item) => !isOtherWans(item, prefix));
  return planAdoption(desired, own, adoptionRules(desired, own, prefix));
}

/** Props that identify the object an adoption update was planned for, by kind (unchanged by adoption). */
const WITNESSES: Readonly<Record<string, readonly string[]>> = {
  [KIND.tunnel]: ['publickey'],
  [KIND.peer]: ['publickey'],
  [KIND.gateway]: ['gateway', 'ipprotocol'],
  [KIND.route]: ['network'],
  [KIND.rule]: ['protocol', 'destination_port'],
};

/**
 * Whether `current` (as decoded now) is still the object an adoption update was planned on:
 * pfSense ids are positions, so a delete between reading and writing would put another object
 * at the id. Untagged, the descr as read, and the props that identify it unchanged.
 */
export function isAdoptionTarget(operation: PlanOperation, current: Readonly<Record<string, unknown>>, prefix: string): boolean {
  if (operation.op !== 'update' || operation.reason !== ADOPTED_REASON) return false;
  const text = (value: unknown) => (value === null || value === undefined ? '' : String(value));
  if (parseDescr(current.descr, prefix).tag !== null || text(current.descr) !== (operation.before.descr ?? '')) return false;
  // Known while the plan is the object adoptionPlan() returned (it is not kept when a plan is serialised).
  const context = updateContext.get(operation);
  return (WITNESSES[operation.kind] ?? []).every((prop) => context?.[prop] === undefined || context[prop] === text(current[prop]));
}

export function isAdoption(operation: PlanOperation): boolean {
  return operation.op === 'update' && operation.reason === ADOPTED_REASON;
}
