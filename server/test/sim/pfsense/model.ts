// The simulated firewall's state: config (stores per model), pending changes per
// subsystem, and the "runtime" that only changes when an area is applied.
import { familyOf, maxPrefix, overlaps, tryParseAddress, tryParseCidr, rangeOf, type IpFamily } from '../../../src/domain/ip.js';
import { validateObject, type Environment, type ModelSpec } from './fields.js';
import { restApiSettingsSpec } from './network-specs.js';
import { KeyedStore, ListStore, type Obj } from './store.js';
import { compareVersions } from '../shared/version.js';
import { settingsSpec } from './wireguard-specs.js';

export type ApplyArea = 'wireguard' | 'interfaces' | 'routing' | 'firewall';

export const AREA_SUBSYSTEMS: Record<ApplyArea, readonly string[]> = {
  wireguard: ['wireguard'],
  interfaces: ['interfaces'],
  routing: ['staticroutes'],
  firewall: ['aliases', 'natconf', 'filter', 'shaper'],
};

export interface PeerStats {
  /** Unix seconds; 0 = never. */
  latestHandshake: number;
  rx: bigint;
  tx: bigint;
  /** What wg reports as the peer's current endpoint, "ip:port". */
  endpoint: string | null;
}

interface WireGuardRuntime {
  tunnels: Obj[];
  peers: Obj[];
  enabled: boolean;
}

function defaults(spec: ModelSpec, env: Environment): Obj {
  return validateObject(spec, {}, { env, siblings: [], selfId: null, existing: null });
}

function nextOptId(taken: ReadonlySet<string>): string {
  for (let n = 1; n < 4096; n++) if (!taken.has(`opt${n}`)) return `opt${n}`;
  throw new Error('no free interface id');
}

export class PfSenseModel implements Environment {
  readonly state = this;
  readonly tunnels = new ListStore();
  readonly peers = new ListStore();
  readonly gateways = new ListStore();
  readonly groups = new ListStore();
  readonly routes = new ListStore();
  readonly rules = new ListStore();
  readonly oneToOne = new ListStore();
  readonly portForwards = new ListStore();
  readonly interfaces = new KeyedStore(nextOptId);
  /** Physical ports that can be assigned besides WireGuard tunnels. */
  readonly ports = ['em0', 'em1', 'em2'];
  restapi: Obj;
  wireguardSettings: Obj;
  readonly dirty = new Set<string>();
  readonly pendingInterfaces = new Set<string>();
  /** How often each area's apply ran (tests observe that apply was called). */
  readonly applyCount: Record<ApplyArea, number> = { wireguard: 0, interfaces: 0, routing: 0, firewall: 0 };
  /** What is running: snapshots taken when an area is applied. */
  runtime: { wireguard: WireGuardRuntime; interfaces: Obj[]; rules: Obj[]; routes: Obj[]; gateways: Obj[]; groups: Obj[]; oneToOne: Obj[]; portForwards: Obj[] };
  readonly peerStats = new Map<string, PeerStats>();
  /** System > Routing > Default gateway: a gateway (or group) name, "" for automatic, "-" for none. */
  defaultGateway = { defaultgw4: '', defaultgw6: '' };

  constructor(public version: string, authMethods: readonly string[]) {
    this.restapi = defaults(restApiSettingsSpec, this);
    this.restapi.auth_methods = [...authMethods];
    this.wireguardSettings = defaults(settingsSpec, this);
    this.runtime = { wireguard: { tunnels: [], peers: [], enabled: false }, interfaces: [], rules: [], routes: [], gateways: [], groups: [], oneToOne: [], portForwards: [] };
  }

  get exposeSensitive(): boolean {
    return this.restapi.expose_sensitive_fields === true;
  }

  /**
   * Model::is_field_hidden(): a sensitive field is shown when sensitive fields are exposed or
   * "Model:field" is in override_sensitive_fields. The peer's preshared key was write-only
   * (never shown) before package 2.10.0.
   */
  showsHidden(model: string, field: string): boolean {
    if (model === 'WireGuardPeer' && field === 'presharedkey' && !this.versionAtLeast('2.10.0')) return false;
    const overrides = this.restapi.override_sensitive_fields;
    return this.exposeSensitive || (Array.isArray(overrides) && overrides.includes(`${model}:${field}`));
  }

  versionAtLeast(version: string): boolean {
    return compareVersions(this.version, version) >= 0;
  }

  // ----- interface references -----------------------------------------------------------

  private representation(id: string, iface: Obj): string {
    switch (this.restapi.represent_interfaces_as) {
      case 'id':
        return id;
      case 'if':
        return String(iface.if);
      default:
        return String(iface.descr || id.toUpperCase());
    }
  }

  interfaceId(value: string): string | null {
    if (value === 'WireGuard' && this.tunnels.entries().length > 0) return 'WireGuard';
    for (const [id, iface] of this.interfaces.entries()) if (this.representation(String(id), iface) === value) return String(id);
    return null;
  }

  interfaceName(id: string): string {
    const iface = this.interfaces.get(id);
    return iface ? this.representation(id, iface) : id;
  }

  // ----- queries the validators use -----------------------------------------------------

  tunnelNames(): string[] {
    return this.tunnels.entries().map(([, tunnel]) => String(tunnel.name));
  }

  /** The interface id a tunnel is assigned to, or null. */
  interfaceUsing(port: string): string | null {
    const found = this.interfaces.entries().find(([, iface]) => iface.if === port);
    return found ? String(found[0]) : null;
  }

  availablePorts(): string[] {
    return [...this.ports, ...this.tunnelNames()];
  }

  gatewayNames(): string[] {
    return this.gateways.entries().map(([, gateway]) => String(gateway.name));
  }

  groupNames(): string[] {
    return this.groups.entries().map(([, group]) => String(group.name));
  }

  interfaceHasIpv4(id: string): boolean {
    const iface = this.interfaces.get(id);
    return iface !== undefined && (iface.typev4 === 'static' || iface.typev4 === 'dhcp');
  }

  /** get_current_ipv6(): a static IPv6 address, or one a dynamic IPv6 type obtains. */
  interfaceHasIpv6(id: string): boolean {
    const iface = this.interfaces.get(id);
    return iface !== undefined && iface.typev6 !== null && iface.typev6 !== undefined && iface.typev6 !== 'none';
  }

  /** The ipprotocol of a gateway by name; null for a gateway group (it has none) or an unknown name. */
  gatewayProtocol(name: string): string | null {
    const gateway = this.gateways.entries().map(([, obj]) => obj).find((obj) => obj.name === name);
    return gateway ? String(gateway.ipprotocol) : null;
  }

  gatewayDisabled(name: string): boolean {
    return this.gateways.entries().some(([, obj]) => obj.name === name && obj.disabled === true);
  }

  /** Every static address of every interface (IPv4 ipaddr/subnet, IPv6 ipaddrv6/subnetv6), or of the enabled ones. */
  private interfaceNetworks(enabledOnly = false): Array<{ id: string; address: bigint; prefix: number }> {
    const networks = [];
    for (const [id, iface] of this.interfaces.entries()) {
      if (enabledOnly && iface.enable !== true) continue;
      const v4 = tryParseAddress(String(iface.ipaddr ?? ''));
      if (iface.typev4 === 'static' && v4 !== null) networks.push({ id: String(id), address: v4, prefix: Number(iface.subnet) });
      const v6 = tryParseAddress(String(iface.ipaddrv6 ?? ''));
      if (iface.typev6 === 'staticv6' && v6 !== null) networks.push({ id: String(id), address: v6, prefix: Number(iface.subnetv6) });
    }
    return networks;
  }

  /**
   * StaticRoute::validate_network(): the id and family of a static interface whose network
   * address is the route's network address, or null.
   */
  routeConflict(cidr: string): { id: string; family: IpFamily } | null {
    const range = tryParseCidr(cidr);
    if (range === null) return null;
    const net = this.interfaceNetworks().find((candidate) => rangeOf(candidate.address, candidate.prefix).start === range.start);
    return net ? { id: net.id, family: range.family } : null;
  }

  /**
   * where_is_ipaddr_configured(): an interface or another tunnel already uses the
   * address/subnet. The owner (a tunnel name, or an interface id) is not compared with itself;
   * only enabled interfaces count (get_configured_interface_list() skips disabled ones).
   */
  addressInUse(address: string, mask: number, owner: { tunnel?: string | null; iface?: string }): boolean {
    const ip = tryParseAddress(address);
    if (ip === null) return false;
    const range = rangeOf(ip, Math.min(mask, maxPrefix(familyOf(ip))));
    const networks = this.interfaceNetworks(true).filter((net) => net.id !== owner.iface);
    if (networks.some((net) => net.address === ip || overlaps(rangeOf(net.address, net.prefix), range))) return true;
    return this.tunnels.entries().some(([, tunnel]) => tunnel.name !== owner.tunnel
      && (tunnel.addresses as Obj[] | null ?? []).some((entry) => entry.address === address));
  }

  // ----- pending changes and apply ------------------------------------------------------

  markDirty(subsystem: string | undefined, interfaceId?: string): void {
    if (subsystem === undefined) return;
    this.dirty.add(subsystem);
    if (interfaceId !== undefined) this.pendingInterfaces.add(interfaceId);
  }

  isApplied(area: ApplyArea): boolean {
    return AREA_SUBSYSTEMS[area].every((subsystem) => !this.dirty.has(subsystem));
  }

  /** What the area's dispatcher does: push config to runtime and clear the dirty flags. */
  runApply(area: ApplyArea): void {
    const copy = (store: ListStore | KeyedStore) => store.entries().map(([id, obj]) => structuredClone({ ...obj, id }));
    this.applyCount[area]++;
    switch (area) {
      case 'wireguard':
        this.runtime.wireguard = { tunnels: copy(this.tunnels), peers: copy(this.peers), enabled: this.wireguardSettings.enable === true };
        break;
      case 'interfaces':
        this.runtime.interfaces = copy(this.interfaces);
        this.pendingInterfaces.clear();
        break;
      case 'routing':
        this.runtime.routes = copy(this.routes);
        this.runtime.gateways = copy(this.gateways);
        this.runtime.groups = copy(this.groups);
        break;
      case 'firewall':
        this.runtime.rules = copy(this.rules);
        this.runtime.oneToOne = copy(this.oneToOne);
        this.runtime.portForwards = copy(this.portForwards);
        break;
    }
    for (const subsystem of AREA_SUBSYSTEMS[area]) this.dirty.delete(subsystem);
  }

  /** The WireGuard service runs when enabled or when a tunnel is assigned to an interface. */
  wireguardRunning(): boolean {
    return this.runtime.wireguard.enabled || this.runtime.interfaces.some((iface) => String(iface.if).startsWith('tun_wg'));
  }

  /**
   * A peer removed from the config loses its session: `wg` forgets its handshake and
   * counters, and a peer added again with the same key starts from nothing (and, being
   * appended, at a new position).
   */
  forgetPeer(publicKey: unknown): void {
    this.peerStats.delete(String(publicKey));
  }

  /** Test knob: what `wg show` would report for a peer. */
  setPeerStats(publicKey: string, stats: Partial<PeerStats>): void {
    const current = this.peerStats.get(publicKey) ?? { latestHandshake: 0, rx: 0n, tx: 0n, endpoint: null };
    this.peerStats.set(publicKey, { ...current, ...stats });
  }

  /** Test helper: a config list as plain objects with their current ids. */
  list(store: 'tunnels' | 'peers' | 'gateways' | 'groups' | 'routes' | 'rules' | 'oneToOne' | 'portForwards' | 'interfaces'): Obj[] {
    return this[store].entries().map(([id, obj]) => ({ id, ...obj }));
  }
}

