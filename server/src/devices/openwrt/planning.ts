// Pure: plan, clear, undo policy and preflight for OpenWrt on top of the vendor-neutral planner.
import { deviceClashes, plannedRoutes, type DeviceNetworks } from '../../domain/device-clashes.js';
import { contains, familyOf, hostRange, tryParseAddress, tryParseCidr } from '../../domain/ip.js';
import { diffResources, updateContext, type ActualResource, type Adjustment, type DesiredResource, type Plan } from '../../domain/plan.js';
import type { UndoPolicy } from '../../domain/undo.js';
import { compareVersions } from '../shared/versions.js';
import { ownDescr } from '../shared/tags.js';
import type { DesiredDeviceState, PreflightIssue } from '../driver.js';
import { KIND, KIND_ORDER, KIND_SPECS, MARKER_KINDS, withDefault } from './kinds.js';
import { adminText, INCLUDE_DIR, isAnonymous, PSK_FILE, RULE_NAME_MAX, ruleName, sectionName, uciInterfaceName } from './names.js';
import { splitList } from './mapping.js';

export const MIN_VERSION = '22.03';

export function normalizeProp(kind: string, prop: string, value: string): string {
  // The admin's text after the tag in an adopted rule's name is theirs.
  if (kind === KIND.rule && prop === 'name') return ownDescr(value);
  if (KIND_SPECS[kind]?.props[prop] === 'list') return splitList(value).sort().join(',');
  return withDefault(kind, prop, value);
}

/** Markers the planner turns into work for the executor, each with its reason. */
export function adjustments(actual: readonly ActualResource[]): Adjustment[] {
  const result: Adjustment[] = [];
  for (const marker of actual) {
    if (marker.kind === KIND.apply && marker.props.confirmed === 'false') {
      result.push({ kind: KIND.apply, id: marker.id, changes: { confirmed: 'true' }, reason: 'a change was applied but never confirmed; the router rolls it back when its timer runs out' });
    }
    if (marker.kind === KIND.runtime && marker.props.synced === 'false') {
      result.push({ kind: KIND.runtime, id: marker.id, changes: { synced: 'true' }, reason: `the running ${marker.props.differs || 'WireGuard device'} differs from its committed peers (an interrupted deploy, or a peer edited without a restart)` });
    }
    if (marker.kind === KIND.leftovers && marker.props.tidy === 'false') {
      const unused = (marker.props.unused ?? '').split(',').filter(Boolean);
      const what = [unused.some((path) => path !== PSK_FILE) ? `include files it stopped using are still in ${INCLUDE_DIR}` : '', unused.includes(PSK_FILE) ? `its preshared-key file ${PSK_FILE} is still there` : ''].filter(Boolean);
      result.push({ kind: KIND.leftovers, id: marker.id, changes: { tidy: 'true' }, reason: what.length > 0 ? `an interrupted run left files: ${what.join('; ')}` : `an interrupted run's list of files is still in ${INCLUDE_DIR}` });
    }
  }
  return result;
}

/** A rule name written by an update keeps the admin's text that followed the tag. */
function keepAdminText(plan: Plan, actual: readonly ActualResource[], prefix: string): Plan {
  return {
    ...plan,
    operations: plan.operations.map((operation) => {
      if (operation.op !== 'update' || operation.kind !== KIND.rule || operation.changes.name === undefined) return operation;
      const current = actual.find((resource) => resource.kind === operation.kind && resource.id === operation.id);
      const admin = adminText(current?.props.name, prefix);
      if (admin === '') return operation;
      const kept = { ...operation, changes: { ...operation.changes, name: ruleName(operation.changes.name, admin) } };
      const context = updateContext.get(operation);
      if (context) updateContext.set(kept, context);
      return kept;
    }),
  };
}

export function planOpenWrt(desired: readonly DesiredResource[], actual: readonly ActualResource[], prefix: string): Plan {
  return keepAdminText(diffResources(desired, actual, { kindOrder: KIND_ORDER, normalize: normalizeProp, adjustments: adjustments(actual) }), actual, prefix);
}

/**
 * Every managed section deleted, and what an interrupted run left done: an apply still waiting
 * for its confirm (else the router's timer puts back what it removed), leftover include files.
 */
export function clearOpenWrtPlan(actual: readonly ActualResource[]): Plan {
  return diffResources([], actual, { kindOrder: KIND_ORDER, adjustments: adjustments(actual) });
}

/** Markers are not configuration; a section's type and name are never written. */
export const OPENWRT_UNDO: UndoPolicy = {
  writable: (kind, prop) => {
    const role = KIND_SPECS[kind]?.props[prop];
    return role !== undefined && role !== 'readOnly';
  },
  ignored: (kind) => MARKER_KINDS.has(kind),
  normalize: normalizeProp,
};

/** The router's own networks and the WireGuard interfaces Meshplane does not manage here. */
function routerNetworks(actual: readonly ActualResource[]): DeviceNetworks {
  const unmanaged = actual.filter((resource) => resource.kind === KIND.iface && resource.key === null && resource.props.disabled !== '1');
  const addresses: Array<{ interface: string; address: string }> = [];
  for (const iface of unmanaged) {
    for (const address of splitList(iface.props.live_addresses ?? (iface.props.proto === 'wireguard' ? iface.props.addresses : ''))) {
      addresses.push({ interface: iface.id, address });
    }
  }
  return {
    deviceWord: 'router',
    // The interface name is checked below (an untagged section of that name is adopted or renamed).
    interfaces: [],
    addresses,
    listenPorts: unmanaged.filter((iface) => iface.props.proto === 'wireguard' && /^\d+$/.test(iface.props.listen_port ?? ''))
      .map((iface) => ({ interface: `${iface.id} (not managed by Meshplane)`, port: Number(iface.props.listen_port) })),
  };
}

function issue(severity: PreflightIssue['severity'], resource: string, message: string, deviceRef?: string): PreflightIssue {
  return deviceRef === undefined ? { severity, resource, message } : { severity, resource, message, deviceRef };
}

export interface PreflightContext {
  /** `system board` release.version, null when unknown. */
  version: string | null;
  /** Connection without TLS: the private key would cross the network in clear. */
  tls: boolean;
  /** The device's host (to warn when it is only reachable through the overlay). */
  host: string;
  /** The public key of each private key the router holds in UCI (bring-your-own key check). */
  publicKeys: ReadonlySet<string>;
  /** Whether the include directory exists (null: not read). */
  includeDir?: boolean | null;
}

export function preflightOpenWrt(state: DesiredDeviceState, desired: readonly DesiredResource[], actual: readonly ActualResource[], context: PreflightContext): PreflightIssue[] {
  const issues: PreflightIssue[] = [];
  if (context.version !== null && context.version !== 'SNAPSHOT' && compareVersions(context.version, MIN_VERSION) < 0) {
    issues.push(issue('ERROR', 'system board', `OpenWrt ${context.version} runs fw3 (iptables); Meshplane needs OpenWrt ${MIN_VERSION} or later (firewall4/nftables)`));
  }
  if (!context.tls) issues.push(issue('WARNING', 'connection', 'the connection does not use TLS: the tunnel\'s private key crosses the network in clear when it is written'));
  const own = state.peer.interface;
  const ifname = uciInterfaceName(own.name);
  const managed = (resource: DesiredResource) => actual.find((item) => item.kind === resource.kind && item.key === resource.key);
  for (const resource of desired) {
    if (managed(resource)) continue;
    const name = resource.kind === KIND.iface ? ifname : sectionName(tagOfResource(resource, state));
    const taken = actual.find((item) => item.id === name && KIND_SPECS[item.kind]?.config === KIND_SPECS[resource.kind]?.config);
    if (!taken) continue;
    issues.push(resource.kind === KIND.iface
      ? issue('ERROR', `${KIND.iface} ${name}`, `the router already has an interface section ${name} that Meshplane does not manage (proto ${taken.props.proto || 'none'}): adopt it, or rename it or the WAN's interface`, name)
      : issue('ERROR', `${taken.kind} ${name}`, `section ${name} exists without Meshplane's tag; uci would merge into it: delete or rename it`, name));
  }
  if (context.includeDir === false && desired.some((resource) => resource.kind === KIND.include)) {
    issues.push(issue('ERROR', KIND.include, `NAT and published services go into an nftables include under ${INCLUDE_DIR}, which does not exist on the router: run \`mkdir -p ${INCLUDE_DIR}\` once (and add it to /etc/sysupgrade.conf)`));
  }
  if (own.privateKey === null && !context.publicKeys.has(own.publicKey)) {
    issues.push(issue('ERROR', KIND.iface, 'bring-your-own key: no interface on the router holds the private key of this public key, and Meshplane does not have it'));
  }
  issues.push(...deviceClashes({
    interfaceName: ifname,
    listenPort: own.listenPort,
    // The tunnel addresses; service addresses (/32, /128 after them) are the overlay's own.
    addresses: own.addresses.filter((address, index) => index === 0 || !/\/(32|128)$/.test(address)),
    routes: plannedRoutes(state.peer),
  }, routerNetworks(actual)));
  for (const peer of desired.filter((resource) => resource.kind === KIND.peer)) {
    const clash = actual.find((item) => item.kind === KIND.peer && item.key !== peer.key && item.props.interface === peer.props.interface && item.props.public_key === peer.props.public_key);
    if (clash) issues.push(issue('ERROR', `${KIND.peer} ${clash.id}`, `public key of ${peer.key} is already on peer section ${clash.id}${isAnonymous(clash.id) ? ' (hand-made)' : ''} of ${peer.props.interface}: adopt it or remove it`, clash.id));
  }
  for (const rule of desired.filter((resource) => resource.kind === KIND.rule)) {
    if ((rule.props.name ?? '').length > RULE_NAME_MAX) issues.push(issue('ERROR', `${KIND.rule} ${rule.key}`, `the rule's tag is longer than the ${RULE_NAME_MAX} characters fw4 keeps: use a shorter tag prefix or WAN id`));
  }
  if (desired.some((resource) => resource.kind === KIND.route || resource.kind === KIND.route6)) {
    const routed = state.peer.routes.map((route) => route.destination);
    if (routed.some((destination) => hostInside(context.host, destination))) {
      issues.push(issue('WARNING', 'connection', `Meshplane reaches this router at ${context.host}, inside a prefix routed into the overlay: routes and rules are protected by the router's rollback, but peer changes go live after the rollback window`));
    }
  }
  return issues;
}

function tagOfResource(resource: DesiredResource, state: DesiredDeviceState): string {
  return resource.props.mp_tag ?? resource.props.name?.split(' ')[0] ?? `${state.commentPrefix}:${resource.key}`;
}

function hostInside(host: string, destination: string): boolean {
  const range = tryParseCidr(destination);
  const position = tryParseAddress(host);
  return range !== null && position !== null && range.family === familyOf(position) && contains(range, hostRange(position));
}
