// What would make a deploy fail or surprise, found before anything is changed (pure).
import { deviceClashes, plannedRoutes, type DeviceNetworks } from '../../domain/device-clashes.js';
import { interfacesOf, type CompiledInterface } from '../../domain/compiled.js';
import type { ActualResource, DesiredResource } from '../../domain/plan.js';
import type { DesiredDeviceState, PreflightIssue } from '../driver.js';
import { MAX_SOCKET_PATH } from './bird.js';
import { DEFAULT_ROUTE_METRIC, familiesOf, familyOfValue, FORWARDING_SYSCTLS, isMeshplaneAlias, KIND, splitMemberKey, type Family } from './names.js';
import { parseAddressItem, runsBird } from './resources.js';

function linkIssues(iface: CompiledInterface, actual: readonly ActualResource[], commentPrefix: string): PreflightIssue[] {
  const ifname = iface.name;
  const link = actual.find((resource) => resource.kind === KIND.link && resource.id === ifname);
  if (link && link.key === null) {
    const handMade = link.props.type === 'wireguard' && link.props.namespace === undefined && !isMeshplaneAlias(link.props.alias || null, commentPrefix);
    const message = link.props.namespace === 'other'
      ? `a userspace WireGuard interface named ${ifname} runs in another network namespace (their UAPI sockets share /var/run/wireguard): choose another interface name`
      : handMade
        ? `WireGuard interface ${ifname} exists and was made by hand: adopt it first (Adopt on device) to take it over in place with its peers, or choose another interface name`
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
    // Ours would get the family's default metric: a route there already makes `ip route add` fail.
    const metric = String(DEFAULT_ROUTE_METRIC[familyOfValue(route.key)]);
    const clash = routes.find((resource) => resource.props.metric === metric);
    if (clash) {
      issues.push({ severity: 'ERROR', resource: `${KIND.route} ${route.key}`, message: `the main table already has a route to ${route.key} (${clash.id}) that Meshplane does not manage: remove it or the overlay cannot route there` });
    }
  }
  return issues;
}

/** The host's own networks: addresses on links that are not this WAN's interfaces. */
function hostNetworks(ifnames: ReadonlySet<string>, actual: readonly ActualResource[]): DeviceNetworks {
  const addresses = actual
    .filter((resource) => resource.kind === KIND.address && resource.key === null)
    .map((resource) => splitMemberKey(resource.id))
    .filter((member) => !ifnames.has(member.ifname))
    .map((member) => ({ interface: member.ifname, address: parseAddressItem(member.item).cidr }));
  // Interface names are checked against every link above; listen ports of links that are not
  // Meshplane's are not read (their keys and ports belong to whoever set them up).
  return { deviceWord: 'host', interfaces: [], addresses, listenPorts: [] };
}

const FORWARDING_WARNING: Readonly<Record<Family, string>> = {
  4: 'IPv4 forwarding will be turned on for the whole host (the peer routes for others); removing Meshplane\'s resources does not turn it off',
  // The kernel stops taking router advertisements on interfaces with accept_ra=1 once it forwards.
  6: 'IPv6 forwarding will be turned on for the whole host (the peer routes for others); removing Meshplane\'s resources does not turn it off. '
    + 'An uplink configured by router advertisements then needs accept_ra=2 (sysctl net.ipv6.conf.<uplink>.accept_ra=2) to keep its default route',
};

function hostIssues(desired: DesiredDeviceState, actual: readonly ActualResource[], manageFirewall: boolean): PreflightIssue[] {
  const issues: PreflightIssue[] = [];
  const families = familiesOf(desired.peer);
  for (const family of families) {
    const sysctl = FORWARDING_SYSCTLS[family];
    const forwarding = actual.find((resource) => resource.kind === KIND.sysctl && resource.id === sysctl);
    if (desired.peer.forwarding && forwarding?.props.value !== '1') {
      issues.push({ severity: 'WARNING', resource: `${KIND.sysctl} ${sysctl}`, message: FORWARDING_WARNING[family] });
    }
  }
  const { peer } = desired;
  if (!manageFirewall && (peer.forwarding || peer.nat.length > 0 || peer.services.length > 0)) {
    const tools = families.includes(6) ? 'iptables and ip6tables' : 'iptables';
    issues.push({ severity: 'WARNING', resource: KIND.firewall, message: `firewall management is off: forwarding accepts, NETMAP and DNAT rules for this peer must be configured on the host by hand (${tools})` });
  }
  return issues;
}

/** A peer with redundant hubs routes through BIRD: it must be installed (BIRD 2) before anything changes. */
function birdIssues(desired: DesiredDeviceState, resources: readonly DesiredResource[], actual: readonly ActualResource[]): PreflightIssue[] {
  const routing = desired.peer.routing;
  if (routing === undefined) return [];
  if (!runsBird(desired)) {
    return [{ severity: 'ERROR', resource: KIND.bird, message: `peer ${desired.peer.name} is marked as not running BGP (gateway monitoring), which the Linux driver does not provide: a Linux peer of a WAN with redundant hubs runs BIRD` }];
  }
  const binary = actual.find((resource) => resource.kind === KIND.birdBinary);
  const issues: PreflightIssue[] = [];
  const resource = `${KIND.bird} ${binary?.id ?? 'bird'}`;
  if (!binary || binary.props.error !== undefined) {
    issues.push({ severity: 'ERROR', resource, message: `this peer's WAN has redundant hubs, so its routes come from BIRD 2, which cannot be run here: ${binary?.props.error ?? 'not checked'}` });
  } else if (!/^([2-9]|\d{2,})\./.test(binary.props.version ?? '')) {
    issues.push({ severity: 'ERROR', resource, message: `BIRD ${binary.props.version ?? '(unknown)'} is installed; the rendered configuration needs BIRD 2` });
  }
  if (binary?.props.birdc === 'no') {
    issues.push({ severity: 'ERROR', resource, message: 'birdc (which reconfigures and stops BIRD) is not installed or not on PATH (apt-get install bird2)' });
  }
  const config = resources.find((item) => item.kind === KIND.bird)?.key;
  if (config !== undefined && Buffer.byteLength(config.replace(/bird\.conf$/, 'bird.ctl')) > MAX_SOCKET_PATH) {
    issues.push({ severity: 'ERROR', resource, message: `BIRD's control socket next to ${config} would be longer than ${MAX_SOCKET_PATH} bytes: give the driver a shorter state directory` });
  }
  return issues;
}

export function linuxPreflight(
  desired: DesiredDeviceState,
  resources: readonly DesiredResource[],
  actual: readonly ActualResource[],
  manageFirewall: boolean,
): PreflightIssue[] {
  const interfaces = interfacesOf(desired.peer);
  const ifnames = new Set(interfaces.map((view) => view.interface.name));
  const networks = hostNetworks(ifnames, actual);
  const issues = [
    ...interfaces.flatMap((view) => linkIssues(view.interface, actual, desired.commentPrefix)),
    ...routeIssues(resources, actual),
    ...interfaces.flatMap((view) => deviceClashes(
      { interfaceName: view.interface.name, listenPort: view.interface.listenPort, addresses: view.interface.addresses, routes: plannedRoutes(view) },
      networks,
    )),
    ...birdIssues(desired, resources, actual),
    ...hostIssues(desired, actual, manageFirewall),
  ];
  // A spoke's tunnel address sits on each of its interfaces: one clash, said once.
  const seen = new Set<string>();
  return issues.filter((issue) => {
    const id = `${issue.resource}\u0000${issue.message}`;
    if (seen.has(id)) return false;
    seen.add(id);
    return true;
  });
}
