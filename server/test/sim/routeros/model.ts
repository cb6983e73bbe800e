// One stateful RouterOS router: the menus Meshplane uses, their rows, and the generic
// verbs (print/add/set/remove/enable/disable/move) RouterOS runs on every menu. The
// binary API and REST both call `execute`, so they can never disagree about state.
// Menu specifics (properties, derived fields, cross-row rules) live in menus/.
import { firewallAddressList, firewallFilter, firewallNat, ipv6FirewallAddressList, ipv6FirewallFilter, ipv6FirewallNat } from './menus/firewall.js';
import { BGP_CONNECTION, bfdConfiguration, bgpConnections, bgpSessions, routingFilterRules, type BgpSessionRuntime } from './menus/routing.js';
import { ipAddresses, ipRoutes, ipv6Addresses, ipv6Routes, ipv6Settings, ADDRESS_MENU } from './menus/ip.js';
import { ipServices, IP_SERVICE, systemIdentity, systemResource, USER, users, type UserRuntime } from './menus/system.js';
import type { Item, MenuContext, MenuSpec, PropertySpec } from './menus/types.js';
import { WIREGUARD, wireguardInterfaces, wireguardPeers, WIREGUARD_PEERS, type PeerRuntime } from './menus/wireguard.js';
import { PING_COMMANDS, PingRun, parsePingRequest } from './ping.js';
import { canonicalIp, prefixContains } from './ip-prefix.js';
import { matchesQuery, type Row } from './query.js';
import { traps } from './trap.js';
import { formatId, parseId } from './values.js';
import { atLeast, parseVersion, type RouterOsVersion } from './version.js';

export type { Row } from './query.js';

export const MENUS: readonly MenuSpec[] = [
  wireguardInterfaces,
  wireguardPeers,
  ipAddresses,
  ipRoutes,
  firewallFilter,
  firewallNat,
  firewallAddressList,
  ipv6Addresses,
  ipv6Routes,
  ipv6FirewallFilter,
  ipv6FirewallNat,
  ipv6FirewallAddressList,
  ipv6Settings,
  routingFilterRules,
  bfdConfiguration,
  bgpConnections,
  bgpSessions,
  users,
  ipServices,
  systemResource,
  systemIdentity,
];

export interface RouterOsModelOptions {
  /** Emulated RouterOS version, e.g. `7.17` or `7.18.2` (default `7.18.2`). */
  version?: string;
  /** Clock in milliseconds; tests inject one to make durations deterministic. */
  now?: () => number;
  /** Non-WireGuard interfaces that exist on the router. */
  physicalInterfaces?: readonly string[];
  /** Print WireGuard secrets as `*****` (a user without the `sensitive` policy). */
  maskSensitive?: boolean;
  /** `.proplist` without `.id` still returns `.id` (7.23 REST behaviour, §1.8). */
  proplistIncludesId?: boolean;
}

export interface CommandRequest {
  /** Command word, e.g. `/interface/wireguard/peers/print`. */
  command: string;
  attributes?: Readonly<Record<string, string>>;
  /** Query words without their leading `?`. */
  queries?: readonly string[];
  /** The binary-API connection that sent it (1, 2, … per simulator), so tests can tell clients apart; REST requests carry none. */
  connection?: number;
  /** The user it runs as: secrets print as `*****` unless the user's group has `sensitive` (only `full` here). None: the console. */
  user?: string;
}

export interface CommandResult {
  /** One per `!re` sentence. */
  rows: Row[];
  /** `=ret=` carried by `!done` (new id after add, count after count-only). */
  ret?: string;
}

export interface HandshakeDetails {
  /** Byte counters; bigint for values past 2^53, as long-lived tunnels reach. */
  rx?: number | bigint;
  tx?: number | bigint;
  endpointAddress?: string;
  endpointPort?: number;
}

interface Table {
  readonly spec: MenuSpec;
  items: Item[];
  nextId: number;
}

type Verb = 'print' | 'add' | 'set' | 'remove' | 'enable' | 'disable' | 'move';

const PRINT_ARGUMENTS = ['.proplist', 'count-only', 'detail', 'without-paging', 'terse'];
const SENSITIVE_MASK = '*****';

/** Which verbs a menu kind supports. */
export function verbsOf(spec: MenuSpec): readonly Verb[] {
  if (spec.readOnly && spec.kind === 'table') return ['print'];
  if (spec.kind === 'singleton') return spec.readOnly ? ['print'] : ['print', 'set'];
  if (spec.kind === 'fixed') return ['print', 'set', 'enable', 'disable'];
  return spec.ordered
    ? ['print', 'add', 'set', 'remove', 'enable', 'disable', 'move']
    : ['print', 'add', 'set', 'remove', 'enable', 'disable'];
}

export class RouterOsModel implements MenuContext {
  version: RouterOsVersion;
  readonly bootedAt: number;
  maskSensitive: boolean;
  proplistIncludesId: boolean;
  private readonly clock: () => number;
  private readonly physical: readonly string[];
  private readonly tables = new Map<string, Table>();
  /** Test overrides of ping answers by address. */
  private readonly pingAnswers = new Map<string, boolean>();

  constructor(options: RouterOsModelOptions = {}) {
    this.version = parseVersion(options.version ?? '7.18.2');
    this.clock = options.now ?? Date.now;
    this.bootedAt = this.clock();
    this.physical = options.physicalInterfaces ?? ['ether1', 'ether2', 'ether3', 'ether4', 'ether5', 'bridge'];
    this.maskSensitive = options.maskSensitive ?? false;
    this.proplistIncludesId = options.proplistIncludesId ?? true;
    for (const spec of MENUS) {
      const items: Item[] = spec.kind === 'singleton' ? [{ id: 0, props: {}, runtime: {} }] : [];
      this.tables.set(spec.path, { spec, items, nextId: spec.firstId ?? 1 });
    }
  }

  // ---- MenuContext ----

  now(): number {
    return this.clock();
  }

  items(menuPath: string): readonly Item[] {
    const table = this.table(menuPath);
    return table.spec.derive ? table.spec.derive(this) : table.items;
  }

  interfaceNames(): string[] {
    return [...this.physical, ...this.items(WIREGUARD).map((i) => i.props.name!)];
  }

  removeWhere(menuPath: string, predicate: (item: Item) => boolean): void {
    const table = this.table(menuPath);
    table.items = table.items.filter((item) => !predicate(item));
  }

  // ---- commands ----

  setVersion(version: string): void {
    this.version = parseVersion(version);
  }

  /** The menu a path names, e.g. `/ip/firewall/filter`. */
  menu(path: string): MenuSpec | undefined {
    return this.tables.get(path)?.spec;
  }

  /** Runs one command as RouterOS would; throws RouterOsTrap on failure. */
  execute(request: CommandRequest): CommandResult {
    const attributes = request.attributes ?? {};
    if (PING_COMMANDS.includes(request.command)) {
      const run = this.startPing(attributes);
      // An uncounted ping never ends; the servers stream it (API) or time it out (REST).
      if (run.request.count === undefined) throw new Error('/ping without count must be driven through startPing()');
      return { rows: run.all() };
    }
    const { spec, verb } = this.resolveCommand(request.command);
    switch (verb) {
      case 'print':
        return this.print(spec, attributes, request.queries ?? [], request.user);
      case 'add':
        return { rows: [], ret: this.add(spec, attributes) };
      case 'set':
        this.set(spec, attributes);
        return { rows: [] };
      case 'remove':
        this.remove(spec, attributes);
        return { rows: [] };
      case 'enable':
      case 'disable':
        this.set(spec, { ...this.selector(attributes), disabled: verb === 'disable' ? 'true' : 'false' });
        return { rows: [] };
      case 'move':
        this.move(spec, attributes);
        return { rows: [] };
    }
  }

  /** A ping the caller drives probe by probe (the API streams uncounted pings). */
  startPing(attributes: Readonly<Record<string, string>>): PingRun {
    return new PingRun(parsePingRequest(attributes), (address) => this.answersPing(address));
  }

  /** Splits a command word into menu and verb, with RouterOS's errors for unknown paths. */
  resolveCommand(command: string): { spec: MenuSpec; verb: Verb } {
    const segments = command.split('/').filter(Boolean);
    if (!command.startsWith('/') || segments.length === 0) throw traps.noSuchDirectory(command);
    const verbWord = segments[segments.length - 1]!;
    const menuPath = `/${segments.slice(0, -1).join('/')}`;
    const spec = this.tables.get(menuPath)?.spec;
    if (!spec) {
      if (this.tables.has(`/${segments.join('/')}`)) throw traps.noSuchCommand();
      throw traps.noSuchDirectory(this.firstUnknownSegment(segments));
    }
    const verb = (verbWord === 'getall' ? 'print' : verbWord) as Verb;
    if (!verbsOf(spec).includes(verb)) throw traps.noSuchDirectory(verbWord);
    return { spec, verb };
  }

  private firstUnknownSegment(segments: string[]): string {
    const known = new Set<string>();
    for (const path of this.tables.keys()) {
      const parts = path.split('/').filter(Boolean);
      for (let i = 1; i <= parts.length; i += 1) known.add(parts.slice(0, i).join('/'));
    }
    const index = segments.findIndex((_, i) => !known.has(segments.slice(0, i + 1).join('/')));
    return segments[Math.max(0, index)]!;
  }

  private print(spec: MenuSpec, attributes: Readonly<Record<string, string>>, queries: readonly string[], user?: string): CommandResult {
    for (const name of Object.keys(attributes)) {
      if (!PRINT_ARGUMENTS.includes(name)) throw traps.unknownParameter(name);
    }
    const matching = this.items(spec.path)
      .map((item) => this.renderRow(spec, item, user))
      .filter((row) => matchesQuery(row, queries));
    if (attributes['count-only'] !== undefined) return { rows: [], ret: String(matching.length) };
    const proplist = attributes['.proplist'];
    if (proplist === undefined) return { rows: matching };
    const wanted = new Set(proplist.split(',').map((p) => p.trim()));
    if (this.proplistIncludesId) wanted.add('.id');
    return { rows: matching.map((row) => Object.fromEntries(Object.entries(row).filter(([k]) => wanted.has(k)))) };
  }

  private add(spec: MenuSpec, attributes: Readonly<Record<string, string>>): string {
    if (spec.kind !== 'table') throw traps.noSuchDirectory('add');
    const { 'place-before': placeBefore, ...rest } = attributes;
    if (placeBefore !== undefined && !spec.ordered) throw traps.unknownParameter('place-before');
    const given = this.parseProperties(spec, rest);
    for (const name of spec.required ?? []) {
      if (given[name] === undefined) throw traps.missing(name);
    }
    const props = { ...(spec.defaults?.(given, this) ?? {}), ...given };
    spec.check?.(props, undefined, this);
    const table = this.table(spec.path);
    const item: Item = { id: table.nextId, props, runtime: {} };
    const index = placeBefore === undefined ? table.items.length : table.items.indexOf(this.resolveOne(spec, placeBefore));
    table.nextId += 1;
    table.items.splice(index, 0, item);
    return formatId(item.id);
  }

  private set(spec: MenuSpec, attributes: Readonly<Record<string, string>>): void {
    if (spec.readOnly) throw traps.noSuchDirectory('set');
    const { '.id': id, numbers, ...rest } = attributes;
    const targets =
      spec.kind === 'singleton' ? this.table(spec.path).items : this.resolveMany(spec, id ?? numbers);
    const changes = this.parseProperties(spec, rest);
    // Validate every target before changing any, so a failed set leaves no half-applied state.
    for (const item of targets) spec.check?.({ ...item.props, ...changes }, item, this);
    for (const item of targets) {
      const oldName = item.props.name;
      this.endSessionsChangedBy(spec, item, changes);
      Object.assign(item.props, changes);
      if (spec.path === WIREGUARD && oldName !== undefined && item.props.name !== oldName) {
        this.renameInterfaceReferences(oldName, item.props.name!);
      }
    }
  }

  /**
   * A WireGuard session belongs to a key pair: a peer given another public key or moved to another
   * interface, or an interface given another private key, starts over (no handshake, zero
   * counters), as a peer removed and added again does (a new row has no runtime at all).
   */
  private endSessionsChangedBy(spec: MenuSpec, item: Item, changes: Readonly<Record<string, string>>): void {
    const differs = (name: string) => changes[name] !== undefined && changes[name] !== item.props[name];
    if (spec.path === WIREGUARD_PEERS && (differs('public-key') || differs('interface'))) item.runtime = {};
    if (spec.path === WIREGUARD && differs('private-key')) {
      for (const peer of this.items(WIREGUARD_PEERS)) if (peer.props.interface === item.props.name) peer.runtime = {};
    }
  }

  private remove(spec: MenuSpec, attributes: Readonly<Record<string, string>>): void {
    if (spec.kind !== 'table') throw traps.noSuchDirectory('remove');
    const { '.id': id, numbers, ...rest } = attributes;
    const extra = Object.keys(rest)[0];
    if (extra !== undefined) throw traps.unknownParameter(extra);
    const targets = this.resolveMany(spec, id ?? numbers);
    const table = this.table(spec.path);
    table.items = table.items.filter((item) => !targets.includes(item));
    for (const item of targets) spec.afterRemove?.(item, this);
  }

  /** `move numbers=*9 destination=*C`: puts the rows before the destination (or last). */
  private move(spec: MenuSpec, attributes: Readonly<Record<string, string>>): void {
    const { '.id': id, numbers, destination, ...rest } = attributes;
    const extra = Object.keys(rest)[0];
    if (extra !== undefined) throw traps.unknownParameter(extra);
    const moving = this.resolveMany(spec, id ?? numbers);
    const target = destination === undefined ? undefined : this.resolveOne(spec, destination);
    if (target && moving.includes(target)) return;
    const table = this.table(spec.path);
    const remaining = table.items.filter((item) => !moving.includes(item));
    const index = target ? remaining.indexOf(target) : remaining.length;
    remaining.splice(index, 0, ...moving);
    table.items = remaining;
  }

  private selector(attributes: Readonly<Record<string, string>>): Record<string, string> {
    const { '.id': id, numbers, ...rest } = attributes;
    const extra = Object.keys(rest)[0];
    if (extra !== undefined) throw traps.unknownParameter(extra);
    return id !== undefined ? { '.id': id } : numbers !== undefined ? { numbers } : {};
  }

  private parseProperties(spec: MenuSpec, attributes: Readonly<Record<string, string>>): Record<string, string> {
    const parsed: Record<string, string> = {};
    for (const [name, value] of Object.entries(attributes)) {
      const property = spec.properties[name];
      if (!property || !this.knows(property)) throw traps.unknownParameter(name);
      parsed[name] = property.parse(value, name, this);
    }
    return parsed;
  }

  /** Is the property part of the emulated version (routeros.md §3.5 "since")? */
  private knows(property: PropertySpec): boolean {
    if (property.since && !atLeast(this.version, property.since)) return false;
    if (property.until && atLeast(this.version, property.until)) return false;
    return true;
  }

  /** `*1A`, a name where the menu has one, or a comma list of them. */
  private resolveMany(spec: MenuSpec, reference: string | undefined): Item[] {
    if (reference === undefined || reference === '') throw traps.noSuchItem();
    return reference.split(',').map((ref) => this.resolveOne(spec, ref.trim()));
  }

  private resolveOne(spec: MenuSpec, reference: string): Item {
    const items = this.items(spec.path);
    const id = parseId(reference);
    const found =
      id !== undefined
        ? items.find((item) => item.id === id)
        : spec.nameKey
          ? items.find((item) => item.props[spec.nameKey!] === reference)
          : undefined;
    if (!found) throw traps.noSuchItem();
    return found;
  }

  private renameInterfaceReferences(oldName: string, newName: string): void {
    for (const table of this.tables.values()) {
      for (const [name, property] of Object.entries(table.spec.properties)) {
        if (!property.interfaceReference) continue;
        for (const item of table.items) {
          if (item.props[name] === oldName) item.props[name] = newName;
          else if (item.props[name] === `!${oldName}`) item.props[name] = `!${newName}`;
        }
      }
    }
  }

  /**
   * Whether secrets print in clear: not with the `maskSensitive` knob, nor for a user whose group
   * lacks the `sensitive` policy. Of the built-in groups only `full` has it (routeros.md §3.9).
   */
  private showsSecrets(user: string | undefined): boolean {
    if (this.maskSensitive) return false;
    if (user === undefined) return true;
    return this.items(USER).find((row) => row.props.name === user)?.props.group === 'full';
  }

  private renderRow(spec: MenuSpec, item: Item, user?: string): Row {
    const rendered: Record<string, string> = spec.kind === 'singleton' ? {} : { '.id': formatId(item.id) };
    Object.assign(rendered, spec.render(item, this));
    const mask = !this.showsSecrets(user);
    for (const [name, property] of Object.entries(spec.properties)) {
      if (property.writeOnly) delete rendered[name];
      else if (property.sensitive && mask && rendered[name] !== undefined) rendered[name] = SENSITIVE_MASK;
    }
    return rendered;
  }

  private table(path: string): Table {
    const table = this.tables.get(path);
    if (!table) throw new Error(`no menu ${path} in the RouterOS model`);
    return table;
  }

  // ---- lookups for servers and tests ----

  /** Printed rows of a menu, exactly as `print` without queries returns them (to `user`; default: the console). */
  rows(menuPath: string, user?: string): Row[] {
    return this.print(this.table(menuPath).spec, {}, [], user).rows;
  }

  /** One printed row by `*ID` or name; undefined when there is none. */
  lookup(menuPath: string, reference: string, user?: string): Row | undefined {
    const spec = this.table(menuPath).spec;
    try {
      return this.renderRow(spec, this.resolveOne(spec, reference), user);
    } catch {
      return undefined;
    }
  }

  /**
   * Pretends a peer completed a handshake `secondsAgo` seconds ago (null = never), so a
   * monitor sees it come online. Traffic counters grow unless given explicitly.
   */
  setHandshake(publicKey: string, secondsAgo: number | null, details: HandshakeDetails = {}): void {
    const peers = this.items(WIREGUARD_PEERS).filter((p) => p.props['public-key'] === publicKey);
    if (peers.length === 0) throw new Error(`no WireGuard peer with public key ${publicKey}`);
    for (const peer of peers) {
      const runtime = peer.runtime as Partial<PeerRuntime>;
      if (secondsAgo === null) {
        delete runtime.handshakeAt;
        continue;
      }
      runtime.handshakeAt = this.now() - secondsAgo * 1000;
      runtime.rx = details.rx !== undefined ? BigInt(details.rx) : (runtime.rx ?? 0n) + 1_184n;
      runtime.tx = details.tx !== undefined ? BigInt(details.tx) : (runtime.tx ?? 0n) + 2_368n;
      runtime.currentEndpointAddress =
        details.endpointAddress ?? (peer.props['endpoint-address'] || runtime.currentEndpointAddress || '192.0.2.10');
      runtime.currentEndpointPort =
        details.endpointPort ?? (Number(peer.props['endpoint-port']) || runtime.currentEndpointPort || 51820);
    }
  }

  /**
   * Marks the BGP session of every connection to `remoteAddress` established (true) or down
   * (false), as `/routing/bgp/session` then lists it.
   */
  setBgpSession(remoteAddress: string, established: boolean): void {
    const wanted = canonicalIp(remoteAddress);
    const connections = this.items(BGP_CONNECTION).filter((item) => canonicalIp((item.props['remote.address'] ?? '').replace(/\/(32|128)$/, '')) === wanted);
    if (connections.length === 0) throw new Error(`no BGP connection to ${remoteAddress}`);
    for (const connection of connections) {
      const runtime = connection.runtime as BgpSessionRuntime;
      if (!established) delete runtime.establishedAt;
      else runtime.establishedAt ??= this.now();
    }
  }

  /** Forces ping answers for one address (true = replies, false = timeouts, null = default rule). */
  setPingAnswer(address: string, answers: boolean | null): void {
    if (answers === null) this.pingAnswers.delete(address);
    else this.pingAnswers.set(address, answers);
  }

  /**
   * Default rule: the router answers for its own subnets, and for addresses behind an
   * enabled WireGuard peer whose last handshake is under 3 minutes old (a live session).
   */
  private answersPing(address: string): boolean {
    const forced = this.pingAnswers.get(address);
    if (forced !== undefined) return forced;
    const local = Object.values(ADDRESS_MENU).some((menu) => this.items(menu).some(
      (a) => a.props.disabled !== 'true' && prefixContains(a.props.address!, address),
    ));
    if (local) return true;
    return this.items(WIREGUARD_PEERS).some((peer) => {
      const handshakeAt = (peer.runtime as Partial<PeerRuntime>).handshakeAt;
      return (
        peer.props.disabled !== 'true' &&
        handshakeAt !== undefined &&
        this.now() - handshakeAt < 180_000 &&
        peer.props['allowed-address']!.split(',').some((prefix) => prefixContains(prefix, address))
      );
    });
  }

  /**
   * Checks credentials the way a login does: the user exists, is enabled, the password
   * matches and the source address is in the user's `address` list (empty = anywhere).
   * A binary-API login records `last-logged-in`; REST does not (routeros.md §3.9).
   */
  authenticate(name: string, password: string, sourceAddress: string, via: 'api' | 'rest'): boolean {
    const user = this.items(USER).find((u) => u.props.name === name);
    if (!user || user.props.disabled === 'true' || user.props.password !== password) return false;
    if (!addressAllowed(user.props.address ?? '', sourceAddress)) return false;
    if (via === 'api') (user.runtime as UserRuntime).lastLoggedIn = this.now();
    return true;
  }

  /** Would the named `/ip/service` accept a connection from this address right now? */
  serviceAccepts(service: string, sourceAddress: string): boolean {
    const row = this.items(IP_SERVICE).find((s) => s.props.name === service);
    return !!row && row.props.disabled !== 'true' && addressAllowed(row.props.address ?? '', sourceAddress);
  }

  // ---- seeding (bypasses validation order issues, still validates each row) ----

  /** Adds a row through the same path as the `add` command; returns its id. */
  seed(menuPath: string, props: Readonly<Record<string, string>>): string {
    return this.add(this.table(menuPath).spec, props);
  }

  /** Defines a row of a fixed menu (`/ip/service`) with its name. */
  seedFixed(menuPath: string, props: Readonly<Record<string, string>>): string {
    const table = this.table(menuPath);
    const item: Item = { id: table.nextId, props: { ...props }, runtime: {} };
    table.nextId += 1;
    table.items.push(item);
    return formatId(item.id);
  }
}

function addressAllowed(list: string, address: string): boolean {
  const prefixes = list.split(',').filter(Boolean);
  return prefixes.length === 0 || prefixes.some((prefix) => prefixContains(prefix, address));
}
