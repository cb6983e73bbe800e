// The OpenWrt driver: rpcd/ubus JSON-RPC through uhttpd (ubus-client.ts), UCI sections mapped
// by mapping.ts, planned by the vendor-neutral planner (planning.ts) and applied as one
// protected transaction (executor.ts, safe-apply.ts): the router rolls a change back by itself
// when Meshplane cannot confirm it.
import type { AdoptionPlan } from '../../domain/adoption/adoption-plan.js';
import type { DeviceDiscovery } from '../../domain/adoption/discovery.js';
import { publicKeyFromPrivate } from '../../domain/keys.js';
import type { ActualResource, DesiredResource, Plan } from '../../domain/plan.js';
import type { UndoPolicy } from '../../domain/undo.js';
import type {
  ApplyResult, ConnectionReport, DesiredDeviceState, DeviceDriver, DeviceTarget, PeerStatistics, PreflightIssue, ProgressListener,
} from '../driver.js';
import { DeviceError } from '../driver.js';
import type { RequestLimiter } from '../limits.js';
import { SecretStore } from '../shared/secrets.js';
import { parseWgInterfaceDump, type WgInterfaceDump } from '../shared/wg-dump.js';
import { adoptionPlanOpenWrt } from './adoption.js';
import { discoverOpenWrt, readDiscovery } from './discover.js';
import { statusText } from './errors.js';
import { executePlan } from './executor.js';
import { KIND } from './kinds.js';
import { desiredOpenWrtResources, redundancyRefusal } from './mapping.js';
import { INCLUDE_DIR, isIncludeFile, keyOfTag, leftoversPath, parseKey, PSK_FILE, uciInterfaceName } from './names.js';
import { clearOpenWrtPlan, OPENWRT_UNDO, planOpenWrt, preflightOpenWrt } from './planning.js';
import type { UciValues } from './runtime-sync.js';
import { DEFAULT_TIMING, type SafeApplyTiming } from './safe-apply.js';
import { readingToActual, type InterfaceStatus, type OpenWrtReading } from './snapshot.js';
import { readStatistics, wgDumpCall } from './stats.js';
import { testOpenWrtConnection } from './test-connection.js';
import { UbusClient, type UbusResult } from './ubus-client.js';

export const SNAPSHOT_DIR = '/var/run/rpcd/snapshot-files';

export interface OpenWrtDriverOptions {
  /** Tag prefix used until a desired state names one. */
  commentPrefix?: string;
  /** rpcd's rollback window and the checks before the confirm (tests shrink them to the simulator's clock). */
  timing?: Partial<SafeApplyTiming>;
  /** The device's shared request limiter (devices/limits.ts). */
  limiter?: RequestLimiter;
  /** For the server log: what the runtime sync did (never a secret). */
  log?: (message: string) => void;
}

const valuesOf = (result: UbusResult | undefined): Record<string, UciValues> => (result?.status === 0 ? (result.data?.values ?? {}) as Record<string, UciValues> : {});

/** At most this many leftover include files are taken from the list per run; a later run takes the rest. */
const MAX_LEFTOVERS = 64;

/** The files the leftovers list names: only Meshplane's own include files and its PSK file, each once. */
function leftoverPaths(data: unknown): string[] {
  if (typeof data !== 'string') return [];
  return [...new Set(data.split('\n').filter((path) => isIncludeFile(path) || path === PSK_FILE))].slice(0, MAX_LEFTOVERS);
}

export class OpenWrtDriver implements DeviceDriver {
  readonly kind = 'OPENWRT' as const;
  statsAvailable: boolean | null = null;
  private readonly client: UbusClient;
  private readonly timing: SafeApplyTiming;
  /** Keys read from UCI or planned, by fingerprint: plans carry fingerprints only. */
  private readonly secrets = new SecretStore();
  /** Props of each section as last read, so an adopted anonymous section is found by content. */
  private lastRead = new Map<string, Readonly<Record<string, string>>>();
  private version: string | null = null;
  /** Public keys of the private keys the router holds in UCI (bring-your-own key preflight). */
  private routerKeys = new Set<string>();
  /** Whether /etc/meshplane exists (the NAT include files go there); null until read. */
  private includeDir: boolean | null = null;
  private prefix: string;

  constructor(private readonly target: DeviceTarget, private readonly options: OpenWrtDriverOptions = {}) {
    this.client = new UbusClient(target, { limiter: options.limiter });
    this.timing = { ...DEFAULT_TIMING, ...options.timing };
    this.prefix = options.commentPrefix ?? 'meshplane';
  }

  testConnection(): Promise<ConnectionReport> {
    return testOpenWrtConnection(this.client);
  }

  /** Two batched requests: UCI, netifd, the pending-apply snapshot and the board; then the WireGuard dumps and include files. */
  async read(prefix: string, wanId: string, alsoInterface: string | null, retried = false): Promise<OpenWrtReading> {
    // `uci get` shows this session's staged deltas too: drop any an interrupted run left (or
    // that rpcd's rollback timer gave back to this session), so the reading is the router's.
    // While any protected apply is pending rpcd refuses the revert: deltas still there then go
    // with the session. (A session whose own apply is pending holds none: apply committed them.)
    const [, , changes, network, firewall, dump, snapshots, board, includeDir, leftovers] = await this.client.batch([
      { object: 'uci', method: 'revert', args: { config: 'network' } },
      { object: 'uci', method: 'revert', args: { config: 'firewall' } },
      { object: 'uci', method: 'changes', args: {} },
      { object: 'uci', method: 'get', args: { config: 'network' } },
      { object: 'uci', method: 'get', args: { config: 'firewall' } },
      { object: 'network.interface', method: 'dump', args: {} },
      { object: 'file', method: 'list', args: { path: SNAPSHOT_DIR } },
      { object: 'system', method: 'board', args: {} },
      { object: 'file', method: 'stat', args: { path: INCLUDE_DIR } },
      { object: 'file', method: 'read', args: { path: leftoversPath(prefix, wanId) } },
    ]);
    const staged = changes?.status === 0 ? Object.keys((changes.data?.changes ?? {}) as object) : [];
    if (staged.length > 0) {
      if (retried) throw new DeviceError('REFUSED', `rpcd keeps uci changes staged in a new session (${staged.join(', ')}): the reading would not be the router's`);
      await this.client.dropSession();
      return this.read(prefix, wanId, alsoInterface, true);
    }
    // Known only where the ACL lets this login stat the directory itself (NOT_FOUND: missing).
    this.includeDir = includeDir?.status === 0 ? (includeDir.data as { type?: unknown } | undefined)?.type === 'directory' : includeDir?.status === 4 ? false : null;
    for (const [config, result] of [['network', network], ['firewall', firewall]] as const) {
      if (result?.status !== 0) throw new DeviceError('REFUSED', `uci.get ${config}: ${statusText(result?.status ?? -1)}`);
    }
    const release = (board?.data as { release?: { version?: unknown } } | undefined)?.release?.version;
    this.version = typeof release === 'string' ? release : this.version;
    const networkValues = valuesOf(network);
    const firewallValues = valuesOf(firewall);
    const managedInterfaces = Object.values(networkValues)
      .filter((section) => section['.type'] === 'interface' && section.proto === 'wireguard' && parseKey(keyOfTag(String(section.mp_tag ?? ''), prefix) ?? '')?.wanId === wanId)
      .map((section) => String(section['.name']));
    const wanted = [...new Set([...managedInterfaces, ...(alsoInterface !== null && networkValues[alsoInterface] ? [alsoInterface] : [])])];
    const includes = [...new Set(Object.values(firewallValues)
      .filter((section) => section['.type'] === 'include' && typeof section.path === 'string' && section.path.startsWith(`${INCLUDE_DIR}/`))
      .map((section) => section.path as string))];
    const second = await this.client.batch([
      ...wanted.map((ifname) => wgDumpCall(ifname)),
      ...includes.map((path) => ({ object: 'file', method: 'read', args: { path } })),
    ]);
    const dumps = new Map<string, WgInterfaceDump | null>();
    wanted.forEach((ifname, index) => {
      const exec = second[index];
      const stdout = (exec?.data as { code?: number; stdout?: string } | undefined);
      dumps.set(ifname, exec?.status === 0 && stdout?.code === 0 ? parseWgInterfaceDump(stdout.stdout ?? '') : null);
    });
    const contents = new Map<string, string | null>(includes.map((path, index) => {
      const read = second[wanted.length + index];
      return [path, read?.status === 0 && typeof read.data?.data === 'string' ? read.data.data as string : null];
    }));
    this.routerKeys = new Set(Object.values(networkValues).flatMap((section) => {
      if (section['.type'] !== 'interface' || typeof section.private_key !== 'string') return [];
      try {
        return [publicKeyFromPrivate(section.private_key)];
      } catch {
        return [];
      }
    }));
    const entries = (snapshots?.status === 0 ? (snapshots.data?.entries ?? []) : []) as unknown[];
    return {
      network: networkValues,
      firewall: firewallValues,
      interfaces: ((dump?.data?.interface ?? []) as InterfaceStatus[]),
      applyPending: entries.length > 0,
      // OK, or NO_DATA for an empty file: the list is there (and goes once it is dealt with).
      leftovers: leftovers?.status === 0 || leftovers?.status === 5 ? leftoverPaths(leftovers.data?.data) : null,
      dumps,
      includes: contents,
    };
  }

  async readState(desired: DesiredDeviceState): Promise<ActualResource[]> {
    this.prefix = desired.commentPrefix;
    const reading = await this.read(desired.commentPrefix, desired.overlay.wan.id, uciInterfaceName(desired.peer.interface.name));
    const actual = readingToActual(reading, desired.commentPrefix, desired.overlay.wan.id, (key) => this.secrets.remember(key));
    this.lastRead = new Map(actual.map((resource) => [`${resource.kind}\u0000${resource.id}`, resource.props]));
    return actual;
  }

  desiredResources(desired: DesiredDeviceState): DesiredResource[] {
    return desiredOpenWrtResources(desired, this.secrets);
  }

  plan(desired: DesiredDeviceState, actual: readonly ActualResource[]): Plan {
    return planOpenWrt(this.desiredResources(desired), actual, desired.commentPrefix);
  }

  adoptionPlan(desired: DesiredDeviceState, actual: readonly ActualResource[]): AdoptionPlan {
    this.prefix = desired.commentPrefix;
    return adoptionPlanOpenWrt(this.desiredResources(desired), actual, desired.commentPrefix);
  }

  /** A refused peer (redundant hubs) is one ERROR; plan() throws it, so not even an override writes anything. */
  preflight(desired: DesiredDeviceState, actual: readonly ActualResource[]): PreflightIssue[] {
    const refusal = redundancyRefusal(desired);
    if (refusal !== null) return [{ severity: 'ERROR', resource: KIND.iface, message: refusal }];
    return preflightOpenWrt(desired, this.desiredResources(desired), actual, {
      version: this.version, tls: this.target.tls, host: this.target.host, publicKeys: this.routerKeys, includeDir: this.includeDir,
    });
  }

  apply(plan: Plan, onProgress?: ProgressListener): Promise<ApplyResult> {
    return executePlan({
      client: this.client, device: `OpenWrt ${this.target.name}`, prefix: this.prefix, secrets: this.secrets, timing: this.timing, lastRead: this.lastRead, log: this.options.log,
    }, plan, onProgress);
  }

  clearPlan(actual: readonly ActualResource[]): Plan {
    return clearOpenWrtPlan(actual);
  }

  readonly undoPolicy: UndoPolicy = { ...OPENWRT_UNDO, heldSecret: (_kind, _prop, value) => this.secrets.has(value) };

  async statistics(interfaceName: string): Promise<PeerStatistics[] | null> {
    const { stats, available } = await readStatistics(this.client, uciInterfaceName(interfaceName));
    this.statsAvailable = available;
    return stats;
  }

  async discover(): Promise<DeviceDiscovery> {
    return discoverOpenWrt(await readDiscovery(this.client), this.prefix);
  }

  close(): Promise<void> {
    this.secrets.clear();
    return this.client.close();
  }
}

export function createOpenWrtDriver(target: DeviceTarget, options: OpenWrtDriverOptions = {}): OpenWrtDriver {
  if (target.kind !== 'OPENWRT') throw new DeviceError('PROTOCOL', `${target.name} is a ${target.kind} device, not OpenWrt`);
  return new OpenWrtDriver(target, options);
}
