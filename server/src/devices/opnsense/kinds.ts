// The OPNsense objects Meshplane manages, one "kind" per MVC controller, with its paths,
// the key its body and get reply use, the field that carries Meshplane's tag, and how each
// plan prop is spelled on the wire. One table: the executor and the reading are generic over
// it, and a kind added here (rules, NAT) is read, written and applied like the others.
export type ApplyArea = 'wireguard' | 'interfaces' | 'firewall';

export const KIND = {
  general: 'wireguard/general',
  server: 'wireguard/server',
  client: 'wireguard/client',
  assignment: 'interfaces/assignment',
  rule: 'firewall/filter',
  onetoone: 'firewall/one_to_one',
  npt: 'firewall/npt',
  applyWireguard: 'opnsense/apply/wireguard',
  applyInterfaces: 'opnsense/apply/interfaces',
  applyFirewall: 'opnsense/apply/firewall',
} as const;

export type Kind = (typeof KIND)[keyof typeof KIND];

/** Creates/updates in this order, deletes in reverse; pending applies come last. */
export const KIND_ORDER: readonly string[] = [
  KIND.general, KIND.server, KIND.client, KIND.assignment, KIND.rule, KIND.onetoone, KIND.npt,
  KIND.applyWireguard, KIND.applyInterfaces, KIND.applyFirewall,
];

/** text: as is · list: comma list compared sorted · secret: written, read only as a marker · readOnly: compared, never sent. */
export type PropCodec = 'text' | 'list' | 'secret' | 'readOnly';

export interface KindSpec {
  kind: string;
  /** "<module>/<controller>" under /api/. */
  base: string;
  /** The object key of bodies and get replies ("server", "client", "rule", "interface"). */
  model: string;
  /** Action names: search<Noun>, get<Noun>, add<Noun>, set<Noun>, del<Noun>. */
  noun: string;
  area: ApplyArea;
  /** The field holding the tag: "name" (WireGuard, name-encoded tags) or "description" (text tags). */
  tagField: 'name' | 'description' | null;
  /** Plan prop → wire field, where they differ. */
  wire?: Readonly<Record<string, string>>;
  props: Readonly<Record<string, PropCodec>>;
}

export const KIND_SPECS: Record<string, KindSpec> = {
  [KIND.server]: {
    kind: KIND.server, base: 'wireguard/server', model: 'server', noun: 'Server', area: 'wireguard', tagField: 'name',
    wire: { privatekey: 'privkey' },
    props: {
      name: 'text', enabled: 'text', port: 'text', mtu: 'text', tunneladdress: 'list', disableroutes: 'text', gateway: 'text',
      privatekey: 'secret', pubkey: 'text', instance: 'readOnly',
    },
  },
  [KIND.client]: {
    kind: KIND.client, base: 'wireguard/client', model: 'client', noun: 'Client', area: 'wireguard', tagField: 'name',
    props: {
      name: 'text', enabled: 'text', pubkey: 'text', psk: 'secret', tunneladdress: 'list', serveraddress: 'text', serverport: 'text',
      keepalive: 'text', servers: 'list',
    },
  },
  [KIND.rule]: {
    kind: KIND.rule, base: 'firewall/filter', model: 'rule', noun: 'Rule', area: 'firewall', tagField: 'description',
    props: {
      description: 'text', enabled: 'text', action: 'text', quick: 'text', interface: 'list', direction: 'text', ipprotocol: 'text',
      protocol: 'text', source_net: 'list', destination_net: 'list', destination_port: 'text', sequence: 'text',
    },
  },
  // Translated LANs (26.7+, nat.ts). The assignment's record key is its identifier (optN), not a uuid.
  [KIND.assignment]: {
    kind: KIND.assignment, base: 'interfaces/assignment', model: 'interface', noun: 'Item', area: 'interfaces', tagField: null,
    props: { if: 'text', descr: 'text', enable: 'text', lock: 'text', type4: 'text', type6: 'text' },
  },
  [KIND.onetoone]: {
    kind: KIND.onetoone, base: 'firewall/one_to_one', model: 'rule', noun: 'Rule', area: 'firewall', tagField: 'description',
    props: {
      description: 'text', enabled: 'text', interface: 'text', type: 'text', source_net: 'text', destination_net: 'text', external: 'text', sequence: 'text',
    },
  },
  [KIND.npt]: {
    kind: KIND.npt, base: 'firewall/npt', model: 'rule', noun: 'Rule', area: 'firewall', tagField: 'description',
    props: { description: 'text', enabled: 'text', interface: 'text', source_net: 'text', destination_net: 'text', sequence: 'text' },
  },
};

export const APPLY_KINDS: Readonly<Record<ApplyArea, string>> = {
  wireguard: KIND.applyWireguard,
  interfaces: KIND.applyInterfaces,
  firewall: KIND.applyFirewall,
};

export const AREA_ORDER: readonly ApplyArea[] = ['wireguard', 'interfaces', 'firewall'];

export function isApplyKind(kind: string): boolean {
  return AREA_ORDER.some((area) => APPLY_KINDS[area] === kind);
}

export function areaOfKind(kind: string): ApplyArea | null {
  if (kind === KIND.general) return 'wireguard';
  const applied = AREA_ORDER.find((area) => APPLY_KINDS[area] === kind);
  return applied ?? KIND_SPECS[kind]?.area ?? null;
}

export function wireName(spec: KindSpec, prop: string): string {
  return spec.wire?.[prop] ?? prop;
}
