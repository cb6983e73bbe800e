// An idempotent RouterOS v7 script (.rsc) for one peer. Every item it manages carries
// the comment "<prefix>:<wanId>:<kind>:<key>"; a re-run finds items by that tag and
// updates them in place (so WireGuard sessions survive), adds what is missing and
// removes tagged items that are no longer wanted. Untagged items are never touched,
// except that static routes competing with ours are demoted to distance 11.
import type { CompiledFirewallRule, CompiledOverlay, CompiledPeer } from '../compiled.js';
import { findCompiledPeer } from '../compile.js';
import { DomainError } from '../errors.js';
import { rosValue } from './routeros-quote.js';
import {
  commentText, safeCidr, safeEndpoint, safeId, safeInteger, safeInterfaceName, safeIp, safeKey, safePort, safeProtocol,
} from './safe-values.js';

export interface RouterOsScriptOptions {
  /** Tag prefix of managed items; default "meshplane". Letters, digits, _ and - only. */
  commentPrefix?: string;
  /** RouterOS user the device driver logs in with; its allowed addresses are set when given. */
  apiUserName?: string;
  apiAllowedAddresses?: string[];
}

export const ROUTE_DISTANCE = 10;
export const DEMOTED_ROUTE_DISTANCE = 11;

type Properties = Record<string, string | number>;

/** `key="value" key=123 ...` in the object's key order. */
function properties(props: Properties): string {
  let text = '';
  for (const key in props) text += `${text === '' ? '' : ' '}${key}=${rosValue(props[key] as string | number)}`;
  return text;
}

/** The script's lines; text() joins them once into one flat string. */
class Script {
  private readonly lines: string[] = [];

  line(line: string): void {
    this.lines.push(line);
  }

  text(): string {
    return `${this.lines.join('\n')}\n`;
  }
}

/** Writes script lines for one menu, tagging every item it manages. */
class MenuWriter {
  /** The quoted tags written in this run. */
  private wanted = '';
  private readonly quotedPrefix: string;

  constructor(private readonly script: Script, private readonly menu: string, private readonly tagBase: string) {
    this.quotedPrefix = `${menu}/find where comment=`;
  }

  private want(key: string): string {
    const quotedTag = rosValue(`${this.tagBase}:${key}`);
    this.wanted += this.wanted === '' ? quotedTag : `;${quotedTag}`;
    return quotedTag;
  }

  /** Adds the item if no item has its tag, otherwise sets it in place. */
  upsert(key: string, props: Properties): void {
    this.upsertProperties(key, properties(props));
  }

  /** upsert with the properties already written as `key=value ...` (never empty). */
  upsertProperties(key: string, body: string): void {
    const quotedTag = this.want(key);
    const find = `[${this.quotedPrefix}${quotedTag}]`;
    const { menu } = this;
    this.script.line(`:if ([:len ${find}] = 0) do={ ${menu}/add ${body} comment=${quotedTag} } else={ ${menu}/set ${find} ${body} }`);
  }

  /** Firewall rules go first so an existing drop rule cannot shadow them. */
  upsertFirst(key: string, props: Properties): void {
    const firstRule = `([${this.menu}/find where !dynamic]->0)`;
    const quotedTag = this.want(key);
    const find = `[${this.quotedPrefix}${quotedTag}]`;
    const body = properties(props);
    const add = `${this.menu}/add ${body} comment=${quotedTag}`;
    this.script.line(`:if ([:len ${find}] = 0) do={ :if ([:len [${this.menu}/find where !dynamic]] = 0) do={ ${add} } else={ ${add} place-before=${firstRule} } } else={ ${this.menu}/set ${find} ${body} }`);
  }

  /** Removes items carrying this writer's tag base that were not written in this run. */
  removeStale(): void {
    // The tag base only contains [A-Za-z0-9_-:], so it is literal inside the regex.
    const pattern = rosValue(`^${this.tagBase}:`);
    if (this.wanted === '') {
      this.script.line(`${this.menu}/remove [${this.menu}/find where comment~${pattern}]`);
      return;
    }
    this.script.line(`:foreach i in=[${this.menu}/find where comment~${pattern}] do={ :if ([:typeof [:find {${this.wanted}} [${this.menu}/get $i comment]]] = "nil") do={ ${this.menu}/remove $i } }`);
  }
}

function validatedPrefix(prefix: string): string {
  if (!/^[A-Za-z0-9_-]{1,32}$/.test(prefix)) {
    throw new DomainError('INVALID_INPUT', 'commentPrefix: use 1-32 characters from A-Z a-z 0-9 _ -', { field: 'commentPrefix' });
  }
  return prefix;
}

/** A stable tag key from what the rule matches, e.g. "input-udp-51820" or "forward-in". */
function firewallKey(rule: CompiledFirewallRule): string {
  const parts = [rule.chain, rule.protocol, rule.dstPort, rule.src, rule.dst, rule.inInterface && 'in', rule.outInterface && 'out'];
  return parts.filter((part) => part !== undefined && part !== '').join('-');
}

function firewallProperties(rule: CompiledFirewallRule, interfaceName: string): Properties {
  const props: Properties = { chain: rule.chain, action: rule.action };
  if (rule.protocol !== undefined) props.protocol = safeProtocol(rule.protocol);
  if (rule.dstPort !== undefined) props['dst-port'] = safePort(rule.dstPort);
  if (rule.src !== undefined) props['src-address'] = safeCidr(rule.src);
  if (rule.dst !== undefined) props['dst-address'] = safeCidr(rule.dst);
  if (rule.inInterface !== undefined) props['in-interface'] = interfaceName;
  if (rule.outInterface !== undefined) props['out-interface'] = interfaceName;
  return props;
}

function writeInterface(script: Script, tagBase: string, peer: CompiledPeer): void {
  const iface = peer.interface;
  const props: Properties = { name: iface.name, mtu: safeInteger(iface.mtu, 'MTU') };
  if (iface.listenPort !== null) props['listen-port'] = safePort(iface.listenPort);
  if (iface.privateKey !== null) props['private-key'] = safeKey(iface.privateKey);
  else script.line(`# Bring-your-own key: the router keeps its own private key; its public key must be ${safeKey(iface.publicKey)}.`);
  script.line('/interface/wireguard');
  new MenuWriter(script, '/interface/wireguard', tagBase).upsert('interface', props);
}

// Remotes that carry the same prefixes share one frozen array; quote its list once.
const allowedAddressValues = new WeakMap<readonly string[], string>();

function allowedAddressValue(allowedIps: readonly string[]): string {
  let value = allowedAddressValues.get(allowedIps);
  if (value === undefined) {
    value = rosValue(allowedIps.map(safeCidr).join(','));
    if (Object.isFrozen(allowedIps)) allowedAddressValues.set(allowedIps, value);
  }
  return value;
}

function writePeers(script: Script, tagBase: string, peer: CompiledPeer): void {
  script.line('/interface/wireguard/peers');
  const writer = new MenuWriter(script, '/interface/wireguard/peers', `${tagBase}:peer`);
  const interfaceValue = rosValue(peer.interface.name);
  for (const remote of peer.peers) {
    script.line(`# ${commentText(remote.name)}`);
    const endpoint = remote.endpoint === null ? null : safeEndpoint(remote.endpoint);
    // The properties written by hand, in the order properties() would give them.
    let body = `interface=${interfaceValue} public-key=${rosValue(safeKey(remote.publicKey))}`
      + ` allowed-address=${allowedAddressValue(remote.allowedIps)}`
      + ` endpoint-address=${rosValue(endpoint?.host ?? '')} endpoint-port=${rosValue(endpoint?.port ?? 0)}`
      + ` persistent-keepalive=${rosValue(`${safeInteger(remote.persistentKeepalive ?? 0, 'keepalive')}s`)}`;
    if (remote.presharedKey !== null) body += ` preshared-key=${rosValue(safeKey(remote.presharedKey))}`;
    writer.upsertProperties(safeId(remote.peerId), body);
  }
  writer.removeStale();
}

function writeAddresses(script: Script, tagBase: string, peer: CompiledPeer): void {
  script.line('/ip/address');
  const writer = new MenuWriter(script, '/ip/address', `${tagBase}:address`);
  for (const address of peer.interface.addresses) {
    const [ip, prefix] = address.split('/');
    const value = `${safeIp(ip ?? '')}/${safeInteger(Number(prefix), 'prefix length')}`;
    writer.upsert(value, { address: value, interface: peer.interface.name });
  }
  writer.removeStale();
}

function writeRoutes(script: Script, tagBase: string, prefix: string, peer: CompiledPeer): void {
  script.line('/ip/route');
  const writer = new MenuWriter(script, '/ip/route', `${tagBase}:route`);
  for (const route of peer.routes) {
    const destination = safeCidr(route.destination);
    // Unmanaged static routes to the same destination that would win over or tie with
    // ours (distance <= 10, so no accidental ECMP) are demoted, never removed.
    script.line(`:foreach r in=[/ip/route/find where dst-address=${rosValue(destination)} and !dynamic and distance<=${ROUTE_DISTANCE} and !(comment~${rosValue(`^${prefix}:`)})] do={ /ip/route/set $r distance=${DEMOTED_ROUTE_DISTANCE} }`);
    writer.upsert(destination, { 'dst-address': destination, gateway: peer.interface.name, distance: ROUTE_DISTANCE });
  }
  writer.removeStale();
}

function writeFirewall(script: Script, tagBase: string, peer: CompiledPeer): void {
  script.line('/ip/firewall/filter');
  const writer = new MenuWriter(script, '/ip/firewall/filter', `${tagBase}:filter`);
  for (const rule of peer.firewall) {
    script.line(`# ${commentText(rule.comment)}`);
    writer.upsertFirst(firewallKey(rule), firewallProperties(rule, peer.interface.name));
  }
  writer.removeStale();
}

function writeNat(script: Script, tagBase: string, peer: CompiledPeer): void {
  script.line('/ip/firewall/nat');
  const writer = new MenuWriter(script, '/ip/firewall/nat', `${tagBase}:nat`);
  const iface = peer.interface.name;
  for (const { translated, real } of peer.nat) {
    writer.upsert(`netmap-in:${safeCidr(translated)}`, { chain: 'dstnat', action: 'netmap', 'in-interface': iface, 'dst-address': translated, 'to-addresses': safeCidr(real) });
    writer.upsert(`netmap-out:${translated}`, { chain: 'srcnat', action: 'netmap', 'out-interface': iface, 'src-address': real, 'to-addresses': translated });
  }
  for (const service of peer.services) {
    const protocol = safeProtocol(service.protocol);
    const key = `service:${protocol}:${safeIp(service.serviceIp)}:${safePort(service.servicePort)}`;
    writer.upsert(key, {
      chain: 'dstnat', action: 'dst-nat', 'in-interface': iface, protocol,
      'dst-address': service.serviceIp, 'dst-port': service.servicePort,
      'to-addresses': safeIp(service.localIp), 'to-ports': safePort(service.localPort),
    });
  }
  writer.removeStale();
}

function writeApiUser(script: Script, options: RouterOsScriptOptions): void {
  if (options.apiUserName === undefined || options.apiAllowedAddresses === undefined) return;
  const allowed = options.apiAllowedAddresses.map((entry) => (entry.includes('/') ? safeCidr(entry) : safeIp(entry))).join(',');
  const user = `[/user/find where name=${rosValue(options.apiUserName)}]`;
  script.line('/user');
  script.line(`:if ([:len ${user}] > 0) do={ /user/set ${user} address=${rosValue(allowed)} }`);
}

export function renderCompiledPeerRouterOs(compiled: CompiledOverlay, peer: CompiledPeer, options: RouterOsScriptOptions = {}): string {
  const prefix = validatedPrefix(options.commentPrefix ?? 'meshplane');
  const tagBase = `${prefix}:${safeId(compiled.wan.id)}`;
  safeInterfaceName(peer.interface.name);
  const script = new Script();
  script.line(`# Meshplane: peer ${commentText(peer.name)} on WAN ${commentText(compiled.wan.name)} (RouterOS v7).`);
  script.line(`# Idempotent: items tagged ${tagBase}:... are created, updated or removed, nothing else is changed.`);
  writeInterface(script, tagBase, peer);
  writePeers(script, tagBase, peer);
  writeAddresses(script, tagBase, peer);
  writeRoutes(script, tagBase, prefix, peer);
  writeFirewall(script, tagBase, peer);
  writeNat(script, tagBase, peer);
  writeApiUser(script, options);
  return script.text();
}

export function renderRouterOsScript(compiled: CompiledOverlay, peerId: string, options: RouterOsScriptOptions = {}): string {
  return renderCompiledPeerRouterOs(compiled, findCompiledPeer(compiled, peerId), options);
}
