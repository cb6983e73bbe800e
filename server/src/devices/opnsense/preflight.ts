// Pure: what an OPNsense deploy would break or be refused for, found before any write.
import { deviceClashes, plannedRoutes } from '../../domain/device-clashes.js';
import { overlaps, tryParseCidr } from '../../domain/ip.js';
import type { ActualResource, DesiredResource } from '../../domain/plan.js';
import type { DesiredDeviceState, PreflightIssue } from '../driver.js';
import type { Capabilities } from './capabilities.js';
import { KIND } from './kinds.js';
import { opnSenseRefusal } from './mapping.js';

function issue(severity: PreflightIssue['severity'], resource: string, message: string): PreflightIssue {
  return { severity, resource, message };
}

function cidrs(list: string | undefined) {
  return (list ?? '').split(',').map((entry) => tryParseCidr(entry.trim())).filter((range) => range !== null);
}

export function preflightOpnSense(state: DesiredDeviceState, capabilities: Capabilities | null, desired: () => DesiredResource[], actual: readonly ActualResource[]): PreflightIssue[] {
  if (capabilities?.refusal) return [issue('ERROR', KIND.server, capabilities.refusal)];
  const refusal = opnSenseRefusal(state);
  if (refusal !== null) return [issue('ERROR', KIND.server, refusal)];
  const ours = desired();
  const issues: PreflightIssue[] = [];
  const unmanaged = (kind: string) => actual.filter((resource) => resource.kind === kind && resource.key === null);
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
    addresses: theirServers.filter((other) => other.props.enabled !== '0').flatMap((other) => (other.props.tunneladdress ?? '').split(',').filter(Boolean).map((address) => ({ interface: `instance ${other.props.name || other.id}`, address }))),
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
