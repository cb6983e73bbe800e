// What runs on the router, derived from the *committed* config only through service reloads
// (procd's config.change → `network reload` / `fw4 reload`), never from staged deltas:
// - netifd: an interface restarts (teardown + setup) only when its protocol or generic options
//   change; unknown options (`mp_tag`) and `description` change nothing. WireGuard peer sections
//   are not interface options: reload leaves the running peers alone (classic handler) until
//   down/up, or `renew` with the 2026 handler.
// - wg: devices named after the interface section, with per-peer sessions (handshake, counters).
// - fw4: the ruleset is rebuilt from the firewall package and its nftables includes on every
//   reload; an include nft cannot load fails the whole reload and the old ruleset stays.
// - the management path: cut while a route through a non-WAN interface covers the management
//   source, or an input rule drops/rejects tcp 80/443 from wan or '*'.
import { contains, formatAddress, hostRange, rangeOf, tryParseAddress, tryParseCidr, type IpRange } from '../../../src/domain/ip.js';
import { publicKeyFromPrivate } from '../../../src/domain/keys.js';
import type { OpenWrtBehaviour, PeerStats, SimClock, UciSection, UciValue } from './model.js';
import type { UciStore } from './uci-store.js';
import { wgEndpoint, type WgDumpInterface } from '../shared/wg-dump-text.js';

export interface RtAddress {
  address: string;
  mask: number;
}

export interface RtRoute {
  target: string;
  mask: number;
  nexthop: string;
  source: string;
  family: 4 | 6;
  /** Only enabled routes are kept; `disabled` ones never reach the runtime. */
  metric: number;
}

export interface RtInterface {
  name: string;
  proto: string;
  up: boolean;
  /** Simulated second it came up. */
  upSince: number;
  device: string | null;
  ipv4: RtAddress[];
  ipv6: RtAddress[];
  routes: RtRoute[];
  /** The options the last setup used (restart detection). */
  setupKey: string;
  /** `ifdown` was called: stays down through reloads until `up`. */
  adminDown: boolean;
}

export interface WgPeerRt {
  publicKey: string;
  psk: string | null;
  endpoint: string | null;
  allowedIps: string[];
  latestHandshake: number;
  rx: bigint;
  tx: bigint;
  keepalive: number | null;
}

export interface WgDeviceRt {
  ifname: string;
  privateKey: string | null;
  publicKey: string | null;
  port: number;
  fwmark: number | null;
  peers: WgPeerRt[];
}

export interface FwRule {
  section: string;
  name: string | null;
  src: string | null;
  dest: string | null;
  device: string | null;
  direction: string | null;
  proto: string[];
  srcIp: string[];
  destPort: string[];
  target: string;
  family: string | null;
}

export interface FwInclude {
  section: string;
  path: string;
  position: string;
  /** chain name → its text as loaded. */
  chains: Map<string, string>;
}

export interface FwRuntime {
  rules: FwRule[];
  includes: FwInclude[];
  /** Warnings the last reload printed (unknown options, unreachable include paths). */
  warnings: string[];
  /** Why the last reload failed (the ruleset before it stayed), or null. */
  lastError: string | null;
  reloads: number;
}

/** netifd's generic interface options plus those the protocol handlers declare: a change restarts the interface. */
const GENERIC_OPTIONS = new Set([
  'proto', 'device', 'ifname', 'type', 'metric', 'defaultroute', 'peerdns', 'dns', 'dns_search', 'dns_metric', 'mtu', 'macaddr', 'ipaddr', 'netmask',
  'gateway', 'broadcast', 'ip6addr', 'ip6gw', 'ip6assign', 'ip6hint', 'ip6prefix', 'ip6class', 'ip6ifaceid', 'delegate', 'force_link', 'ip4table', 'ip6table',
  'hostname', 'clientid', 'reqopts', 'reqprefix', 'reqaddress', 'disabled',
]);
const WIREGUARD_OPTIONS = new Set(['private_key', 'listen_port', 'addresses', 'fwmark', 'nohostroute', 'tunlink']);

/** Option names fw4 knows per section type; anything else draws a warning on reload. */
const FW4_OPTIONS: Record<string, ReadonlySet<string>> = {
  defaults: new Set(['input', 'output', 'forward', 'syn_flood', 'synflood_protect', 'drop_invalid', 'flow_offloading', 'flow_offloading_hw', 'tcp_syncookies', 'disable_ipv6']),
  zone: new Set(['name', 'network', 'device', 'subnet', 'input', 'output', 'forward', 'masq', 'masq6', 'masq_src', 'masq_dest', 'mtu_fix', 'family', 'log', 'counter', 'enabled']),
  forwarding: new Set(['src', 'dest', 'family', 'enabled', 'name']),
  rule: new Set(['name', 'src', 'dest', 'device', 'direction', 'proto', 'src_ip', 'src_mac', 'src_port', 'dest_ip', 'dest_port', 'icmp_type', 'family', 'target', 'limit', 'limit_burst', 'mark', 'set_mark', 'enabled', 'log', 'counter', 'ipset', 'extra', 'start_date', 'stop_date', 'weekdays']),
  redirect: new Set(['name', 'src', 'dest', 'proto', 'src_ip', 'src_dip', 'src_port', 'src_dport', 'dest_ip', 'dest_port', 'target', 'reflection', 'family', 'enabled']),
  nat: new Set(['name', 'src', 'device', 'proto', 'src_ip', 'src_port', 'dest_ip', 'dest_port', 'snat_ip', 'snat_port', 'target', 'family', 'enabled']),
  include: new Set(['type', 'path', 'position', 'chain', 'enabled', 'fw4_compatible']),
};

const DHCP_LEASES: Record<string, { ipv4?: RtAddress; ipv6?: RtAddress; gateway: string }> = {
  dhcp: { ipv4: { address: '203.0.113.2', mask: 24 }, gateway: '203.0.113.1' },
  dhcpv6: { ipv6: { address: '2001:db8:0:2::2', mask: 64 }, gateway: 'fe80::1' },
};

const list = (value: UciValue | undefined): string[] => (value === undefined ? [] : Array.isArray(value) ? value : value.split(/\s+/).filter(Boolean));
const scalar = (value: UciValue | undefined): string | undefined => (Array.isArray(value) ? value.join(' ') : value);
const bool = (value: UciValue | undefined, fallback: boolean): boolean => {
  const text = scalar(value);
  if (text === undefined) return fallback;
  return ['1', 'on', 'true', 'yes', 'enabled'].includes(text);
};

function splitCidr(text: string, defaultPrefix?: number): RtAddress | null {
  const [address, prefix] = text.split('/');
  const position = tryParseAddress(address ?? '');
  if (position === null) return null;
  const max = (address ?? '').includes(':') ? 128 : 32;
  const mask = prefix === undefined ? (defaultPrefix ?? max) : Number(prefix);
  return Number.isInteger(mask) && mask >= 0 && mask <= max ? { address: formatAddress(position), mask } : null;
}

function maskToPrefix(netmask: string): number {
  const position = tryParseAddress(netmask);
  if (position === null) return 32;
  return position.toString(2).replace(/0+$/, '').length;
}

function networkRoute(cidr: RtAddress, metric: number): RtRoute {
  const range = rangeOf(tryParseAddress(cidr.address) as bigint, cidr.mask);
  const family = cidr.address.includes(':') ? 6 : 4;
  return { target: formatAddress(range.start), mask: cidr.mask, nexthop: family === 4 ? '0.0.0.0' : '::', source: family === 4 ? '0.0.0.0/0' : '::/0', family, metric };
}

/** AllowedIPs as the kernel keeps them: host bits cleared. */
function maskedCidr(text: string): string | null {
  const range = tryParseCidr(text.includes('/') ? text : `${text}/${text.includes(':') ? 128 : 32}`);
  return range === null ? null : `${formatAddress(range.start)}/${range.prefix}`;
}

export class Runtime {
  readonly interfaces = new Map<string, RtInterface>();
  readonly wg = new Map<string, WgDeviceRt>();
  fw: FwRuntime = { rules: [], includes: [], warnings: [], lastError: null, reloads: 0 };
  /** Counts per reason (tests observe teardowns). */
  readonly teardowns = new Map<string, number>();
  networkReloads = 0;
  private readonly pendingReloads = new Map<string, () => void>();

  constructor(
    private readonly uci: UciStore,
    private readonly clock: SimClock,
    private readonly behaviour: () => OpenWrtBehaviour,
    private readonly readFile: (path: string) => string | null,
  ) {}

  // ---- reload scheduling (procd triggers) ----

  /** config.change for `pkg`: its service reloads after reloadDelayMs (several changes coalesce). */
  configChanged(pkg: string): void {
    const reload = pkg === 'network' ? () => this.reloadNetwork() : pkg === 'firewall' ? () => this.reloadFirewall() : null;
    if (reload === null) return;
    const delay = this.behaviour().reloadDelayMs;
    if (delay <= 0) {
      reload();
      return;
    }
    if (this.pendingReloads.has(pkg)) return;
    const cancel = this.clock.afterMs(delay, () => {
      this.pendingReloads.delete(pkg);
      reload();
    });
    this.pendingReloads.set(pkg, cancel);
  }

  stop(): void {
    for (const cancel of this.pendingReloads.values()) cancel();
    this.pendingReloads.clear();
  }

  // ---- netifd ----

  private committed(pkg: string): UciSection[] {
    return this.uci.load(pkg)?.sections ?? [];
  }

  private interfaceSections(): UciSection[] {
    return this.committed('network').filter((section) => section.type === 'interface');
  }

  private setupKey(section: UciSection): string {
    const known = [...section.options].filter(([option]) => GENERIC_OPTIONS.has(option) || (scalar(section.options.get('proto')) === 'wireguard' && WIREGUARD_OPTIONS.has(option)));
    return JSON.stringify(known.sort(([a], [b]) => a.localeCompare(b)));
  }

  /** `network reload`: new interfaces come up, removed ones go, changed ones restart; routes are recomputed. */
  reloadNetwork(): void {
    this.networkReloads++;
    const sections = this.interfaceSections();
    const names = new Set(sections.map((section) => section.name));
    for (const name of [...this.interfaces.keys()]) {
      if (!names.has(name)) {
        this.teardown(name, 'removed');
        this.interfaces.delete(name);
      }
    }
    for (const section of sections) {
      const running = this.interfaces.get(section.name);
      const key = this.setupKey(section);
      const disabled = bool(section.options.get('disabled'), false);
      if (!running) {
        const auto = bool(section.options.get('auto'), true);
        this.interfaces.set(section.name, this.blank(section, key));
        if (auto && !disabled) this.setup(section.name);
        continue;
      }
      if (running.setupKey === key) continue;
      const wasUp = running.up;
      if (wasUp) this.teardown(section.name, 'restart');
      running.setupKey = key;
      running.proto = scalar(section.options.get('proto')) ?? 'none';
      if (!disabled && (wasUp || !running.adminDown)) this.setup(section.name);
    }
    this.recomputeRoutes();
  }

  private blank(section: UciSection, key: string): RtInterface {
    return { name: section.name, proto: scalar(section.options.get('proto')) ?? 'none', up: false, upSince: 0, device: null, ipv4: [], ipv6: [], routes: [], setupKey: key, adminDown: false };
  }

  private section(name: string): UciSection | undefined {
    return this.interfaceSections().find((section) => section.name === name);
  }

  /** Proto setup from the committed config: addresses, device, and for WireGuard the device with its peers. */
  private setup(name: string): void {
    const section = this.section(name);
    const iface = this.interfaces.get(name);
    if (!section || !iface) return;
    const proto = scalar(section.options.get('proto')) ?? 'none';
    iface.up = true;
    iface.upSince = this.clock.now();
    iface.ipv4 = [];
    iface.ipv6 = [];
    iface.device = scalar(section.options.get('device')) ?? scalar(section.options.get('ifname')) ?? null;
    const addAddress = (entry: RtAddress | null) => {
      if (entry) (entry.address.includes(':') ? iface.ipv6 : iface.ipv4).push(entry);
    };
    if (proto === 'static') {
      const netmask = scalar(section.options.get('netmask'));
      for (const text of list(section.options.get('ipaddr'))) addAddress(splitCidr(text, netmask ? maskToPrefix(netmask) : 32));
      for (const text of list(section.options.get('ip6addr'))) addAddress(splitCidr(text, 128));
    } else if (proto === 'dhcp' || proto === 'dhcpv6') {
      const lease = DHCP_LEASES[proto]!;
      addAddress(lease.ipv4 ?? null);
      addAddress(lease.ipv6 ?? null);
    } else if (proto === 'wireguard') {
      iface.device = name;
      const behaviour = this.behaviour();
      if (!(behaviour.handler === 'renew' && behaviour.ucodeNoAddresses)) {
        for (const text of list(section.options.get('addresses'))) addAddress(splitCidr(text));
      }
      this.createWg(name, section);
    }
  }

  private retained = new Map<string, Map<string, WgPeerRt>>();

  private teardown(name: string, reason: string): void {
    const iface = this.interfaces.get(name);
    if (!iface || !iface.up) return;
    this.teardowns.set(reason, (this.teardowns.get(reason) ?? 0) + 1);
    iface.up = false;
    iface.ipv4 = [];
    iface.ipv6 = [];
    iface.routes = [];
    const device = this.wg.get(name);
    if (device) {
      // Without teardownOnRestart the 2026 handler keeps the link: sessions outlive the restart.
      if (!this.behaviour().teardownOnRestart) this.retained.set(name, new Map(device.peers.map((peer) => [peer.publicKey, peer])));
      this.wg.delete(name);
    }
  }

  private peerSections(ifname: string): UciSection[] {
    return this.committed('network').filter((section) => section.type === `wireguard_${ifname}`);
  }

  /** The peers the handler would configure from UCI (with the 2026 regressions when switched on). */
  private peersFromUci(ifname: string): WgPeerRt[] {
    const behaviour = this.behaviour();
    const regression = behaviour.handler === 'renew' && behaviour.psk2026Regression;
    const peers: WgPeerRt[] = [];
    for (const section of this.peerSections(ifname)) {
      const publicKey = scalar(section.options.get('public_key'));
      if (!publicKey) continue;
      if (behaviour.handler === 'renew' && bool(section.options.get('disabled'), false)) continue;
      let allowed = list(section.options.get('allowed_ips')).map(maskedCidr).filter((cidr): cidr is string => cidr !== null);
      if (regression) allowed = allowed.slice(0, 1);
      const host = scalar(section.options.get('endpoint_host'));
      const port = Number(scalar(section.options.get('endpoint_port')) ?? '51820');
      const keepalive = Number(scalar(section.options.get('persistent_keepalive')) ?? '0');
      peers.push({
        publicKey,
        psk: scalar(section.options.get(regression ? 'peer_psk' : 'preshared_key')) || null,
        // Hostnames are resolved at setup; the simulator has no resolver, so only literals become endpoints.
        endpoint: host && tryParseAddress(host) !== null ? wgEndpoint(formatAddress(tryParseAddress(host) as bigint), port) : null,
        allowedIps: allowed,
        latestHandshake: 0,
        rx: 0n,
        tx: 0n,
        keepalive: keepalive > 0 ? keepalive : null,
      });
    }
    return peers;
  }

  private createWg(name: string, section: UciSection): void {
    const privateKey = scalar(section.options.get('private_key')) ?? null;
    let publicKey: string | null = null;
    try {
      publicKey = privateKey ? publicKeyFromPrivate(privateKey) : null;
    } catch {
      publicKey = null;
    }
    const kept = this.retained.get(name);
    this.retained.delete(name);
    const peers = this.peersFromUci(name).map((peer) => {
      const old = kept?.get(peer.publicKey);
      return old ? { ...peer, latestHandshake: old.latestHandshake, rx: old.rx, tx: old.tx, endpoint: old.endpoint ?? peer.endpoint } : peer;
    });
    const fwmark = scalar(section.options.get('fwmark'));
    this.wg.set(name, {
      ifname: name,
      privateKey: publicKey ? privateKey : null,
      publicKey,
      port: Number(scalar(section.options.get('listen_port')) ?? '0') || 51820 + this.wg.size,
      fwmark: fwmark ? Number(fwmark) || null : null,
      peers,
    });
  }

  /** Routes per interface: connected networks, `route`/`route6` sections, `route_allowed_ips` peers, DHCP defaults. */
  recomputeRoutes(): void {
    const network = this.committed('network');
    for (const iface of this.interfaces.values()) {
      if (!iface.up) continue;
      const metric = Number(scalar(this.section(iface.name)?.options.get('metric')) ?? '0') || 0;
      const routes: RtRoute[] = [];
      const section = this.section(iface.name);
      const lease = DHCP_LEASES[iface.proto];
      if (lease) {
        const family = lease.ipv6 ? 6 : 4;
        routes.push({ target: family === 4 ? '0.0.0.0' : '::', mask: 0, nexthop: lease.gateway, source: family === 4 ? '0.0.0.0/0' : '::/0', family, metric });
      }
      if (iface.proto === 'wireguard' && section && iface.ipv4.length + iface.ipv6.length > 0) {
        for (const peer of this.peerSections(iface.name)) {
          if (!bool(peer.options.get('route_allowed_ips'), false)) continue;
          for (const cidr of list(peer.options.get('allowed_ips'))) {
            const parsed = splitCidr(cidr);
            if (parsed) routes.push(networkRoute(parsed, metric));
          }
        }
      }
      const noRoutes = iface.proto === 'wireguard' && this.behaviour().handler === 'renew' && this.behaviour().ucodeNoAddresses;
      for (const route of network.filter((entry) => (entry.type === 'route' || entry.type === 'route6') && scalar(entry.options.get('interface')) === iface.name)) {
        if (bool(route.options.get('disabled'), false) || noRoutes) continue;
        const target = scalar(route.options.get('target'));
        const netmask = scalar(route.options.get('netmask'));
        const parsed = target ? splitCidr(target, netmask ? maskToPrefix(netmask) : undefined) : null;
        if (!parsed) continue;
        const entry = networkRoute(parsed, Number(scalar(route.options.get('metric')) ?? metric) || 0);
        const gateway = scalar(route.options.get('gateway'));
        if (gateway) entry.nexthop = gateway;
        routes.push(entry);
      }
      iface.routes = routes;
    }
  }

  /** network.interface up: a no-op unless the interface is down. */
  up(name: string): boolean {
    const iface = this.interfaces.get(name);
    if (!iface) return false;
    iface.adminDown = false;
    if (!iface.up && !bool(this.section(name)?.options.get('disabled'), false)) {
      this.setup(name);
      this.recomputeRoutes();
    }
    return true;
  }

  down(name: string): boolean {
    const iface = this.interfaces.get(name);
    if (!iface) return false;
    iface.adminDown = true;
    this.teardown(name, 'down');
    return true;
  }

  /** network.interface renew: the classic WireGuard handler has none (no-op); the 2026 one re-reads peers, sessions kept. */
  renew(name: string): boolean {
    const iface = this.interfaces.get(name);
    if (!iface) return false;
    const device = this.wg.get(name);
    if (this.behaviour().handler !== 'renew' || !device || !iface.up) return true;
    const old = new Map(device.peers.map((peer) => [peer.publicKey, peer]));
    device.peers = this.peersFromUci(name).map((peer) => {
      const live = old.get(peer.publicKey);
      return live ? { ...peer, latestHandshake: live.latestHandshake, rx: live.rx, tx: live.tx, endpoint: live.endpoint ?? peer.endpoint } : peer;
    });
    this.recomputeRoutes();
    return true;
  }

  /** Fakes traffic on every live peer with this public key; false when none is live. */
  setPeerStats(publicKey: string, stats: PeerStats): boolean {
    let found = false;
    for (const device of this.wg.values()) {
      for (const peer of device.peers) {
        if (peer.publicKey !== publicKey) continue;
        found = true;
        peer.latestHandshake = stats.latestHandshake;
        peer.rx = stats.rx;
        peer.tx = stats.tx;
        if (stats.endpoint !== undefined) peer.endpoint = stats.endpoint;
      }
    }
    return found;
  }

  /** What `wg show` renders. */
  wgDump(name: string): WgDumpInterface | null {
    const device = this.wg.get(name);
    return device ? { ifname: device.ifname, privateKey: device.privateKey, publicKey: device.publicKey, port: device.port, fwmark: device.fwmark, peers: device.peers } : null;
  }

  // ---- fw4 ----

  /** `fw4 reload`: rebuilds the ruleset; an include nft refuses fails the whole reload (old ruleset stays). */
  reloadFirewall(): void {
    const sections = this.committed('firewall');
    const warnings: string[] = [];
    const rules: FwRule[] = [];
    const includes: FwInclude[] = [];
    let error: string | null = null;
    sections.forEach((section) => {
      const known = FW4_OPTIONS[section.type];
      const label = section.anonymous ? `@${section.type}[${sections.filter((s) => s.type === section.type).indexOf(section)}]` : `'${section.name}'`;
      if (known) for (const option of section.options.keys()) if (!known.has(option)) warnings.push(`Section ${label} specifies unknown option '${option}'`);
      if (!bool(section.options.get('enabled'), true)) return;
      if (section.type === 'rule') {
        rules.push({
          section: section.name,
          name: scalar(section.options.get('name')) ?? null,
          src: scalar(section.options.get('src')) ?? null,
          dest: scalar(section.options.get('dest')) ?? null,
          device: scalar(section.options.get('device')) ?? null,
          direction: scalar(section.options.get('direction')) ?? null,
          proto: list(section.options.get('proto') ?? 'tcpudp').flatMap((proto) => (proto === 'tcpudp' ? ['tcp', 'udp'] : [proto])),
          srcIp: list(section.options.get('src_ip')),
          destPort: list(section.options.get('dest_port')),
          target: (scalar(section.options.get('target')) ?? 'DROP').toUpperCase(),
          family: scalar(section.options.get('family')) ?? null,
        });
      } else if (section.type === 'include') {
        const type = scalar(section.options.get('type')) ?? 'script';
        const path = scalar(section.options.get('path'));
        if (type !== 'nftables') {
          if (!bool(section.options.get('fw4_compatible'), false)) warnings.push(`Section ${label} is not marked as compatible with fw4, ignoring section`);
          return;
        }
        const text = path ? this.readFile(path) : null;
        if (!path || text === null) {
          warnings.push(`Section ${label} specifies unreachable path '${path ?? ''}', ignoring section`);
          return;
        }
        const problem = this.nftProblem(text, path);
        if (problem !== null && error === null) error = problem;
        includes.push({ section: section.name, path, position: scalar(section.options.get('position')) ?? 'table-append', chains: chainsOf(text) });
      }
    });
    this.fw.reloads++;
    this.fw.warnings = warnings;
    if (error !== null) {
      this.fw.lastError = error;
      return;
    }
    this.fw = { rules, includes, warnings, lastError: null, reloads: this.fw.reloads };
  }

  private nftProblem(text: string, path: string): string | null {
    let depth = 0;
    for (const char of text) {
      if (char === '{') depth++;
      if (char === '}' && --depth < 0) break;
    }
    if (depth !== 0) return `${path}: syntax error, unbalanced braces`;
    const prefixLine = text.split('\n').findIndex((line) => /\bprefix\s+to\b/.test(line));
    if (prefixLine !== -1 && !this.behaviour().nftPrefixNat) return `${path}:${prefixLine + 1}: Error: syntax error, unexpected prefix`;
    return null;
  }

  /** `nft list chain inet fw4 <name>`: the chain text when loaded, null otherwise. */
  nftChain(name: string): string | null {
    for (const include of this.fw.includes) {
      const chain = include.chains.get(name);
      if (chain !== undefined) return chain;
    }
    return null;
  }

  // ---- management path ----

  /** Whether the change in place locks Meshplane out (design §1.1). */
  managementCut(): boolean {
    const source = this.behaviour().managementSource;
    const position = source === null ? null : tryParseAddress(source);
    if (position === null) return false;
    const host = hostRange(position);
    for (const iface of this.interfaces.values()) {
      if (!iface.up || iface.name === 'wan' || iface.name === 'wan6' || iface.name === 'loopback') continue;
      const connected = [...iface.ipv4, ...iface.ipv6].map((entry) => networkRoute(entry, 0));
      for (const route of [...iface.routes, ...connected]) {
        const range: IpRange | null = tryParseCidr(`${route.target}/${route.mask}`);
        if (range && contains(range, host)) return true;
      }
    }
    return this.fw.rules.some((rule) => {
      if (rule.dest !== null || (rule.target !== 'REJECT' && rule.target !== 'DROP')) return false;
      if (rule.src !== 'wan' && rule.src !== '*') return false;
      if (!rule.proto.some((proto) => proto === 'tcp' || proto === 'all')) return false;
      if (rule.destPort.length > 0 && !rule.destPort.some((port) => portCovers(port, 443) || portCovers(port, 80))) return false;
      return rule.srcIp.length === 0 || rule.srcIp.some((cidr) => {
        const range = tryParseCidr(cidr.includes('/') ? cidr : `${cidr}/${cidr.includes(':') ? 128 : 32}`);
        return range !== null && contains(range, host);
      });
    });
  }
}

function portCovers(spec: string, port: number): boolean {
  return spec.split(/\s+/).some((part) => {
    const [low, high] = part.split(/[-:]/).map(Number);
    return high === undefined ? low === port : low !== undefined && low <= port && port <= high;
  });
}

/** Chains an nftables include declares, each with its text as `nft list` shows it. */
function chainsOf(text: string): Map<string, string> {
  const chains = new Map<string, string>();
  const pattern = /chain\s+([A-Za-z0-9_]+)\s*\{/g;
  for (let match = pattern.exec(text); match !== null; match = pattern.exec(text)) {
    let depth = 1;
    let end = match.index + match[0].length;
    while (end < text.length && depth > 0) {
      if (text[end] === '{') depth++;
      if (text[end] === '}') depth--;
      end++;
    }
    const body = text.slice(match.index + match[0].length, end - 1);
    const lines = body.split('\n').map((line) => line.trim()).filter(Boolean);
    chains.set(match[1]!, `table inet fw4 {\n\tchain ${match[1]} {\n${lines.map((line) => `\t\t${line}\n`).join('')}\t}\n}\n`);
  }
  return chains;
}
