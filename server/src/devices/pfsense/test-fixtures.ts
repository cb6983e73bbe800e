// Shared by the pfSense driver tests: a small overlay with the firewall as peer "pf", and
// a DeviceTarget for a running simulator.
import { compileOverlay, findCompiledPeer } from '../../domain/index.js';
import { DUAL_STACK, overlay, peer, service, subnet } from '../../domain/__fixtures__/overlay.js';
import type { OverlaySpec } from '../../domain/model.js';
import { expect } from 'vitest';
import { DeviceError, type DesiredDeviceState, type DeviceDriver, type DeviceTarget } from '../driver.js';
import { HAND_MADE, startPfSenseSimulator, type PfSenseSimulator, type PfSenseSimulatorOptions } from '../../../test/sim/pfsense/index.js';
import { publicKeyFromPrivate } from '../../domain/keys.js';
import { simulatorHarness } from '../../../test/support/driver-on-simulator.js';
import { createPfSenseDriver } from './driver.js';

/** pf hosts a LAN it shows as 172.16.1.0/24; b has a routed LAN; c is behind CGNAT. */
export function siteSpec(): OverlaySpec {
  return overlay([
    peer('pf', '10.0.0.1', { subnets: [subnet('lanPf', '192.168.1.0/24', { natCidr: '172.16.1.0/24' })] }),
    peer('b', '10.0.0.2', { subnets: [subnet('lanB', '192.168.2.0/24')] }),
    peer('c', '10.0.0.3', { endpointHost: null }),
  ]);
}

/**
 * The same sites dual-stack: pf also hosts 2001:db8:a::/64, shown as an NPTv6 prefix, and
 * publishes a service per family; b also routes 2001:db8:b::/64; c has no LAN.
 */
export function dualStackSiteSpec(): OverlaySpec {
  return overlay([
    peer('pf', '10.0.0.1', {
      tunnelIp6: 'fd10:aaaa:bbbb::1',
      subnets: [subnet('lanPf', '192.168.1.0/24', { natCidr: '172.16.1.0/24' }), subnet('lanPf6', '2001:db8:a::/64', { natCidr: 'fd10:aaaa:bbbb:8000::/64' })],
      services: [service('web', '10.0.5.7'), service('web6', 'fd10:aaaa:bbbb:5::7', { localIp: '2001:db8:a::10' })],
    }),
    peer('b', '10.0.0.2', { tunnelIp6: 'fd10:aaaa:bbbb::2', subnets: [subnet('lanB', '192.168.2.0/24'), subnet('lanB6', '2001:db8:b::/64')] }),
    peer('c', '10.0.0.3', { tunnelIp6: 'fd10:aaaa:bbbb::3', endpointHost: null }),
  ], DUAL_STACK);
}

/**
 * The WAN that the simulator's hand-made site (seed "hand-made", HAND_MADE) is, as an adoption
 * proposal would make it: the firewall's own key (private when the REST API shows it, else
 * bring-your-own), the remotes' keys, addresses, LANs, endpoints and Site B's preshared key.
 */
export function handMadeSpec(options: { privateKeyKnown?: boolean; presharedKeyKnown?: boolean } = {}): OverlaySpec {
  const [b, c, phone] = HAND_MADE.peers;
  const publicKey = publicKeyFromPrivate(HAND_MADE.tunnelPrivateKey);
  const spec = overlay([
    peer('pf', '10.10.0.1', { publicKey, privateKey: options.privateKeyKnown === false ? null : HAND_MADE.tunnelPrivateKey, endpointHost: 'pf.example.net', listenPort: Number(HAND_MADE.listenPort) }),
    peer('b', '10.10.0.2', { publicKey: b.publickey, privateKey: null, endpointHost: b.endpoint, subnets: [subnet('lanB', b.lan)] }),
    peer('c', '10.10.0.3', { publicKey: c.publickey, privateKey: null, endpointHost: c.endpoint, endpointPort: Number(c.port), subnets: [subnet('lanC', c.lan)] }),
    peer('phone', '10.10.0.10', { publicKey: phone.publickey, privateKey: null, endpointHost: null }),
  ], { tunnelCidr: '10.10.0.0/24', servicesCidr: '10.10.5.0/24' });
  if (options.presharedKeyKnown !== false) spec.presharedKeys = [{ peerAId: 'pf', peerBId: 'b', key: b.presharedkey }];
  return spec;
}

export function stateFor(spec: OverlaySpec, peerId = 'pf', commentPrefix = 'meshplane'): DesiredDeviceState {
  const compiled = compileOverlay(spec);
  return { overlay: compiled, peer: findCompiledPeer(compiled, peerId), commentPrefix };
}

export function simTarget(sim: PfSenseSimulator, overrides: Partial<DeviceTarget> = {}): DeviceTarget {
  return {
    id: 'pf-1',
    name: 'pf-sim',
    kind: 'PFSENSE',
    host: sim.host,
    port: sim.port,
    username: sim.username,
    secret: sim.password,
    tls: true,
    tlsVerify: true,
    caPem: sim.caPem,
    timeoutMs: 5_000,
    concurrency: 2,
    ...overrides,
  };
}

/** Read, plan and apply as a deploy job does: the plan and what the apply reported. */
export async function deploy(target: DeviceDriver, state: DesiredDeviceState) {
  const actual = await target.readState(state);
  const plan = target.plan(state, actual);
  const result = await target.apply(plan);
  return { plan, result };
}

export const FAST_POLL = { polling: { intervalMs: 5, maxIntervalMs: 50, attempts: 100 } };

/** Starts a simulator and a driver on it when a test asks; both stop after each test of the calling file. */
export function driverOnSimulator(defaults: PfSenseSimulatorOptions = {}) {
  return simulatorHarness(startPfSenseSimulator, (sim: PfSenseSimulator, target) => createPfSenseDriver(simTarget(sim, target), FAST_POLL), defaults);
}

/** The simulator's config lists Meshplane writes to. */
export const SIM_LISTS = ['tunnels', 'peers', 'gateways', 'groups', 'routes', 'rules', 'oneToOne', 'portForwards'] as const;
type SimObject = Record<string, unknown>;

export const isOurs = (obj: SimObject) => String(obj.descr ?? '').startsWith('meshplane:');

/** Everything Meshplane did not make, without position ids (deleting ours shifts them; the objects must not change). */
export function unmanagedObjects(model: PfSenseSimulator['model']) {
  const lists = Object.fromEntries(SIM_LISTS.map((list) => [list, model.list(list).filter((obj) => !isOurs(obj)).map(({ id: _id, ...rest }) => rest)]));
  return { ...lists, interfaces: model.list('interfaces').filter((iface) => !String(iface.descr).startsWith('MP_')) };
}

/**
 * Meshplane's objects with what points at them (tunnel names, interface ids, gateway names):
 * equal after two deploys only if every reference was resolved to the object it meant. Sorted
 * by tag, without position ids or the per-creation rule tracker.
 */
export function managedObjects(model: PfSenseSimulator['model']) {
  const strip = ({ id: _id, tracker: _tracker, ...rest }: SimObject) => rest;
  const byTag = (a: SimObject, b: SimObject) => String(a.descr).localeCompare(String(b.descr));
  const lists = Object.fromEntries(SIM_LISTS.map((list) => [list, model.list(list).filter(isOurs).map(strip).sort(byTag)])) as Record<(typeof SIM_LISTS)[number], SimObject[]>;
  return { ...lists, interfaces: model.list('interfaces').filter((iface) => String(iface.descr).startsWith('MP_')) };
}

/** Requests that change the firewall (anything but a GET). */
export const writesOf = (sim: PfSenseSimulator) => sim.requests.filter((request) => request.method !== 'GET').length;

/**
 * The driver refuses `state` before any write: preflight gives exactly one ERROR matching
 * `refusal`, and plan() and desiredResources() throw it as REFUSED. Returns the message.
 */
export async function expectRefused(driver: DeviceDriver, state: DesiredDeviceState, refusal: RegExp): Promise<string> {
  const actual = await driver.readState(state);
  const issues = driver.preflight(state, actual);
  expect(issues).toEqual([expect.objectContaining({ severity: 'ERROR', message: expect.stringMatching(refusal) })]);
  for (const refused of [() => driver.plan(state, actual), () => driver.desiredResources(state)]) {
    expect(refused).toThrow(DeviceError);
    expect(refused).toThrow(expect.objectContaining({ code: 'REFUSED', message: expect.stringMatching(refusal) }));
  }
  return issues[0]?.message ?? '';
}
