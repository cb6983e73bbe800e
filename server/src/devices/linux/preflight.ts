// What would make a deploy fail or surprise, found before anything is changed (pure).
import { deviceClashes, plannedRoutes, type DeviceNetworks } from '../../domain/device-clashes.js';
import type { ActualResource, DesiredResource } from '../../domain/plan.js';
import type { DesiredDeviceState, PreflightIssue } from '../driver.js';
import { FORWARDING_SYSCTL, KIND, splitMemberKey } from './names.js';

function linkIssues(desired: DesiredDeviceState, ifname: string, actual: readonly ActualResource[]): PreflightIssue[] {
  const link = actual.find((resource) => resource.kind === KIND.link && resource.id === ifname);
  const iface = desired.peer.interface;
  if (link && link.key === null) {
    const message = link.props.namespace === 'other'
      ? `a userspace WireGuard interface named ${ifname} runs in another network namespace (their UAPI sockets share /var/run/wireguard): choose another interface name`
      : `interface ${ifname} exists (${link.props.type ?? 'unknown'}${link.props.alias ? `, alias "${link.props.alias}"` : ''}) and is not Meshplane's for this WAN: it will not be touched, so nothing can be deployed under this name`;
    return [{ severity: 'ERROR', resource: `${KIND.link} ${ifname}`, message }];
  }
  if (iface.privateKey !== null) return [];
  if (!link) {
    return [{ severity: 'ERROR', resource: `${KIND.link} ${ifname}`, message: 'the peer brings its own key, so Meshplane cannot create its interface: create it on the host (with that key) first' }];
  }
  if (link.props['public-key'] !== iface.publicKey) {
    return [{ severity: 'ERROR', resource: `${KIND.link} ${ifname}`, message: `the interface's key (public ${link.props['public-key'] ?? '?'}) is not the peer's (${iface.publicKey}), and Meshplane does not hold the private key` }];
  }
  return [];
}

function routeIssues(resources: readonly DesiredResource[], actual: readonly ActualResource[]): PreflightIssue[] {
  const issues: PreflightIssue[] = [];
  for (const route of resources.filter((resource) => resource.kind === KIND.route)) {
    const routes = actual.filter((resource) => resource.kind === KIND.route && resource.id.startsWith(`${route.key} `));
    if (routes.some((resource) => resource.key !== null)) continue;
    const clash = routes.find((resource) => resource.props.metric === '0');
    if (clash) {
      issues.push({ severity: 'ERROR', resource: `${KIND.route} ${route.key}`, message: `the main table already has a route to ${route.key} (${clash.id}) that Meshplane does not manage: remove it or the overlay cannot route there` });
    }
  }
  return issues;
}

/** The host's own networks: addresses on links that are not this WAN's interface. */
function hostNetworks(ifname: string, actual: readonly ActualResource[]): DeviceNetworks {
  const addresses = actual
    .filter((resource) => resource.kind === KIND.address && resource.key === null)
    .map((resource) => splitMemberKey(resource.id))
    .filter((member) => member.ifname !== ifname)
    .map((member) => ({ interface: member.ifname, address: member.item }));
  // Interface names are checked against every link above; listen ports of links that are not
  // Meshplane's are not read (their keys and ports belong to whoever set them up).
  return { deviceWord: 'host', interfaces: [], addresses, listenPorts: [] };
}

function hostIssues(desired: DesiredDeviceState, actual: readonly ActualResource[], manageFirewall: boolean): PreflightIssue[] {
  const issues: PreflightIssue[] = [];
  const forwarding = actual.find((resource) => resource.kind === KIND.sysctl && resource.id === FORWARDING_SYSCTL);
  if (desired.peer.forwarding && forwarding?.props.value !== '1') {
    issues.push({ severity: 'WARNING', resource: `${KIND.sysctl} ${FORWARDING_SYSCTL}`, message: 'IPv4 forwarding will be turned on for the whole host (the peer routes for others); removing Meshplane\'s resources does not turn it off' });
  }
  const { peer } = desired;
  if (!manageFirewall && (peer.forwarding || peer.nat.length > 0 || peer.services.length > 0)) {
    issues.push({ severity: 'WARNING', resource: KIND.firewall, message: 'firewall management is off: forwarding accepts, NETMAP and DNAT rules for this peer must be configured on the host by hand' });
  }
  return issues;
}

export function linuxPreflight(
  desired: DesiredDeviceState,
  resources: readonly DesiredResource[],
  actual: readonly ActualResource[],
  manageFirewall: boolean,
): PreflightIssue[] {
  const link = resources.find((resource) => resource.kind === KIND.link);
  return [
    ...(link ? linkIssues(desired, link.key, actual) : []),
    ...routeIssues(resources, actual),
    ...deviceClashes(
      { interfaceName: link?.key ?? '', listenPort: desired.peer.interface.listenPort, addresses: desired.peer.interface.addresses, routes: plannedRoutes(desired.peer) },
      hostNetworks(link?.key ?? '', actual),
    ),
    ...hostIssues(desired, actual, manageFirewall),
  ];
}
