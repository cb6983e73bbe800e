// Pure: what would go wrong before anything is written. Errors block the deploy (a name,
// port or address another configuration already owns); warnings tell the operator what
// Meshplane will adjust (a competing static route is demoted) or cannot guarantee.
import { overlaps, tryParseIpv4, tryParseIpv4Cidr } from '../../domain/ipv4.js';
import type { ActualResource } from '../../domain/plan.js';
import type { DesiredDeviceState, PreflightIssue } from '../driver.js';
import { MENU } from './menus.js';
import { routeDemotions } from './reconcile.js';
import { isTrue } from './values.js';

function unmanaged(actual: readonly ActualResource[], kind: string): ActualResource[] {
  return actual.filter((item) => item.kind === kind && item.key === null && !isTrue(item.props.dynamic));
}

function ipOf(address: string | undefined): string {
  return (address ?? '').split('/')[0] ?? '';
}

function interfaceIssues(desired: DesiredDeviceState, actual: readonly ActualResource[]): PreflightIssue[] {
  const { name, listenPort } = desired.peer.interface;
  const issues: PreflightIssue[] = [];
  const ours = actual.find((item) => item.kind === MENU.interface && item.key !== null);
  for (const other of actual.filter((item) => item.kind === MENU.interface && item !== ours)) {
    if (other.props.name === name && other.key === null) {
      issues.push({ severity: 'ERROR', resource: `${MENU.interface} ${name}`, message: `a WireGuard interface named ${name} already exists and is not managed by Meshplane; rename it or choose another interface name for the WAN` });
    }
    if (listenPort !== null && other.props['listen-port'] === String(listenPort)) {
      issues.push({ severity: 'ERROR', resource: `${MENU.interface} ${other.props.name ?? other.id}`, message: `listen port ${listenPort} is already used by WireGuard interface ${other.props.name ?? other.id}` });
    }
  }
  return issues;
}

function addressIssues(desired: DesiredDeviceState, actual: readonly ActualResource[]): PreflightIssue[] {
  const issues: PreflightIssue[] = [];
  const wanted = desired.peer.interface.addresses;
  for (const other of unmanaged(actual, MENU.address)) {
    const otherAddress = other.props.address ?? '';
    for (const address of wanted) {
      if (ipOf(otherAddress) === ipOf(address)) {
        issues.push({ severity: 'ERROR', resource: `${MENU.address} ${otherAddress}`, message: `${ipOf(address)} is already assigned to ${other.props.interface ?? 'another interface'}` });
        continue;
      }
      const mine = tryParseIpv4Cidr(address);
      const theirs = tryParseIpv4Cidr(otherAddress.includes('/') ? otherAddress : `${otherAddress}/32`);
      if (mine && theirs && other.props.interface !== desired.peer.interface.name && tryParseIpv4(ipOf(otherAddress)) !== null && overlaps(mine, theirs)) {
        issues.push({ severity: 'WARNING', resource: `${MENU.address} ${otherAddress}`, message: `${otherAddress} on ${other.props.interface ?? 'another interface'} overlaps the overlay address ${address}` });
      }
    }
  }
  return issues;
}

function peerIssues(desired: DesiredDeviceState, actual: readonly ActualResource[]): PreflightIssue[] {
  const keys = new Set(desired.peer.peers.map((remote) => remote.publicKey));
  return unmanaged(actual, MENU.peers)
    .filter((other) => other.props.interface === desired.peer.interface.name && keys.has(other.props['public-key'] ?? ''))
    .map((other) => ({ severity: 'ERROR' as const, resource: `${MENU.peers} ${other.id}`, message: `an unmanaged peer on ${desired.peer.interface.name} already uses public key ${other.props['public-key']}` }));
}

function routeIssues(desired: DesiredDeviceState, actual: readonly ActualResource[]): PreflightIssue[] {
  return routeDemotions(desired, actual).map((adjustment) => ({ severity: 'WARNING' as const, resource: `${MENU.route} ${adjustment.id}`, message: adjustment.reason }));
}

function userIssues(desired: DesiredDeviceState, actual: readonly ActualResource[], apiUser: string | null): PreflightIssue[] {
  if (apiUser === null || desired.apiAllowedAddresses === undefined) return [];
  const user = actual.find((item) => item.kind === MENU.user && item.props.name === apiUser);
  if (!user) return [{ severity: 'WARNING', resource: `${MENU.user} ${apiUser}`, message: `API user ${apiUser} not found; its allowed addresses cannot be kept` }];
  return [];
}

export function preflightRouterOs(desired: DesiredDeviceState, actual: readonly ActualResource[], apiUser: string | null): PreflightIssue[] {
  return [
    ...interfaceIssues(desired, actual),
    ...addressIssues(desired, actual),
    ...peerIssues(desired, actual),
    ...routeIssues(desired, actual),
    ...userIssues(desired, actual, apiUser),
  ];
}
