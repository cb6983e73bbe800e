// Plans for a Linux host, on top of the vendor-neutral diff: how host-formatted values
// compare, the forwarding sysctls as adjustments of host settings (made when the peer
// routes, never reverted by a clear, like the rendered wg-quick confs), and endpoints given
// as hostnames (the host only knows the address wg resolved them to).
import { diffResources, type ActualResource, type Adjustment, type DesiredResource, type Plan } from '../../domain/plan.js';
import type { DesiredDeviceState } from '../driver.js';
import type { UndoPolicy } from '../../domain/undo.js';
import { familiesOf, FORWARDING_SYSCTLS, KIND, KIND_ORDER } from './names.js';

export function normalizeLinuxProp(kind: string, prop: string, value: string): string {
  // A rule's identity is the digest in its key; iptables prints rules in its own canonical form.
  if (kind === KIND.firewall) return '';
  if (kind === KIND.peer && prop === 'allowed-ips') return value.split(',').filter(Boolean).sort().join(',');
  if (kind === KIND.peer && prop === 'persistent-keepalive') return value === '0' ? 'off' : value;
  return value;
}

export function forwardingAdjustments(desired: DesiredDeviceState): Adjustment[] {
  if (!desired.peer.forwarding) return [];
  return familiesOf(desired.peer).map((family) => ({
    kind: KIND.sysctl, id: FORWARDING_SYSCTLS[family], changes: { value: '1' }, reason: 'the peer routes for others (LANs, hub, published services)',
  }));
}

const IP_LITERAL = /^(\d{1,3}(\.\d{1,3}){3}|\[[0-9A-Fa-f:.]+\]):\d+$/;

/**
 * An endpoint given by name matches whatever address the host has for that peer: wg resolved
 * the name when it was set, and re-setting it on every deploy would only fight roaming.
 */
export function adoptResolvedEndpoints(desired: readonly DesiredResource[], actual: readonly ActualResource[]): ActualResource[] {
  const byName = new Map<string, string>();
  for (const resource of desired) {
    const endpoint = resource.props.endpoint;
    if (resource.kind === KIND.peer && endpoint !== undefined && !IP_LITERAL.test(endpoint)) byName.set(resource.key, endpoint);
  }
  if (byName.size === 0) return [...actual];
  return actual.map((resource) => {
    const wanted = resource.key === null ? undefined : byName.get(resource.key);
    if (resource.kind !== KIND.peer || wanted === undefined || !resource.props.endpoint) return resource;
    return { ...resource, props: { ...resource.props, endpoint: wanted } };
  });
}

export function planLinux(desired: DesiredDeviceState, resources: readonly DesiredResource[], actual: readonly ActualResource[]): Plan {
  return diffResources(resources, adoptResolvedEndpoints(resources, actual), {
    kindOrder: KIND_ORDER,
    normalize: normalizeLinuxProp,
    adjustments: forwardingAdjustments(desired),
  });
}

/** What the host reports but is not set: a link's type, namespace and derived public key, a route's protocol and metric. */
const DERIVED = new Set(['type', 'namespace', 'public-key', 'protocol', 'metric', 'gateway']);

export const LINUX_UNDO: UndoPolicy = {
  writable: (_kind, prop) => !DERIVED.has(prop),
  normalize: normalizeLinuxProp,
};

/** Every managed resource, deleted in reverse dependency order; host settings stay. */
export function clearLinux(actual: readonly ActualResource[]): Plan {
  return diffResources([], actual, { kindOrder: KIND_ORDER, normalize: normalizeLinuxProp });
}
