// Pure: the RouterOS plan from desired and actual state. On top of the vendor-neutral diff
// (domain/plan.ts) it (1) compares secrets RouterOS will not show (the interface's private
// key through its public key; a preshared key by fingerprint, or as unchanged when
// masked), (2) demotes
// unmanaged static routes that would compete with the overlay's, (3) keeps the API user's
// allowed addresses a superset of what Meshplane needs, and (4) places new firewall rules
// before the first static rule, so an existing default drop cannot shadow them.
import type { ActualResource, Adjustment, DesiredResource, Plan, PlanOperation } from '../../domain/plan.js';
import { diffResources } from '../../domain/plan.js';
import { safeCidr, safeIp } from '../../domain/render/safe-values.js';
import type { DesiredDeviceState } from '../driver.js';
import type { UndoPolicy } from '../../domain/undo.js';
import { familyOfValue } from '../../domain/compiled.js';
import { FAMILY_MENUS } from '../../domain/render/routeros-family.js';
import { DEMOTED_ROUTE_DISTANCE, FILTER_KINDS, KIND_ORDER, MASKED, MENU, ROUTE_DISTANCE } from './menus.js';
import { normalizeValue, prefixed } from './normalize.js';
import { desiredResources } from './resources.js';
import { fingerprint } from './secrets.js';
import { isMeshplaneComment } from './tags.js';
import { isTrue, splitList } from './values.js';

export interface ReconcileOptions {
  /** The user the driver logs in as (its allowed addresses are kept). */
  apiUser: string | null;
}

/** Fills in secrets the device masks or never returns, where equality is known otherwise. */
function comparable(desired: DesiredDeviceState, actual: readonly ActualResource[]): ActualResource[] {
  const resources = desiredResources(desired);
  const byKey = new Map(resources.map((resource) => [`${resource.kind}\u0000${resource.key}`, resource]));
  return actual.map((item) => {
    const wanted = item.key === null ? undefined : byKey.get(`${item.kind}\u0000${item.key}`);
    if (!wanted) return item;
    const props = { ...item.props };
    const privateKey = wanted.props['private-key'];
    // A public key is derived from its private key: equal public keys, equal private keys.
    if (item.kind === MENU.interface && privateKey !== undefined && props['public-key'] === desired.peer.interface.publicKey) props['private-key'] = privateKey;
    // Read back as a fingerprint; masked ("*****") for users without `sensitive`: assumed unchanged.
    const preshared = wanted.props['preshared-key'];
    const shown = props['preshared-key'];
    if (item.kind === MENU.peers && preshared !== undefined && (shown === MASKED || shown === fingerprint(preshared))) props['preshared-key'] = preshared;
    return { ...item, props };
  });
}

/** An unmanaged static route in the destination's family's route menu that would win over or tie with ours. */
function isStaticCompetitor(route: ActualResource, routeMenu: string, destination: string, prefix: string): boolean {
  if (route.kind !== routeMenu || route.key !== null || isTrue(route.props.dynamic)) return false;
  if (isMeshplaneComment(route.props.comment, prefix)) return false;
  const table = route.props['routing-table'];
  if (table !== undefined && table !== '' && table !== 'main') return false;
  if (normalizeValue(routeMenu, 'dst-address', route.props['dst-address'] ?? '') !== normalizeValue(routeMenu, 'dst-address', destination)) return false;
  const distance = Number(route.props.distance ?? '1'); // a static route's default distance
  return Number.isFinite(distance) && distance <= ROUTE_DISTANCE;
}

export function routeDemotions(desired: DesiredDeviceState, actual: readonly ActualResource[]): Adjustment[] {
  const adjustments: Adjustment[] = [];
  // Overlay routes, and a redundant hub's routes to spokes without BGP (the same distance).
  const destinations = [...desired.peer.routes, ...(desired.peer.routing?.staticRoutes ?? [])].map((route) => route.destination);
  for (const destination of destinations.map(safeCidr)) {
    const routeMenu = FAMILY_MENUS[familyOfValue(destination)].route;
    for (const competitor of actual.filter((item) => isStaticCompetitor(item, routeMenu, destination, desired.commentPrefix))) {
      adjustments.push({
        kind: routeMenu,
        id: competitor.id,
        changes: { distance: String(DEMOTED_ROUTE_DISTANCE) },
        reason: `unmanaged static route to ${destination} at distance ${competitor.props.distance ?? '1'} would compete with the overlay route; demoted, not removed`,
        restore: true,
      });
    }
  }
  return adjustments;
}

/** Never narrows the list: an empty list means "from anywhere" and stays that way. */
export function apiUserAdjustment(desired: DesiredDeviceState, actual: readonly ActualResource[], apiUser: string | null): Adjustment[] {
  if (apiUser === null || desired.apiAllowedAddresses === undefined) return [];
  const user = actual.find((item) => item.kind === MENU.user && item.props.name === apiUser);
  if (!user) return [];
  const current = splitList(user.props.address);
  if (current.length === 0) return [];
  // Management may reach the router over IPv6: a bare address is a host of its own family.
  const needed = desired.apiAllowedAddresses.map((entry) => prefixed(entry.includes('/') ? safeCidr(entry) : safeIp(entry)));
  const have = new Set(current.map(prefixed));
  const missing = needed.filter((entry) => !have.has(entry));
  if (missing.length === 0) return [];
  return [{
    kind: MENU.user,
    id: user.id,
    changes: { address: [...current, ...missing].join(',') },
    reason: `keep API user ${apiUser} able to log in from ${missing.join(', ')}`,
  }];
}

export function planRouterOs(desired: DesiredDeviceState, actual: readonly ActualResource[], options: ReconcileOptions): Plan {
  const view = comparable(desired, actual);
  const resources = desiredResources(desired);
  const plan = diffResources(resources, view, {
    kindOrder: KIND_ORDER,
    normalize: normalizeValue,
    adjustments: [...routeDemotions(desired, view), ...apiUserAdjustment(desired, view, options.apiUser)],
  });
  return withRulePlacement(withPeersRecreatedOnMove(plan, view, resources), actual);
}

/**
 * A remote that moves to another interface (a WAN switching hub redundancy on or off moves a
 * hub between the main interface and a link) is removed and added again rather than set:
 * the plan deletes the interface it may leave before updates run, and removing an interface
 * takes its peers with it; removed first, it also frees its AllowedIPs before the remotes
 * that stay grow into them. On another interface it is a new WireGuard session anyway.
 */
function withPeersRecreatedOnMove(plan: Plan, actual: readonly ActualResource[], desired: readonly DesiredResource[]): Plan {
  // A renamed interface takes its peers along: those are set, not moved.
  const renamed = new Set(plan.operations.map((operation) => (operation.op === 'update' && operation.kind === MENU.interface && operation.changes.name !== undefined ? operation.before.name : undefined)));
  const moving = plan.operations.filter((operation) => operation.op === 'update' && operation.kind === MENU.peers && operation.key !== null
    && operation.changes.interface !== undefined && !renamed.has(operation.before.interface));
  if (moving.length === 0) return plan;
  const deletes: PlanOperation[] = [];
  const creates: PlanOperation[] = [];
  for (const operation of moving) {
    if (operation.op !== 'update' || operation.key === null) continue;
    const current = actual.find((item) => item.kind === MENU.peers && item.id === operation.id);
    const wanted = desired.find((item) => item.kind === MENU.peers && item.key === operation.key);
    if (!current || !wanted) continue;
    deletes.push({ op: 'delete', kind: MENU.peers, key: operation.key, id: operation.id, props: current.props });
    creates.push({ op: 'create', kind: MENU.peers, key: operation.key, props: wanted.props });
  }
  if (deletes.length === 0) return plan;
  const moved = new Set(deletes.map((operation) => operation.op === 'delete' ? operation.id : ''));
  const rest = plan.operations.filter((operation) => !(operation.op === 'update' && operation.kind === MENU.peers && moved.has(operation.id)));
  const firstCreateOrUpdate = rest.findIndex((operation) => operation.op !== 'delete');
  const split = firstCreateOrUpdate === -1 ? rest.length : firstCreateOrUpdate;
  // Peer deletes go before interface deletes; the new peers after their interface exists.
  const byKind = (a: PlanOperation, b: PlanOperation) => KIND_ORDER.indexOf(a.kind) - KIND_ORDER.indexOf(b.kind);
  return {
    ...plan,
    operations: [...[...rest.slice(0, split), ...deletes].sort((a, b) => byKind(b, a)), ...[...rest.slice(split), ...creates].sort(byKind)],
  };
}

/** New firewall rules (of each family) go before the first static rule of their menu that this plan keeps. */
function withRulePlacement(plan: Plan, actual: readonly ActualResource[]): Plan {
  const deleted = new Set(plan.operations.filter((operation) => operation.op === 'delete').map((operation) => `${operation.kind}\u0000${operation.id}`));
  const anchors = new Map<string, string>();
  for (const kind of FILTER_KINDS) {
    const anchor = actual.find((item) => item.kind === kind && !isTrue(item.props.dynamic) && !deleted.has(`${item.kind}\u0000${item.id}`));
    if (anchor) anchors.set(kind, anchor.id);
  }
  if (anchors.size === 0) return plan;
  return {
    ...plan,
    operations: plan.operations.map((operation) => {
      if (operation.op !== 'create') return operation;
      const anchor = anchors.get(operation.kind);
      return anchor === undefined ? operation : { ...operation, props: { ...operation.props, 'place-before': anchor } };
    }),
  };
}

/**
 * What the router shows but will not take back: flags it derives, and the key it derives from the
 * private one. An address's `network` is not among them: Meshplane writes it (point-to-point to a hub).
 */
const READ_ONLY = new Set(['dynamic', 'running', 'inactive', 'active']);

export const ROUTEROS_UNDO: UndoPolicy = {
  writable: (kind, prop) => !READ_ONLY.has(prop) && !(kind === MENU.interface && prop === 'public-key'),
  normalize: normalizeValue,
  // The interface is read without its private key; created again, it makes a new one.
  unreadSecrets: (kind) => (kind === MENU.interface ? ['private-key'] : []),
};

/** Every resource this WAN's tag marks, and nothing else. */
export function clearRouterOs(actual: readonly ActualResource[]): Plan {
  return diffResources([], actual, { kindOrder: KIND_ORDER });
}
