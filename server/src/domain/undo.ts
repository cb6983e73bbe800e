// Pure: how to take a device back to the state it was read in before a plan was applied,
// from that reading and a fresh one. Only what the plan touched is put back (a managed
// resource by its key, an adjusted unmanaged one by its id), in reverse order of the plan:
// what it created is deleted, what it updated is set back to the values read before, what it
// deleted is created again from the values read before. Values the device never shows (a
// private key, a preshared key) cannot be put back: they are named instead of guessed.
import type { ActualResource, Plan, PlanOperation } from './plan.js';
import { isSecretProp } from './secret-masking.js';

export interface UndoPolicy {
  /** Whether a property read from the device can be written back (not derived or read-only). */
  writable(kind: string, prop: string): boolean;
  /** Kinds that are not configuration (e.g. pfSense's pending-apply markers): never put back. */
  ignored?(kind: string): boolean;
  /** Comparison of values as the device formats them. */
  normalize?(kind: string, prop: string, value: string): string;
  /**
   * Secrets an item of this kind holds that a reading does not include at all (RouterOS lists no
   * interface private key): an item deleted and created again has lost them all the same.
   */
  unreadSecrets?(kind: string): readonly string[];
  /**
   * Whether a secret as read (a fingerprint) can be written back as it is, because the driver
   * still holds the key behind it (Linux keeps the keys it planned with).
   */
  heldSecret?(kind: string, prop: string, value: string): boolean;
}

export interface UndoPlan {
  plan: Plan;
  /** What cannot be put back, one sentence each. */
  unrestorable: string[];
}

const sameKind = (a: { kind: string }, kind: string) => a.kind === kind;

function label(operation: PlanOperation): string {
  return `${operation.kind} ${operation.key ?? (operation.op === 'create' ? '' : operation.id)}`.trim();
}

/**
 * `attempted`: the operations that may have reached the device (those applied and the one
 * that failed, whose outcome is unknown when the connection dropped).
 */
export function undoPlan(before: readonly ActualResource[], now: readonly ActualResource[], attempted: readonly PlanOperation[], policy: UndoPolicy): UndoPlan {
  const normalize = policy.normalize ?? ((_kind, _prop, value) => value);
  const operations: PlanOperation[] = [];
  const unrestorable: string[] = [];
  const find = (list: readonly ActualResource[], operation: PlanOperation) => (operation.key !== null
    ? list.filter((item) => sameKind(item, operation.kind) && item.key === operation.key)
    : list.filter((item) => sameKind(item, operation.kind) && item.id === (operation as { id: string }).id));

  for (const operation of [...attempted].reverse()) {
    if (policy.ignored?.(operation.kind)) continue;
    const was = find(before, operation);
    const is = find(now, operation);
    switch (operation.op) {
      case 'create': {
        const existed = new Set(was.map((item) => item.id));
        for (const item of is.filter((candidate) => !existed.has(candidate.id))) {
          operations.push({ op: 'delete', kind: item.kind, key: operation.key, id: item.id, props: item.props });
        }
        break;
      }
      case 'update': {
        const [old] = was;
        const [current] = is;
        if (!old || !current) break;
        const changes: Record<string, string> = {};
        const back: Record<string, string> = {};
        for (const prop of Object.keys(operation.changes)) {
          const then = old.props[prop] ?? '';
          const nowValue = current.props[prop] ?? '';
          if (isSecretProp(prop) || !policy.writable(operation.kind, prop)) {
            // A secret the device shows only as a fingerprint (or not at all) cannot be written back.
            if (isSecretProp(prop) && (old.props[prop] === undefined || normalize(operation.kind, prop, then) !== normalize(operation.kind, prop, nowValue))) {
              unrestorable.push(`${label(operation)}: the previous ${prop} cannot be put back (the device never shows it); it may be the new one`);
            }
            continue;
          }
          if (normalize(operation.kind, prop, then) !== normalize(operation.kind, prop, nowValue)) {
            changes[prop] = then;
            back[prop] = nowValue;
          }
        }
        if (Object.keys(changes).length > 0) {
          operations.push({ op: 'update', kind: operation.kind, key: operation.key, id: current.id, changes, before: back, reason: 'undo' });
        }
        break;
      }
      case 'delete': {
        const old = before.find((item) => sameKind(item, operation.kind) && item.id === operation.id);
        if (!old || is.length > 0 || operation.key === null) break;
        const props: Record<string, string> = {};
        const lost: string[] = [];
        for (const [prop, value] of Object.entries(old.props)) {
          if (isSecretProp(prop)) {
            if (policy.heldSecret?.(operation.kind, prop, value)) props[prop] = value;
            else if (value !== '' && value !== '(none)') lost.push(prop);
          } else if (policy.writable(operation.kind, prop)) {
            props[prop] = value;
          }
        }
        for (const prop of policy.unreadSecrets?.(operation.kind) ?? []) if (!(prop in old.props)) lost.push(prop);
        operations.push({ op: 'create', kind: operation.kind, key: operation.key, props });
        if (lost.length > 0) unrestorable.push(`${label(operation)}: created again without its ${lost.join(' and ')} (the device never shows it)`);
        break;
      }
    }
  }
  return { plan: { operations, unchanged: 0 }, unrestorable };
}
