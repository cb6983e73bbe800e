// Pure: what would go wrong before anything is written. Errors block the deploy (a name,
// port or address another configuration already owns); warnings tell the operator what
// Meshplane will adjust (a competing static route is demoted) or cannot guarantee.
import { deviceClashes, plannedRoutes, type DeviceNetworks } from '../../domain/device-clashes.js';
import type { ActualResource } from '../../domain/plan.js';
import { familiesOf } from '../../domain/compiled.js';
import { routerOsInterfaces } from '../../domain/render/routeros-routing.js';
import type { DesiredDeviceState, PreflightIssue } from '../driver.js';
import { MENU } from './menus.js';
import { routeDemotions } from './reconcile.js';
import { isTrue } from './values.js';

function unmanaged(actual: readonly ActualResource[], kind: string): ActualResource[] {
  return actual.filter((item) => item.kind === kind && item.key === null && !isTrue(item.props.dynamic));
}

/** The router's own interfaces, connected networks and listen ports that are not this WAN's. */
function routerNetworks(desired: DesiredDeviceState, actual: readonly ActualResource[]): DeviceNetworks {
  const ours = new Set(actual.filter((item) => item.kind === MENU.interface && item.key !== null).map((item) => item.props.name ?? ''));
  const tunnels = actual.filter((item) => item.kind === MENU.interface && item.key === null);
  const addresses = actual
    .filter((item) => (item.kind === MENU.address || item.kind === MENU.address6) && item.key === null && !ours.has(item.props.interface ?? ''))
    .map((item) => ({ interface: item.props.interface ?? 'another interface', address: item.props.address ?? '' }));
  const named = new Set(tunnels.map((item) => item.props.name ?? ''));
  const others = [...new Set(addresses.map((item) => item.interface))].filter((name) => !named.has(name) && !ours.has(name));
  return {
    deviceWord: 'router',
    interfaces: [...tunnels.map((item) => ({ name: item.props.name ?? item.id, type: 'WireGuard' })), ...others.map((name) => ({ name, type: 'with an address' }))],
    addresses,
    listenPorts: tunnels.filter((item) => item.props['listen-port']).map((item) => ({ interface: item.props.name ?? item.id, port: Number(item.props['listen-port']) })),
  };
}

/** Every interface the deploy creates (one, or one per hub link with redundant hubs). */
function interfaces(desired: DesiredDeviceState) {
  return routerOsInterfaces(desired.peer, desired.overlay.wan.listenPort);
}

function networkIssues(desired: DesiredDeviceState, actual: readonly ActualResource[]): PreflightIssue[] {
  const networks = routerNetworks(desired, actual);
  return interfaces(desired).flatMap((view) => {
    const { name, listenPort, addresses } = view.interface;
    return deviceClashes({ interfaceName: name, listenPort, addresses, routes: plannedRoutes(view) }, networks);
  });
}

function peerIssues(desired: DesiredDeviceState, actual: readonly ActualResource[]): PreflightIssue[] {
  return interfaces(desired).flatMap((view) => {
    const keys = new Set(view.peers.map((remote) => remote.publicKey));
    return unmanaged(actual, MENU.peers)
      .filter((other) => other.props.interface === view.interface.name && keys.has(other.props['public-key'] ?? ''))
      .map((other) => ({ severity: 'ERROR' as const, resource: `${MENU.peers} ${other.id}`, message: `an unmanaged peer on ${view.interface.name} already uses public key ${other.props['public-key']}` }));
  });
}

/** A BGP connection Meshplane does not manage to a neighbour's tunnel IP would run a second session to it. */
function bgpIssues(desired: DesiredDeviceState, actual: readonly ActualResource[]): PreflightIssue[] {
  const neighbours = new Set((desired.peer.routing?.protocol === 'bgp' ? desired.peer.routing.neighbours : []).map((neighbour) => neighbour.address));
  return unmanaged(actual, MENU.bgp)
    .filter((other) => neighbours.has((other.props['remote.address'] ?? '').replace(/\/32$/, '')))
    .map((other) => ({ severity: 'ERROR' as const, resource: `${MENU.bgp} ${other.id}`, message: `an unmanaged BGP connection ${other.props.name ?? other.id} already peers with ${other.props['remote.address']}, a neighbour of this WAN` }));
}

function routeIssues(desired: DesiredDeviceState, actual: readonly ActualResource[]): PreflightIssue[] {
  return routeDemotions(desired, actual).map((adjustment) => ({ severity: 'WARNING' as const, resource: `${adjustment.kind} ${adjustment.id}`, message: adjustment.reason }));
}

/**
 * A dual-stack peer needs IPv6 on, and IPv6 forwarding where it routes for others (LANs,
 * services, relayed peers). Meshplane does not change these router-wide settings; it says so.
 */
function ipv6SettingsIssues(desired: DesiredDeviceState, actual: readonly ActualResource[]): PreflightIssue[] {
  const settings = actual.find((item) => item.kind === MENU.ipv6Settings);
  if (!settings || !familiesOf(desired.peer).includes(6)) return [];
  const resource = MENU.ipv6Settings;
  if (isTrue(settings.props['disable-ipv6'])) {
    return [{ severity: 'WARNING', resource, message: 'IPv6 is disabled on this router (/ipv6/settings disable-ipv6=yes): the IPv6 half of this dual-stack WAN will not work until it is enabled' }];
  }
  if (desired.peer.forwarding && settings.props.forward !== undefined && !isTrue(settings.props.forward)) {
    return [{ severity: 'WARNING', resource, message: 'IPv6 forwarding is off on this router (/ipv6/settings forward=no): IPv6 traffic to and from its LANs and services will not pass until it is turned on' }];
  }
  return [];
}

function userIssues(desired: DesiredDeviceState, actual: readonly ActualResource[], apiUser: string | null): PreflightIssue[] {
  if (apiUser === null || desired.apiAllowedAddresses === undefined) return [];
  const user = actual.find((item) => item.kind === MENU.user && item.props.name === apiUser);
  if (!user) return [{ severity: 'WARNING', resource: `${MENU.user} ${apiUser}`, message: `API user ${apiUser} not found; its allowed addresses cannot be kept` }];
  return [];
}

export function preflightRouterOs(desired: DesiredDeviceState, actual: readonly ActualResource[], apiUser: string | null): PreflightIssue[] {
  return [
    ...networkIssues(desired, actual),
    ...peerIssues(desired, actual),
    ...bgpIssues(desired, actual),
    ...routeIssues(desired, actual),
    ...ipv6SettingsIssues(desired, actual),
    ...userIssues(desired, actual, apiUser),
  ];
}
