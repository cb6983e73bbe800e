// Test helpers shared by the OpenWrt driver's tests (not imported by the driver itself).
import net, { type AddressInfo } from 'node:net';
import { setTimeout as sleep } from 'node:timers/promises';
import { expect } from 'vitest';
import type { DropSweepDevice } from '../../../test/contract/drop-sweep.js';
import { startOpenWrtSimulator, type OpenWrtSimulator, type RequestRecord } from '../../../test/sim/openwrt/index.js';
import type { DesiredDeviceState, DeviceTarget } from '../driver.js';
import { compileOverlay, findCompiledPeer } from '../../domain/index.js';
import { DUAL_STACK, overlay, peer, service, subnet } from '../../domain/__fixtures__/overlay.js';
import type { OverlaySpec } from '../../domain/model.js';
import { createOpenWrtDriver } from './driver.js';
import { PSK_FILE } from './names.js';

/** A device target pointing at the simulator, as meshplane's rpcd login. */
export function simTarget(sim: OpenWrtSimulator, overrides: Partial<DeviceTarget> = {}): DeviceTarget {
  return {
    id: 'dev-openwrt', name: 'site-b', kind: 'OPENWRT', host: '127.0.0.1', port: sim.port, username: sim.username, secret: sim.password,
    tls: true, tlsVerify: true, caPem: sim.caPem, timeoutMs: 5_000, concurrency: 2, ...overrides,
  };
}

/** The router as peer "ow" (a LAN it shows translated), b with a routed LAN, c behind CGNAT; dual-stack on request. */
export function siteSpec(dual = false): OverlaySpec {
  return overlay([
    peer('ow', '10.0.0.1', {
      subnets: [subnet('lanOw', '192.168.1.0/24', { natCidr: '172.16.1.0/24' }), ...(dual ? [subnet('lanOw6', '2001:db8:a::/64', { natCidr: 'fd10:aaaa:bbbb:8000::/64' })] : [])],
      ...(dual ? { tunnelIp6: 'fd10:aaaa:bbbb::1', services: [service('web', '10.0.5.7'), service('web6', 'fd10:aaaa:bbbb:5::7', { localIp: '2001:db8:a::10' })] } : {}),
    }),
    peer('b', '10.0.0.2', { subnets: [subnet('lanB', '192.168.2.0/24'), ...(dual ? [subnet('lanB6', '2001:db8:b::/64')] : [])], ...(dual ? { tunnelIp6: 'fd10:aaaa:bbbb::2' } : {}) }),
    peer('c', '10.0.0.3', { endpointHost: null, ...(dual ? { tunnelIp6: 'fd10:aaaa:bbbb::3' } : {}) }),
  ], dual ? DUAL_STACK : {});
}

export function stateOf(spec: OverlaySpec, peerId = 'ow'): DesiredDeviceState {
  const compiled = compileOverlay(spec);
  return { overlay: compiled, peer: findCompiledPeer(compiled, peerId), commentPrefix: 'meshplane' };
}


/** ms per simulated second in the driver's simulator tests: rpcd's 90 s rollback window lasts 1.8 s. */
export const TIME_SCALE = 20;

/** The driver's timings matched to that clock. */
export const SIM_TIMING = { rollbackSeconds: 90, settleMs: 20, pollMs: 10, checkDeadlineMs: 600, secondMs: TIME_SCALE };

/** What the simulator counts as a configuration write (logins, apply, confirm and reads are not). */
const WRITES = new Set(['uci.add', 'uci.set', 'uci.delete', 'uci.rename', 'uci.order', 'file.write', 'file.remove', 'network.interface.up', 'network.interface.down', 'network.interface.renew']);

export const writesOf = (requests: readonly RequestRecord[]) => requests.filter((request) => WRITES.has(`${request.object}.${request.method}`)).length;

/** ms per simulated second of the drop sweeps: a 90 s rollback window lasts 450 ms, so each round can outlast it. */
export const SWEEP_SCALE = 5;
export const SWEEP_TIMING = { rollbackSeconds: 90, settleMs: 5, pollMs: 5, checkDeadlineMs: 200, secondMs: SWEEP_SCALE };

/** Meshplane's sections as committed (named mp_…, or carrying its tag), its include files, and what its WireGuard device runs. */
export function managedOn(sim: OpenWrtSimulator) {
  const sections = (pkg: string) => (sim.model.uci.storedPackage(pkg) ?? []).map((section) => ({ type: section.type, name: section.name, options: Object.fromEntries(section.options) }));
  const ours = (section: { name: string | null; options: Record<string, unknown> }) => section.name?.startsWith('mp_') === true || typeof section.options.mp_tag === 'string';
  const files = (sim.model.files.list('/etc/meshplane') ?? []).map((entry) => `${entry.name} ${sim.model.files.read(`/etc/meshplane/${entry.name}`)?.data.length}`);
  // The file a preshared key passes through on its way to `wg set`.
  if (sim.model.files.read(PSK_FILE)) files.push(PSK_FILE);
  const running = [...sim.model.runtime.wg.values()].map((device) => ({ name: device.ifname, peers: device.peers.map((peer) => `${peer.publicKey} ${peer.allowedIps.join(',')}`).sort() }));
  return {
    network: sections('network').filter(ours), firewall: sections('firewall').filter(ours), files, running,
    others: { network: sections('network').filter((section) => !ours(section)), firewall: sections('firewall').filter((section) => !ours(section)) },
  };
}

/**
 * A loopback TCP relay in front of the simulator that can cut every connection through it at
 * once: the simulator carried the request out, its reply is lost on the way back.
 */
async function startRelay(port: number): Promise<{ port: number; cut(): void; close(): Promise<void> }> {
  const sockets = new Set<net.Socket>();
  const track = (socket: net.Socket) => {
    sockets.add(socket);
    socket.once('close', () => sockets.delete(socket));
    socket.on('error', () => socket.destroy());
  };
  const server = net.createServer((client) => {
    const upstream = net.connect(port, '127.0.0.1');
    track(client);
    track(upstream);
    client.pipe(upstream);
    upstream.pipe(client);
    client.once('close', () => upstream.destroy());
    upstream.once('close', () => client.destroy());
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  return {
    port: (server.address() as AddressInfo).port,
    cut: () => {
      for (const socket of [...sockets]) socket.destroy();
    },
    close: async () => {
      for (const socket of [...sockets]) socket.destroy();
      await new Promise<void>((resolve) => server.close(() => resolve()));
    },
  };
}

export interface OwrtSweepOptions {
  /** The state each round deploys (a revert: the one gone back to; a clear: the one deployed). */
  state: DesiredDeviceState;
  /** Where each round starts: a deployment of this state, or (null) a router without Meshplane sections. */
  startFrom: DesiredDeviceState | null;
  /** More values a failure must never show (preshared keys). */
  secrets?: string[];
  /**
   * What the drop loses: the request (the simulator's switch: the connection is destroyed
   * before the call runs; the calls before it in a batch ran) or the reply (the call ran, and
   * the rest of its batch; every connection is then cut before the answer reaches the driver).
   */
  drop?: 'request' | 'reply';
}

/** A simulator and a driver on it for describeDropSweep (test/contract/drop-sweep.ts). */
export async function owrtSweepDevice({ state, startFrom, secrets = [], drop = 'request' }: OwrtSweepOptions): Promise<DropSweepDevice> {
  const sim = await startOpenWrtSimulator({ timeScale: SWEEP_SCALE });
  const relay = await startRelay(sim.port);
  const driver = createOpenWrtDriver(simTarget(sim, { port: relay.port, timeoutMs: 300 }), { timing: SWEEP_TIMING });
  let replyLost: boolean | null = null;
  return {
    driver,
    state,
    secrets: [sim.password, state.peer.interface.privateKey as string, ...(startFrom ? [startFrom.peer.interface.privateKey as string] : []), ...secrets],
    reset: async () => {
      const actual = await driver.readState(startFrom ?? state);
      expect((await driver.apply(startFrom ? driver.plan(startFrom, actual) : driver.clearPlan(actual))).failed).toBeNull();
    },
    requestCount: () => sim.requests.length,
    writesSince: (from) => sim.requests.slice(from).filter((request) => writesOf([request]) === 1).map((request) => `${request.object}.${request.method}`),
    dropAfter: (answered) => {
      if (drop === 'request') {
        sim.faults.dropAfterCalls = answered;
        return;
      }
      // A call is logged once it ran, before its reply is written.
      replyLost = false;
      const log = sim.requests;
      let left = answered;
      log.push = (...records) => {
        const count = Array.prototype.push.apply(log, records);
        for (const _record of records) {
          if (left-- !== 0) continue;
          relay.cut();
          replyLost = true;
          delete (log as { push?: unknown }).push;
        }
        return count;
      };
    },
    dropFired: () => (drop === 'request' ? sim.faults.dropAfterCalls === null : replyLost === true),
    managed: () => {
      const { others: _others, ...mine } = managedOn(sim);
      return mine;
    },
    managedTags: () => {
      const { network, firewall } = managedOn(sim);
      return [...network, ...firewall].map((section) => String(section.options.mp_tag ?? String(section.options.name ?? section.name).split(' ')[0]));
    },
    unmanaged: () => managedOn(sim).others,
    everythingApplied: () => sim.model.apply.applySid === null,
    outlastRollback: () => sleep(90 * SWEEP_SCALE + 100),
    stop: async () => {
      await driver.close();
      await relay.close();
      await sim.stop();
    },
  };
}
