// Reconciliation, vendor-neutral: a device's state is a list of resources (one per menu
// item, row or object), each managed one identified by a stable key that the driver stores
// in the device's comment/description field. The plan creates what is missing, updates in
// place what differs (never remove + add: a WireGuard peer that is removed and re-added
// loses its session), deletes managed leftovers, and never touches unmanaged resources
// except through explicit adjustments (e.g. demoting a conflicting static route).

import { describeChanges, describeProps, secretValues } from './secret-masking.js';

/** A resource as Meshplane wants it. `kind` is the menu/table (e.g. "/interface/wireguard/peers"). */
export interface DesiredResource {
  kind: string;
  /** Stable identity across deploys, e.g. "peer:<peerId>"; stored in the managed tag. */
  key: string;
  /** Property values as the device spells them. Properties not listed are left alone. */
  props: Record<string, string>;
}

/** A resource as read from the device. */
export interface ActualResource {
  kind: string;
  /** The device's own id (RouterOS ".id", pfSense position, Linux public key). */
  id: string;
  /** The managed key when the resource carries Meshplane's tag, null when unmanaged. */
  key: string | null;
  props: Record<string, string>;
}

export type PlanOperation =
  | { op: 'create'; kind: string; key: string; props: Record<string, string> }
  | {
    op: 'update'; kind: string; key: string | null; id: string; changes: Record<string, string>; before: Record<string, string>; reason?: string;
    /** An adjustment of an unmanaged resource that clear and revert put back (see Adjustment.restore). */
    restore?: true;
  }
  | { op: 'delete'; kind: string; key: string; id: string; props: Record<string, string> };

/**
 * What is known of the resource an update touches besides the changed fields (its desired and
 * read properties), so it can be named (domain/resource-labels.ts): a route whose distance
 * changes is still "the route to X". Kept beside the operation, not in it, so plans compare,
 * hash and serialise as before and carry no property they do not write.
 */
export const updateContext = new WeakMap<PlanOperation, Record<string, string>>();

export interface Plan {
  operations: PlanOperation[];
  /** Managed resources already as desired. */
  unchanged: number;
}

/** A change Meshplane makes to an unmanaged resource, always with a reason (e.g. route demotion). */
export interface Adjustment {
  kind: string;
  id: string;
  changes: Record<string, string>;
  reason: string;
  /** Put back when Meshplane's resources leave the device (a demoted route), rather than kept (a setting the host needs). */
  restore?: true;
}

/**
 * The apply of each area a device reports as written but not applied (firewalls that stage
 * changes per area and apply them separately: pfSense, OPNsense), in the areas' order. `cause`
 * says who may have left them, for the plan's reason.
 */
export function pendingAreaApplies<Area extends string>(actual: readonly ActualResource[], areas: readonly Area[], applyKinds: Readonly<Record<Area, string>>, cause: string): Adjustment[] {
  return areas.filter((area) => actual.some((resource) => resource.kind === applyKinds[area])).map((area) => ({
    kind: applyKinds[area], id: area, changes: { applied: 'true' }, reason: `${area} changes were written but never applied (${cause})`,
  }));
}

export interface PlanOptions {
  /** Kinds in dependency order: created/updated in this order, deleted in reverse. */
  kindOrder: readonly string[];
  /** Properties whose comparison ignores case/format differences the device introduces. */
  normalize?: (kind: string, prop: string, value: string) => string;
  adjustments?: readonly Adjustment[];
}

function rank(order: readonly string[], kind: string): number {
  const index = order.indexOf(kind);
  return index === -1 ? order.length : index;
}

export function diffResources(desired: readonly DesiredResource[], actual: readonly ActualResource[], options: PlanOptions): Plan {
  const normalize = options.normalize ?? ((_kind, _prop, value) => value);
  const managed = new Map<string, ActualResource>();
  const duplicates: ActualResource[] = [];
  for (const resource of actual) {
    if (resource.key === null) continue;
    const id = `${resource.kind}\u0000${resource.key}`;
    // Two items with one tag (an interrupted earlier run): keep the first, delete the rest.
    if (managed.has(id)) duplicates.push(resource);
    else managed.set(id, resource);
  }

  const creates: PlanOperation[] = [];
  const updates: PlanOperation[] = [];
  let unchanged = 0;
  const wanted = new Set<string>();
  for (const resource of desired) {
    const id = `${resource.kind}\u0000${resource.key}`;
    wanted.add(id);
    const current = managed.get(id);
    if (!current) {
      creates.push({ op: 'create', kind: resource.kind, key: resource.key, props: resource.props });
      continue;
    }
    const changes: Record<string, string> = {};
    const before: Record<string, string> = {};
    for (const [prop, value] of Object.entries(resource.props)) {
      const now = current.props[prop] ?? '';
      if (normalize(resource.kind, prop, now) !== normalize(resource.kind, prop, value)) {
        changes[prop] = value;
        before[prop] = now;
      }
    }
    if (Object.keys(changes).length === 0) unchanged++;
    else {
      const update: PlanOperation = { op: 'update', kind: resource.kind, key: resource.key, id: current.id, changes, before };
      updateContext.set(update, { ...current.props, ...resource.props });
      updates.push(update);
    }
  }

  for (const adjustment of options.adjustments ?? []) {
    const current = actual.find((resource) => resource.kind === adjustment.kind && resource.id === adjustment.id);
    const before = Object.fromEntries(Object.keys(adjustment.changes).map((prop) => [prop, current?.props[prop] ?? '']));
    const differs = Object.entries(adjustment.changes).some(([prop, value]) => before[prop] !== value);
    if (current && differs) {
      const update: PlanOperation = { op: 'update', kind: adjustment.kind, key: null, id: adjustment.id, changes: adjustment.changes, before, reason: adjustment.reason, ...(adjustment.restore ? { restore: true as const } : {}) };
      updateContext.set(update, current.props);
      updates.push(update);
    }
  }

  const deletes: PlanOperation[] = [
    ...duplicates,
    ...[...managed.entries()].filter(([id]) => !wanted.has(id)).map(([, resource]) => resource),
  ].map((resource) => ({ op: 'delete' as const, kind: resource.kind, key: resource.key as string, id: resource.id, props: resource.props }));

  const byOrder = (a: PlanOperation, b: PlanOperation) => rank(options.kindOrder, a.kind) - rank(options.kindOrder, b.kind);
  return {
    // Deletes first and in reverse dependency order (peers before their interface), so a
    // renamed item never collides with its leftover; then creates/updates in order.
    operations: [...deletes.sort((a, b) => byOrder(b, a)), ...[...creates, ...updates].sort(byOrder)],
    unchanged,
  };
}

/**
 * A plan as a person reads it in a review, one line per change. Secret properties (any
 * driver's spelling, secret-masking.ts) show that they are set or change, never their value.
 */
export function describePlan(plan: Plan): string[] {
  return plan.operations.map((operation) => {
    const label = `${operation.kind} ${operation.key ?? (operation.op === 'create' ? '' : operation.id)}`;
    switch (operation.op) {
      case 'create':
        return `+ create ${label}: ${describeProps(operation.props)}`;
      case 'update':
        return `~ update ${label}: ${describeChanges(operation.changes, operation.before, '→').join(', ')}${operation.reason ? ` (${operation.reason})` : ''}`;
      case 'delete':
        return `- delete ${label}`;
    }
  });
}

/** Every secret value an operation carries (what it writes and what it read back). */
export function secretsOf(operation: PlanOperation): string[] {
  return operation.op === 'update' ? secretValues(operation.changes, operation.before) : secretValues(operation.props);
}
