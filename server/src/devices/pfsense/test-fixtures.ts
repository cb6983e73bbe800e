// Shared by the pfSense driver tests: a small overlay with the firewall as peer "pf", and
// a DeviceTarget for a running simulator.
import { compileOverlay, findCompiledPeer } from '../../domain/index.js';
import { DUAL_STACK, overlay, peer, service, subnet } from '../../domain/__fixtures__/overlay.js';
import type { OverlaySpec } from '../../domain/model.js';
import { expect } from 'vitest';
import { DeviceError, type DesiredDeviceState, type DeviceDriver, type DeviceTarget } from '../driver.js';
import { HAND_MADE, startPfSenseSimulator, type PfSenseSimulator, type PfSenseSimulatorOptions } from '../../../test/sim/pfsense/index.js';
import { RawClient } from '../../../test/sim/pfsense/test-client.js';
import type { DropSweepDevice } from '../../../test/contract/drop-sweep.js';
import { generateKeyPair, publicKeyFromPrivate } from '../../domain/keys.js';
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

/**
 * Meshplane's objects as the firewall runs them (what each area's last apply loaded), in
 * managedObjects' form: after a clear, none may be left running.
 */
export function runningManagedObjects(model: PfSenseSimulator['model']) {
  const { runtime } = model;
  const running: Record<(typeof SIM_LISTS)[number], SimObject[]> = {
    tunnels: runtime.wireguard.tunnels, peers: runtime.wireguard.peers, gateways: runtime.gateways, groups: runtime.groups,
    routes: runtime.routes, rules: runtime.rules, oneToOne: runtime.oneToOne, portForwards: runtime.portForwards,
  };
  const strip = ({ id: _id, tracker: _tracker, ...rest }: SimObject) => rest;
  const byTag = (a: SimObject, b: SimObject) => String(a.descr).localeCompare(String(b.descr));
  const lists = Object.fromEntries(SIM_LISTS.map((list) => [list, running[list].filter(isOurs).map(strip).sort(byTag)]));
  return { ...lists, interfaces: runtime.interfaces.filter((iface) => String(iface.descr).startsWith('MP_')).map(strip) };
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

/** siteSpec with a preshared key for b, so a secret travels in every sweep round. */
export function sweepSpec(psk: string): OverlaySpec {
  return { ...siteSpec(), presharedKeys: [{ peerAId: 'pf', peerBId: 'b', key: psk }] };
}

/**
 * An older deployment of `spec`: peer d instead of c, b at another endpoint. d comes before b,
 * so deleting d shifts b's position id, and an update of b must follow it.
 */
export function olderSweepSpec(spec: OverlaySpec): OverlaySpec {
  return {
    ...spec,
    peers: [
      ...spec.peers.filter((item) => item.id === 'pf'),
      peer('d', '10.0.0.4', { subnets: [subnet('lanD', '192.168.4.0/24')] }),
      ...spec.peers.filter((item) => item.id === 'b').map((item) => ({ ...item, endpointHost: 'b-old.example.net' })),
    ],
  };
}

/** An operator's own objects, made after Meshplane's, so deleting ours shifts their ids. */
export async function addOperatorObjects(sim: PfSenseSimulator): Promise<void> {
  const client = new RawClient(sim);
  try {
    const writes: Array<[string, Record<string, unknown>]> = [
      ['/api/v2/vpn/wireguard/peer', { enabled: true, tun: 'tun_wg0', publickey: generateKeyPair().publicKey, descr: 'phone', allowedips: [{ address: '10.99.0.3', mask: 32 }] }],
      ['/api/v2/routing/static_route', { network: '10.201.0.0/16', gateway: 'WAN_GW', descr: 'Branch office (hand-made)' }],
      ['/api/v2/firewall/rule', {
        type: 'block', interface: [sim.model.interfaceName('wan')], ipprotocol: 'inet', protocol: 'tcp', source: 'any', destination: 'any', destination_port: '23', descr: 'No telnet',
      }],
    ];
    for (const [path, body] of writes) {
      const reply = await client.send(path, { method: 'POST', body: { ...body, apply: true } });
      expect(reply.status, reply.text).toBe(200);
    }
  } finally {
    await client.close();
  }
}

/** A sweep round's failure: the device named, the request that failed, the transport's code. */
export const SWEEP_FAILURE = /^(written but not applied: )?UNREACHABLE: cannot talk to pf-sim \((GET|POST|PATCH|DELETE) \/api\/v2\/[a-z_/]+\): /;

const AREAS = ['wireguard', 'interfaces', 'routing', 'firewall'] as const;

/**
 * A pfSense simulator and driver for test/contract/drop-sweep.ts. `state` is what each round
 * runs with; `reset` goes back to `startFrom` through the driver: a deploy of it, or a clear of
 * `state`'s items when null. Applies finish at once (applyDelayMs 0) so a run makes the same
 * requests every time: a background apply would add a varying number of status reads.
 */
export async function pfSweepDevice(options: { state: DesiredDeviceState; startFrom: DesiredDeviceState | null; secrets: readonly string[] }): Promise<DropSweepDevice> {
  const { state, startFrom } = options;
  const sim = await startPfSenseSimulator({ applyDelayMs: 0 });
  const driver = createPfSenseDriver(simTarget(sim), FAST_POLL);
  return {
    driver,
    state,
    secrets: [sim.password, Buffer.from(`${sim.username}:${sim.password}`).toString('base64'), state.peer.interface.privateKey as string, ...options.secrets],
    reset: async () => {
      const plan = startFrom ? driver.plan(startFrom, await driver.readState(startFrom)) : driver.clearPlan(await driver.readState(state));
      expect((await driver.apply(plan)).failed).toBeNull();
    },
    addOperatorItems: () => addOperatorObjects(sim),
    requestCount: () => sim.requests.length,
    writesSince: (from) => sim.requests.slice(from).filter((request) => request.method !== 'GET').map((request) => `${request.method} ${request.path.replace('/api/v2/', '')}`),
    dropAfter: (answered) => {
      sim.faults.dropAfterRequests = answered;
    },
    // The switch clears itself when it fires.
    dropFired: () => sim.faults.dropAfterRequests === null,
    // What is configured and what runs: a clear is only done once nothing of Meshplane's runs.
    managed: () => ({ configured: managedObjects(sim.model), running: runningManagedObjects(sim.model) }),
    managedTags: () => {
      const converged = managedObjects(sim.model);
      return [...SIM_LISTS.flatMap((list) => converged[list].map((obj) => String(obj.descr).split(' ')[0] ?? '')), ...converged.interfaces.map((iface) => String(iface.descr))];
    },
    unmanaged: () => unmanagedObjects(sim.model),
    everythingApplied: () => AREAS.every((area) => sim.model.isApplied(area)),
    stop: async () => {
      await driver.close();
      await sim.stop();
    },
  };
}
