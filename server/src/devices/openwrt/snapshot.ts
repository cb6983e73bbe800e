// Pure: a reading of the router (UCI network and firewall as `uci get` returns them, netifd's
// interface dump, the WireGuard dumps and Meshplane's include files) as plan resources.
// Sections tagged for this WAN are managed; everything else, other WANs' included, is
// unmanaged and left alone. Secrets never stay in a resource: UCI's private and preshared
// keys become fingerprints through `secret` (the driver keeps the keys to write them back).
import type { ActualResource } from '../../domain/plan.js';
import type { WgInterfaceDump } from '../shared/wg-dump.js';
import { KIND, KIND_SPECS, type Kind } from './kinds.js';
import { joinList } from './mapping.js';
import { keyOfTag, leftoversPath, parseDescr, parseKey, sectionName } from './names.js';
import { readIncludeHeader } from './netmap-nft.js';
import { runtimeDiff, runtimePeersOf, type UciValues } from './runtime-sync.js';

/** One interface of `network.interface dump` (only what a reading uses). */
export interface InterfaceStatus {
  interface: string;
  up?: boolean;
  proto?: string;
  'ipv4-address'?: Array<{ address: string; mask: number }>;
  'ipv6-address'?: Array<{ address: string; mask: number }>;
  route?: Array<{ target: string; mask: number }>;
}

export interface OpenWrtReading {
  /** `uci get {config}` values: section name → section (".type", ".name", ".anonymous", options). */
  network: Record<string, UciValues>;
  firewall: Record<string, UciValues>;
  interfaces: InterfaceStatus[];
  /** rpcd holds snapshot files: a protected apply waits for its confirm. */
  applyPending: boolean;
  /** `wg show <if> dump` of the interfaces Meshplane manages (null: no such device running). */
  dumps: ReadonlyMap<string, WgInterfaceDump | null>;
  /** Include file contents by path (null: missing or unreadable). */
  includes: ReadonlyMap<string, string | null>;
  /** The files this WAN's leftovers list names (names.ts leftoversPath); null: there is no list. */
  leftovers: readonly string[] | null;
}

/** The id of the runtime marker. */
export const RUNTIME_ID = 'running';
/** The id of the leftovers marker. */
export const LEFTOVERS_ID = 'include-files';

export type SecretMap = (key: string) => string;

const text = (value: unknown) => (typeof value === 'string' ? value : '');

/** A UCI value as a plan prop: lists sorted and comma-joined. */
export function propValue(value: unknown): string {
  if (Array.isArray(value)) return joinList(value.filter((item): item is string => typeof item === 'string'));
  return text(value);
}

export function sectionsOf(config: Record<string, UciValues>): UciValues[] {
  return Object.values(config).sort((a, b) => Number(a['.index'] ?? 0) - Number(b['.index'] ?? 0));
}

function kindOf(config: 'network' | 'firewall', type: string): Kind | null {
  if (config === 'network') {
    if (type === 'interface') return KIND.iface;
    if (type.startsWith('wireguard_')) return KIND.peer;
    if (type === 'route') return KIND.route;
    if (type === 'route6') return KIND.route6;
    return null;
  }
  if (type === 'rule') return KIND.rule;
  if (type === 'include') return KIND.include;
  return null;
}

/** The key of a managed section for this WAN, or null. */
function managedKey(kind: Kind, section: UciValues, prefix: string, wanId: string, includes: OpenWrtReading['includes']): string | null {
  let key: string | null = null;
  if (KIND_SPECS[kind]?.tagIn === 'mp_tag') key = keyOfTag(text(section.mp_tag), prefix);
  else if (kind === KIND.rule) key = parseDescr(text(section.name), prefix).key;
  else if (kind === KIND.include) {
    const header = readIncludeHeader(includes.get(text(section.path)) ?? '');
    key = header && sectionName(header.tag) === text(section['.name']) ? keyOfTag(header.tag, prefix) : null;
  }
  return key !== null && parseKey(key)?.wanId === wanId ? key : null;
}

function propsOf(kind: Kind, section: UciValues, secret: SecretMap, includes: OpenWrtReading['includes']): Record<string, string> {
  const spec = KIND_SPECS[kind]!;
  const props: Record<string, string> = {};
  for (const prop of Object.keys(spec.props)) {
    if (spec.props[prop] === 'virtual') continue;
    const value = propValue(section[prop]);
    if (value !== '') props[prop] = value;
  }
  const name = text(section['.name']);
  const type = text(section['.type']);
  if (kind === KIND.iface) props.name = name;
  if (kind === KIND.peer) props.interface = type.slice('wireguard_'.length);
  if (props.private_key) props.private_key = secret(props.private_key);
  if (props.preshared_key) props.preshared_key = secret(props.preshared_key);
  if (kind === KIND.include) props.netmap = readIncludeHeader(includes.get(text(section.path)) ?? '')?.spec ?? '';
  return props;
}

/** Where the router's own networks are: every non-WireGuard interface's live addresses. */
function liveAddresses(status: InterfaceStatus | undefined): string {
  const all = [...(status?.['ipv4-address'] ?? []), ...(status?.['ipv6-address'] ?? [])];
  return joinList(all.map((entry) => `${entry.address}/${entry.mask}`));
}

export function readingToActual(reading: OpenWrtReading, prefix: string, wanId: string, secret: SecretMap): ActualResource[] {
  const resources: ActualResource[] = [];
  const peersByInterface = new Map<string, UciValues[]>();
  for (const config of ['network', 'firewall'] as const) {
    for (const section of sectionsOf(reading[config])) {
      const type = text(section['.type']);
      const kind = kindOf(config, type);
      if (kind === null) continue;
      if (kind === KIND.peer) {
        const ifname = type.slice('wireguard_'.length);
        peersByInterface.set(ifname, [...(peersByInterface.get(ifname) ?? []), section]);
      }
      const props = propsOf(kind, section, secret, reading.includes);
      const key = managedKey(kind, section, prefix, wanId, reading.includes);
      if (kind === KIND.iface && text(section.proto) !== 'wireguard') {
        const live = liveAddresses(reading.interfaces.find((status) => status.interface === text(section['.name'])));
        if (live !== '') props.live_addresses = live;
      }
      resources.push({ kind, id: text(section['.name']), key, props });
    }
  }
  resources.push({ kind: KIND.apply, id: 'pending', key: null, props: { confirmed: reading.applyPending ? 'false' : 'true' } });
  // One marker for the device, always there (like the apply marker): which managed WireGuard
  // devices run with other peers than UCI describes.
  const differs: string[] = [];
  for (const iface of resources.filter((resource) => resource.kind === KIND.iface && resource.key !== null && resource.props.proto === 'wireguard')) {
    const dump = reading.dumps.get(iface.id);
    if (!dump) continue;
    const section = reading.network[iface.id] ?? {};
    const diff = runtimeDiff(runtimePeersOf(peersByInterface.get(iface.id) ?? [], secret), dump, {
      privateKey: text(section.private_key) === '' ? null : secret(text(section.private_key)), listenPort: text(section.listen_port),
    });
    if (diff.steps.length > 0 || diff.restart !== null) differs.push(iface.id);
  }
  resources.push({ kind: KIND.runtime, id: RUNTIME_ID, key: null, props: { synced: differs.length === 0 ? 'true' : 'false', differs: differs.join(',') } });
  // Listed files no include section (of any WAN) points at are left over; the list itself
  // goes once they are removed.
  const used = new Set(sectionsOf(reading.firewall).filter((section) => text(section['.type']) === 'include').map((section) => text(section.path)));
  const unused = (reading.leftovers ?? []).filter((path) => !used.has(path));
  resources.push({ kind: KIND.leftovers, id: LEFTOVERS_ID, key: null, props: { tidy: reading.leftovers === null ? 'true' : 'false', unused: unused.join(','), list: leftoversPath(prefix, wanId) } });
  return resources;
}
