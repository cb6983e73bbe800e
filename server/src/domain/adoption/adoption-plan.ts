// Taking over what is already on a device, in place. A WireGuard peer that is removed and
// added again loses its session, so adoption never does that: each desired resource that has
// no managed item yet is matched with the hand-made item that is "the same thing" (the
// driver says what that means: an interface by name, a peer by interface and public key, an
// address by interface and address …), and the plan only writes Meshplane's tag onto it.
// The next deploy then finds it managed and updates whatever else differs, in place too.

import type { ActualResource, DesiredResource, Plan, PlanOperation } from '../plan.js';
import { updateContext } from '../plan.js';

export const ADOPTED_REASON = 'adopted in place';

export interface AdoptionRules {
  /**
   * The natural identity of a resource of this kind on this kind of device, computed the same
   * way from desired and read properties; null for kinds that are never adopted (they are
   * created by the next deploy, or are Meshplane's own, such as its firewall rules).
   */
  identity(kind: string, props: Readonly<Record<string, string>>): string | null;
  /** The properties that carry Meshplane's tag on this resource: all adoption writes. */
  tagProps(resource: DesiredResource): Record<string, string>;
  /** Kinds in dependency order (the interface before its peers). */
  kindOrder: readonly string[];
}

export interface AdoptedItem {
  kind: string;
  /** The device's own id, unchanged by adoption. */
  id: string;
  key: string;
}

/** Two or more hand-made items that all look like one desired resource: none is taken, the operator decides. */
export interface AmbiguousMatch {
  kind: string;
  key: string;
  ids: string[];
}

export interface AdoptionPlan {
  /** Only updates of the tag properties, each with reason ADOPTED_REASON. */
  plan: Plan;
  adopted: AdoptedItem[];
  ambiguous: AmbiguousMatch[];
}

function rank(order: readonly string[], kind: string): number {
  const index = order.indexOf(kind);
  return index === -1 ? order.length : index;
}

export function planAdoption(desired: readonly DesiredResource[], actual: readonly ActualResource[], rules: AdoptionRules): AdoptionPlan {
  const managed = new Set(actual.filter((resource) => resource.key !== null).map((resource) => `${resource.kind}\u0000${resource.key}`));
  const candidates = new Map<string, ActualResource[]>();
  for (const resource of actual) {
    if (resource.key !== null) continue;
    const identity = rules.identity(resource.kind, resource.props);
    if (identity === null) continue;
    const id = `${resource.kind}\u0000${identity}`;
    candidates.set(id, [...(candidates.get(id) ?? []), resource]);
  }

  const operations: PlanOperation[] = [];
  const adopted: AdoptedItem[] = [];
  const ambiguous: AmbiguousMatch[] = [];
  const taken = new Set<ActualResource>();
  for (const resource of [...desired].sort((a, b) => rank(rules.kindOrder, a.kind) - rank(rules.kindOrder, b.kind))) {
    if (managed.has(`${resource.kind}\u0000${resource.key}`)) continue;
    const identity = rules.identity(resource.kind, resource.props);
    if (identity === null) continue;
    const matches = (candidates.get(`${resource.kind}\u0000${identity}`) ?? []).filter((item) => !taken.has(item));
    if (matches.length === 0) continue;
    if (matches.length > 1) {
      ambiguous.push({ kind: resource.kind, key: resource.key, ids: matches.map((item) => item.id) });
      continue;
    }
    const [item] = matches as [ActualResource];
    taken.add(item);
    adopted.push({ kind: item.kind, id: item.id, key: resource.key });
    const changes = rules.tagProps(resource);
    const before = Object.fromEntries(Object.keys(changes).map((prop) => [prop, item.props[prop] ?? '']));
    if (Object.entries(changes).every(([prop, value]) => before[prop] === value)) continue;
    const update: PlanOperation = { op: 'update', kind: item.kind, key: resource.key, id: item.id, changes, before, reason: ADOPTED_REASON };
    updateContext.set(update, { ...item.props, ...resource.props });
    operations.push(update);
  }
  return { plan: { operations, unchanged: 0 }, adopted, ambiguous };
}
