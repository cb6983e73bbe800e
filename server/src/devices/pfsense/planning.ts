// Pure: plan and preflight for pfSense on top of the vendor-neutral planner.
import { deviceClashes, plannedRoutes, type DeviceNetworks } from '../../domain/device-clashes.js';
import { publicKeyFromPrivate } from '../../domain/keys.js';
import { diffResources, pendingAreaApplies, updateContext, type ActualResource, type Adjustment, type DesiredResource, type Plan } from '../../domain/plan.js';
import type { DesiredDeviceState, PreflightIssue } from '../driver.js';
import { APPLY_KINDS, AREA_ORDER, KIND, KIND_ORDER, KIND_SPECS } from './kinds.js';
import { joinPriorities } from './codec.js';
import type { UndoPolicy } from '../../domain/undo.js';
import { familyOf, tryParseAddress, tryParseAddressOrCidr } from '../../domain/ip.js';
import { adminText, interfaceIdRef, isRef, ownDescr, pskFingerprint, tagOf, withAdminText } from './tags.js';
import { serviceAddresses, tunnelAddress6 } from './mapping.js';

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
  // Text an admin keeps after the tag (an adopted object's old description) is theirs. An
  // interface's descr is its name, not a tag.
  if (prop === 'descr' && kind !== KIND.iface) return ownDescr(value);
  return value;
}

/** A descr written by an update keeps the admin's text that followed the tag. */
function keepAdminText(plan: Plan, actual: readonly ActualResource[], prefix: string | null): Plan {
  if (prefix === null) return plan;
  return {
    ...plan,
    operations: plan.operations.map((operation) => {
      if (operation.op !== 'update' || operation.kind === KIND.iface || operation.changes.descr === undefined) return operation;
      const current = actual.find((resource) => resource.kind === operation.kind && resource.id === operation.id);
      const admin = adminText(current?.props.descr, prefix);
      if (admin === '') return operation;
      const kept = { ...operation, changes: { ...operation.changes, descr: withAdminText(operation.changes.descr, admin) } };
      const context = updateContext.get(operation);
      if (context) updateContext.set(kept, context);
      return kept;
    }),
  };
}

/** Device-wide switches the plan may flip, each with its reason. */
export function adjustments(actual: readonly ActualResource[]): Adjustment[] {
  const result: Adjustment[] = [];
  const settings = actual.find((resource) => resource.kind === KIND.settings);
  if (settings) {
    result.push({ kind: KIND.settings, id: settings.id, changes: { enable: 'true' }, reason: 'the WireGuard service must be enabled for tunnels to run' });
  }
  return [...result, ...pendingApplies(actual)];
}

/** Each area's apply, planned only where the device reports changes written but not applied. */
function pendingApplies(actual: readonly ActualResource[]): Adjustment[] {
  return pendingAreaApplies(actual, AREA_ORDER, APPLY_KINDS, 'an interrupted run, or pending edits');
}

/**
 * The desired resources with each managed gateway under the name it has on the device, and
 * the routes and groups that use it pointing there: pfSense cannot rename a gateway, and an
 * adopted one keeps the name its admin gave it (Meshplane's own have the name it chose).
 */
export function bindGatewayNames(desired: readonly DesiredResource[], actual: readonly ActualResource[]): DesiredResource[] {
  const renamed = new Map<string, string>();
  for (const gateway of desired.filter((resource) => resource.kind === KIND.gateway)) {
    const onDevice = actual.find((resource) => resource.kind === KIND.gateway && resource.key === gateway.key)?.props.name;
    if (onDevice && gateway.props.name && onDevice !== gateway.props.name) renamed.set(gateway.props.name, onDevice);
  }
  if (renamed.size === 0) return [...desired];
  const rename = (name: string) => renamed.get(name) ?? name;
  return desired.map((resource) => {
    if (resource.kind === KIND.gateway && resource.props.name) return { ...resource, props: { ...resource.props, name: rename(resource.props.name) } };
    if (resource.kind === KIND.route && resource.props.gateway) return { ...resource, props: { ...resource.props, gateway: rename(resource.props.gateway) } };
    if (resource.kind === KIND.group && resource.props.priorities) {
      const priorities = joinPriorities(resource.props.priorities.split(',').map((entry) => {
        const [gateway = '', tier = ''] = entry.split(':');
        return { gateway: rename(gateway), tier: Number(tier) };
      }));
      return { ...resource, props: { ...resource.props, priorities } };
    }
    return resource;
  });
}

/** The tag prefix of desired resources (their descr is "<prefix>:<key>"), or null when none is tagged. */
function prefixOf(desired: readonly DesiredResource[]): string | null {
  const tagged = desired.find((resource) => resource.kind !== KIND.iface && resource.props.descr?.split(' ')[0]?.endsWith(`:${resource.key}`));
  const tag = tagged?.props.descr?.split(' ')[0];
  return tagged && tag ? tag.slice(0, tag.length - tagged.key.length - 1) : null;
}

export function planPfSense(desired: readonly DesiredResource[], actual: readonly ActualResource[]): Plan {
  const plan = diffResources(bindGatewayNames(desired, actual), actual, { kindOrder: KIND_ORDER, normalize: normalizeProp, adjustments: adjustments(actual) });
  return keepAdminText(plan, actual, prefixOf(desired));
}

/** Pending-apply markers are not configuration (the executor applies what it wrote); read-only fields are never sent. */
export const PFSENSE_UNDO: UndoPolicy = {
  writable: (kind, prop) => KIND_SPECS[kind]?.props[prop] !== 'readOnly',
  ignored: (kind) => AREA_ORDER.some((area) => APPLY_KINDS[area] === kind),
  normalize: normalizeProp,
};

/**
 * Every managed object goes, and each area with changes written but not applied is applied:
 * pfSense stages a delete until its area's apply, so a clear cut off after its deletes would
 * otherwise find nothing left to delete on the rerun, plan nothing, and leave the firewall
 * running what Meshplane removed. The WireGuard service switch stays as it is (the admin's own
 * tunnels may need it).
 */
export function clearPfSensePlan(actual: readonly ActualResource[]): Plan {
  return diffResources([], actual, { kindOrder: KIND_ORDER, adjustments: pendingApplies(actual) });
}

/** The firewall's own interfaces, their networks and the listen ports of tunnels Meshplane does not manage here. */
function firewallNetworks(actual: readonly ActualResource[]): DeviceNetworks {
  const unmanaged = actual.filter((resource) => resource.key === null);
  const addresses: Array<{ interface: string; address: string }> = [];
  for (const iface of unmanaged.filter((resource) => resource.kind === KIND.iface)) {
    if (iface.props.enable === 'false') continue;
    const { ipaddr = '', subnet = '', ipaddrv6 = '', subnetv6 = '' } = iface.props;
    const name = `${iface.props.descr || iface.id.toUpperCase()} (${iface.id})`;
    for (const [address, prefix, family] of [[ipaddr, subnet, 4], [ipaddrv6, subnetv6, 6]] as const) {
      const position = tryParseAddress(address);
      if (position !== null && familyOf(position) === family && /^\d+$/.test(prefix)) addresses.push({ interface: name, address: `${address}/${prefix}` });
    }
  }
  const tunnels = unmanaged.filter((resource) => resource.kind === KIND.tunnel);
  for (const tunnel of tunnels) {
    for (const address of (tunnel.props.addresses ?? '').split(',').filter(Boolean)) addresses.push({ interface: tunnel.props.name || tunnel.id, address });
  }
  return {
    deviceWord: 'firewall',
    // Interface names are checked by description above (pfSense compares them without case).
    interfaces: [],
    addresses,
    listenPorts: tunnels.filter((tunnel) => tunnel.props.listenport).map((tunnel) => ({
      interface: `${tunnel.props.name || tunnel.id} (${tunnel.props.descr || 'no description'}, not managed by Meshplane)`, port: Number(tunnel.props.listenport),
    })),
  };
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
  issues.push(...deviceClashes({
    interfaceName: tunnel?.props.name ?? '',
    listenPort: state.peer.interface.listenPort,
    addresses: [state.peer.interface.addresses[0] ?? '', tunnelAddress6(state.peer.interface) ?? ''].filter(Boolean),
    routes: plannedRoutes(state.peer),
  }, firewallNetworks(actual)));
  for (const peer of ours(KIND.peer)) {
    const clash = actual.find((resource) => resource.kind === KIND.peer && resource.key !== peer.key && resource.props.publickey === peer.props.publickey);
    if (clash) issues.push(issue('ERROR', `${KIND.peer} ${clash.id}`, `public key of ${peer.key} is already configured on peer ${clash.id} (${clash.props.descr || 'no description'}); pfSense requires peer keys to be unique`));
  }
  for (const iface of ours(KIND.iface)) {
    const clash = unmanaged(KIND.iface).find((resource) => (resource.props.descr ?? '').toLowerCase() === (iface.props.descr ?? '').toLowerCase());
    if (clash) issues.push(issue('ERROR', `${KIND.iface} ${clash.id}`, `interface name ${iface.props.descr} is taken by ${clash.id}`));
  }
  for (const route of ours(KIND.route)) {
    const clash = unmanaged(KIND.route).find((resource) => resource.props.network === route.props.network);
    if (clash) issues.push(issue('WARNING', `${KIND.route} ${clash.id}`, `an unmanaged static route to ${route.props.network} exists (via ${clash.props.gateway}); both will be configured`));
  }
  const services = serviceAddresses(state.peer.interface);
  if (services.length > 0) {
    issues.push(issue('WARNING', KIND.forward, `service addresses ${services.join(', ')} are not assigned on pfSense (that would need virtual IPs, which Meshplane does not manage): their ports are forwarded, but the addresses do not answer anything else, such as ping`));
  }
  issues.push(...familyIssues(desired, actual, state.commentPrefix));
  return issues;
}

/**
 * The family of an object property that may hold an address or subnet (negated with "!"), or
 * null for pfSense's keywords (any, (self), aliases): unlike the compiled model's values, these
 * need not be addresses at all.
 */
function familyOfProp(value: string | undefined): 4 | 6 | null {
  return tryParseAddressOrCidr((value ?? '').replace(/^!/, ''))?.family ?? null;
}

const FAMILY_OF_PROTOCOL: Readonly<Record<string, 4 | 6>> = { inet: 4, inet6: 6 };

/**
 * What pfSense refuses (or pf fails to load) for mixing families, checked on the planned
 * objects before any write: a gateway's address and its interface (an inet6 gateway needs an
 * interface with an IPv6 address), a static route and its gateway, a 1:1 mapping's external
 * address and source, a port forward's destination and target.
 */
function familyIssues(desired: readonly DesiredResource[], actual: readonly ActualResource[], prefix: string): PreflightIssue[] {
  const issues: PreflightIssue[] = [];
  const refuse = (resource: DesiredResource, why: string) => issues.push(issue('ERROR', resource.kind, `${resource.key}: ${why}; pfSense refuses to mix address families`));
  const mismatch = (resource: DesiredResource, fields: readonly string[]) => {
    const wanted = FAMILY_OF_PROTOCOL[resource.props.ipprotocol ?? ''];
    const wrong = fields.filter((field) => wanted !== undefined && ![null, wanted].includes(familyOfProp(resource.props[field])));
    if (wrong.length > 0) refuse(resource, `${resource.props.ipprotocol} with ${wrong.map((field) => `${field} ${resource.props[field]}`).join(' and ')}`);
  };
  // The interface a reference names, planned (by tag) or already there (by #id).
  const interfaceOf = (reference: string | undefined) => (isRef(reference ?? '')
    ? desired.find((resource) => resource.kind === KIND.iface && reference === `@${tagOf(prefix, resource.key)}`)
    : actual.find((resource) => resource.kind === KIND.iface && reference === interfaceIdRef(resource.id)));
  const gateways = [...desired, ...actual].filter((resource) => resource.kind === KIND.gateway);
  for (const resource of desired) {
    if (resource.kind === KIND.gateway) {
      mismatch(resource, ['gateway']);
      const iface = interfaceOf(resource.props.interface);
      if (resource.props.ipprotocol === 'inet6' && iface !== undefined && (iface.props.typev6 ?? 'none') === 'none') {
        refuse(resource, `an inet6 gateway needs an interface with an IPv6 address, and ${iface.props.descr ?? iface.key} has none`);
      }
    }
    if (resource.kind === KIND.route) {
      const gateway = gateways.find((candidate) => candidate.props.name === resource.props.gateway);
      const wanted = FAMILY_OF_PROTOCOL[gateway?.props.ipprotocol ?? ''];
      if (wanted !== undefined && familyOfProp(resource.props.network) !== wanted) refuse(resource, `the route to ${resource.props.network} goes through ${gateway?.props.ipprotocol} gateway ${resource.props.gateway}`);
    }
    if (resource.kind === KIND.nat) mismatch(resource, ['external', 'source', 'destination']);
    if (resource.kind === KIND.forward) mismatch(resource, ['destination', 'target']);
  }
  return issues;
}
