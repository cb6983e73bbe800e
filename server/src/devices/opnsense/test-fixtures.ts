// Shared by the OPNsense driver tests: the pfSense site overlay with the firewall as peer
// "pf", a DeviceTarget for a running simulator, and views of the simulator's config.
import type { DeviceTarget } from '../driver.js';
import { startOpnSenseSimulator, type OpnSenseSimulator, type OpnSenseSimulatorOptions } from '../../../test/sim/opnsense/index.js';
import { simulatorHarness } from '../../../test/support/driver-on-simulator.js';
import { createOpnSenseDriver } from './driver.js';

import { overlay, peer, subnet } from '../../domain/__fixtures__/overlay.js';
import type { OverlaySpec } from '../../domain/model.js';

export { deploy, siteSpec, stateFor } from '../pfsense/test-fixtures.js';

/** The firewall "pf" hosts 192.168.1.0/24 (untranslated: NAT needs 26.7); b has a routed LAN; c is behind CGNAT. */
export function opnSiteSpec(): OverlaySpec {
  return overlay([
    peer('pf', '10.0.0.1', { subnets: [subnet('lanPf', '192.168.1.0/24')] }),
    peer('b', '10.0.0.2', { subnets: [subnet('lanB', '192.168.2.0/24')] }),
    peer('c', '10.0.0.3', { endpointHost: null }),
  ]);
}

export function simTarget(sim: OpnSenseSimulator, overrides: Partial<DeviceTarget> = {}): DeviceTarget {
  return {
    id: 'opn-1',
    name: 'opn-sim',
    kind: 'OPNSENSE',
    host: sim.host,
    port: sim.port,
    username: sim.key,
    secret: sim.secret,
    tls: true,
    tlsVerify: true,
    caPem: sim.caPem,
    timeoutMs: 5_000,
    concurrency: 2,
    ...overrides,
  };
}

/** Starts a simulator and a driver on it when a test asks; both stop after each test of the calling file. */
export function driverOnSimulator(defaults: OpnSenseSimulatorOptions = {}) {
  return simulatorHarness(startOpnSenseSimulator, (sim: OpnSenseSimulator, target) => createOpnSenseDriver(simTarget(sim, target)), defaults);
}

type Fields = Record<string, string>;

const isOurs = (item: Fields) => String(item.name ?? '').startsWith('meshplane.') || String(item.description ?? '').startsWith('meshplane:');

/** Meshplane's instances and peers (membership by names), rules and NAT entries, without uuids: equal after two deploys only if every reference resolved. */
export function managedItems(sim: OpnSenseSimulator) {
  const { config } = sim.model;
  const nameOf = (uuid: string) => config.servers.get(uuid)?.name ?? config.clients.get(uuid)?.name ?? uuid;
  const strip = (item: Fields) => Object.fromEntries(Object.entries(item).filter(([key]) => key !== 'uuid' && key !== 'instance'));
  const byName = (a: Fields, b: Fields) => String(a.name ?? a.description).localeCompare(String(b.name ?? b.description));
  const ours = (map: Map<string, Fields>) => [...map.values()].filter(isOurs).map(strip).sort(byName);
  return {
    servers: [...config.servers.values()].filter(isOurs).map((server) => ({ ...strip(server), peers: (server.peers ?? '').split(',').filter(Boolean).map(nameOf).sort().join(',') })).sort(byName),
    clients: ours(config.clients),
    rules: ours(config.filter.rules),
    onetoone: ours(config.filter.onetoone),
    npt: ours(config.filter.npt),
  };
}

/** Everything else in the config, as it is (uuids included: OPNsense never renumbers). */
export function unmanagedItems(sim: OpnSenseSimulator) {
  const { config } = sim.model;
  const theirs = (map: Map<string, Fields>) => [...map.values()].filter((item) => !isOurs(item) && !String(item.description ?? '').startsWith('meshplane:pending'));
  return {
    general: config.general,
    servers: theirs(config.servers),
    clients: theirs(config.clients),
    rules: theirs(config.filter.rules),
    onetoone: theirs(config.filter.onetoone),
    npt: theirs(config.filter.npt),
    routes: [...config.routes.values()],
    gateways: [...config.gateways.values()],
  };
}
