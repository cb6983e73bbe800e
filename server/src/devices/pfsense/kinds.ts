// The pfSense objects Meshplane manages, one "kind" per REST endpoint, with how each
// property is spelled in plan props (always strings) and on the wire (typed JSON).
export type ApplyArea = 'wireguard' | 'interfaces' | 'routing' | 'firewall';

export const KIND = {
  settings: 'vpn/wireguard/settings',
  tunnel: 'vpn/wireguard/tunnel',
  peer: 'vpn/wireguard/peer',
  iface: 'interface',
  gateway: 'routing/gateway',
  group: 'routing/gateway/group',
  route: 'routing/static_route',
  rule: 'firewall/rule',
  nat: 'firewall/nat/one_to_one/mapping',
  forward: 'firewall/nat/port_forward',
  applyWireguard: 'vpn/wireguard/apply',
  applyInterfaces: 'interface/apply',
  applyRouting: 'routing/apply',
  applyFirewall: 'firewall/apply',
} as const;

export type Kind = (typeof KIND)[keyof typeof KIND];

/** Creates/updates in this order, deletes in reverse; pending applies come last. */
export const KIND_ORDER: readonly Kind[] = [
  KIND.settings, KIND.tunnel, KIND.peer, KIND.iface, KIND.gateway, KIND.group, KIND.route, KIND.rule, KIND.nat, KIND.forward,
  KIND.applyWireguard, KIND.applyInterfaces, KIND.applyRouting, KIND.applyFirewall,
];

/**
 * string: as is · optString: "" ↔ null · int / optInt: number ("" ↔ null) · bool ·
 * cidrs: "a/m,b/m" ↔ [{address, mask}] · tunnel: tunnel name (may be a tag reference) ·
 * iface / ifaces: interface in the device's representation (tag or #id reference) ·
 * priorities: "gateway:tier,…" ↔ [{gateway, tier}] (a gateway group's members) · readOnly: compared, never sent.
 */
export type PropCodec = 'string' | 'optString' | 'int' | 'optInt' | 'bool' | 'cidrs' | 'tunnel' | 'iface' | 'ifaces' | 'priorities' | 'readOnly';

export interface KindSpec {
  kind: Kind;
  /** Singular endpoint path and plural list path, under /api/v2/. */
  singular: string;
  plural: string;
  area: ApplyArea;
  /** Interfaces have stable string ids (wan, optN); everything else is a position. */
  stableIds: boolean;
  props: Readonly<Record<string, PropCodec>>;
}

const spec = (kind: Kind, plural: string, area: ApplyArea, props: Record<string, PropCodec>, stableIds = false): KindSpec => ({
  kind, singular: kind, plural, area, stableIds, props,
});

export const KIND_SPECS: Readonly<Record<string, KindSpec>> = {
  [KIND.tunnel]: spec(KIND.tunnel, 'vpn/wireguard/tunnels', 'wireguard', {
    name: 'readOnly', descr: 'string', listenport: 'string', mtu: 'int', enabled: 'bool', addresses: 'cidrs', privatekey: 'string', publickey: 'readOnly',
  }),
  [KIND.peer]: spec(KIND.peer, 'vpn/wireguard/peers', 'wireguard', {
    descr: 'string', tun: 'tunnel', publickey: 'string', endpoint: 'optString', port: 'optString',
    persistentkeepalive: 'optInt', enabled: 'bool', allowedips: 'cidrs', presharedkey: 'string',
  }),
  [KIND.iface]: spec(KIND.iface, 'interfaces', 'interfaces', {
    if: 'tunnel', descr: 'string', enable: 'bool', typev4: 'string', ipaddr: 'string', subnet: 'int', typev6: 'string', ipaddrv6: 'optString', subnetv6: 'optInt',
  }, true),
  [KIND.gateway]: spec(KIND.gateway, 'routing/gateways', 'routing', {
    descr: 'string', name: 'string', interface: 'iface', ipprotocol: 'string', gateway: 'string', disabled: 'bool',
    monitor: 'optString', monitor_disable: 'bool', interval: 'int', loss_interval: 'int', time_period: 'int', alert_interval: 'int',
    latencylow: 'int', latencyhigh: 'int', losslow: 'int', losshigh: 'int',
  }),
  [KIND.group]: spec(KIND.group, 'routing/gateway/groups', 'routing', { descr: 'string', name: 'string', trigger: 'string', priorities: 'priorities' }),
  [KIND.route]: spec(KIND.route, 'routing/static_routes', 'routing', { descr: 'string', network: 'string', gateway: 'string', disabled: 'bool' }),
  [KIND.rule]: spec(KIND.rule, 'firewall/rules', 'firewall', {
    descr: 'string', type: 'string', interface: 'ifaces', ipprotocol: 'string', protocol: 'optString',
    source: 'string', destination: 'string', destination_port: 'optString', disabled: 'bool',
    gateway: 'optString', floating: 'bool', quick: 'bool', direction: 'optString',
  }),
  [KIND.nat]: spec(KIND.nat, 'firewall/nat/one_to_one/mappings', 'firewall', {
    descr: 'string', interface: 'iface', external: 'string', source: 'string', destination: 'string', ipprotocol: 'string', disabled: 'bool',
  }),
  [KIND.forward]: spec(KIND.forward, 'firewall/nat/port_forwards', 'firewall', {
    descr: 'string', interface: 'iface', ipprotocol: 'string', protocol: 'string', source: 'string', destination: 'string',
    destination_port: 'optString', target: 'string', local_port: 'optString', disabled: 'bool',
  }),
};

export const APPLY_KINDS: Readonly<Record<ApplyArea, Kind>> = {
  wireguard: KIND.applyWireguard,
  interfaces: KIND.applyInterfaces,
  routing: KIND.applyRouting,
  firewall: KIND.applyFirewall,
};

export const AREA_ORDER: readonly ApplyArea[] = ['wireguard', 'interfaces', 'routing', 'firewall'];

export function areaOfKind(kind: string): ApplyArea | null {
  if (kind === KIND.settings) return 'wireguard';
  const applied = AREA_ORDER.find((area) => APPLY_KINDS[area] === kind);
  return applied ?? KIND_SPECS[kind]?.area ?? null;
}
