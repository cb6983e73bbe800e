// Pure: translated LANs on OPNsense (design §2.1, §2.5). 1:1 NAT (IPv4 binat, host bits kept,
// NETMAP-like) and NPTv6 hang on an interface of the config, so the managed instance's wgN
// must be assigned: only 26.7+ has the assignment API, so only there are they written.
// Before: 24.1 has no 1:1 NAT API at all; 24.7–26.1 have it but cannot assign the device.
//
// The assignment is recognised by its `descr`, "mp_<8 hex>" of its tag (OPNsense allows only
// [a-z_0-9] there), never by its device alone: an interface the admin assigned by hand to a
// managed instance's device stays theirs. NAT entries carry the usual description tag and
// name the assignment as "@<its tag>"; the assignment names the instance as "@<its name>".
import { createHash } from 'node:crypto';
import { formatAddress, parseCidr } from '../../domain/ip.js';
import type { DesiredResource } from '../../domain/plan.js';
import type { DesiredDeviceState } from '../driver.js';
import type { Capabilities } from './capabilities.js';
import { KIND } from './kinds.js';
import type { OpnSenseReading, Row } from './reading.js';
import { formatKey, keyOfName, parseKey, ref, tagOf } from './tags.js';

/** After the rules (90001+), in the order of the peer's translations. */
const SEQUENCE = { onetoone: 90201, npt: 90301 } as const;

/** The kinds only written for translated LANs, in the order they are created. */
export const NAT_KINDS: readonly string[] = [KIND.assignment, KIND.onetoone, KIND.npt];

/** The assignment's key for a managed instance's key ("<wan>:tunnel:<n>" → "<wan>:iface:<n>"). */
export function assignmentKey(tunnelKey: string): string | null {
  const parsed = parseKey(tunnelKey);
  return parsed === null || parsed.type !== 'tunnel' ? null : formatKey({ ...parsed, type: 'iface' });
}

/** The `descr` of the assignment with that key. */
export function assignmentDescr(prefix: string, key: string): string {
  return `mp_${createHash('sha256').update(tagOf(prefix, key)).digest('hex').slice(0, 8)}`;
}

/** descr → key of the assignments the given instance keys would have. */
export function assignmentKeysByDescr(prefix: string, tunnelKeys: Iterable<string | null>): Map<string, string> {
  const byDescr = new Map<string, string>();
  for (const tunnelKey of tunnelKeys) {
    const key = tunnelKey === null ? null : assignmentKey(tunnelKey);
    if (key !== null) byDescr.set(assignmentDescr(prefix, key), key);
  }
  return byDescr;
}

function family(cidr: string): 4 | 6 {
  return parseCidr(cidr, 'translated').family;
}

export interface NatNames {
  prefix: string;
  tunnelKey: string;
  /** The instance's `name` ("@" + it is how the assignment refers to it). */
  instanceName: string;
  described(type: 'nat' | 'npt', name: string): { key: string; tag: string };
}

/** The assignment of the managed instance, then one binat per IPv4 translation and one NPTv6 per IPv6 one, all on it. */
export function natResources(desired: DesiredDeviceState, names: NatNames): DesiredResource[] {
  const { nat } = desired.peer;
  if (nat.length === 0) return [];
  const key = assignmentKey(names.tunnelKey) as string;
  const iface = ref(tagOf(names.prefix, key));
  const resources: DesiredResource[] = [{
    kind: KIND.assignment,
    key,
    props: { if: ref(names.instanceName), descr: assignmentDescr(names.prefix, key), enable: '1', lock: '0', type4: 'none', type6: 'none' },
  }];
  let v4 = 0;
  let v6 = 0;
  for (const netmap of nat) {
    if (family(netmap.translated) === 4) {
      const { key: natKey, tag } = names.described('nat', netmap.translated);
      resources.push({
        kind: KIND.onetoone,
        key: natKey,
        props: {
          description: tag, enabled: '1', interface: iface, type: 'binat', source_net: netmap.real, destination_net: 'any',
          external: formatAddress(parseCidr(netmap.translated, 'translated').start), sequence: String(SEQUENCE.onetoone + v4++),
        },
      });
    } else {
      const { key: nptKey, tag } = names.described('npt', netmap.translated);
      resources.push({
        kind: KIND.npt,
        key: nptKey,
        props: { description: tag, enabled: '1', interface: iface, source_net: netmap.real.toLowerCase(), destination_net: netmap.translated.toLowerCase(), sequence: String(SEQUENCE.npt + v6++) },
      });
    }
  }
  return resources;
}

function versionText(capabilities: Capabilities): string {
  return capabilities.version === null ? `OPNsense ${capabilities.atLeast} (or a later release before 26.7)` : `OPNsense ${capabilities.version}`;
}

/**
 * Why this firewall cannot carry the peer's translated LANs, or null (none, 26.7+, or the
 * version not known yet: apply probes it first).
 */
export function natRefusal(desired: DesiredDeviceState, capabilities: Capabilities | null): string | null {
  const { peer } = desired;
  if (peer.nat.length === 0 || capabilities === null || capabilities.assignment) return null;
  const listed = peer.nat.map((netmap) => `${netmap.real} as ${netmap.translated}`).join(', ');
  const v4 = peer.nat.some((netmap) => family(netmap.translated) === 4);
  if (v4 && !capabilities.oneToOne) {
    return `impossible: ${peer.name} shows its LAN under translated addresses (${listed}), and ${versionText(capabilities)} has no 1:1 NAT API before 24.7. Upgrade the firewall to 26.7 or later (Meshplane then assigns the WireGuard device and writes the 1:1 NAT), remove the translation (natCidr), or use a Linux, RouterOS or pfSense device for this peer`;
  }
  return `${peer.name} shows its LAN under translated addresses (${listed}): on ${versionText(capabilities)} 1:1 NAT and NPTv6 need the WireGuard device assigned as an interface (Interfaces › Assignments), and before 26.7 the API can neither assign it nor read the assignments. Upgrade the firewall to 26.7 or later, where Meshplane assigns the instance's wg device itself and writes the NAT on it; or remove the translation (natCidr) from this peer's LAN`;
}

/**
 * How a reading names the NAT items' references: the managed assignments (by descr, for the
 * instances read and any further instance keys, e.g. the desired one whose instance is gone),
 * an assignment's `if` as "@<instance name>" when it is a Meshplane instance's wgN, and a NAT
 * entry's `interface` as "@<assignment tag>" when it is a managed assignment's optN.
 */
export function natReferences(reading: Pick<OpnSenseReading, 'servers' | 'objects'>, prefix: string, moreTunnelKeys: readonly string[] = []) {
  const byDescr = assignmentKeysByDescr(prefix, [...reading.servers.map((server) => keyOfName(server.name, prefix)), ...moreTunnelKeys]);
  const keyOf = (row: Row): string | null => byDescr.get(row.descr ?? '') ?? null;
  const instanceByDevice = new Map(reading.servers.filter((server) => keyOfName(server.name, prefix) !== null && (server.instance ?? '') !== '').map((server) => [`wg${server.instance}`, server.name as string]));
  const assignmentByIdent = new Map((reading.objects.get(KIND.assignment) ?? []).flatMap((row) => {
    const key = keyOf(row);
    return key === null ? [] : [[row.uuid as string, key] as const];
  }));
  return {
    assignmentKeyOf: keyOf,
    /** A read prop value as plan props hold it. */
    readValue(kind: string, prop: string, value: string): string {
      if (kind === KIND.assignment && prop === 'if') {
        const name = instanceByDevice.get(value);
        return name === undefined ? value : ref(name);
      }
      if ((kind === KIND.onetoone || kind === KIND.npt) && prop === 'interface') {
        const key = assignmentByIdent.get(value);
        return key === undefined ? value : ref(tagOf(prefix, key));
      }
      return value;
    },
  };
}

/** The addresses of the interfaces in an assignment reading that are not Meshplane's ("ip/prefix", IPv4 and IPv6). */
export function interfaceAddresses(reading: Pick<OpnSenseReading, 'servers' | 'objects'>, prefix: string): Array<{ interface: string; address: string }> {
  const nat = natReferences(reading, prefix);
  return (reading.objects.get(KIND.assignment) ?? []).filter((row) => nat.assignmentKeyOf(row) === null).flatMap((row) => {
    const name = `${row.uuid}${row.descr ? ` (${row.descr})` : ''}`;
    return [[row.ipaddr, row.subnet], [row.ipaddrv6, row.subnetv6]]
      .filter(([address, length]) => address && length && /^\d+$/.test(length))
      .map(([address, length]) => ({ interface: name, address: `${address}/${length}` }));
  });
}

/** The description/descr-tagged kinds a reading asks this firewall for. */
export function readableKinds(capabilities: Capabilities | null): string[] {
  return capabilities?.assignment ? [KIND.rule, ...NAT_KINDS] : [KIND.rule];
}
