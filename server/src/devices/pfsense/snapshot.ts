// Pure: a device snapshot (what the list endpoints returned) as plan resources. Objects
// tagged for this WAN are managed; everything else, including other WANs' objects, is
// unmanaged and left alone. Pending applies and the WireGuard service switch are read
// as resources too, so the planner can ask for them.
import type { ActualResource } from '../../domain/plan.js';
import { decodeProps, type DeviceObject, type RefReader } from './codec.js';
import { APPLY_KINDS, AREA_ORDER, KIND, KIND_SPECS, type ApplyArea, type Kind } from './kinds.js';
import { interfaceIdRef, interfaceKeyForTunnel, parseDescr, parseKey, pskFingerprint, ref, tagOf } from './tags.js';

export type InterfaceRepresentation = 'descr' | 'id' | 'if';

export interface DeviceSnapshot {
  representation: InterfaceRepresentation;
  wireguardEnabled: boolean;
  applied: Record<ApplyArea, boolean>;
  lists: Record<'tunnel' | 'peer' | 'iface' | 'gateway' | 'group' | 'route' | 'rule' | 'nat' | 'forward', DeviceObject[]>;
}

export const LIST_KINDS: ReadonlyArray<[keyof DeviceSnapshot['lists'], Kind]> = [
  ['tunnel', KIND.tunnel], ['peer', KIND.peer], ['iface', KIND.iface], ['gateway', KIND.gateway], ['group', KIND.group],
  ['route', KIND.route], ['rule', KIND.rule], ['nat', KIND.nat], ['forward', KIND.forward],
];

/** How the device names an interface in references (REST API setting represent_interfaces_as). */
export function representInterface(iface: DeviceObject, mode: InterfaceRepresentation): string {
  const id = String(iface.id);
  if (mode === 'id') return id;
  if (mode === 'if') return String(iface.if);
  return typeof iface.descr === 'string' && iface.descr !== '' ? iface.descr : id.toUpperCase();
}

/** The key of the managed tunnel an interface is assigned to, if any. */
function tunnelKeyOfPort(tunnels: readonly DeviceObject[], port: unknown, prefix: string): string | null {
  const tunnel = tunnels.find((candidate) => candidate.name === port);
  return tunnel ? parseDescr(tunnel.descr, prefix).key : null;
}

export function interfaceKeyOf(snapshot: DeviceSnapshot, iface: DeviceObject, prefix: string): string | null {
  const tunnelKey = tunnelKeyOfPort(snapshot.lists.tunnel, iface.if, prefix);
  return tunnelKey === null ? null : interfaceKeyForTunnel(tunnelKey);
}

export function refReader(snapshot: DeviceSnapshot, prefix: string): RefReader {
  return {
    tunnelRef: (name) => {
      const key = tunnelKeyOfPort(snapshot.lists.tunnel, name, prefix);
      return key === null ? name : ref(tagOf(prefix, key));
    },
    interfaceRef: (value) => {
      const iface = snapshot.lists.iface.find((candidate) => representInterface(candidate, snapshot.representation) === value);
      if (!iface) return value;
      const key = interfaceKeyOf(snapshot, iface, prefix);
      return key === null ? interfaceIdRef(String(iface.id)) : ref(tagOf(prefix, key));
    },
  };
}

function keyFor(list: keyof DeviceSnapshot['lists'], obj: DeviceObject, snapshot: DeviceSnapshot, prefix: string, wanId: string): string | null {
  const key = list === 'iface' ? interfaceKeyOf(snapshot, obj, prefix) : parseDescr(obj.descr, prefix).key;
  return key !== null && parseKey(key)?.wanId === wanId ? key : null;
}

export function snapshotToActual(snapshot: DeviceSnapshot, prefix: string, wanId: string): ActualResource[] {
  const refs = refReader(snapshot, prefix);
  const resources: ActualResource[] = [
    { kind: KIND.settings, id: 'settings', key: null, props: { enable: snapshot.wireguardEnabled ? 'true' : 'false' } },
  ];
  for (const [list, kind] of LIST_KINDS) {
    const spec = KIND_SPECS[kind];
    if (!spec) continue;
    for (const obj of snapshot.lists[list]) {
      const props = decodeProps(spec, obj, refs);
      // Secrets are never carried in a reading: the tunnel key is compared by its public key,
      // the PSK by a fingerprint, of the key itself where the REST API shows it (sensitive
      // fields exposed, package 2.10.0+), else the one Meshplane keeps in the peer's descr.
      if (kind === KIND.tunnel) props.privatekey = `pub:${String(obj.publickey ?? '')}`;
      if (kind === KIND.peer) {
        props.presharedkey = `fp:${'presharedkey' in obj ? pskFingerprint(typeof obj.presharedkey === 'string' ? obj.presharedkey : '') : parseDescr(obj.descr, prefix).pskFingerprint}`;
      }
      resources.push({ kind, id: String(obj.id), key: keyFor(list, obj, snapshot, prefix, wanId), props });
    }
  }
  for (const area of AREA_ORDER) {
    resources.push({ kind: APPLY_KINDS[area], id: area, key: null, props: { applied: snapshot.applied[area] ? 'true' : 'false' } });
  }
  return resources;
}
