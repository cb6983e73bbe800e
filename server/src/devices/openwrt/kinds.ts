// The OpenWrt items Meshplane manages, one "kind" per UCI section type it writes (network and
// firewall packages), plus two markers the planner asks for like pfSense's pending applies:
// a protected `uci apply` still waiting for its confirm, a WireGuard device whose running
// peers differ from the committed UCI peers (peer sections take effect only through `wg set`
// or a teardown, reference §7.1), and include files an interrupted run left (names.ts
// leftoversPath).
export const KIND = {
  iface: 'network/interface',
  peer: 'network/peer',
  route: 'network/route',
  route6: 'network/route6',
  rule: 'firewall/rule',
  include: 'firewall/include',
  runtime: 'wireguard/runtime',
  apply: 'uci/apply',
  leftovers: 'file/leftovers',
} as const;

export type Kind = (typeof KIND)[keyof typeof KIND];

/** Creates/updates in this order, deletes in reverse; the markers come last. */
export const KIND_ORDER: readonly Kind[] = [KIND.iface, KIND.peer, KIND.route, KIND.route6, KIND.rule, KIND.include, KIND.runtime, KIND.apply, KIND.leftovers];

export const MARKER_KINDS: ReadonlySet<string> = new Set([KIND.runtime, KIND.apply, KIND.leftovers]);

/**
 * uci: written with `uci set`/`uci add` (lists are comma-joined in props, sorted) ·
 * readOnly: compared, never written (it is the section's type or name) ·
 * virtual: Meshplane's own reading, written elsewhere (an include's spec goes into its file).
 */
export type PropRole = 'uci' | 'list' | 'readOnly' | 'virtual';

export interface KindSpec {
  kind: Kind;
  config: 'network' | 'firewall';
  /** The UCI section type; peers: `wireguard_<interface>`, derived from the `interface` prop. */
  type: string;
  /** Where Meshplane's tag lives: the `mp_tag` option, the rule's `name`, or nowhere (includes are Meshplane's by section name). */
  tagIn: 'mp_tag' | 'name' | 'section';
  props: Readonly<Record<string, PropRole>>;
}

export const KIND_SPECS: Readonly<Record<string, KindSpec>> = {
  [KIND.iface]: {
    kind: KIND.iface, config: 'network', type: 'interface', tagIn: 'mp_tag',
    props: { mp_tag: 'uci', name: 'readOnly', proto: 'uci', private_key: 'uci', listen_port: 'uci', addresses: 'list', mtu: 'uci', disabled: 'uci' },
  },
  [KIND.peer]: {
    kind: KIND.peer, config: 'network', type: 'wireguard_', tagIn: 'mp_tag',
    props: {
      mp_tag: 'uci', interface: 'readOnly', public_key: 'uci', preshared_key: 'uci', allowed_ips: 'list', endpoint_host: 'uci', endpoint_port: 'uci',
      persistent_keepalive: 'uci', route_allowed_ips: 'uci', description: 'uci',
    },
  },
  [KIND.route]: { kind: KIND.route, config: 'network', type: 'route', tagIn: 'mp_tag', props: { mp_tag: 'uci', interface: 'uci', target: 'uci' } },
  [KIND.route6]: { kind: KIND.route6, config: 'network', type: 'route6', tagIn: 'mp_tag', props: { mp_tag: 'uci', interface: 'uci', target: 'uci' } },
  [KIND.rule]: {
    kind: KIND.rule, config: 'firewall', type: 'rule', tagIn: 'name',
    props: { name: 'uci', src: 'uci', dest: 'uci', device: 'uci', direction: 'uci', proto: 'uci', dest_port: 'uci', target: 'uci', enabled: 'uci' },
  },
  [KIND.include]: {
    kind: KIND.include, config: 'firewall', type: 'include', tagIn: 'section',
    props: { type: 'uci', position: 'uci', path: 'uci', netmap: 'virtual' },
  },
};

export function sectionType(kind: string, props: Readonly<Record<string, string>>): string {
  const spec = KIND_SPECS[kind];
  if (!spec) throw new Error(`no UCI section type for ${kind}`);
  return kind === KIND.peer ? `wireguard_${props.interface ?? ''}` : spec.type;
}

/** What an unset option reads as, so '' and the default compare equal. */
const DEFAULTS: Readonly<Record<string, Readonly<Record<string, string>>>> = {
  [KIND.iface]: { disabled: '0' },
  [KIND.peer]: { route_allowed_ips: '0' },
  [KIND.rule]: { enabled: '1', proto: 'tcpudp' },
};

export function withDefault(kind: string, prop: string, value: string): string {
  return value === '' ? DEFAULTS[kind]?.[prop] ?? '' : value;
}
