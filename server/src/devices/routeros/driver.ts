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
import { MENU, RULE_KINDS, STATISTICS_PROPLIST } from './menus.js';
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
import type { RouterOsTransport, Write } from './transport.js';

export interface RouterOsDriverOptions {
  /** The user the transport logs in as; its allowed addresses are kept (never narrowed). */
  apiUser: string | null;
  /** Clock for last-handshake times (tests pass a fixed one). */
  now?: () => Date;
  /** The device's name, for what discover() says it read ("device edge-1"). */
  deviceName?: string;
  /** The prefix of Meshplane's tags, for telling managed items in discover() (default "meshplane"). */
  commentPrefix?: string;
  /** Writes of one apply step in flight at once (default PIPELINE_WINDOW; 1: one after another). */
  pipelineWindow?: number;
}

/**
 * Writes of one step in flight at once on the binary API (REST sends them one by one), within
 * the device's concurrency: each takes a request slot (limited-transport.ts).
 */
export const PIPELINE_WINDOW = 16;

function toWrite(operation: PlanOperation): Write {
  switch (operation.op) {
    case 'create': {
      const { 'place-before': placeBefore, ...props } = operation.props;
      return placeBefore === undefined ? { op: 'add', menu: operation.kind, props } : { op: 'add', menu: operation.kind, props, placeBefore };
    }
    case 'update':
      return { op: 'set', menu: operation.kind, id: operation.id, props: operation.changes };
    case 'delete':
      return { op: 'remove', menu: operation.kind, id: operation.id };
  }
}

/**
 * The plan cut into steps whose writes may run in any order (the router runs pipelined
 * commands concurrently, routeros.md §1.7): consecutive creates, or deletes, of one menu.
 * Everything else is a step of its own: updates (a set may free what the next one takes, e.g.
 * an allowed address moving between peers, or a name), and creates of filter and NAT rules,
 * whose order is their meaning. Menus never share a step: a peer needs its interface, and
 * peers go before the interface they are removed with.
 */
export function steps(operations: readonly PlanOperation[]): PlanOperation[][] {
  const result: PlanOperation[][] = [];
  let current: PlanOperation[] = [];
  const independent = (operation: PlanOperation) => operation.op === 'delete' || (operation.op === 'create' && !RULE_KINDS.has(operation.kind));
  for (const operation of operations) {
    const last = current[current.length - 1];
    if (last && independent(operation) && independent(last) && last.op === operation.op && last.kind === operation.kind) {
      current.push(operation);
      continue;
    }
    if (current.length > 0) result.push(current);
    current = [operation];
  }
  if (current.length > 0) result.push(current);
  return result;
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
      // Together: pipelined where the device allows two requests in flight.
      const [[resource], [identity]] = await Promise.all([
        this.transport.print('/system/resource', { proplist: ['version'] }),
        this.transport.print('/system/identity', { proplist: ['name'] }),
      ]);
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
   * the operation may then have been carried out). Independent writes of one step (steps())
   * are pipelined, up to the window in flight: the failure named is the first of the step in
   * plan order, and `attempted` covers every write sent with it, which may have been carried
   * out too. Managed items are found again by their tag, so re-reading and undoing or
   * re-planning converges without duplicates.
   */
  async apply(plan: Plan, onProgress?: ProgressListener): Promise<ApplyResult> {
    const total = plan.operations.length;
    const window = this.options.pipelineWindow ?? PIPELINE_WINDOW;
    let applied = 0;
    for (const step of steps(plan.operations)) {
      const outcomes = await this.transport.writeAll(step.map(toWrite), step.length === 1 ? 1 : window);
      for (const [offset, outcome] of outcomes.entries()) {
        const operation = step[offset] as PlanOperation;
        if (outcome.status === 'done') {
          onProgress?.({ index: applied, total, operation, message: describe(operation) });
          applied++;
          continue;
        }
        const failure = outcome.status === 'failed' && outcome.error instanceof DeviceError
          ? outcome.error
          : new DeviceError('PROTOCOL', outcome.status === 'failed' ? String(outcome.error) : `${describe(operation)} was not sent`);
        // Sent with the failing one (answered after it, or never answered): possibly carried out.
        const sent = outcomes.reduce((last, other, i) => (other.status === 'skipped' ? last : i), offset);
        const attempted = applied + (sent - offset) + 1;
        const extra = attempted > applied + 1 ? { attempted } : {};
        // A router may quote the value it refused (a `!trap` or REST `detail`): never a secret one.
        const message = redactSecrets(failure.message, secretsOf(operation));
        if (failure.code === 'REFUSED') return { applied, failed: { operation, message }, ...extra };
        const cause = new DeviceError(failure.code, `${message}; stopped at ${describe(operation)} after ${applied} of ${count(total, 'operation')}`);
        return { applied, failed: { operation, message, cause }, ...extra };
      }
    }
    return { applied, failed: null };
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
