// The OPNsense driver: the core WireGuard API (24.1+) through the shared HTTP transport,
// resources mapped by mapping.ts, planned by the vendor-neutral planner, applied by
// executor.ts. Supported: OPNsense 24.1 and later except 24.7.0 (capabilities.ts).
import type { ActualResource, DesiredResource, Plan } from '../../domain/plan.js';
import type { UndoPolicy } from '../../domain/undo.js';
import type { AdoptionPlan } from '../../domain/adoption/adoption-plan.js';
import type { DeviceDiscovery } from '../../domain/adoption/discovery.js';
import type {
  ApplyResult, ConnectionReport, DesiredDeviceState, DeviceDriver, DeviceTarget, PeerStatistics, PreflightIssue, ProgressListener,
} from '../driver.js';
import { DeviceError } from '../driver.js';
import type { RequestLimiter } from '../limits.js';
import { probeCapabilities, refuseUnsupported, type Capabilities } from './capabilities.js';
import { adoptionPlanOpnSense } from './adoption.js';
import { OpnSenseClient } from './client.js';
import { discoverOpnSense } from './discover.js';
import { readDiscovery } from './discover-reading.js';
import { executePlan, type FirewallGuard } from './executor.js';
import { KIND } from './kinds.js';
import { desiredOpnSenseResources } from './mapping.js';
import { clearOpnSensePlan, OPNSENSE_UNDO, planOpnSense } from './planning.js';
import { localAddressTowards } from './management-address.js';
import { interfaceAddresses, natRefusal, readableKinds } from './nat.js';
import { preflightOpnSense, type PreflightContext } from './preflight.js';
import { readOpnSense } from './reading.js';
import { readingToActual, type HeldSecrets } from './snapshot.js';
import { safetyNet, type SafetyOptions } from './safety.js';
import { namedKey, pskFingerprint } from './tags.js';
import { SHOW_BODY, SHOW_COUNTERS, SHOW_PATH, parseShowStatistics, type ShowRow } from './stats.js';

export interface OpnSenseDriverOptions {
  /** Tag prefix used until a desired state names one. */
  commentPrefix?: string;
  /** The device's shared request limiter (devices/limits.ts). */
  limiter?: RequestLimiter;
  /** How the firewall area is applied; default: the version's safety net (safety.ts). */
  firewall?: (client: OpnSenseClient, capabilities: Capabilities) => FirewallGuard;
  /** Timing of the safety net (tests shorten the waits). */
  safety?: Partial<SafetyOptions>;
}

export class OpnSenseDriver implements DeviceDriver {
  readonly kind = 'OPNSENSE' as const;
  readonly statsAvailable = true;
  readonly client: OpnSenseClient;
  private prefix: string;
  private capabilities: Capabilities | null = null;
  /**
   * Private keys and PSKs by the marker a reading shows for them ("pub:<public key>",
   * "fp:<fingerprint>"): from the desired states planned and from readings (OPNsense shows
   * both), so an undo can write a deleted instance or peer back whole.
   */
  private readonly held: HeldSecrets = { keys: new Map(), psks: new Map() };
  /** What the last readState learnt besides resources: NAT kinds the key may not read, the address Meshplane reaches the firewall from. */
  private readContext: PreflightContext = { unreadable: new Map(), managementAddress: null, interfaceAddresses: [] };

  constructor(private readonly target: DeviceTarget, private readonly options: OpnSenseDriverOptions = {}) {
    this.client = new OpnSenseClient(target, options.limiter);
    this.prefix = options.commentPrefix ?? 'meshplane';
  }

  private async probe(): Promise<Capabilities> {
    this.capabilities ??= await probeCapabilities(this.client);
    return this.capabilities;
  }

  async testConnection(): Promise<ConnectionReport> {
    try {
      const capabilities = await this.probe();
      await this.client.get('wireguard/general/get');
      const version = capabilities.version ?? `${capabilities.atLeast} or later`;
      if (capabilities.refusal) {
        return { reachable: true, loggedIn: true, version: capabilities.version, identity: null, message: `OPNsense ${version}: not supported: ${capabilities.refusal}`, failure: 'PROTOCOL' };
      }
      const untested = capabilities.version !== null && capabilities.version.localeCompare('27', undefined, { numeric: true }) >= 0 ? ' (newer than the releases Meshplane was tested with)' : '';
      return { reachable: true, loggedIn: true, version: capabilities.version, identity: null, message: `OPNsense ${version}${untested}; core WireGuard; statistics available` };
    } catch (error) {
      if (!(error instanceof DeviceError)) throw error;
      const reachable = error.code === 'AUTH_FAILED' || error.code === 'REFUSED' || error.code === 'PROTOCOL';
      return { reachable, loggedIn: false, version: null, identity: null, message: `${error.code}: ${error.message}`, failure: error.code };
    }
  }

  async readState(desired: DesiredDeviceState): Promise<ActualResource[]> {
    this.prefix = desired.commentPrefix;
    await this.probe();
    const [reading, managementAddress] = await Promise.all([
      readOpnSense(this.client, desired.commentPrefix, readableKinds(this.capabilities)),
      localAddressTowards(this.target.host, this.target.port ?? (this.target.tls ? 443 : 80)),
    ]);
    this.readContext = { unreadable: reading.unreadable, managementAddress, interfaceAddresses: interfaceAddresses(reading, desired.commentPrefix) };
    const ownTunnel = namedKey(desired.commentPrefix, desired.overlay.wan.id, 'tunnel', desired.peer.interface.name);
    return readingToActual(reading, desired.commentPrefix, desired.overlay.wan.id, this.held, [ownTunnel]);
  }

  desiredResources(desired: DesiredDeviceState): DesiredResource[] {
    refuseUnsupported(this.capabilities);
    const natRefused = natRefusal(desired, this.capabilities);
    if (natRefused !== null) throw new DeviceError('REFUSED', natRefused);
    const resources = desiredOpnSenseResources(desired);
    for (const resource of resources) {
      const { privatekey, pubkey, psk } = resource.props;
      if (resource.kind === KIND.server && privatekey && pubkey) this.held.keys.set(pubkey, privatekey);
      if (resource.kind === KIND.client && psk) this.held.psks.set(pskFingerprint(psk), psk);
    }
    return resources;
  }

  plan(desired: DesiredDeviceState, actual: readonly ActualResource[]): Plan {
    return planOpnSense(this.desiredResources(desired), actual, desired.commentPrefix);
  }

  preflight(desired: DesiredDeviceState, actual: readonly ActualResource[]): PreflightIssue[] {
    return preflightOpnSense(desired, this.capabilities, () => this.desiredResources(desired), actual, this.readContext);
  }

  async apply(plan: Plan, onProgress?: ProgressListener): Promise<ApplyResult> {
    const capabilities = await this.probe();
    refuseUnsupported(capabilities);
    const result = await executePlan(this.client, this.withHeldSecrets(plan), {
      prefix: this.prefix, capabilities, firewall: (this.options.firewall ?? safetyNet(this.options.safety))(this.client, capabilities),
    }, onProgress);
    // Reported as planned: the operation with the marker, never the key written in its place.
    return result.failed ? { ...result, failed: { ...result.failed, operation: plan.operations[result.applied] ?? result.failed.operation } } : result;
  }

  /** The plan with each "pub:"/"fp:" marker this driver holds the secret of replaced by the secret (an undo recreating an item). */
  private withHeldSecrets(plan: Plan): Plan {
    const resolve = (props: Record<string, string>): Record<string, string> => {
      const out = { ...props };
      if (out.privatekey?.startsWith('pub:')) {
        const key = this.held.keys.get(out.privatekey.slice(4));
        if (key === undefined) delete out.privatekey;
        else out.privatekey = key;
      }
      if (out.psk?.startsWith('fp:')) {
        const psk = out.psk === 'fp:' ? '' : this.held.psks.get(out.psk.slice(3));
        if (psk === undefined) delete out.psk;
        else out.psk = psk;
      }
      return out;
    };
    return {
      ...plan,
      operations: plan.operations.map((operation) => (operation.op === 'create' ? { ...operation, props: resolve(operation.props) }
        : operation.op === 'update' ? { ...operation, changes: resolve(operation.changes) } : operation)),
    };
  }

  clearPlan(actual: readonly ActualResource[]): Plan {
    return clearOpnSensePlan(actual);
  }

  readonly undoPolicy: UndoPolicy = {
    ...OPNSENSE_UNDO,
    heldSecret: (kind, prop, value) => (kind === KIND.server && prop === 'privatekey' && value.startsWith('pub:') && this.held.keys.has(value.slice(4)))
      || (kind === KIND.client && prop === 'psk' && value.startsWith('fp:') && (value === 'fp:' || this.held.psks.has(value.slice(3)))),
  };

  async statistics(interfaceName: string): Promise<PeerStatistics[] | null> {
    const reply = await this.client.call<{ rows?: ShowRow[] }>('POST', SHOW_PATH, { body: SHOW_BODY, counters: SHOW_COUNTERS });
    return parseShowStatistics(Array.isArray(reply.rows) ? reply.rows : [], interfaceName, this.prefix);
  }

  /** Read-only: every instance with its peers and live figures, static routes, gateways and (26.7+) interface addresses. */
  async discover(): Promise<DeviceDiscovery> {
    const capabilities = await this.probe();
    refuseUnsupported(capabilities);
    return discoverOpnSense(await readDiscovery(this.client, this.prefix, capabilities), this.prefix);
  }

  /** Tags the hand-made instance, peers and rules this desired state describes (adoption.ts). */
  adoptionPlan(desired: DesiredDeviceState, actual: readonly ActualResource[]): AdoptionPlan {
    return adoptionPlanOpnSense(this.desiredResources(desired), actual, desired.commentPrefix);
  }

  close(): Promise<void> {
    return this.client.close();
  }
}

export function createOpnSenseDriver(target: DeviceTarget, options: OpnSenseDriverOptions = {}): OpnSenseDriver {
  if (target.kind !== 'OPNSENSE') throw new DeviceError('PROTOCOL', `${target.name} is a ${target.kind} device, not OPNsense`);
  return new OpnSenseDriver(target, options);
}
