// Shared by the OPNsense driver tests: the pfSense site overlay with the firewall as peer
// "pf", a DeviceTarget for a running simulator, views of the simulator's config, and a
// simulator with a driver as the drop sweeps (test/contract/drop-sweep.ts) drive it.
import { setTimeout as sleep } from 'node:timers/promises';
import { expect } from 'vitest';
import type { DesiredDeviceState, DeviceTarget } from '../driver.js';
import { startOpnSenseSimulator, type OpnSenseSimulator, type OpnSenseSimulatorOptions } from '../../../test/sim/opnsense/index.js';
import { rollbackOf } from '../../../test/sim/opnsense/rollback.js';
import type { DropSweepDevice } from '../../../test/contract/drop-sweep.js';
import { simulatorHarness } from '../../../test/support/driver-on-simulator.js';
import { createOpnSenseDriver } from './driver.js';

import { DUAL_STACK, overlay, peer, subnet } from '../../domain/__fixtures__/overlay.js';
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

/** pf shows 192.168.1.0/24 as 172.16.1.0/24 and (dual stack) 2001:db8:1::/64 as fd10:aaaa:bbbb:8000::/64 (26.7+ only). */
export function translatedSpec(options: { v4?: boolean; v6?: boolean } = { v4: true, v6: true }): OverlaySpec {
  return overlay([
    peer('pf', '10.0.0.1', {
      tunnelIp6: 'fd10:aaaa:bbbb::1',
      subnets: [
        subnet('lanPf', '192.168.1.0/24', options.v4 ? { natCidr: '172.16.1.0/24' } : {}),
        subnet('lanPf6', '2001:db8:1::/64', options.v6 ? { natCidr: 'fd10:aaaa:bbbb:8000::/64' } : {}),
      ],
    }),
    peer('b', '10.0.0.2', { tunnelIp6: 'fd10:aaaa:bbbb::2', subnets: [subnet('lanB', '192.168.2.0/24'), subnet('lanB6', '2001:db8:2::/64')] }),
    peer('c', '10.0.0.3', { tunnelIp6: 'fd10:aaaa:bbbb::3', endpointHost: null }),
  ], DUAL_STACK);
}

/** The same sites as an older deployment had them: peer d (with its LAN) instead of c, b at another endpoint. */
export function olderSpec(spec: OverlaySpec): OverlaySpec {
  const d = spec.peers.some((item) => item.tunnelIp6)
    ? peer('d', '10.0.0.4', { tunnelIp6: 'fd10:aaaa:bbbb::4', subnets: [subnet('lanD', '192.168.4.0/24')] })
    : peer('d', '10.0.0.4', { subnets: [subnet('lanD', '192.168.4.0/24')] });
  return {
    ...spec,
    peers: [
      ...spec.peers.filter((item) => item.id === 'pf'),
      d,
      ...spec.peers.filter((item) => item.id === 'b').map((item) => ({ ...item, endpointHost: 'b-old.example.net' })),
    ],
  };
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

/** Meshplane's assignments (descr mp_…) as configured and as running. */
export function ourAssignments(sim: OpnSenseSimulator) {
  const ours = (map: Map<string, Fields>) => [...map.values()].filter((record) => /^mp_[0-9a-f]{8}$/.test(record.descr ?? ''));
  return { config: ours(sim.model.config.interfaces), running: ours(sim.model.running.interfaces) };
}

/**
 * Whether what Meshplane's items are configured as is what runs: its enabled instances (and no
 * other of its instances) run with exactly their enabled peers, its rules and NAT entries are
 * loaded as configured, its assignments are up as configured, and no pending marker is left.
 */
export function ourItemsApplied(sim: OpnSenseSimulator): boolean {
  const { config, running } = sim.model;
  if ([...config.filter.rules.values()].some((rule) => String(rule.description).includes(':pending'))) return false;
  const peer = (name: string, pubkey: string, allowed: string[]) => `${name} ${pubkey} ${[...allowed].sort().join(',')}`;
  const configured = config.general.enabled !== '1' ? [] : [...config.servers.values()].filter((server) => isOurs(server) && server.enabled === '1').map((server) => ({
    name: server.name,
    peers: (server.peers ?? '').split(',').filter(Boolean).map((uuid) => config.clients.get(uuid)).filter((client) => client?.enabled === '1')
      .map((client) => peer(String(client?.name), String(client?.pubkey), String(client?.tunneladdress ?? '').split(',').filter(Boolean))).sort(),
  }));
  const runs = [...running.wg.values()].filter((instance) => instance.name.startsWith('meshplane.'))
    .map((instance) => ({ name: instance.name, peers: instance.peers.map((item) => peer(item.name, item.pubkey, item.allowedIps)).sort() }));
  const byName = (a: { name?: string }, b: { name?: string }) => String(a.name).localeCompare(String(b.name));
  if (JSON.stringify(configured.sort(byName)) !== JSON.stringify(runs.sort(byName))) return false;
  // The marker (a disabled rule) is loaded with the rules it was written before: harmless, and left out.
  const loaded = (map: Map<string, Fields>) => JSON.stringify([...map.entries()].filter(([, item]) => isOurs(item) && !String(item.description).includes(':pending'))
    .sort(([a], [b]) => a.localeCompare(b)));
  for (const node of ['rules', 'onetoone', 'npt'] as const) if (loaded(config.filter[node]) !== loaded(running.filter[node])) return false;
  const assignments = ourAssignments(sim);
  if (JSON.stringify(assignments.config) !== JSON.stringify(assignments.running)) return false;
  // What the loaded NAT is bound to is up, and so is the WireGuard device each assignment names.
  const nat = [...running.filter.onetoone.values(), ...running.filter.npt.values()].filter(isOurs);
  return nat.every((entry) => running.interfaces.has(String(entry.interface))) && assignments.running.every((record) => running.wg.has(String(record.if)));
}

export interface OpnSweepOptions {
  version: string;
  /** Deployed in each round (a deploy, a revert), or read with before a clear. */
  state: DesiredDeviceState;
  /** Where each round starts: a deployment of this state, or (null) a firewall without Meshplane items. */
  startFrom: DesiredDeviceState | null;
  /** More values a failure must never show (preshared keys). */
  secrets?: string[];
  /** The filter rollback timer (≤ 26.1), in seconds. */
  rollbackSeconds?: number;
  /**
   * What the drop loses: the request (the simulator's own switch: dropped before it is carried
   * out, the default) or the reply (carried out, then every connection is cut before the answer
   * leaves: the device did it, the driver cannot know).
   */
  drop?: 'request' | 'reply';
}

/**
 * Arms a lost reply: the simulator carries out `answered` more requests, then the next one too,
 * but every open connection is cut as its reply is about to be sent. Through the request log:
 * a request is logged before it is handled, and its status set just before its reply is written.
 */
function loseReplyAfter(sim: OpnSenseSimulator, answered: number, fired: () => void): void {
  const log = sim.requests;
  let left = answered;
  log.push = (...records) => {
    for (const record of records) {
      if (left-- !== 0) continue;
      let status = record.status;
      Object.defineProperty(record, 'status', {
        enumerable: true,
        get: () => status,
        set: (value: number) => {
          status = value;
          for (const socket of sim.model.sockets) socket.destroy();
          fired();
        },
      });
      delete (log as { push?: unknown }).push;
    }
    return Array.prototype.push.apply(log, records);
  };
}

/**
 * A simulator of the version and a driver on it for describeDropSweep. Items compare without
 * uuids and with "optN" for an assignment's identifier (a rerun may take another). On a
 * savepoint version the rollback timer is shortened, each reset waits until no timer runs, and
 * outlastRollback waits one out.
 */
export async function opnSweepDevice({ version, state, startFrom, secrets = [], rollbackSeconds = 1, drop = 'request' }: OpnSweepOptions): Promise<DropSweepDevice> {
  const sim = await startOpnSenseSimulator({ version, faults: { rollbackSeconds } });
  const driver = createOpnSenseDriver(simTarget(sim), { safety: { probeEveryMs: 100, rollbackWaitMs: 3_000, probeTimeoutMs: 2_000 } });
  const savepoint = sim.model.features.savepoint;
  const timerGone = async () => {
    while (rollbackOf(sim.model).pending !== null) await sleep(100);
  };
  const writes = (from: number) => sim.requests.slice(from).filter((request) => request.write)
    .map((request) => `${request.method} ${request.path.replace('/api/', '').replace(/\/([0-9a-f-]{36}|opt\d+|\d+\.\d+)$/, '')}`);
  const ident = (value: unknown) => (/^opt\d+$/.test(String(value)) ? 'optN' : String(value));
  let replyLost = false;
  return {
    driver,
    state,
    secrets: [sim.secret, Buffer.from(`${sim.key}:${sim.secret}`).toString('base64'), state.peer.interface.privateKey as string,
      ...(startFrom ? [startFrom.peer.interface.privateKey as string] : []), ...secrets],
    reset: async () => {
      // A timer armed by the round before must not fire into the next one.
      if (savepoint) await timerGone();
      const actual = await driver.readState(startFrom ?? state);
      expect((await driver.apply(startFrom ? driver.plan(startFrom, actual) : driver.clearPlan(actual))).failed).toBeNull();
    },
    requestCount: () => sim.requests.length,
    writesSince: writes,
    dropAfter: (answered) => {
      if (drop === 'request') sim.faults.dropAfterRequests = answered;
      else {
        replyLost = false;
        loseReplyAfter(sim, answered, () => {
          replyLost = true;
        });
      }
    },
    dropFired: () => (drop === 'request' ? sim.faults.dropAfterRequests === null : replyLost),
    managed: () => {
      const items = managedItems(sim);
      return {
        ...items,
        onetoone: items.onetoone.map((item) => ({ ...item, interface: ident(item.interface) })),
        npt: items.npt.map((item) => ({ ...item, interface: ident(item.interface) })),
        assignments: ourAssignments(sim),
      };
    },
    managedTags: () => {
      const items = managedItems(sim);
      return [...items.servers.map((item) => String((item as Fields).name)), ...items.clients.map((item) => String(item.name)), ...ourAssignments(sim).config.map((item) => String(item.descr))]
        .concat([...items.rules, ...items.onetoone, ...items.npt].map((item) => String(item.description).split(' ')[0] ?? ''));
    },
    unmanaged: () => ({ ...unmanagedItems(sim), interfaces: [...sim.model.config.interfaces.entries()].filter(([, record]) => !/^mp_/.test(record.descr ?? '')) }),
    everythingApplied: () => ourItemsApplied(sim),
    ...(savepoint ? {
      outlastRollback: async () => {
        await sleep(rollbackSeconds * 1000 + 300);
        await timerGone();
      },
    } : {}),
    stop: async () => {
      await driver.close();
      await sim.stop();
    },
  };
}
