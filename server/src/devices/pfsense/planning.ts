// Pure: plan and preflight for pfSense on top of the vendor-neutral planner.
import { publicKeyFromPrivate } from '../../domain/keys.js';
import { diffResources, type ActualResource, type Adjustment, type DesiredResource, type Plan } from '../../domain/plan.js';
import type { DesiredDeviceState, PreflightIssue } from '../driver.js';
import { APPLY_KINDS, AREA_ORDER, KIND, KIND_ORDER } from './kinds.js';
import { pskFingerprint } from './tags.js';

/** Compares secrets the device never echoes through what it does show (public key, PSK fingerprint). */
export function normalizeProp(kind: string, prop: string, value: string): string {
  if (kind === KIND.tunnel && prop === 'privatekey') {
    if (value.startsWith('pub:')) return value.slice(4);
    try {
      return publicKeyFromPrivate(value);
    } catch {
      return value;
    }
  }
  if (kind === KIND.peer && prop === 'presharedkey') return value.startsWith('fp:') ? value.slice(3) : pskFingerprint(value);
  return value;
}

/** Device-wide switches the plan may flip, each with its reason. */
export function adjustments(actual: readonly ActualResource[]): Adjustment[] {
  const result: Adjustment[] = [];
  const settings = actual.find((resource) => resource.kind === KIND.settings);
  if (settings) {
    result.push({ kind: KIND.settings, id: settings.id, changes: { enable: 'true' }, reason: 'the WireGuard service must be enabled for tunnels to run' });
  }
  for (const area of AREA_ORDER) {
    const pending = actual.find((resource) => resource.kind === APPLY_KINDS[area]);
    if (pending) {
      result.push({ kind: APPLY_KINDS[area], id: area, changes: { applied: 'true' }, reason: `${area} changes were written but never applied (an interrupted deploy, or pending edits)` });
    }
  }
  return result;
}

export function planPfSense(desired: readonly DesiredResource[], actual: readonly ActualResource[]): Plan {
  return diffResources(desired, actual, { kindOrder: KIND_ORDER, normalize: normalizeProp, adjustments: adjustments(actual) });
}

export function clearPfSensePlan(actual: readonly ActualResource[]): Plan {
  return diffResources([], actual, { kindOrder: KIND_ORDER });
}

function issue(severity: PreflightIssue['severity'], resource: string, message: string): PreflightIssue {
  return { severity, resource, message };
}

export function preflightPfSense(state: DesiredDeviceState, desired: readonly DesiredResource[], actual: readonly ActualResource[]): PreflightIssue[] {
  const issues: PreflightIssue[] = [];
  const unmanaged = (kind: string) => actual.filter((resource) => resource.kind === kind && resource.key === null);
  const ours = (kind: string) => desired.filter((resource) => resource.kind === kind);
  const tunnel = ours(KIND.tunnel)[0];
  const managedTunnel = tunnel && actual.find((resource) => resource.kind === KIND.tunnel && resource.key === tunnel.key);

  if (state.peer.interface.privateKey === null && managedTunnel?.props.privatekey !== `pub:${state.peer.interface.publicKey}`) {
    issues.push(issue('ERROR', KIND.tunnel, 'bring-your-own key: pfSense needs the private key to create or re-key a tunnel, and no tunnel with this public key is managed here'));
  }
  const port = tunnel?.props.listenport;
  const portUser = port === undefined ? undefined : unmanaged(KIND.tunnel).find((resource) => resource.props.listenport === port);
  if (portUser) issues.push(issue('ERROR', KIND.tunnel, `listen port ${port} is used by ${portUser.props.name || 'another tunnel'} (${portUser.props.descr || 'no description'}), which Meshplane does not manage`));

  for (const peer of ours(KIND.peer)) {
    const clash = actual.find((resource) => resource.kind === KIND.peer && resource.key !== peer.key && resource.props.publickey === peer.props.publickey);
    if (clash) issues.push(issue('ERROR', KIND.peer, `public key of ${peer.key} is already configured on peer ${clash.id} (${clash.props.descr || 'no description'}); pfSense requires peer keys to be unique`));
  }
  for (const iface of ours(KIND.iface)) {
    const clash = unmanaged(KIND.iface).find((resource) => (resource.props.descr ?? '').toLowerCase() === (iface.props.descr ?? '').toLowerCase());
    if (clash) issues.push(issue('ERROR', KIND.iface, `interface name ${iface.props.descr} is taken by ${clash.id}`));
  }
  for (const route of ours(KIND.route)) {
    const clash = unmanaged(KIND.route).find((resource) => resource.props.network === route.props.network);
    if (clash) issues.push(issue('WARNING', KIND.route, `an unmanaged static route to ${route.props.network} exists (via ${clash.props.gateway}); both will be configured`));
  }
  if (state.peer.interface.addresses.length > 1) {
    issues.push(issue('WARNING', KIND.iface, `only ${state.peer.interface.addresses[0]} is configured on pfSense; service addresses ${state.peer.interface.addresses.slice(1).join(', ')} need virtual IPs, which Meshplane does not manage`));
  }
  if (state.peer.services.length > 0) {
    issues.push(issue('WARNING', KIND.nat, 'published services (port forwards) are not deployed to pfSense yet'));
  }
  return issues;
}
