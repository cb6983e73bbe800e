// Pure, vendor-neutral: what a device would refuse (or silently break) because it already
// has it. Each driver describes the device's own interfaces, connected networks and listen
// ports in these terms; the same rules then hold on RouterOS, pfSense and Linux, so a
// preflight that passes is a deploy the device accepts.
import { formatCidr, overlaps, tryParseAddress, tryParseAddressOrCidr, tryParseCidr } from './ip.js';

/** What the device has that Meshplane does not manage for this WAN. */
export interface DeviceNetworks {
  /** The device's word for itself in messages ("router", "firewall", "host"). */
  deviceWord: string;
  interfaces: ReadonlyArray<{ name: string; type: string }>;
  /** Addresses on interfaces, as "ip/prefix" (their connected networks). */
  addresses: ReadonlyArray<{ interface: string; address: string }>;
  listenPorts: ReadonlyArray<{ interface: string; port: number }>;
}

/** What a deploy puts on the device, as the driver names it there. */
export interface PlannedNetworking {
  interfaceName: string;
  listenPort: number | null;
  addresses: readonly string[];
  routes: ReadonlyArray<{ destination: string; viaName: string }>;
}

export interface DeviceClash {
  severity: 'ERROR';
  resource: string;
  message: string;
}

function ipOf(address: string): string {
  return address.split('/')[0] ?? address;
}

function rangeOf(address: string) {
  return tryParseAddressOrCidr(address);
}

export function deviceClashes(planned: PlannedNetworking, device: DeviceNetworks): DeviceClash[] {
  const clashes: DeviceClash[] = [];
  const word = device.deviceWord;
  for (const other of device.interfaces.filter((item) => item.name === planned.interfaceName)) {
    clashes.push({
      severity: 'ERROR', resource: `interface ${other.name}`,
      message: `the ${word} already has an interface named ${other.name} (${other.type}) that Meshplane does not manage: rename it or choose another interface name for the WAN`,
    });
  }
  if (planned.listenPort !== null) {
    for (const other of device.listenPorts.filter((item) => item.port === planned.listenPort)) {
      clashes.push({
        severity: 'ERROR', resource: `interface ${other.interface}`,
        message: `listen port ${planned.listenPort} is already used by WireGuard interface ${other.interface}: give this peer another listen port`,
      });
    }
  }
  const networks = device.addresses
    .map((item) => ({ ...item, range: rangeOf(item.address) }))
    .filter((item) => item.range !== null && tryParseAddress(ipOf(item.address)) !== null);
  for (const address of planned.addresses) {
    const mine = rangeOf(address);
    if (!mine) continue;
    for (const other of networks) {
      if (ipOf(other.address) === ipOf(address)) {
        clashes.push({ severity: 'ERROR', resource: `address ${other.address}`, message: `the tunnel address ${ipOf(address)} is already assigned to ${other.interface} on the ${word}` });
      } else if (overlaps(mine, other.range!)) {
        clashes.push({
          severity: 'ERROR', resource: `address ${other.address}`,
          message: `the tunnel network ${formatCidr(mine)} overlaps the ${word}'s own network ${formatCidr(other.range!)} on ${other.interface}: choose a WAN address pool that the ${word} does not use`,
        });
      }
    }
  }
  for (const route of planned.routes) {
    const destination = tryParseCidr(route.destination);
    // A default route never clashes: every connected network is more specific and wins.
    if (!destination || destination.prefix === 0) continue;
    for (const other of networks) {
      if (!overlaps(destination, other.range!)) continue;
      clashes.push({
        severity: 'ERROR', resource: `route ${route.destination}`,
        message: `the ${word}'s own network ${formatCidr(other.range!)} on ${other.interface} overlaps ${route.viaName}'s LAN ${route.destination}: add it as this peer's LAN and translate one of them`,
      });
    }
  }
  return clashes;
}

/** The routes of a compiled peer with the name of the peer each goes through. */
export function plannedRoutes(peer: { routes: ReadonlyArray<{ destination: string; via: string }>; peers: ReadonlyArray<{ peerId: string; name: string }> }) {
  const names = new Map(peer.peers.map((remote) => [remote.peerId, remote.name]));
  return peer.routes.map((route) => ({ destination: route.destination, viaName: names.get(route.via) ?? route.via }));
}
