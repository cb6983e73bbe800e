// Pure: what an OPNsense deploy would break or be refused for, found before any write.
import { deviceClashes, plannedRoutes } from '../../domain/device-clashes.js';
import { contains, hostRange, overlaps, parseCidr, tryParseAddress, tryParseAddressOrCidr, tryParseCidr } from '../../domain/ip.js';
import type { ActualResource, DesiredResource } from '../../domain/plan.js';
import type { DesiredDeviceState, PreflightIssue } from '../driver.js';
import type { Capabilities } from './capabilities.js';
import { KIND } from './kinds.js';
import { opnSenseRefusal } from './mapping.js';
import { natRefusal } from './nat.js';

function issue(severity: PreflightIssue['severity'], resource: string, message: string): PreflightIssue {
  return { severity, resource, message };
}

function cidrs(list: string | undefined) {
  return (list ?? '').split(',').map((entry) => tryParseCidr(entry.trim())).filter((range) => range !== null);
}

/** What a reading learnt besides resources. */
export interface PreflightContext {
  /** NAT kinds the API key may not read: kind → the 403 naming the privilege. */
  unreadable: ReadonlyMap<string, string>;
  /** The address Meshplane reaches the firewall from (null: unknown). */
  managementAddress: string | null;
  /** Addresses ("ip/prefix") of the interfaces the admin assigned (read from 26.7 on): their networks are the firewall's own. */
  interfaceAddresses: ReadonlyArray<{ interface: string; address: string }>;
}

const NO_CONTEXT: PreflightContext = { unreadable: new Map(), managementAddress: null, interfaceAddresses: [] };

function isLoopback(address: string): boolean {
  const range = tryParseAddress(address);
  if (range === null) return true;
  return address === '::1' || contains(parseCidr('127.0.0.0/8'), hostRange(range));
}

/**
 * A remote's allowed IPs become kernel routes into the tunnel (disableroutes=0): one covering
 * the address Meshplane reaches the firewall from sends its replies into the tunnel, and no
 * filter rollback undoes a route. A /0 covers every address. Allowed IPs inside the instance's
 * own subnets are not routed (OPNsense skips them).
 */
function managementRouteIssues(state: DesiredDeviceState, context: PreflightContext): PreflightIssue[] {
  const own = state.peer.interface.addresses.map((address) => tryParseCidr(address)).filter((range) => range !== null);
  const sources = [
    ...(context.managementAddress !== null && !isLoopback(context.managementAddress) ? [{ text: `${context.managementAddress}, the address Meshplane reaches this firewall from`, range: tryParseAddressOrCidr(context.managementAddress) }] : []),
    ...(state.apiAllowedAddresses ?? []).map((entry) => ({ text: `${entry}, an address the API is used from`, range: tryParseAddressOrCidr(entry) })),
  ].filter((source) => source.range !== null);
  const issues: PreflightIssue[] = [];
  for (const remote of state.peer.peers) {
    for (const allowed of remote.allowedIps) {
      const range = tryParseCidr(allowed);
      if (range === null || own.some((subnet) => contains(subnet, range))) continue;
      const covered = range.prefix === 0 ? 'every address, the one Meshplane manages this firewall from included' : sources.find((source) => overlaps(range, source.range!))?.text;
      if (covered === undefined) continue;
      issues.push(issue('ERROR', `${KIND.client} ${remote.peerId}`, `the allowed IPs of ${remote.peerId} include ${allowed}, which covers ${covered}: OPNsense would route it into the tunnel and cut Meshplane off from the firewall, and no firewall rollback undoes a route. Narrow the allowed IPs (routes to the peer's LANs, not a default route) or manage the firewall from another address`));
    }
  }
  return issues;
}

export function preflightOpnSense(state: DesiredDeviceState, capabilities: Capabilities | null, desired: () => DesiredResource[], actual: readonly ActualResource[], context: PreflightContext = NO_CONTEXT): PreflightIssue[] {
  if (capabilities?.refusal) return [issue('ERROR', KIND.server, capabilities.refusal)];
  const refusal = opnSenseRefusal(state);
  if (refusal !== null) return [issue('ERROR', KIND.server, refusal)];
  const natRefused = natRefusal(state, capabilities);
  if (natRefused !== null) return [issue('ERROR', KIND.onetoone, natRefused)];
  const ours = desired();
  const issues: PreflightIssue[] = [...managementRouteIssues(state, context)];
  if (state.peer.nat.length > 0) {
    for (const [kind, message] of context.unreadable) issues.push(issue('ERROR', kind, `the translated LANs of ${state.peer.name} need ${kind}, which this API key may not read: ${message}`));
  }
  const unmanaged = (kind: string) => actual.filter((resource) => resource.kind === kind && resource.key === null);
  // OPNsense assigns a device once ("Device already assigned."): an interface the admin made of it stays theirs.
  for (const assignment of ours.filter((resource) => resource.kind === KIND.assignment)) {
    const theirs = unmanaged(KIND.assignment).find((other) => other.props.if === assignment.props.if);
    if (theirs) {
      issues.push({ ...issue('ERROR', `${KIND.assignment} ${theirs.id}`, `the translated LANs need the WireGuard device of ${assignment.props.if?.slice(1)} assigned by Meshplane, but it is already assigned as ${theirs.id}${theirs.props.descr ? ` (${theirs.props.descr})` : ''}, which Meshplane does not manage: remove that assignment in Interfaces › Assignments (Meshplane adds its own) or remove the translation`), deviceRef: theirs.id });
    }
  }
  const server = ours.find((resource) => resource.kind === KIND.server);
  const managedServer = server && actual.find((resource) => resource.kind === KIND.server && resource.key === server.key);

  if (state.peer.interface.privateKey === null && managedServer?.props.privatekey !== `pub:${state.peer.interface.publicKey}`) {
    issues.push(issue('ERROR', KIND.server, 'bring-your-own key: OPNsense requires the private key of an instance ("A private key is required."), and no instance with this public key is managed here'));
  }
  const theirServers = unmanaged(KIND.server);
  issues.push(...deviceClashes({
    interfaceName: server?.props.name ?? '',
    listenPort: state.peer.interface.listenPort,
    addresses: state.peer.interface.addresses,
    routes: plannedRoutes(state.peer),
  }, {
    deviceWord: 'firewall',
    interfaces: [],
    addresses: [
      ...theirServers.filter((other) => other.props.enabled !== '0').flatMap((other) => (other.props.tunneladdress ?? '').split(',').filter(Boolean).map((address) => ({ interface: `instance ${other.props.name || other.id}`, address }))),
      ...context.interfaceAddresses,
    ],
    listenPorts: theirServers.filter((other) => other.props.port && other.props.enabled !== '0').map((other) => ({ interface: `${other.props.name || other.id} (not managed by Meshplane)`, port: Number(other.props.port) })),
  }));

  const theirClients = unmanaged(KIND.client);
  for (const peer of ours.filter((resource) => resource.kind === KIND.client)) {
    // 24.1.3+: pubkey + serveraddress + serverport is unique ("Public keys should be unique.").
    const clash = theirClients.find((other) => other.props.pubkey === peer.props.pubkey && other.props.serveraddress === peer.props.serveraddress && other.props.serverport === peer.props.serverport);
    if (clash) {
      issues.push({ ...issue('ERROR', `${KIND.client} ${clash.id}`, `the public key of ${peer.key} is already configured on peer ${clash.props.name || clash.id} with the same endpoint; OPNsense requires peer keys to be unique`), deviceRef: clash.id });
    }
    // Another instance's enabled peer with overlapping allowed IPs: both instances would install
    // a kernel route to the same destination.
    const mine = cidrs(peer.props.tunneladdress);
    const overlap = theirClients.find((other) => other.props.enabled !== '0' && other.props.servers !== '' && cidrs(other.props.tunneladdress).some((range) => mine.some((own) => overlaps(own, range))));
    if (overlap) {
      issues.push({ ...issue('ERROR', `${KIND.client} ${overlap.id}`, `the allowed IPs of ${peer.key} (${peer.props.tunneladdress}) overlap those of peer ${overlap.props.name || overlap.id} (${overlap.props.tunneladdress}), which is attached to an instance Meshplane does not manage: both would route the same addresses`), deviceRef: overlap.id });
    }
  }
  return issues;
}
