// RouterOS v7 as a DeviceDriver, over whichever transport (binary API or REST) the device
// uses: the mapping, plan and checks are pure functions beside this file; this class only
// reads, applies and reports.
import { secretsOf, type ActualResource, type DesiredResource, type Plan, type PlanOperation } from '../../domain/plan.js';
import { redactSecrets } from '../../domain/secret-masking.js';
import { canonicalAddress } from '../../domain/ip.js';
import { count } from '../../domain/plural.js';
import {
  DeviceError, type ApplyResult, type ConnectionReport, type DesiredDeviceState, type DeviceDriver, type PeerStatistics,
  type PreflightIssue, type ProgressListener, type RoutingSession,
} from '../driver.js';
import { MENU, STATISTICS_PROPLIST } from './menus.js';
import { keyFromComment } from './tags.js';
import { preflightRouterOs } from './preflight.js';
import { readRouterOsState } from './read-state.js';
import { clearRouterOs, planRouterOs, ROUTEROS_UNDO } from './reconcile.js';
import { desiredResources } from './resources.js';
import { toPeerStatistics } from './statistics.js';
import { adoptionPlanRouterOs } from './adoption.js';
import { discoverRouterOs } from './discover.js';
import type { AdoptionPlan } from '../../domain/adoption/adoption-plan.js';
import type { DeviceDiscovery } from '../../domain/adoption/discovery.js';

/** A session's remote address without a host mask, IPv6 in canonical form (RFC 5952). */
function neighbourAddress(remote: string): string {
  const bare = remote.replace(/\/(32|128)$/, '');
  return canonicalAddress(bare) ?? bare;
}

/** Read-only: one row per running session of a BGP connection. */
const BGP_SESSION = '/routing/bgp/session';
import type { RouterOsTransport } from './transport.js';

export interface RouterOsDriverOptions {
  /** The user the transport logs in as; its allowed addresses are kept (never narrowed). */
  apiUser: string | null;
  /** Clock for last-handshake times (tests pass a fixed one). */
  now?: () => Date;
  /** The device's name, for what discover() says it read ("device edge-1"). */
  deviceName?: string;
  /** The prefix of Meshplane's tags, for telling managed items in discover() (default "meshplane"). */
  commentPrefix?: string;
}

function describe(operation: PlanOperation): string {
  const label = operation.key ?? (operation.op === 'create' ? '' : operation.id);
  return `${operation.op} ${operation.kind} ${label}`;
}

export class RouterOsDriver implements DeviceDriver {
  private readonly now: () => Date;

  constructor(
    readonly kind: 'ROUTEROS_API' | 'ROUTEROS_REST',
    private readonly transport: RouterOsTransport,
    private readonly options: RouterOsDriverOptions,
  ) {
    this.now = options.now ?? (() => new Date());
  }

  async testConnection(): Promise<ConnectionReport> {
    try {
      const [resource] = await this.transport.print('/system/resource', { proplist: ['version'] });
      const [identity] = await this.transport.print('/system/identity', { proplist: ['name'] });
      const version = resource?.version ?? null;
      return { reachable: true, loggedIn: true, version, identity: identity?.name ?? null, message: `RouterOS ${version ?? '(unknown version)'}` };
    } catch (error) {
      const failure = error instanceof DeviceError ? error : new DeviceError('PROTOCOL', String(error));
      const reachable = !['UNREACHABLE', 'TIMEOUT', 'TLS'].includes(failure.code);
      return { reachable, loggedIn: reachable && failure.code !== 'AUTH_FAILED', version: null, identity: null, message: failure.message, failure: failure.code };
    }
  }

  readState(desired: DesiredDeviceState): Promise<ActualResource[]> {
    return readRouterOsState(this.transport, desired, this.options.apiUser);
  }

  desiredResources(desired: DesiredDeviceState): DesiredResource[] {
    return desiredResources(desired);
  }

  plan(desired: DesiredDeviceState, actual: readonly ActualResource[]): Plan {
    return planRouterOs(desired, actual, { apiUser: this.options.apiUser });
  }

  preflight(desired: DesiredDeviceState, actual: readonly ActualResource[]): PreflightIssue[] {
    return preflightRouterOs(desired, actual, this.options.apiUser);
  }

  /**
   * Applies in order and stops at the first operation that fails: refused by the router, or
   * the connection lost, timed out or refused the login while it was sent (`failed.cause`;
   * the operation may then have been carried out). Managed items are found again by their
   * tag, so re-reading and undoing or re-planning converges without duplicates.
   */
  async apply(plan: Plan, onProgress?: ProgressListener): Promise<ApplyResult> {
    const total = plan.operations.length;
    let applied = 0;
    for (const [index, operation] of plan.operations.entries()) {
      try {
        await this.applyOne(operation);
      } catch (error) {
        const failure = error instanceof DeviceError ? error : new DeviceError('PROTOCOL', String(error));
        // A router may quote the value it refused (a `!trap` or REST `detail`): never a secret one.
        const message = redactSecrets(failure.message, secretsOf(operation));
        if (failure.code === 'REFUSED') return { applied, failed: { operation, message } };
        const cause = new DeviceError(failure.code, `${message}; stopped at ${describe(operation)} after ${applied} of ${count(total, 'operation')}`);
        return { applied, failed: { operation, message, cause } };
      }
      applied++;
      onProgress?.({ index, total, operation, message: describe(operation) });
    }
    return { applied, failed: null };
  }

  private async applyOne(operation: PlanOperation): Promise<void> {
    switch (operation.op) {
      case 'create': {
        const { 'place-before': placeBefore, ...props } = operation.props;
        await this.transport.add(operation.kind, props, placeBefore === undefined ? undefined : { placeBefore });
        return;
      }
      case 'update':
        await this.transport.set(operation.kind, operation.id, operation.changes);
        return;
      case 'delete':
        await this.transport.remove(operation.kind, operation.id);
    }
  }

  clearPlan(actual: readonly ActualResource[]): Plan {
    return clearRouterOs(actual);
  }

  /** Read-only; one print per menu, the same over the binary API and REST. */
  discover(): Promise<DeviceDiscovery> {
    return discoverRouterOs(this.transport, {
      commentPrefix: this.options.commentPrefix ?? 'meshplane',
      source: `device ${this.options.deviceName ?? 'RouterOS'}`,
      now: this.now(),
    });
  }

  adoptionPlan(desired: DesiredDeviceState, actual: readonly ActualResource[]): AdoptionPlan {
    return adoptionPlanRouterOs(desired, actual);
  }

  readonly undoPolicy = ROUTEROS_UNDO;

  /** One print of the interface's peers. */
  async statistics(interfaceName: string): Promise<PeerStatistics[]> {
    const rows = await this.transport.print(MENU.peers, { proplist: STATISTICS_PROPLIST, where: { interface: interfaceName } });
    return toPeerStatistics(rows, this.now());
  }

  /**
   * The sessions of the BGP connections Meshplane deployed for the WAN (tagged in their
   * comment): RouterOS names a connection's session after it, "<connection>-<n>".
   */
  async routingSessions(wanId: string, commentPrefix: string): Promise<RoutingSession[] | null> {
    const connections = (await this.transport.print(MENU.bgp, { proplist: ['name', 'comment'] }))
      .filter((row) => keyFromComment(row.comment, commentPrefix, wanId) !== null)
      .map((row) => row.name ?? '');
    if (connections.length === 0) return null;
    const names = new Set(connections);
    const sessions = await this.transport.print(BGP_SESSION, { proplist: ['name', 'remote.address', 'established'] });
    return sessions
      .filter((row) => names.has((row.name ?? '').replace(/-\d+$/, '')) && row['remote.address'])
      // An IPv6 neighbour (the session of the connection with address-families=ipv6) in canonical form, as the monitor keys it.
      .map((row) => ({ neighbourAddress: neighbourAddress(row['remote.address'] as string), established: row.established === 'true' }));
  }

  close(): Promise<void> {
    return this.transport.close();
  }
}
