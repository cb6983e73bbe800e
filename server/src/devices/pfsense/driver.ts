// The pfSense driver: REST API v2 through undici, resources mapped by mapping.ts, planned
// by the vendor-neutral planner, applied by executor.ts.
import type { ActualResource, DesiredResource, Plan } from '../../domain/plan.js';
import type { UndoPolicy } from '../../domain/undo.js';
import { publicKeyFromPrivate } from '../../domain/keys.js';
import type {
  ApplyResult, ConnectionReport, DesiredDeviceState, DeviceDriver, DeviceTarget, PeerStatistics, PreflightIssue, ProgressListener,
} from '../driver.js';
import { DeviceError } from '../driver.js';
import { PfSenseClient } from './client.js';
import type { RequestLimiter } from '../limits.js';
import type { DeviceObject } from './codec.js';
import { DEFAULT_POLLING, executePlan, type ApplyPolling } from './executor.js';
import { AREA_ORDER, APPLY_KINDS, KIND, KIND_SPECS } from './kinds.js';
import { desiredPfSenseResources, redundancyRefusal } from './mapping.js';
import { bindGatewayNames, clearPfSensePlan, PFSENSE_UNDO, planPfSense, preflightPfSense } from './planning.js';
import { adoptionPlanPfSense } from './adoption.js';
import type { AdoptionPlan } from '../../domain/adoption/adoption-plan.js';
import { LIST_KINDS, snapshotToActual, type DeviceSnapshot, type InterfaceRepresentation } from './snapshot.js';
import { COUNTER_FIELDS, STATUS_PATH, parsePeerStatistics } from './stats.js';
import type { DeviceDiscovery } from '../../domain/adoption/discovery.js';
import { discoverPfSense, type PfSenseReading } from './discover.js';

const DEFAULT_GATEWAY_PATH = 'routing/gateway/default';

export interface PfSenseDriverOptions {
  /** Tag prefix used until a desired state names one (readState/desiredResources adopt it). */
  commentPrefix?: string;
  polling?: Partial<ApplyPolling>;
  /** The device's shared request limiter (devices/limits.ts). */
  limiter?: RequestLimiter;
}

export class PfSenseDriver implements DeviceDriver {
  readonly kind = 'PFSENSE' as const;
  /** null until probed; false on REST API packages before 2.9.0 (no status endpoint). */
  statsAvailable: boolean | null = null;
  private readonly client: PfSenseClient;
  private readonly polling: ApplyPolling;
  /** The apply step finds objects by their full tag, so it needs the prefix the plan was made with. */
  private prefix: string;
  /**
   * Private keys of the desired states this driver planned, by public key. pfSense never shows
   * a tunnel's private key (it reads as "pub:<public key>"), so undoing the deletion of a
   * tunnel (a hub link dropped) writes the key behind that marker back from here.
   */
  private readonly heldKeys = new Map<string, string>();

  constructor(private readonly target: DeviceTarget, options: PfSenseDriverOptions = {}) {
    this.client = new PfSenseClient(target, options.limiter);
    this.polling = { ...DEFAULT_POLLING, ...options.polling };
    this.prefix = options.commentPrefix ?? 'meshplane';
  }

  async testConnection(): Promise<ConnectionReport> {
    try {
      const version = await this.client.call<{ current_version?: unknown }>('GET', 'system/restapi/version');
      await this.probeStatistics();
      const stats = this.statsAvailable ? 'WireGuard statistics available' : 'no WireGuard statistics (REST API package before 2.9.0)';
      return { reachable: true, loggedIn: true, version: typeof version.current_version === 'string' ? version.current_version : null, identity: null, message: `pfSense REST API ${String(version.current_version ?? '?')}; ${stats}` };
    } catch (error) {
      if (!(error instanceof DeviceError)) throw error;
      const reachable = error.code === 'AUTH_FAILED' || error.code === 'REFUSED' || error.code === 'PROTOCOL';
      return { reachable, loggedIn: false, version: null, identity: null, message: `${error.code}: ${error.message}`, failure: error.code };
    }
  }

  private async readSnapshot(): Promise<DeviceSnapshot> {
    const lists = {} as DeviceSnapshot['lists'];
    const reads: Array<Promise<unknown>> = LIST_KINDS.map(async ([list, kind]) => {
      lists[list] = await this.client.call<DeviceObject[]>('GET', (KIND_SPECS[kind] as { plural: string }).plural);
    });
    const applied = {} as DeviceSnapshot['applied'];
    reads.push(...AREA_ORDER.map(async (area) => {
      applied[area] = (await this.client.call<{ applied?: unknown }>('GET', APPLY_KINDS[area])).applied !== false;
    }));
    const [settings, restapi] = await Promise.all([
      this.client.call<{ enable?: unknown }>('GET', 'vpn/wireguard/settings'),
      this.client.call<{ represent_interfaces_as?: unknown }>('GET', 'system/restapi/settings'),
      ...reads,
    ]);
    const mode = restapi.represent_interfaces_as;
    const representation: InterfaceRepresentation = mode === 'id' || mode === 'if' ? mode : 'descr';
    return { representation, wireguardEnabled: settings.enable === true, applied, lists };
  }

  async readState(desired: DesiredDeviceState): Promise<ActualResource[]> {
    this.prefix = desired.commentPrefix;
    return snapshotToActual(await this.readSnapshot(), desired.commentPrefix, desired.overlay.wan.id);
  }

  desiredResources(desired: DesiredDeviceState): DesiredResource[] {
    const { privateKey } = desired.peer.interface;
    // By the public key pfSense derives from it, which is what a reading shows.
    if (privateKey !== null) this.heldKeys.set(publicKeyFromPrivate(privateKey), privateKey);
    return desiredPfSenseResources(desired);
  }

  plan(desired: DesiredDeviceState, actual: readonly ActualResource[]): Plan {
    return planPfSense(this.desiredResources(desired), actual);
  }

  /** Tags the hand-made objects the desired state describes, in place (adoption.ts says how they are matched). */
  adoptionPlan(desired: DesiredDeviceState, actual: readonly ActualResource[]): AdoptionPlan {
    this.prefix = desired.commentPrefix;
    return adoptionPlanPfSense(bindGatewayNames(this.desiredResources(desired), actual), actual, desired.commentPrefix);
  }

  /** A refused peer (a hub with redundant hubs) is one ERROR; plan() throws it, so not even an override writes anything. */
  preflight(desired: DesiredDeviceState, actual: readonly ActualResource[]): PreflightIssue[] {
    const refusal = redundancyRefusal(desired);
    if (refusal !== null) return [{ severity: 'ERROR', resource: KIND.group, message: refusal }];
    return preflightPfSense(desired, this.desiredResources(desired), actual);
  }

  async apply(plan: Plan, onProgress?: ProgressListener): Promise<ApplyResult> {
    const result = await executePlan(this.client, this.withHeldKeys(plan), this.prefix, this.polling, onProgress);
    // Reported as planned: the operation with the marker, never the key written in its place.
    return result.failed ? { ...result, failed: { ...result.failed, operation: plan.operations[result.applied] ?? result.failed.operation } } : result;
  }

  /** The plan with each "pub:<public key>" private key this driver holds replaced by the key. */
  private withHeldKeys(plan: Plan): Plan {
    const resolve = (props: Record<string, string>): Record<string, string> => {
      const marker = props.privatekey;
      const key = marker?.startsWith('pub:') ? this.heldKeys.get(marker.slice(4)) : undefined;
      return key === undefined ? props : { ...props, privatekey: key };
    };
    return {
      ...plan,
      operations: plan.operations.map((operation) => (operation.op === 'create' ? { ...operation, props: resolve(operation.props) }
        : operation.op === 'update' ? { ...operation, changes: resolve(operation.changes) } : operation)),
    };
  }

  clearPlan(actual: readonly ActualResource[]): Plan {
    return clearPfSensePlan(actual);
  }

  readonly undoPolicy: UndoPolicy = {
    ...PFSENSE_UNDO,
    heldSecret: (kind, prop, value) => kind === KIND.tunnel && prop === 'privatekey' && value.startsWith('pub:') && this.heldKeys.has(value.slice(4)),
  };

  /** Probes the status endpoint once: an HTML 404 means a package before 2.9.0. */
  private async probeStatistics(): Promise<unknown[] | null> {
    if (this.statsAvailable === false) return null;
    const reply = await this.client.raw('GET', STATUS_PATH);
    if (reply.status === 404) {
      this.statsAvailable = false;
      return null;
    }
    const data = this.client.unwrap<unknown[]>(reply, STATUS_PATH, COUNTER_FIELDS);
    this.statsAvailable = true;
    return data;
  }

  /** GET status/wireguard/tunnels, counters as decimal strings; null on packages without it. */
  private async statusTunnels(): Promise<unknown[] | null> {
    return this.statsAvailable === true
      ? this.client.call<unknown[]>('GET', STATUS_PATH, { counters: COUNTER_FIELDS })
      : this.probeStatistics();
  }

  async statistics(interfaceName: string): Promise<PeerStatistics[] | null> {
    const tunnels = await this.statusTunnels();
    return tunnels === null ? null : parsePeerStatistics(tunnels as Parameters<typeof parsePeerStatistics>[0], interfaceName, this.prefix);
  }

  /** Read-only: every tunnel, peer, assignment, network and route, with what the REST API hides named in notes. */
  async discover(): Promise<DeviceDiscovery> {
    const list = (kind: string) => this.client.call<DeviceObject[]>('GET', (KIND_SPECS[kind] as { plural: string }).plural);
    const [tunnels, peers, interfaces, gateways, routes, restapi, version, defaultGateway, status] = await Promise.all([
      list(KIND.tunnel), list(KIND.peer), list(KIND.iface), list(KIND.gateway), list(KIND.route),
      this.client.call<{ represent_interfaces_as?: unknown }>('GET', 'system/restapi/settings'),
      this.client.call<{ current_version?: unknown }>('GET', 'system/restapi/version'),
      // Only to mark the uplink: a package without the endpoint (HTML 404) or a user without its
      // privilege (403) still gets a reading, with WAN taken as the uplink.
      this.client.raw('GET', DEFAULT_GATEWAY_PATH).then((reply) => (reply.status === 200 ? this.client.unwrap<PfSenseReading['defaultGateway']>(reply, DEFAULT_GATEWAY_PATH) : null)),
      this.statusTunnels(),
    ]);
    const mode = restapi.represent_interfaces_as;
    return discoverPfSense({
      tunnels, peers, interfaces, gateways, routes, defaultGateway,
      representation: mode === 'id' || mode === 'if' ? mode : 'descr',
      status: status as PfSenseReading['status'],
      version: typeof version.current_version === 'string' ? version.current_version.replace(/^v/, '') : null,
    }, this.prefix);
  }

  close(): Promise<void> {
    return this.client.close();
  }
}

export function createPfSenseDriver(target: DeviceTarget, options: PfSenseDriverOptions = {}): PfSenseDriver {
  if (target.kind !== 'PFSENSE') throw new DeviceError('PROTOCOL', `${target.name} is a ${target.kind} device, not pfSense`);
  return new PfSenseDriver(target, options);
}
