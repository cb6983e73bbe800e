// The local Linux device: WireGuard interfaces on the host Meshplane runs on (or inside one
// network namespace), through `wg`, `ip`, `iptables` and `sysctl` run as argument arrays, and
// for a peer of a WAN with redundant hubs one interface per hub plus a BIRD 2 daemon (`bird`,
// `birdc`) that routes over them.
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import type { AdoptionPlan } from '../../domain/adoption/adoption-plan.js';
import type { DeviceDiscovery } from '../../domain/adoption/discovery.js';
import { describePlan, secretsOf, type ActualResource, type DesiredResource, type Plan } from '../../domain/plan.js';
import { redactSecrets } from '../../domain/secret-masking.js';
import type { UndoPolicy } from '../../domain/undo.js';
import { isLocalHost } from '../../domain/validation.js';
import type {
  ApplyResult, ConnectionReport, DesiredDeviceState, DeviceDriver, DeviceTarget, PeerStatistics, PreflightIssue, ProgressListener, RoutingSession,
} from '../driver.js';
import { DeviceError } from '../driver.js';
import { parseBirdProtocols } from './bird-protocols.js';
import { BirdDaemon, birdPaths, birdPathsOf, ConfigStore, type BirdOptions, type BirdPaths } from './bird.js';
import { ExecCommandRunner, type CommandRunner } from './exec.js';
import { LinkLifecycle, type WireGuardImplementation } from './link-lifecycle.js';
import { checkRouteProtocol, DEFAULT_ROUTE_PROTOCOL, KIND, linuxInterfaceName } from './names.js';
import { linuxAdoptionPlan } from './adoption.js';
import { discoverLinux } from './discover.js';
import { clearLinux, LINUX_UNDO, planLinux } from './planning.js';
import { linuxPreflight } from './preflight.js';
import { probeLinuxHost } from './probe.js';
import { checkCommentPrefix, linuxDesiredResources } from './resources.js';
import { withSecretFiles } from './secret-file.js';
import { SecretStore } from '../shared/secrets.js';
import { readLinuxState, readWgDump } from './state.js';
import { stepsFor, type Step } from './steps.js';
import { toPeerStatistics } from '../shared/wg-dump.js';

export interface LinuxDriverOptions {
  /** Run every command inside this network namespace (`ip netns exec NS …`); default: the host. */
  netns?: string | null;
  /** Timeout of each command (default 10 s). */
  commandTimeoutMs?: number;
  /** "auto" (default) tries the kernel module, then wireguard-go. */
  implementation?: WireGuardImplementation;
  wireguardGo?: string;
  /** Where wireguard-go logs go (default $TMPDIR/meshplane-wireguard-go). */
  logDir?: string;
  /** Where key files exist while a command runs (default $TMPDIR; a 0700 directory is made inside). */
  keyDir?: string;
  /** The routing protocol number that marks Meshplane's routes (default 77). */
  routeProtocol?: number;
  /** Manage iptables rules (default true). */
  manageFirewall?: boolean;
  /** For wireguard-go: how long it may take to start and to exit (default 5 s each). */
  daemonTimeoutMs?: number;
  /**
   * Where the driver keeps what it runs besides interfaces (BIRD's config, pid file and
   * control socket, per namespace and WAN); default /var/lib/meshplane/linux. A directory
   * only root can write: what is in it is taken as Meshplane's.
   */
  stateDir?: string;
  /** The BIRD 2 binaries for WANs with redundant hubs (default "bird" and "birdc" from PATH). */
  bird?: string;
  birdc?: string;
  /** The tag prefix Meshplane's links carry, for telling them apart in discover() (default "meshplane"). */
  commentPrefix?: string;
  /** The device's name, for discover()'s messages. */
  deviceName?: string;
  /** Replaces the command runner (tests). */
  runner?: CommandRunner;
}

export const DEFAULT_STATE_DIR = '/var/lib/meshplane/linux';

export class LinuxDriver implements DeviceDriver {
  readonly kind = 'LINUX' as const;
  private readonly runner: CommandRunner;
  private readonly links: LinkLifecycle;
  private readonly secrets = new SecretStore();
  private readonly routeProtocol: number;
  private readonly manageFirewall: boolean;
  private readonly keyDir: string;
  private readonly implementation: WireGuardImplementation;
  private readonly wireguardGo: string;
  private readonly stateDir: string;
  /** net.ipv4.conf.default.rp_filter as the last readState found it. */
  private defaultRpFilter: string | undefined;
  private readonly birdOptions: BirdOptions;
  private readonly bird: BirdDaemon;
  /** bird.conf texts by hash: rendered ones, and ones read from the host (for undo). */
  private readonly birdConfigs = new ConfigStore();
  private readonly commentPrefix: string;
  private readonly deviceName: string | null;

  constructor(options: LinuxDriverOptions = {}) {
    this.runner = options.runner ?? new ExecCommandRunner({ netns: options.netns ?? null, timeoutMs: options.commandTimeoutMs ?? 10_000 });
    this.routeProtocol = checkRouteProtocol(options.routeProtocol ?? DEFAULT_ROUTE_PROTOCOL);
    this.manageFirewall = options.manageFirewall ?? true;
    this.commentPrefix = checkCommentPrefix(options.commentPrefix ?? 'meshplane');
    this.deviceName = options.deviceName ?? null;
    this.keyDir = options.keyDir ?? os.tmpdir();
    this.implementation = options.implementation ?? 'auto';
    this.wireguardGo = options.wireguardGo ?? 'wireguard-go';
    const daemonTimeoutMs = options.daemonTimeoutMs ?? 5_000;
    this.stateDir = options.stateDir ?? DEFAULT_STATE_DIR;
    this.birdOptions = { bird: options.bird ?? 'bird', birdc: options.birdc ?? 'birdc', stopTimeoutMs: daemonTimeoutMs };
    this.bird = new BirdDaemon(this.runner, this.birdOptions);
    this.links = new LinkLifecycle(this.runner, {
      netns: this.runner.netns,
      implementation: this.implementation,
      wireguardGo: this.wireguardGo,
      logDir: options.logDir ?? path.join(os.tmpdir(), 'meshplane-wireguard-go'),
      socketDir: '/var/run/wireguard',
      startTimeoutMs: daemonTimeoutMs,
      stopTimeoutMs: daemonTimeoutMs,
    });
  }

  testConnection(): Promise<ConnectionReport> {
    return probeLinuxHost(this.runner, { implementation: this.implementation, wireguardGo: this.wireguardGo, manageFirewall: this.manageFirewall });
  }

  async readState(desired: DesiredDeviceState): Promise<ActualResource[]> {
    const actual = await readLinuxState(this.runner, desired, {
      routeProtocol: this.routeProtocol,
      manageFirewall: this.manageFirewall,
      bird: { paths: this.birdPaths(desired), configs: this.birdConfigs, options: this.birdOptions },
    });
    // What a new interface gets here, needed only once there are interfaces of ours to set back;
    // a host that cannot say keeps rp_filter unmanaged.
    this.defaultRpFilter = !actual.some((resource) => resource.kind === KIND.link && resource.key !== null) ? undefined
      : await this.runner.run(['sysctl', '-n', 'net/ipv4/conf/default/rp_filter'])
        .then(({ stdout }) => (/^[0-2]$/.test(stdout.trim()) ? stdout.trim() : undefined), () => undefined);
    return actual;
  }

  desiredResources(desired: DesiredDeviceState): DesiredResource[] {
    return linuxDesiredResources(desired, this.secrets, {
      manageFirewall: this.manageFirewall,
      bird: { paths: this.birdPaths(desired), configs: this.birdConfigs },
      ...(this.defaultRpFilter === undefined ? {} : { defaultRpFilter: this.defaultRpFilter }),
    });
  }

  /** Where this WAN's BIRD lives on this host or in this namespace. */
  birdPaths(desired: DesiredDeviceState): BirdPaths {
    return birdPaths(this.stateDir, this.runner.netns, checkCommentPrefix(desired.commentPrefix), desired.overlay.wan.id);
  }

  plan(desired: DesiredDeviceState, actual: readonly ActualResource[]): Plan {
    return planLinux(desired, this.desiredResources(desired), actual);
  }

  /** Every WireGuard interface, connected network and route; keys as root reads them (discover.ts). */
  discover(): Promise<DeviceDiscovery> {
    const where = this.deviceName !== null ? `device ${this.deviceName}` : this.runner.netns !== null ? `namespace ${this.runner.netns}` : 'this host';
    return discoverLinux(this.runner, { routeProtocol: this.routeProtocol, commentPrefix: this.commentPrefix, source: where });
  }

  /** Tags the hand-made link under this WAN's interface name, and routes through it, in place (adoption.ts). */
  adoptionPlan(desired: DesiredDeviceState, actual: readonly ActualResource[]): AdoptionPlan {
    return linuxAdoptionPlan(desired, this.desiredResources(desired), actual, this.routeProtocol);
  }

  preflight(desired: DesiredDeviceState, actual: readonly ActualResource[]): PreflightIssue[] {
    return linuxPreflight(desired, this.desiredResources(desired), actual, this.manageFirewall);
  }

  async apply(plan: Plan, onProgress?: ProgressListener): Promise<ApplyResult> {
    const lines = describePlan(plan);
    const total = plan.operations.length;
    let applied = 0;
    for (const [index, operation] of plan.operations.entries()) {
      onProgress?.({ index, total, operation, message: lines[index] ?? '' });
      try {
        for (const step of stepsFor(operation, { routeProtocol: this.routeProtocol })) await this.execute(step);
      } catch (error) {
        const message = error instanceof Error ? error.message : String(error);
        return { applied, failed: { operation, message: redactSecrets(message, secretsOf(operation)) } };
      }
      applied++;
    }
    return { applied, failed: null };
  }

  clearPlan(actual: readonly ActualResource[]): Plan {
    return clearLinux(actual);
  }

  /** An interface deleted by a refused apply is created again with the key this driver planned with. */
  readonly undoPolicy: UndoPolicy = { ...LINUX_UNDO, heldSecret: (_kind, _prop, value) => this.secrets.has(value) };

  async statistics(interfaceName: string): Promise<PeerStatistics[]> {
    return toPeerStatistics(await readWgDump(this.runner, linuxInterfaceName(interfaceName)));
  }

  /** The BGP sessions of the BIRD this driver runs for the WAN; null when it runs none (no control socket). */
  async routingSessions(wanId: string, commentPrefix: string): Promise<RoutingSession[] | null> {
    const paths = birdPaths(this.stateDir, this.runner.netns, checkCommentPrefix(commentPrefix), wanId);
    if (!fs.existsSync(paths.socket)) return null;
    const { stdout } = await this.runner.run([this.birdOptions.birdc, '-s', paths.socket, 'show', 'protocols']);
    return parseBirdProtocols(stdout);
  }

  /** wireguard-go daemons this driver started and that still run (interface → PID). */
  userspaceDaemons(): Map<string, number> {
    return this.links.daemonPids();
  }

  /**
   * Forgets the keys held for applying plans. Tunnels are left running, wireguard-go daemons
   * included: they outlive the control plane's connection to the device.
   */
  async close(): Promise<void> {
    this.secrets.clear();
  }

  private birdStepPaths(config: string): BirdPaths {
    return birdPathsOf(this.stateDir, this.runner.netns, config);
  }

  private async execute(step: Step): Promise<void> {
    switch (step.type) {
      case 'create-link':
        return this.links.create(step.ifname);
      case 'delete-link':
        return this.links.delete(step.ifname);
      case 'bird-write':
        return this.bird.writeConfig(this.birdStepPaths(step.config), this.birdConfigs.text(step.hash));
      case 'bird-start':
        return this.bird.start(this.birdStepPaths(step.config));
      case 'bird-reconfigure':
        return this.bird.reconfigure(this.birdStepPaths(step.config));
      case 'bird-stop':
        return this.bird.stop(this.birdStepPaths(step.config));
      case 'bird-remove':
        return this.bird.remove(this.birdStepPaths(step.config));
      case 'run': {
        const secrets = step.argv.filter((arg): arg is { secret: string } => typeof arg !== 'string').map((arg) => this.secrets.reveal(arg.secret));
        await withSecretFiles(secrets, async (files) => {
          let next = 0;
          const argv = step.argv.map((arg) => (typeof arg === 'string' ? arg : (files[next++] as string)));
          await this.runner.run(argv);
        }, this.keyDir);
        return;
      }
    }
  }
}

/** Driver options the server's environment sets: MESHPLANE_LINUX_STATE_DIR, MESHPLANE_BIRD, MESHPLANE_BIRDC (as the bundle's script reads the latter two). */
export function linuxDriverEnvironment(env: NodeJS.ProcessEnv): Pick<LinuxDriverOptions, 'stateDir' | 'bird' | 'birdc'> {
  const options: Pick<LinuxDriverOptions, 'stateDir' | 'bird' | 'birdc'> = {};
  const set = (value: string | undefined): string | undefined => (value !== undefined && value.trim() !== '' ? value.trim() : undefined);
  const stateDir = set(env.MESHPLANE_LINUX_STATE_DIR);
  const bird = set(env.MESHPLANE_BIRD);
  const birdc = set(env.MESHPLANE_BIRDC);
  if (stateDir !== undefined) {
    if (!path.isAbsolute(stateDir)) throw new DeviceError('PROTOCOL', `MESHPLANE_LINUX_STATE_DIR must be an absolute path, got ${JSON.stringify(stateDir)}`);
    options.stateDir = stateDir;
  }
  if (bird !== undefined) options.bird = bird;
  if (birdc !== undefined) options.birdc = birdc;
  return options;
}

/**
 * The driver for a LINUX device. Its host is "localhost" (the machine Meshplane runs on) or
 * "netns:<name>" (a network namespace on it, e.g. for the lab demo); the target's timeout
 * applies to each command.
 */
export function createLinuxDriver(target: DeviceTarget, options: LinuxDriverOptions = {}, env: NodeJS.ProcessEnv = process.env): LinuxDriver {
  if (target.kind !== 'LINUX') throw new DeviceError('PROTOCOL', `device ${target.name} is ${target.kind}, not LINUX`);
  let netns = options.netns ?? null;
  if (target.host.startsWith('netns:')) netns = target.host.slice('netns:'.length);
  else if (!isLocalHost(target.host)) {
    throw new DeviceError('UNREACHABLE', `device ${target.name}: the Linux driver manages the local host only ("localhost" or "netns:<name>"), not ${target.host}`);
  }
  return new LinuxDriver({ commandTimeoutMs: target.timeoutMs, deviceName: target.name, ...linuxDriverEnvironment(env), ...options, netns });
}
