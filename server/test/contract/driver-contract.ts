/**
 * The behaviours every DeviceDriver must show, as one vitest suite each driver runs
 * against its simulator or fake. Signature (stable; extend only with optional fields):
 *
 *   describeDriverContract(name: string, setup: () => Promise<ContractFixture>): void
 *
 * `setup` runs before every test and returns a device with no Meshplane resources on it
 * (unmanaged state is welcome and must survive) and:
 *   - driver: the DeviceDriver under test;
 *   - desired(variant): the desired state for
 *       'initial'           — a peer with at least two remote peers,
 *       'allowedIpsChanged' — initial with the AllowedIPs of exactly one remote changed,
 *       'peerRemoved'       — initial minus exactly one remote;
 *   - peerKind: the resource kind that holds WireGuard peers (RouterOS
 *     "/interface/wireguard/peers"; whatever desiredResources uses on other devices);
 *   - inspect?(): device-side counters; `writes` = write commands the device received so
 *     far (lets the suite prove "zero operations" on the device, not just in the plan);
 *   - supportsStatistics?: false when statistics() returns null on this device;
 *   - ownNetwork?: a network on one of the device's own interfaces (not Meshplane's, not used by
 *     the desired states): preflight must call a tunnel address or a route into it an ERROR;
 *   - teardown(): stops what setup started (also called when a test fails).
 *
 * Usage:
 *   describeDriverContract('linux', async () => ({ driver, desired, peerKind: 'peer', teardown }));
 */
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import type { DesiredDeviceState, DeviceDriver } from '../../src/devices/driver.js';
import type { ActualResource, Plan, PlanOperation } from '../../src/domain/plan.js';
import { undoPlan } from '../../src/domain/undo.js';

export type ContractVariant = 'initial' | 'allowedIpsChanged' | 'peerRemoved';

export interface ContractInspection {
  /** Write commands (create/update/delete or the device's equivalents) received so far. */
  writes: number;
}

export interface ContractFixture {
  driver: DeviceDriver;
  desired: (variant: ContractVariant) => DesiredDeviceState;
  peerKind: string;
  inspect?: () => Promise<ContractInspection>;
  supportsStatistics?: boolean;
  ownNetwork?: string;
  teardown: () => Promise<void>;
}

const identity = (resource: { kind: string; key: string | null }) => `${resource.kind} ${resource.key}`;

async function deploy(driver: DeviceDriver, desired: DesiredDeviceState): Promise<Plan> {
  const plan = driver.plan(desired, await driver.readState(desired));
  const result = await driver.apply(plan);
  expect(result.failed, result.failed?.message).toBeNull();
  expect(result.applied).toBe(plan.operations.length);
  return plan;
}

async function replan(driver: DeviceDriver, desired: DesiredDeviceState): Promise<Plan> {
  return driver.plan(desired, await driver.readState(desired));
}

/** What the device has, without the ids it hands out (a resource created again gets a new one). */
function comparable(resources: readonly ActualResource[]): string[] {
  return resources.map((resource) => `${resource.kind} ${resource.key} ${JSON.stringify(Object.entries(resource.props).sort(([a], [b]) => a.localeCompare(b)))}`).sort();
}

/**
 * How many operations of a plan of n the device carried out before the apply stopped: the
 * first, half, all but the refused last one, and all (the connection dropped after the device
 * carried out the last one, before it answered).
 */
function cuts(n: number): number[] {
  return [...new Set([1, Math.floor(n / 2), n - 1, n])].filter((cut) => cut >= 1 && cut <= n);
}

/**
 * The apply stops after `cut` operations of `plan` were carried out: the next one was refused
 * (not carried out), or, when none is left, the connection dropped before the device answered
 * the last. Either way the service counts the one it stopped at as attempted. Then what the
 * deploy service does (Deployments.undo): read again, undo what the attempted operations
 * changed (domain/undo with the driver's undoPolicy), and the device must read as before.
 */
async function refuseAndUndo(driver: DeviceDriver, state: DesiredDeviceState, plan: Plan, cut: number): Promise<void> {
  const before = await driver.readState(state);
  const applied = await driver.apply({ operations: plan.operations.slice(0, cut), unchanged: 0 });
  expect(applied.failed, applied.failed?.message).toBeNull();
  const attempted: PlanOperation[] = plan.operations.slice(0, Math.min(cut + 1, plan.operations.length));
  const undo = undoPlan(before, await driver.readState(state), attempted, driver.undoPolicy);
  expect(undo.plan.operations.length, `cut at ${cut}`).toBeGreaterThan(0);
  const undone = await driver.apply(undo.plan);
  expect(undone.failed, undone.failed?.message).toBeNull();
  expect(comparable(await driver.readState(state)), `undo after ${cut} of ${plan.operations.length} operations`).toEqual(comparable(before));
}

export function describeDriverContract(name: string, setup: () => Promise<ContractFixture>): void {
  describe(`DeviceDriver contract: ${name}`, () => {
    let fixture: ContractFixture | null = null;
    const current = (): ContractFixture => {
      if (!fixture) throw new Error('contract setup did not run');
      return fixture;
    };

    beforeEach(async () => {
      fixture = await setup();
    });

    afterEach(async () => {
      await fixture?.teardown();
      fixture = null;
    });

    it('has fixture variants that differ as the contract assumes', () => {
      const { desired } = current();
      const initial = desired('initial').peer.peers;
      const changed = desired('allowedIpsChanged').peer.peers;
      const removed = desired('peerRemoved').peer.peers;
      expect(initial.length).toBeGreaterThanOrEqual(2);
      expect(changed.map((remote) => remote.publicKey)).toEqual(initial.map((remote) => remote.publicKey));
      expect(changed.filter((remote, index) => remote.allowedIps.join() !== initial[index]?.allowedIps.join())).toHaveLength(1);
      expect(removed).toHaveLength(initial.length - 1);
    });

    it('first deploy creates every desired resource, deletes nothing, and converges', async () => {
      const { driver, desired } = current();
      const state = desired('initial');
      const wanted = driver.desiredResources(state);
      const plan = await deploy(driver, state);
      const creates = plan.operations.filter((operation) => operation.op === 'create');
      expect(creates.map(identity).sort()).toEqual(wanted.map(identity).sort());
      expect(plan.operations.filter((operation) => operation.op === 'delete')).toEqual([]);
      const managed = (await driver.readState(state)).filter((resource) => resource.key !== null);
      expect(managed.map(identity).sort()).toEqual(wanted.map(identity).sort());
    });

    it('redeploy with no change plans and performs zero operations', async () => {
      const { driver, desired, inspect } = current();
      const state = desired('initial');
      await deploy(driver, state);
      const before = await inspect?.();
      const again = await replan(driver, state);
      expect(again.operations).toEqual([]);
      expect(again.unchanged).toBe(driver.desiredResources(state).length);
      expect(await driver.apply(again)).toEqual({ applied: 0, failed: null });
      if (before) expect((await inspect?.())?.writes).toBe(before.writes);
    });

    it('changing one peer\'s AllowedIPs updates exactly that peer in place', async () => {
      const { driver, desired, peerKind } = current();
      await deploy(driver, desired('initial'));
      const plan = await replan(driver, desired('allowedIpsChanged'));
      const peerOperations = plan.operations.filter((operation) => operation.kind === peerKind);
      expect(peerOperations).toHaveLength(1);
      expect(peerOperations[0]?.op).toBe('update');
      const result = await driver.apply(plan);
      expect(result.failed).toBeNull();
      expect((await replan(driver, desired('allowedIpsChanged'))).operations).toEqual([]);
    });

    it('removing a peer deletes only that peer', async () => {
      const { driver, desired, peerKind } = current();
      await deploy(driver, desired('initial'));
      const plan = await replan(driver, desired('peerRemoved'));
      const peerOperations = plan.operations.filter((operation) => operation.kind === peerKind);
      expect(peerOperations.map((operation) => operation.op)).toEqual(['delete']);
      expect(plan.operations.filter((operation) => operation.op === 'create')).toEqual([]);
      await driver.apply(plan);
      const peers = (await driver.readState(desired('peerRemoved'))).filter((resource) => resource.kind === peerKind && resource.key !== null);
      expect(peers).toHaveLength(desired('peerRemoved').peer.peers.length);
    });

    it('clearPlan removes every managed resource and nothing unmanaged', async () => {
      const { driver, desired } = current();
      const state = desired('initial');
      await deploy(driver, state);
      const actual = await driver.readState(state);
      const managed = actual.filter((resource) => resource.key !== null);
      const unmanaged = actual.filter((resource) => resource.key === null);
      const plan = driver.clearPlan(actual);
      expect(plan.operations.every((operation) => operation.op === 'delete')).toBe(true);
      const target = (resource: { kind: string; id?: string }) => `${resource.kind} ${resource.id}`;
      expect(plan.operations.map((operation) => target(operation as { kind: string; id: string })).sort()).toEqual(managed.map(target).sort());
      const result = await driver.apply(plan);
      expect(result.failed).toBeNull();
      const after = await driver.readState(state);
      expect(after.filter((resource: ActualResource) => resource.key !== null)).toEqual([]);
      const remaining = new Set(after.map(target));
      expect(unmanaged.map(target).filter((id) => !remaining.has(id))).toEqual([]);
    });

    it('a first deploy refused mid-plan is undone to exactly the device as it was', async () => {
      const { driver, desired } = current();
      const state = desired('initial');
      const plan = await replan(driver, state);
      expect(plan.operations.length).toBeGreaterThan(2);
      for (const cut of cuts(plan.operations.length)) await refuseAndUndo(driver, state, plan, cut);
      expect((await replan(driver, state)).operations).toEqual(plan.operations);
    });

    it('a redeploy refused mid-plan (updates and deletes) is undone to exactly the deployed state', async () => {
      const { driver, desired } = current();
      await deploy(driver, desired('initial'));
      for (const variant of ['allowedIpsChanged', 'peerRemoved'] as const) {
        const state = desired(variant);
        const plan = await replan(driver, state);
        expect(plan.operations.some((operation) => operation.op !== 'create'), variant).toBe(true);
        for (const cut of cuts(plan.operations.length)) await refuseAndUndo(driver, state, plan, cut);
        expect((await replan(driver, desired('initial'))).operations, variant).toEqual([]);
      }
    });

    it('preflight calls a tunnel address or a route into the device\'s own network an ERROR', async () => {
      const { driver, desired, ownNetwork } = current();
      if (ownNetwork === undefined) return;
      const state = desired('initial');
      const actual = await driver.readState(state);
      const errors = (candidate: DesiredDeviceState) => driver.preflight(candidate, actual).filter((issue) => issue.severity === 'ERROR');
      expect(errors(state)).toEqual([]);
      const [via] = state.peer.peers;
      const routed: DesiredDeviceState = {
        ...state,
        peer: {
          ...state.peer,
          peers: state.peer.peers.map((remote) => (remote === via ? { ...remote, allowedIps: [...remote.allowedIps, ownNetwork] } : remote)),
          routes: [...state.peer.routes, { destination: ownNetwork, via: via!.peerId, gatewayTunnelIp: via!.allowedIps[0]!.split('/')[0]! }],
        },
      };
      expect(errors(routed)).toContainEqual(expect.objectContaining({ message: expect.stringContaining(`own network ${ownNetwork}`) }));
      const [network, prefix] = ownNetwork.split('/');
      const inside = `${network!.replace(/\.\d+$/, '.250')}/${prefix}`;
      const addressed: DesiredDeviceState = { ...state, peer: { ...state.peer, interface: { ...state.peer.interface, addresses: [inside, ...state.peer.interface.addresses.slice(1)] } } };
      expect(errors(addressed)).toContainEqual(expect.objectContaining({ message: expect.stringMatching(/overlaps the .*own network|is already assigned/) }));
    });

    it('statistics return one entry per peer with decimal-string counters', async () => {
      const { driver, desired, supportsStatistics } = current();
      const state = desired('initial');
      await deploy(driver, state);
      const statistics = await driver.statistics(state.peer.interface.name);
      if (supportsStatistics === false) {
        expect(statistics).toBeNull();
        return;
      }
      expect(statistics).not.toBeNull();
      expect((statistics ?? []).map((entry) => entry.publicKey).sort()).toEqual(state.peer.peers.map((remote) => remote.publicKey).sort());
      for (const entry of statistics ?? []) {
        expect(entry.rxBytes).toMatch(/^\d+$/);
        expect(entry.txBytes).toMatch(/^\d+$/);
        expect(entry.lastHandshake === null || entry.lastHandshake instanceof Date).toBe(true);
      }
    });
  });
}
