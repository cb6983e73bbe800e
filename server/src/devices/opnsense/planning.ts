// Pure: plan, clear and undo policy for OPNsense on top of the vendor-neutral planner.
import { publicKeyFromPrivate } from '../../domain/keys.js';
import { diffResources, pendingAreaApplies, updateContext, type ActualResource, type Adjustment, type DesiredResource, type Plan } from '../../domain/plan.js';
import type { UndoPolicy } from '../../domain/undo.js';
import { sortedList } from './codec.js';
import { APPLY_KINDS, AREA_ORDER, KIND, KIND_ORDER, KIND_SPECS, isApplyKind } from './kinds.js';
import { adminText, isRef, ownDescr, pskFingerprint, withAdminText } from './tags.js';

/** Compares secrets through what a reading shows (public key, PSK fingerprint), lists sorted, descriptions without the admin's text. */
export function normalizeProp(kind: string, prop: string, value: string): string {
  if (prop === 'privatekey') {
    if (value.startsWith('pub:')) return value.slice(4);
    try {
      return publicKeyFromPrivate(value);
    } catch {
      return value;
    }
  }
  if (prop === 'psk') return value.startsWith('fp:') ? value.slice(3) : pskFingerprint(value);
  if (prop === 'description') return ownDescr(value);
  // A peer's instances as Meshplane's ("@<name tag>") only: an admin's instance holding it
  // too (a hand-made peer adopted from several instances) is that instance's business.
  if (kind === KIND.client && prop === 'servers') return sortedList(value).split(',').filter(isRef).join(',');
  if (KIND_SPECS[kind]?.props[prop] === 'list') return sortedList(value);
  return value;
}

/** The WireGuard service switch (on, never off: off tears down every instance) and areas a run left unapplied. */
export function adjustments(actual: readonly ActualResource[]): Adjustment[] {
  const general = actual.find((resource) => resource.kind === KIND.general);
  return [
    ...(general ? [{ kind: KIND.general, id: general.id, changes: { enabled: '1' }, reason: 'WireGuard must be enabled for instances to run' }] : []),
    ...pendingApplies(actual),
  ];
}

/** The areas the pending marker names: written by an interrupted run and never applied. */
function pendingApplies(actual: readonly ActualResource[]): Adjustment[] {
  return pendingAreaApplies(actual, AREA_ORDER, APPLY_KINDS, 'an interrupted run');
}

/** A description written by an update keeps the admin's text that followed the tag. */
function keepAdminText(plan: Plan, actual: readonly ActualResource[], prefix: string): Plan {
  return {
    ...plan,
    operations: plan.operations.map((operation) => {
      if (operation.op !== 'update' || operation.changes.description === undefined) return operation;
      const current = actual.find((resource) => resource.kind === operation.kind && resource.id === operation.id);
      const admin = adminText(current?.props.description, prefix);
      if (admin === '') return operation;
      const kept = { ...operation, changes: { ...operation.changes, description: withAdminText(operation.changes.description, admin, 255) } };
      const context = updateContext.get(operation);
      if (context) updateContext.set(kept, context);
      return kept;
    }),
  };
}

/**
 * A rule's place is chosen when Meshplane creates it; afterwards the device's own sequence
 * stands. An adopted rule sits where its admin put it (moving it to Meshplane's range could
 * put it behind the admin's block rule), and an admin may reorder Meshplane's rules too.
 */
function keepDeviceSequence(desired: readonly DesiredResource[], actual: readonly ActualResource[]): DesiredResource[] {
  const placed = new Map<string, string>();
  for (const resource of actual) {
    if (resource.key !== null && resource.props.sequence !== undefined) placed.set(`${resource.kind}|${resource.key}`, resource.props.sequence);
  }
  return desired.map((resource) => {
    const sequence = placed.get(`${resource.kind}|${resource.key}`);
    return sequence === undefined || resource.props.sequence === undefined ? resource : { ...resource, props: { ...resource.props, sequence } };
  });
}

export function planOpnSense(desired: readonly DesiredResource[], actual: readonly ActualResource[], prefix: string): Plan {
  const plan = diffResources(keepDeviceSequence(desired, actual), actual, { kindOrder: KIND_ORDER, normalize: normalizeProp, adjustments: adjustments(actual) });
  return keepAdminText(plan, actual, prefix);
}

/**
 * Every managed item goes, and what an interrupted run left written but unapplied is applied
 * (a clear cut off after its deletes would otherwise find nothing left to delete, plan nothing,
 * and leave the deleted instance running, the deleted rules loaded, the marker and, up to 26.1,
 * that run's rollback timer, which then loads the deleted rules back). The WireGuard switch
 * stays as it is (the admin's own instances may need it).
 */
export function clearOpnSensePlan(actual: readonly ActualResource[]): Plan {
  return diffResources([], actual, { kindOrder: KIND_ORDER, adjustments: pendingApplies(actual) });
}

export const OPNSENSE_UNDO: UndoPolicy = {
  // The WireGuard switch is never turned back off (that would tear down every instance).
  writable: (kind, prop) => {
    const codec = KIND_SPECS[kind]?.props[prop];
    return codec !== undefined && codec !== 'readOnly';
  },
  ignored: isApplyKind,
  normalize: normalizeProp,
};
