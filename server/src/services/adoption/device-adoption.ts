// The ADOPT job's work on one device, and the preflight line that points to it. Read the
// device, let the driver match Meshplane's desired items with hand-made look-alikes
// (domain/adoption/adoption-plan.ts), write only the tag onto each, and say what a deploy
// would still change. Nothing is created, removed or re-added: the items keep their ids and
// the tunnels their sessions.
import type { ActualResource, Plan } from '../../domain/plan.js';
import { ADOPTED_REASON, type AdoptionPlan } from '../../domain/adoption/adoption-plan.js';
import { labelResource, readablePlan, type ResourceNames } from '../../domain/resource-labels.js';
import { DomainError } from '../../domain/errors.js';
import { count } from '../../domain/plural.js';
import type { ApplyResult, DesiredDeviceState, DeviceDriver, PreflightIssue } from '../../devices/driver.js';
import type { JobContext } from '../deploy/jobs.js';

/** What an ADOPT job returns (its JSON result). */
export interface AdoptJobResult {
  adopted: string[];
  ambiguous: string[];
  /** Hand-made items left as they are (not Meshplane's, matching nothing it needs). */
  unmanaged: number;
  /** What a deploy would still change, e.g. "2 to update". */
  remaining: string;
}

/** Lines of unmanaged items logged one by one before "and N more". */
const LISTED_UNMANAGED = 50;

function labelOf(names: ResourceNames, actual: readonly ActualResource[], kind: string, id: string, key: string | null): string {
  const item = actual.find((resource) => resource.kind === kind && resource.id === id);
  return `${labelResource(names, kind, key, item?.props ?? {})} (on the device: ${id})`;
}

/**
 * Where the tag takes the place of the item's name (OPNsense instances and peers have no other
 * text field), the name it had: the job log is where the admin finds it again.
 */
function renamed(plan: Plan, item: { kind: string; id: string }): string {
  const operation = plan.operations.find((candidate) => candidate.op === 'update' && candidate.kind === item.kind && candidate.id === item.id);
  if (operation?.op !== 'update' || operation.changes.name === undefined) return '';
  const old = operation.before.name ?? '';
  return old === '' || old === operation.changes.name ? '' : `; its name "${old}" is replaced by Meshplane's tag`;
}

/** The adoption plan, refused unless it only writes tags onto existing items. */
export function checkedAdoption(driver: DeviceDriver, state: DesiredDeviceState, actual: readonly ActualResource[]): AdoptionPlan {
  const adoption = driver.adoptionPlan(state, actual);
  const stray = adoption.plan.operations.find((operation) => operation.op !== 'update' || operation.reason !== ADOPTED_REASON || !actual.some((item) => item.id === operation.id && item.kind === operation.kind && item.key === null));
  if (stray) throw new Error(`the adoption plan would ${stray.op} ${stray.kind} ${stray.op === 'create' ? stray.key : stray.id}: adoption only tags existing items, so nothing was changed`);
  return adoption;
}

export async function adoptOnDevice(
  job: JobContext, driver: DeviceDriver, state: DesiredDeviceState, names: ResourceNames,
  remainingPlan: (actual: readonly ActualResource[]) => Plan, apply: (plan: Plan) => Promise<ApplyResult>,
): Promise<AdoptJobResult> {
  const actual = await job.step('Read device state', () => driver.readState(state), (resources) => count(resources.length, 'resource'));
  const adoption = await job.step('Adopt', async () => {
    const planned = checkedAdoption(driver, state, actual);
    for (const item of planned.ambiguous) {
      await job.log(`not adopted, ambiguous: ${labelResource(names, item.kind, item.key, {})} looks like ${item.ids.length} hand-made items (${item.ids.join(', ')}); remove or rename all but one, then adopt again`);
    }
    const result = planned.plan.operations.length > 0 ? await apply(planned.plan) : { applied: 0, failed: null };
    // A tag is the only change, and a tagged item is simply Meshplane's: a stop half-way is not
    // undone, but every item is named as tagged or not, so the device is in a known state.
    const tagged = new Set(planned.plan.operations.slice(0, result.applied).map((operation) => operation.op === 'update' ? `${operation.kind}\u0000${operation.id}` : ''));
    const toTag = new Set(planned.plan.operations.map((operation) => operation.op === 'update' ? `${operation.kind}\u0000${operation.id}` : ''));
    for (const item of planned.adopted) {
      const id = `${item.kind}\u0000${item.id}`;
      const done = result.failed === null || tagged.has(id) || !toTag.has(id);
      await job.log(`${done ? 'adopted' : 'not adopted (the apply stopped before it; adopt again)'}: ${labelOf(names, actual, item.kind, item.id, item.key)}${renamed(planned.plan, item)}`);
    }
    if (result.failed) {
      throw result.failed.cause ?? new Error(`could not tag ${result.failed.operation.kind}: ${result.failed.message} (${result.applied} of ${planned.plan.operations.length} tags written; adopting again takes the rest)`);
    }
    return planned;
  }, (planned) => `${count(planned.adopted.length, 'item')} adopted in place${planned.ambiguous.length ? `, ${planned.ambiguous.length} ambiguous` : ''}`);
  const adoptedIds = new Set(adoption.adopted.map((item) => `${item.kind}\u0000${item.id}`));
  const unmanaged = actual.filter((resource) => resource.key === null && !adoptedIds.has(`${resource.kind}\u0000${resource.id}`));
  for (const resource of unmanaged.slice(0, LISTED_UNMANAGED)) await job.log(`left alone (not Meshplane's): ${labelOf(names, actual, resource.kind, resource.id, null)}`);
  if (unmanaged.length > LISTED_UNMANAGED) await job.log(`left alone: ${unmanaged.length - LISTED_UNMANAGED} more unmanaged items`);
  const remaining = await job.step('Compare', async () => {
    const after = await driver.readState(state);
    const plan = remainingPlan(after);
    const readable = readablePlan(plan, names);
    for (const group of readable.groups) for (const item of group.items) await job.log(`a deploy would ${item.action} ${item.label}`);
    return readable.summary;
  }, (summary) => `a deploy would change: ${summary}`);
  return {
    adopted: adoption.adopted.map((item) => labelOf(names, actual, item.kind, item.id, item.key)),
    ambiguous: adoption.ambiguous.map((item) => `${labelResource(names, item.kind, item.key, {})}: ${item.ids.join(', ')}`),
    unmanaged: unmanaged.length,
    remaining,
  };
}

/**
 * Before a deploy: hand-made items that are what the peer needs would be duplicated (or
 * refused by the device) by a create: one ERROR that names them and says to adopt first. And a
 * bring-your-own key peer can only be deployed where the device already holds its key pair.
 */
export function adoptionPreflight(driver: DeviceDriver, state: DesiredDeviceState, actual: readonly ActualResource[], names: ResourceNames): PreflightIssue[] {
  const issues: PreflightIssue[] = [];
  const { publicKey, privateKey } = state.peer.interface;
  // Drivers show the key as read (RouterOS and Linux `public-key`, pfSense `privatekey` as `pub:<key>`).
  if (privateKey === null && !actual.some((resource) => Object.values(resource.props).some((value) => value.includes(publicKey)))) {
    issues.push({
      severity: 'ERROR', resource: `interface ${state.peer.interface.name}`,
      message: `Meshplane does not hold this peer's private key (bring-your-own key), and no interface on the device has its public key ${publicKey}: create the interface with that key on the device (then adopt it), or let Meshplane generate a key`,
    });
  }
  const adoption = driver.adoptionPlan(state, actual);
  if (adoption.adopted.length > 0) {
    const listed = adoption.adopted.slice(0, 5).map((item) => labelOf(names, actual, item.kind, item.id, item.key)).join('; ');
    issues.push({
      severity: 'ERROR', resource: count(adoption.adopted.length, 'hand-made item'),
      message: `already on the device and what this peer needs: ${listed}${adoption.adopted.length > 5 ? ` and ${adoption.adopted.length - 5} more` : ''}. Adopt them first (Adopt on device), so a deploy updates them in place instead of adding duplicates`,
    });
  }
  for (const item of adoption.ambiguous) {
    issues.push({ severity: 'ERROR', resource: labelResource(names, item.kind, item.key, {}), message: `${item.ids.length} hand-made items look like it (${item.ids.join(', ')}): remove or rename all but one, then adopt it first (Adopt on device)` });
  }
  return issues;
}
