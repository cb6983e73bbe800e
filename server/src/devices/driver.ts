// The one interface every device driver implements (local Linux, RouterOS over the binary
// API or REST, pfSense REST). The domain computes what a peer's device should look like
// (CompiledPeer) and how to get there (plan.ts); a driver only maps that to its resources
// and speaks its transport. One contract test suite runs against every implementation.
import type { CompiledOverlay, CompiledPeer } from '../domain/compiled.js';
import type { ActualResource, DesiredResource, Plan, PlanOperation } from '../domain/plan.js';
import type { UndoPolicy } from '../domain/undo.js';
import type { AdoptionPlan } from '../domain/adoption/adoption-plan.js';
import type { DeviceDiscovery } from '../domain/adoption/discovery.js';

export type DeviceKind = 'LINUX' | 'ROUTEROS_API' | 'ROUTEROS_REST' | 'PFSENSE' | 'OPNSENSE' | 'OPENWRT';

/** Connection settings with the credential already decrypted (never logged). */
export interface DeviceTarget {
  id: string;
  name: string;
  kind: DeviceKind;
  host: string;
  port: number | null;
  username: string | null;
  secret: string | null;
  tls: boolean;
  tlsVerify: boolean;
  caPem: string | null;
  timeoutMs: number;
  concurrency: number;
  /** What `secret` is when a driver accepts either (pfSense): absent = a password when a username is set, else an API key. */
  secretKind?: 'PASSWORD' | 'API_KEY';
}

/** What a deploy wants on one device: the compiled peer plus naming. */
export interface DesiredDeviceState {
  overlay: CompiledOverlay;
  peer: CompiledPeer;
  /** Tag prefix that marks Meshplane's resources on the device (default "meshplane"). */
  commentPrefix: string;
  /** Keep the API user able to log in from these addresses (RouterOS), when given. */
  apiAllowedAddresses?: string[];
}

export interface ConnectionReport {
  reachable: boolean;
  loggedIn: boolean;
  version: string | null;
  identity: string | null;
  message: string;
  /** Why the test failed, when it did (the same codes device calls throw). */
  failure?: DeviceError['code'];
}

export interface PreflightIssue {
  severity: 'ERROR' | 'WARNING';
  /** What the issue is about: a driver reports "<kind> <device id>" or words; the service names it. */
  resource: string;
  message: string;
  /** The device's own reference ("/ip/route *80000002") when `resource` was named from it. */
  deviceRef?: string | null;
}

export interface PeerStatistics {
  publicKey: string;
  /** Bytes as decimal strings: counters exceed 2^53 on long-lived tunnels. */
  rxBytes: string;
  txBytes: string;
  lastHandshake: Date | null;
  currentEndpoint: string | null;
}

/** One BGP session of the device's routing (WANs with redundant hubs), as the device reports it. */
export interface RoutingSession {
  /** The neighbour's tunnel IP. */
  neighbourAddress: string;
  established: boolean;
}

export interface DriftItem {
  kind: string;
  key: string;
  state: 'MISSING' | 'DIFFERENT' | 'UNEXPECTED';
  detail: string;
}

/** Called as a plan is applied, one call per operation (for job progress). */
export type ProgressListener = (event: { index: number; total: number; operation: PlanOperation; message: string }) => void;

export interface ApplyResult {
  /** The first `applied` operations of the plan were carried out. */
  applied: number;
  /**
   * The operation the apply stopped at (the device refused it, or the connection failed while
   * it was sent: then it may have been carried out), with the device's message; `cause` is the
   * transport's error when the device did not answer.
   */
  failed: { operation: PlanOperation; message: string; cause?: DeviceError } | null;
  /**
   * With `failed`, when writes were pipelined: the first `attempted` operations may have reached
   * the device (those sent with the one that failed, in flight or answered after it). Absent:
   * `applied + 1`.
   */
  attempted?: number;
}

export interface DeviceDriver {
  readonly kind: DeviceKind;
  testConnection(): Promise<ConnectionReport>;
  /** The resources of the kinds this driver manages, managed (tagged) and unmanaged. */
  readState(desired: DesiredDeviceState): Promise<ActualResource[]>;
  /** Pure: the resources the desired state maps to on this kind of device. */
  desiredResources(desired: DesiredDeviceState): DesiredResource[];
  /** Pure: the plan from actual to desired (incl. adjustments such as route demotion). */
  plan(desired: DesiredDeviceState, actual: readonly ActualResource[]): Plan;
  preflight(desired: DesiredDeviceState, actual: readonly ActualResource[]): PreflightIssue[];
  apply(plan: Plan, onProgress?: ProgressListener): Promise<ApplyResult>;
  /** Every Meshplane resource and nothing else. */
  clearPlan(actual: readonly ActualResource[]): Plan;
  /** Which properties read from the device can be written back when a failed apply is undone. */
  readonly undoPolicy: UndoPolicy;
  /**
   * Everything WireGuard-related already on the device, hand-made or Meshplane's: interfaces
   * with their peers (private and preshared keys only where the device shows them to this
   * user), connected networks and routes. Read-only.
   */
  discover(): Promise<DeviceDiscovery>;
  /**
   * Pure: the plan that takes over the hand-made items matching the desired state by writing
   * Meshplane's tag onto them in place (domain/adoption/adoption-plan.ts), nothing else.
   */
  adoptionPlan(desired: DesiredDeviceState, actual: readonly ActualResource[]): AdoptionPlan;
  /** null when the device cannot report statistics (pfSense packages before 2.9). */
  statistics(interfaceName: string): Promise<PeerStatistics[] | null>;
  /**
   * Whether statistics() can return data: null until known (pfSense learns it on the first
   * statistics() or testConnection()), false when the device has no statistics, so the
   * UI can say so instead of showing zeros. Drivers that always have them may omit it.
   */
  readonly statsAvailable?: boolean | null;
  /**
   * The BGP sessions the device runs for a WAN with redundant hubs (the ones Meshplane
   * deployed, tagged with `commentPrefix`); null when it runs none there it can report.
   * Drivers without a routing engine omit it.
   */
  routingSessions?(wanId: string, commentPrefix: string): Promise<RoutingSession[] | null>;
  close(): Promise<void>;
}

export class DeviceError extends Error {
  override readonly name = 'DeviceError';
  constructor(
    readonly code: 'UNREACHABLE' | 'AUTH_FAILED' | 'TIMEOUT' | 'PROTOCOL' | 'REFUSED' | 'TLS',
    message: string,
  ) {
    super(message);
  }
}
