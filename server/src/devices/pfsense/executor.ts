// Applies a plan: one REST call per operation (targets re-resolved by tag just before
// acting), then each touched area's own apply endpoint, polled a bounded number of times
// until pfSense reports the background apply done. What was written is applied even when
// a later operation failed, so the firewall never keeps half a change pending.
import { setTimeout as sleep } from 'node:timers/promises';
import { secretsOf, type Plan, type PlanOperation } from '../../domain/plan.js';
import { redactSecrets } from '../../domain/secret-masking.js';
import type { ApplyResult, ProgressListener } from '../driver.js';
import { DeviceError } from '../driver.js';
import type { PfSenseClient } from './client.js';
import { encodeBody, type DeviceObject } from './codec.js';
import { APPLY_KINDS, AREA_ORDER, KIND, KIND_SPECS, areaOfKind, type ApplyArea } from './kinds.js';
import { LiveState } from './live.js';
import { tagOf } from './tags.js';
import { isAdoption, isAdoptionTarget } from './adoption.js';

export interface ApplyPolling {
  /** How many times the apply status is read before giving up. */
  attempts: number;
  /** First wait between reads; doubles up to maxIntervalMs. */
  intervalMs: number;
  maxIntervalMs: number;
}

export const DEFAULT_POLLING: ApplyPolling = { attempts: 40, intervalMs: 25, maxIntervalMs: 1_000 };

function isApplyKind(kind: string): boolean {
  return AREA_ORDER.some((area) => APPLY_KINDS[area] === kind);
}

async function executeOperation(client: PfSenseClient, live: LiveState, prefix: string, operation: PlanOperation): Promise<string> {
  if (isApplyKind(operation.kind)) return `${operation.kind}: pending changes will be applied`;
  if (operation.kind === KIND.settings) {
    const enable = operation.op !== 'update' || operation.changes.enable !== 'false';
    await client.call('PATCH', KIND.settings, { body: { enable } });
    return enable ? 'enabled the WireGuard service' : 'disabled the WireGuard service';
  }
  const spec = KIND_SPECS[operation.kind];
  if (!spec) throw new DeviceError('PROTOCOL', `unknown resource kind ${operation.kind}`);
  const label = `${operation.kind} ${operation.key ?? ('id' in operation ? operation.id : '')}`;
  const tag = operation.key === null ? null : tagOf(prefix, operation.key);
  const targetId = async (pick: 'first' | 'last'): Promise<string | number | null> => {
    if (!('id' in operation)) return null;
    if (spec.stableIds || tag === null) return operation.id;
    const found = await live.findByTag(operation.kind, tag, pick);
    return found ? (found.id as string | number) : null;
  };

  switch (operation.op) {
    case 'create': {
      // Appended, rules too: placing them first would renumber every rule of the operator's
      // ruleset. Ours are pass rules on the WAN port and on our own interface, where a fresh
      // pfSense has no user rules that could shadow them.
      const body = encodeBody(spec, operation.props, await live.resolver());
      await client.call('POST', spec.singular, { body });
      live.invalidate(operation.kind);
      return `created ${label}`;
    }
    case 'update': {
      const adopting = isAdoption(operation);
      const id = adopting ? await adoptionTarget(live, operation, prefix) : await targetId('first');
      if (id === null) throw new DeviceError('REFUSED', `${label} disappeared from the device while deploying; run the deploy again`);
      const updated = await client.call<DeviceObject>('PATCH', spec.singular, { body: { id, ...encodeBody(spec, operation.changes, await live.resolver()) } });
      if (adopting && updated !== null && typeof updated === 'object' && 'id' in updated) live.replace(operation.kind, updated);
      else live.invalidate(operation.kind);
      return `updated ${label}`;
    }
    case 'delete': {
      const id = await targetId('last');
      if (id === null) return `${label} was already gone`;
      await client.call('DELETE', spec.singular, { query: { id } });
      live.invalidate(operation.kind);
      return `deleted ${label}`;
    }
  }
}

/**
 * The id of the hand-made object an adoption tags: it has no tag to be found by yet, so its
 * id as read, checked to still hold the same object (ids are positions that shift on delete).
 */
async function adoptionTarget(live: LiveState, operation: PlanOperation, prefix: string): Promise<string | number> {
  const id = 'id' in operation ? operation.id : '';
  const current = (await live.list(operation.kind)).find((obj) => String(obj.id) === id);
  if (!current || !isAdoptionTarget(operation, current, prefix)) {
    throw new DeviceError('REFUSED', `${operation.kind} ${id} changed on the device after it was read, so it was not tagged; run the adoption again`);
  }
  return current.id as string | number;
}

/** POST the area's apply, then read its status until it reports applied. */
export async function applyArea(client: PfSenseClient, area: ApplyArea, polling: ApplyPolling): Promise<void> {
  const path = APPLY_KINDS[area];
  await client.call('POST', path, { body: {} });
  let wait = polling.intervalMs;
  for (let attempt = 0; attempt < polling.attempts; attempt++) {
    const status = await client.call<{ applied?: unknown }>('GET', path);
    if (status.applied === true) return;
    await sleep(wait);
    wait = Math.min(wait * 2, polling.maxIntervalMs);
  }
  throw new DeviceError('TIMEOUT', `pfSense still reports ${area} changes as pending after ${polling.attempts} checks`);
}

function message(error: unknown): string {
  return error instanceof DeviceError ? `${error.code}: ${error.message}` : String((error as Error)?.message ?? error);
}

export async function executePlan(client: PfSenseClient, plan: Plan, prefix: string, polling: ApplyPolling, onProgress?: ProgressListener): Promise<ApplyResult> {
  const live = new LiveState(client, prefix);
  const touched = new Map<ApplyArea, PlanOperation>();
  let applied = 0;
  let failed: ApplyResult['failed'] = null;
  const total = plan.operations.length;
  for (const [index, operation] of plan.operations.entries()) {
    try {
      const done = await executeOperation(client, live, prefix, operation);
      const area = areaOfKind(operation.kind);
      if (area) touched.set(area, operation);
      applied++;
      onProgress?.({ index, total, operation, message: done });
    } catch (error) {
      // pfSense may quote the refused body in its reply: never a secret field of it.
      const text = redactSecrets(message(error), secretsOf(operation));
      // Not refused: the connection failed while the operation was sent (it may have been carried out).
      const cause = error instanceof DeviceError && error.code !== 'REFUSED' ? new DeviceError(error.code, redactSecrets(error.message, secretsOf(operation))) : undefined;
      failed = cause ? { operation, message: text, cause } : { operation, message: text };
      break;
    }
  }
  for (const area of AREA_ORDER) {
    const last = touched.get(area);
    if (!last) continue;
    try {
      await applyArea(client, area, polling);
    } catch (error) {
      failed ??= { operation: last, message: `written but not applied: ${message(error)}` };
    }
  }
  return { applied, failed };
}
