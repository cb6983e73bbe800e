// Applies a plan: one fresh reading (uuids by tag, peer membership), then one request per
// operation, then each touched area's apply in order (WireGuard reconfigure, interface
// assignment reconfigure, filter apply). OPNsense has no "pending changes" to read back, so
// before the first write a disabled floating filter rule (the pending marker) names the
// areas this apply will touch; it is deleted once they are applied. A run that stops in
// between leaves it, and the next reading turns it into "apply <area>" steps.
import { ADOPTED_REASON } from '../../domain/adoption/adoption-plan.js';
import { secretsOf, type Plan, type PlanOperation } from '../../domain/plan.js';
import { redactSecrets } from '../../domain/secret-masking.js';
import type { ApplyResult, ProgressListener } from '../driver.js';
import { DeviceError } from '../driver.js';
import type { Capabilities } from './capabilities.js';
import type { OpnSenseClient } from './client.js';
import { encodeBody } from './codec.js';
import { AREA_ORDER, KIND, areaOfKind, isApplyKind, type ApplyArea } from './kinds.js';
import { LiveState } from './live.js';
import { readableKinds } from './nat.js';
import { markerDescription, readOpnSense } from './reading.js';
import { parseDescr } from './tags.js';

/** How the firewall area is written and applied: plainly, or under a safety net (safety.ts). */
export interface FirewallGuard {
  /**
   * Before the first firewall write of the apply (a savepoint, a lifeline). `previous`: the
   * savepoint an interrupted run took (its marker says), whose rollback timer may still run.
   * Answers the savepoint taken now, if any, for the marker.
   */
  beforeWrites(previous?: string): Promise<string | void>;
  /** Loads the written rules; throws a DeviceError when the change cut the management path. */
  apply(): Promise<void>;
  /** After the apply (or a failed write): lets go of what beforeWrites() opened. */
  finish(): Promise<void>;
}

export function plainFirewall(client: OpnSenseClient): FirewallGuard {
  return {
    beforeWrites: async () => {},
    apply: async () => {
      const reply = await client.call<{ status?: unknown }>('POST', 'firewall/filter/apply', { body: {} });
      if (!/^OK/i.test(String(reply.status ?? '').trim())) throw new DeviceError('REFUSED', `${client.name}: the filter reload answered ${JSON.stringify(reply.status)}`);
    },
    finish: async () => {},
  };
}

export interface ExecuteOptions {
  prefix: string;
  capabilities: Capabilities;
  firewall?: FirewallGuard;
}

const MARKER_SEQUENCE = '99999';

function message(error: unknown): string {
  return error instanceof DeviceError ? `${error.code}: ${error.message}` : String((error as Error)?.message ?? error);
}

async function applyArea(client: OpnSenseClient, area: ApplyArea, firewall: FirewallGuard): Promise<void> {
  if (area === 'wireguard') {
    const reply = await client.call<{ result?: unknown }>('POST', 'wireguard/service/reconfigure', { body: {} });
    if (reply.result !== 'ok') throw new DeviceError('REFUSED', `${client.name}: WireGuard reconfigure answered ${JSON.stringify(reply.result ?? reply)}`);
  } else if (area === 'interfaces') {
    const reply = await client.call<{ status?: unknown }>('POST', 'interfaces/assignment/reconfigure', { body: {} });
    if (reply.status !== 'ok') throw new DeviceError('REFUSED', `${client.name}: the interface reconfigure answered ${JSON.stringify(reply.status ?? reply)}`);
  } else {
    await firewall.apply();
  }
}

class Run {
  private readonly touched = new Map<ApplyArea, PlanOperation>();
  private readonly appliedAreas = new Set<ApplyArea>();
  private firewallOpen = false;

  constructor(private readonly client: OpnSenseClient, private readonly live: LiveState, private readonly options: ExecuteOptions, private readonly firewall: FirewallGuard) {}

  /** Writes or widens the marker so it names every area of this plan (and any a previous run left). */
  async mark(areas: ReadonlySet<ApplyArea>): Promise<void> {
    const marker = this.live.marker;
    const all = [...new Set([...(marker?.areas ?? []), ...areas])].sort();
    if (marker && all.every((area) => marker.areas.includes(area))) return;
    const rule = { enabled: '0', interface: '', action: 'pass', description: markerDescription(this.options.prefix, all), sequence: MARKER_SEQUENCE };
    if (marker) {
      const description = markerDescription(this.options.prefix, all, marker.savepoint);
      await this.client.save(`firewall/filter/setRule/${marker.uuid}`, { rule: { description } });
      this.live.marker = { ...marker, areas: all };
    } else {
      const reply = await this.client.save('firewall/filter/addRule', { rule });
      this.live.marker = { uuid: String(reply.uuid ?? ''), areas: all };
    }
  }

  /** The marker names the savepoint this run took (written after it, so a rollback leaves the marker as it was). */
  private async noteSavepoint(savepoint: string): Promise<void> {
    const marker = this.live.marker;
    if (!marker) return;
    await this.client.save(`firewall/filter/setRule/${marker.uuid}`, { rule: { description: markerDescription(this.options.prefix, marker.areas, savepoint) } });
    this.live.marker = { ...marker, savepoint };
  }

  async unmark(): Promise<void> {
    const marker = this.live.marker;
    if (!marker) return;
    await this.client.call('POST', `firewall/filter/delRule/${marker.uuid}`, { body: {} });
    this.live.marker = null;
  }

  async execute(operation: PlanOperation): Promise<string> {
    const area = areaOfKind(operation.kind);
    // An assignment names the wgN device, which exists only once WireGuard was reconfigured;
    // a NAT entry names the optN, in config.xml only once the assignment was reconfigured.
    if (area === 'interfaces' && this.touched.has('wireguard') && !this.appliedAreas.has('wireguard')) await this.applyNow('wireguard');
    // (An interrupted run may have left an assignment staged: the marker names the area then.)
    const interfacesPending = this.touched.has('interfaces') || (this.live.marker?.areas.includes('interfaces') ?? false);
    if ((operation.kind === KIND.onetoone || operation.kind === KIND.npt) && operation.op !== 'delete' && interfacesPending && !this.appliedAreas.has('interfaces')) {
      await this.applyNow('interfaces');
    }
    // A bare re-apply (an interrupted run's marker) opens the guard too: up to 26.1 the filter
    // can be applied only with a savepoint's revision. That savepoint already holds the rules
    // written before the interruption, so its rollback cannot take them back (README).
    if (area === 'firewall' && !this.firewallOpen) {
      const savepoint = await this.firewall.beforeWrites(this.live.marker?.savepoint);
      this.firewallOpen = true;
      if (typeof savepoint === 'string') await this.noteSavepoint(savepoint);
    }
    if (area) this.touched.set(area, operation);
    if (isApplyKind(operation.kind)) return `${area} changes will be applied`;
    if (operation.kind === KIND.general) {
      await this.client.save('wireguard/general/set', { general: { enabled: '1' } });
      return 'enabled WireGuard';
    }
    const spec = LiveState.spec(operation.kind);
    const label = `${operation.kind} ${operation.key ?? ('id' in operation ? operation.id : '')}`;
    const path = (action: string, uuid?: string) => `${spec.base}/${action}${spec.noun}${uuid ? `/${uuid}` : ''}`;

    switch (operation.op) {
      case 'create': {
        const props = await this.resolveRefs(operation.kind, this.withServers(operation.kind, operation.props, null));
        const reply = await this.client.save(path('add'), encodeBody(spec, props));
        const uuid = String(reply.uuid ?? '');
        this.live.created(operation.kind, operation.key, uuid, operation.props);
        if (operation.kind === KIND.client) this.live.attach(uuid, props.servers ?? '');
        return `created ${label}`;
      }
      case 'update': {
        // An adoption writes the tag onto the hand-made item read (uuids are stable), and only while it is still untagged.
        const adopting = operation.reason === ADOPTED_REASON && operation.key !== null;
        const uuid = operation.key === null || adopting ? operation.id : this.live.uuidOf(operation.kind, operation.key);
        if (uuid === undefined || !this.live.has(operation.kind, uuid)) {
          throw new DeviceError('REFUSED', `${label} is no longer on the device (it changed after it was read); run the deploy again`);
        }
        if (adopting && this.live.isTagged(operation.kind, uuid)) throw new DeviceError('REFUSED', `${label}: the item ${uuid} carries a Meshplane tag already (it changed after it was read); adopt again`);
        const changes = await this.resolveRefs(operation.kind, this.withServers(operation.kind, operation.changes, uuid));
        await this.client.save(path('set', uuid), encodeBody(spec, changes));
        if (adopting) this.live.tagged(operation.kind, uuid, operation.key as string, changes.name);
        if (operation.kind === KIND.client) this.live.attach(uuid, changes.servers ?? '');
        return `updated ${label}`;
      }
      case 'delete': {
        if (!this.live.has(operation.kind, operation.id)) return `${label} was already gone`;
        // Before 24.1.6 a deleted peer stays listed in its instances' peers, and the next save of
        // such an instance fails ("Choose a peer."): detach it first.
        if (operation.kind === KIND.client && !this.options.capabilities.deleteUnlinks && this.live.serversOf(operation.id).length > 0) {
          await this.client.save(path('set', operation.id), { client: { servers: '' } });
        }
        const reply = await this.client.call('POST', path('del', operation.id), { body: {} });
        if (reply.result !== 'deleted' && reply.result !== 'not found') throw new DeviceError('REFUSED', `${this.client.name}: deleting ${label} answered ${JSON.stringify(reply.result ?? reply)}`);
        this.live.deleted(operation.kind, operation.id);
        return reply.result === 'deleted' ? `deleted ${label}` : `${label} was already gone`;
      }
    }
  }

  /**
   * A peer's save without `servers` detaches it from every instance (OPNsense 24.1+): every
   * add and set carries it, the wanted value or else the membership read.
   */
  private withServers(kind: string, props: Readonly<Record<string, string>>, uuid: string | null): Record<string, string> {
    if (kind !== KIND.client) return { ...props };
    // Meshplane plans only its own instances: the admin's ones holding the peer stay.
    const servers = props.servers !== undefined
      ? [...new Set([...this.live.resolveServers(props.servers).split(','), ...(uuid === null ? [] : this.live.adminServersOf(uuid))].filter(Boolean))].join(',')
      : uuid === null ? '' : this.live.serversOf(uuid).join(',');
    return { ...props, servers };
  }

  /**
   * "@<instance name>" in an assignment's `if` → its device wg<instance>; "@<assignment tag>" in
   * a NAT entry's `interface` → the assignment's identifier (optN).
   */
  private async resolveRefs(kind: string, props: Record<string, string>): Promise<Record<string, string>> {
    if (kind === KIND.assignment && props.if?.startsWith('@')) {
      const uuid = this.live.resolveServers(props.if);
      let instance = this.live.instanceNumbers.get(uuid);
      if (instance === undefined) {
        const reply = await this.client.get<{ server?: { instance?: unknown } } | unknown[]>(`wireguard/server/getServer/${uuid}`);
        instance = Array.isArray(reply) ? '' : String(reply.server?.instance ?? '');
        if (!/^\d+$/.test(instance)) throw new DeviceError('PROTOCOL', `${this.client.name}: the instance ${props.if.slice(1)} has no device number to assign`);
        this.live.instanceNumbers.set(uuid, instance);
      }
      return { ...props, if: `wg${instance}` };
    }
    if ((kind === KIND.onetoone || kind === KIND.npt) && props.interface?.startsWith('@')) {
      const key = parseDescr(props.interface.slice(1), this.options.prefix).key;
      const ident = key === null ? undefined : this.live.uuidOf(KIND.assignment, key);
      if (ident === undefined) throw new DeviceError('REFUSED', `the interface assignment ${props.interface.slice(1)} does not exist on the device`);
      return { ...props, interface: ident };
    }
    return props;
  }

  private async applyNow(area: ApplyArea): Promise<void> {
    await applyArea(this.client, area, this.firewall);
    this.appliedAreas.add(area);
  }

  /** Applies every touched area not applied yet, in order; the first failure is returned. */
  async applyTouched(): Promise<{ operation: PlanOperation; message: string } | null> {
    let failure: { operation: PlanOperation; message: string } | null = null;
    for (const area of AREA_ORDER) {
      const last = this.touched.get(area);
      if (!last || this.appliedAreas.has(area)) continue;
      try {
        await this.applyNow(area);
      } catch (error) {
        failure ??= { operation: last, message: area === 'firewall' && error instanceof DeviceError && error.code === 'REFUSED' ? message(error) : `written but not applied: ${message(error)}` };
      }
    }
    if (this.firewallOpen) await this.firewall.finish().catch(() => undefined);
    return failure;
  }

  get everythingApplied(): boolean {
    return [...this.touched.keys()].every((area) => this.appliedAreas.has(area));
  }
}

export async function executePlan(client: OpnSenseClient, plan: Plan, options: ExecuteOptions, onProgress?: ProgressListener): Promise<ApplyResult> {
  if (plan.operations.length === 0) return { applied: 0, failed: null };
  const first = plan.operations[0] as PlanOperation;
  const fail = (operation: PlanOperation, error: unknown): NonNullable<ApplyResult['failed']> => {
    // OPNsense may quote the refused body in its reply: never a secret field of it.
    const text = redactSecrets(message(error), secretsOf(operation));
    const cause = error instanceof DeviceError && error.code !== 'REFUSED' ? new DeviceError(error.code, redactSecrets(error.message, secretsOf(operation))) : undefined;
    return cause ? { operation, message: text, cause } : { operation, message: text };
  };

  let run: Run;
  try {
    const live = new LiveState(await readOpnSense(client, options.prefix, readableKinds(options.capabilities)), options.prefix);
    run = new Run(client, live, options, options.firewall ?? plainFirewall(client));
    const areas = new Set(plan.operations.map((operation) => areaOfKind(operation.kind)).filter((area): area is ApplyArea => area !== null));
    await run.mark(areas);
  } catch (error) {
    return { applied: 0, failed: fail(first, error) };
  }

  let applied = 0;
  let failed: ApplyResult['failed'] = null;
  const total = plan.operations.length;
  for (const [index, operation] of plan.operations.entries()) {
    try {
      const done = await run.execute(operation);
      applied++;
      onProgress?.({ index, total, operation, message: done });
    } catch (error) {
      failed = fail(operation, error);
      break;
    }
  }
  // What was written is applied even when a later operation failed, so nothing stays half-loaded.
  const notApplied = await run.applyTouched();
  failed ??= notApplied;
  if (run.everythingApplied) {
    try {
      await run.unmark();
    } catch (error) {
      // Only a marker left: the next reading re-applies (harmless), so the deploy stands.
      onProgress?.({ index: total - 1, total, operation: plan.operations[total - 1] as PlanOperation, message: `the pending marker stays: ${message(error)}` });
    }
  }
  return { applied, failed };
}
