/**
 * The behaviours every DeviceDriver must show, as one vitest suite each driver runs
 * against its simulator or fake. Signature (stable; extend only with optional fields):
 *
 *   describeDriverContract(name: string, setup: () => Promise<ContractFixture>, options?: ContractOptions): void
 *
 * `options.redundantRoles` lists the roles in a WAN with redundant hubs the driver can take
 * (pfSense cannot be a hub): only those get cases, so none is skipped.
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
 *   - redundant?: the device in a WAN with redundant hubs (HUB_SPOKE, hubRedundancy, two hubs
 *     with endpoints, a third when `hubAdded`, last in tunnel-IP order), compiled so `peer.links`
 *     and `peer.routing` are real, on the same WAN and interface name as 'initial': `roles` says
 *     which roles the driver can take (pfSense: spokes only), `desired(role, hubAdded)` the states;
 *   - dualStack?: the same device and variants in a dual-stack WAN (IPv6 tunnel address, IPv6
 *     LANs, an IPv6 service; see dual-stack-wan.ts), required when `options.dualStack`;
 *   - teardown(): stops what setup started (also called when a test fails).
 *
 * Usage:
 *   describeDriverContract('linux', async () => ({ driver, desired, peerKind: 'peer', teardown }));
 */
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import type { DesiredDeviceState, DeviceDriver } from '../../src/devices/driver.js';
import { interfacesOf } from '../../src/domain/compiled.js';
import type { ActualResource, Plan, PlanOperation } from '../../src/domain/plan.js';
import { isSecretProp } from '../../src/domain/secret-masking.js';
import { undoPlan } from '../../src/domain/undo.js';

export type ContractVariant = 'initial' | 'allowedIpsChanged' | 'peerRemoved';

export interface ContractInspection {
  /** Write commands (create/update/delete or the device's equivalents) received so far. */
  writes: number;
}

export type RedundantRole = 'spoke' | 'hub';

export interface RedundantFixture {
  roles: readonly RedundantRole[];
  desired: (role: RedundantRole, hubAdded: boolean) => DesiredDeviceState;
}

export interface ContractFixture {
  driver: DeviceDriver;
  desired: (variant: ContractVariant) => DesiredDeviceState;
  peerKind: string;
  inspect?: () => Promise<ContractInspection>;
  supportsStatistics?: boolean;
  ownNetwork?: string;
  redundant?: RedundantFixture;
  dualStack?: (variant: ContractVariant) => DesiredDeviceState;
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

/**
 * A deploy to a device without Meshplane resources: it creates every desired resource, deletes
 * nothing, and the device then holds exactly those. Returns the managed resources read back.
 */
async function firstDeploy(driver: DeviceDriver, state: DesiredDeviceState): Promise<ActualResource[]> {
  const wanted = driver.desiredResources(state).map(identity).sort();
  const plan = await deploy(driver, state);
  expect(plan.operations.filter((operation) => operation.op === 'create').map(identity).sort()).toEqual(wanted);
  expect(plan.operations.filter((operation) => operation.op === 'delete')).toEqual([]);
  const managed = (await driver.readState(state)).filter((resource) => resource.key !== null);
  expect(managed.map(identity).sort()).toEqual(wanted);
  return managed;
}

/** Planned again after a deploy of `state`: nothing to do, every resource unchanged, no write reaches the device. */
async function redeployWritesNothing(driver: DeviceDriver, state: DesiredDeviceState, inspect?: () => Promise<ContractInspection>): Promise<void> {
  const before = await inspect?.();
  const again = await replan(driver, state);
  expect(again.operations).toEqual([]);
  expect(again.unchanged).toBe(driver.desiredResources(state).length);
  expect(await driver.apply(again)).toEqual({ applied: 0, failed: null });
  if (before) expect((await inspect?.())?.writes).toBe(before.writes);
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
async function refuseAndUndo(driver: DeviceDriver, state: DesiredDeviceState, plan: Plan, cut: number): Promise<string[]> {
  const before = await driver.readState(state);
  const applied = await driver.apply({ operations: plan.operations.slice(0, cut), unchanged: 0 });
  expect(applied.failed, applied.failed?.message).toBeNull();
  const attempted: PlanOperation[] = plan.operations.slice(0, Math.min(cut + 1, plan.operations.length));
  const undo = undoPlan(before, await driver.readState(state), attempted, driver.undoPolicy);
  expect(undo.plan.operations.length, `cut at ${cut}`).toBeGreaterThan(0);
  const undone = await driver.apply(undo.plan);
  expect(undone.failed, undone.failed?.message).toBeNull();
  // A secret the device never shows cannot be put back; undo names each such resource, and the
  // deploy service reports it. Of those, only what undo can write is compared: not the secret,
  // nor what the device derives from it (a public key from a private key it made anew).
  const named = (resource: ActualResource) => undo.unrestorable.some((sentence) => sentence.startsWith(`${resource.kind} ${resource.key}: `));
  const restorable = (resource: ActualResource) => Object.fromEntries(Object.entries(resource.props)
    .filter(([prop]) => !isSecretProp(prop) && driver.undoPolicy.writable(resource.kind, prop)));
  const withoutLostSecrets = (resources: readonly ActualResource[]) => comparable(resources.map((resource) => (named(resource)
    ? { ...resource, props: restorable(resource) }
    : resource)));
  expect(withoutLostSecrets(await driver.readState(state)), `undo after ${cut} of ${plan.operations.length} operations`).toEqual(withoutLostSecrets(before));
  return undo.unrestorable;
}

/** Clear reads what is managed, deletes exactly that and nothing else, and leaves no managed resource. */
async function clearAndCheck(driver: DeviceDriver, state: DesiredDeviceState, ...alsoReadAs: DesiredDeviceState[]): Promise<void> {
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
  for (const other of alsoReadAs) expect((await driver.readState(other)).filter((resource) => resource.key !== null)).toEqual([]);
  const remaining = new Set(after.map(target));
  expect(unmanaged.map(target).filter((id) => !remaining.has(id))).toEqual([]);
}

/** What an operation does to what, without the ids (an undo that created a resource again gave it a new one). */
const step = (operation: PlanOperation) => `${operation.op} ${operation.kind} ${operation.key}`;

/**
 * refuseAndUndo at every cut of `plan`, each against a plan made afresh as a deploy would: the
 * device after an undo reads as before, but a resource it deleted and created again has a new id
 * (and may be listed in another place, so the order of independent operations may differ).
 */
async function undoEveryCut(driver: DeviceDriver, state: DesiredDeviceState, plan: Plan): Promise<string[]> {
  const unrestorable: string[] = [];
  for (const cut of cuts(plan.operations.length)) {
    const again = await replan(driver, state);
    expect(again.operations.map(step).sort(), `plan again before cut ${cut}`).toEqual(plan.operations.map(step).sort());
    unrestorable.push(...(await refuseAndUndo(driver, state, again, cut)));
  }
  return unrestorable;
}

/**
 * The device is deployed with `state` again: a plan for it has no operation but the ones that put
 * back a secret undo said it could not (`unrestorable`, from undoEveryCut).
 */
async function expectRestored(driver: DeviceDriver, state: DesiredDeviceState, unrestorable: readonly string[]): Promise<void> {
  const lostSecret = (operation: PlanOperation) => operation.op === 'update'
    && Object.keys(operation.changes).every(isSecretProp)
    && unrestorable.some((sentence) => sentence.startsWith(`${operation.kind} ${operation.key}: `));
  expect((await replan(driver, state)).operations.filter((operation) => !lostSecret(operation))).toEqual([]);
}

/** Options known before setup runs: the roles in WANs with redundant hubs a driver can take (default both). */
export interface ContractOptions {
  redundantRoles?: ReadonlyArray<'spoke' | 'hub'>;
  /** The driver takes dual-stack peers: the fixture must then provide `dualStack`. */
  dualStack?: boolean;
}

/** A fresh fixture for every test of the enclosing describe, torn down after it (also when it fails); returns its getter. */
export function fixturePerTest<T extends { teardown: () => Promise<void> }>(setup: () => Promise<T>): () => T {
  let fixture: T | null = null;
  beforeEach(async () => {
    fixture = await setup();
  });
  afterEach(async () => {
    await fixture?.teardown();
    fixture = null;
  });
  return () => {
    if (!fixture) throw new Error('contract setup did not run');
    return fixture;
  };
}

export function describeDriverContract(name: string, setup: () => Promise<ContractFixture>, options: ContractOptions = {}): void {
  describe(`DeviceDriver contract: ${name}`, () => {
    const current = fixturePerTest(setup);

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
      await firstDeploy(driver, desired('initial'));
    });

    it('redeploy with no change plans and performs zero operations', async () => {
      const { driver, desired, inspect } = current();
      const state = desired('initial');
      await deploy(driver, state);
      await redeployWritesNothing(driver, state, inspect);
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
      await clearAndCheck(driver, state);
    });

    it('a first deploy refused mid-plan is undone to exactly the device as it was', async () => {
      const { driver, desired } = current();
      const state = desired('initial');
      const plan = await replan(driver, state);
      expect(plan.operations.length).toBeGreaterThan(2);
      await undoEveryCut(driver, state, plan);
      expect((await replan(driver, state)).operations).toEqual(plan.operations);
    });

    it('a redeploy refused mid-plan (updates and deletes) is undone to exactly the deployed state', async () => {
      const { driver, desired } = current();
      await deploy(driver, desired('initial'));
      for (const variant of ['allowedIpsChanged', 'peerRemoved'] as const) {
        const state = desired(variant);
        const plan = await replan(driver, state);
        expect(plan.operations.some((operation) => operation.op !== 'create'), variant).toBe(true);
        await undoEveryCut(driver, state, plan);
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

    if (options.dualStack) {
      describe('in a dual-stack WAN', () => {
        const dual = (variant: ContractVariant): DesiredDeviceState => {
          const { dualStack } = current();
          if (!dualStack) throw new Error('the fixture has no dualStack states although the driver declares dualStack');
          return dualStack(variant);
        };
        /** What the device holds for IPv6: resources whose properties carry an IPv6 address. */
        const ipv6Resources = (resources: readonly ActualResource[]) => resources
          .filter((resource) => resource.key !== null && /[0-9a-f]*:[0-9a-f]*:[0-9a-f:]*\//i.test(JSON.stringify(resource.props)));

        it('first deploy creates every desired resource, IPv6 ones included, converges, and a redeploy is zero operations', async () => {
          const { driver, inspect } = current();
          const state = dual('initial');
          expect(state.peer.interface.addresses.some((address) => address.includes(':'))).toBe(true);
          expect(ipv6Resources(await firstDeploy(driver, state)).length).toBeGreaterThan(0);
          await redeployWritesNothing(driver, state, inspect);
        });

        it('turning IPv6 on and off again changes only what IPv6 needs, and converges both ways', async () => {
          const { driver, desired } = current();
          await deploy(driver, desired('initial'));
          const on = await replan(driver, dual('initial'));
          expect(on.operations.length).toBeGreaterThan(0);
          expect(on.operations.filter((operation) => operation.op === 'delete')).toEqual([]);
          expect((await driver.apply(on)).failed).toBeNull();
          expect((await replan(driver, dual('initial'))).operations).toEqual([]);
          const off = await replan(driver, desired('initial'));
          expect(off.operations.filter((operation) => operation.op === 'create')).toEqual([]);
          expect((await driver.apply(off)).failed).toBeNull();
          expect((await replan(driver, desired('initial'))).operations).toEqual([]);
          expect(ipv6Resources(await driver.readState(desired('initial')))).toEqual([]);
        });

        it('a dual-stack redeploy refused mid-plan is undone, and clearPlan removes everything', async () => {
          const { driver } = current();
          await deploy(driver, dual('initial'));
          for (const variant of ['allowedIpsChanged', 'peerRemoved'] as const) {
            const plan = await replan(driver, dual(variant));
            expect(plan.operations.length, variant).toBeGreaterThan(0);
            await undoEveryCut(driver, dual(variant), plan);
            expect((await replan(driver, dual('initial'))).operations, variant).toEqual([]);
          }
          await clearAndCheck(driver, dual('initial'));
        });
      });
    }

    for (const role of options.redundantRoles ?? (['spoke', 'hub'] as const)) {
      describe(`as a ${role} of a WAN with redundant hubs`, () => {
        /** The fixture's two-hub and three-hub states for this role, or null where it has none. */
        const redundant = (): { driver: DeviceDriver; two: DesiredDeviceState; three: DesiredDeviceState } | null => {
          const { driver, redundant: fixture } = current();
          if (!fixture?.roles.includes(role)) return null;
          return { driver, two: fixture.desired(role, false), three: fixture.desired(role, true) };
        };
        const managedIdentities = async (driver: DeviceDriver, state: DesiredDeviceState) =>
          (await driver.readState(state)).filter((resource) => resource.key !== null).map(identity).sort();

        it('has fixture states that differ as the contract assumes', ({ skip }) => {
          const states = redundant();
          if (!states) return skip(`the fixture has no redundant ${role}`);
          const { two, three } = states;
          const initial = current().desired('initial');
          const names = (state: DesiredDeviceState) => interfacesOf(state.peer).map((view) => view.interface.name);
          expect(two.peer.links?.length ?? 0).toBeGreaterThanOrEqual(1);
          expect(names(three)).toEqual([...names(two), expect.any(String)]);
          expect(names(two)[0]).toBe(initial.peer.interface.name);
          expect(two.overlay.wan.id).toBe(initial.overlay.wan.id);
          expect(two.peer.peerId).toBe(initial.peer.peerId);
          if (role === 'spoke') for (const view of interfacesOf(two.peer)) expect(view.peers).toHaveLength(1);
        });

        it('first deploy creates the resources of every interface, deletes nothing, converges, and a redeploy is zero operations', async ({ skip }) => {
          const states = redundant();
          if (!states) return skip(`the fixture has no redundant ${role}`);
          const { driver, two } = states;
          const { inspect } = current();
          const wanted = driver.desiredResources(two);
          // Every interface's remotes are somewhere in what the driver wants, whatever its kinds.
          const text = JSON.stringify(wanted);
          for (const view of interfacesOf(two.peer)) for (const remote of view.peers) expect(text, view.interface.name).toContain(remote.publicKey);
          const plan = await deploy(driver, two);
          expect(plan.operations.filter((operation) => operation.op === 'create').map(identity).sort()).toEqual(wanted.map(identity).sort());
          expect(plan.operations.filter((operation) => operation.op === 'delete')).toEqual([]);
          expect(await managedIdentities(driver, two)).toEqual(wanted.map(identity).sort());
          const before = await inspect?.();
          const again = await replan(driver, two);
          expect(again.operations).toEqual([]);
          expect(again.unchanged).toBe(wanted.length);
          expect(await driver.apply(again)).toEqual({ applied: 0, failed: null });
          if (before) expect((await inspect?.())?.writes).toBe(before.writes);
        });

        it('a third hub plans only additions and updates, applies, and converges', async ({ skip }) => {
          const states = redundant();
          if (!states) return skip(`the fixture has no redundant ${role}`);
          const { driver, two, three } = states;
          await deploy(driver, two);
          const plan = await deploy(driver, three);
          expect(plan.operations.length).toBeGreaterThan(0);
          expect(plan.operations.filter((operation) => operation.op === 'delete')).toEqual([]);
          expect((await replan(driver, three)).operations).toEqual([]);
          expect(await managedIdentities(driver, three)).toEqual(driver.desiredResources(three).map(identity).sort());
        });

        it('switching back to the single-interface state leaves nothing of the links', async ({ skip }) => {
          const states = redundant();
          if (!states) return skip(`the fixture has no redundant ${role}`);
          const { driver, three } = states;
          const initial = current().desired('initial');
          await deploy(driver, initial);
          const read = async () => ({ initial: comparable(await driver.readState(initial)), redundant: comparable(await driver.readState(three)) });
          const before = await read();
          await deploy(driver, three);
          const plan = await deploy(driver, initial);
          expect(plan.operations.some((operation) => operation.op === 'delete')).toBe(true);
          expect((await replan(driver, initial)).operations).toEqual([]);
          const single = new Set(driver.desiredResources(initial).map(identity));
          const linkOnly = new Set(driver.desiredResources(three).map(identity).filter((id) => !single.has(id)));
          expect(linkOnly.size).toBeGreaterThan(0);
          for (const state of [initial, three]) {
            expect((await driver.readState(state)).filter((resource) => resource.key !== null && linkOnly.has(identity(resource))).map(identity)).toEqual([]);
          }
          // Read either way, the device is as the single-interface deploy left it.
          expect(await read()).toEqual(before);
        });

        it('clearPlan removes every managed resource of every interface and nothing unmanaged', async ({ skip }) => {
          const states = redundant();
          if (!states) return skip(`the fixture has no redundant ${role}`);
          const { driver, three } = states;
          await deploy(driver, three);
          await clearAndCheck(driver, three, current().desired('initial'));
        });

        it('a first deploy and a third hub refused mid-plan are undone to exactly the device as it was', async ({ skip }) => {
          const states = redundant();
          if (!states) return skip(`the fixture has no redundant ${role}`);
          const { driver, two, three } = states;
          const first = await replan(driver, two);
          expect(first.operations.length).toBeGreaterThan(2);
          await undoEveryCut(driver, two, first);
          expect((await replan(driver, two)).operations).toEqual(first.operations);
          await deploy(driver, two);
          await expectRestored(driver, two, await undoEveryCut(driver, three, await replan(driver, three)));
        });

        it('switching redundancy on and off, refused mid-plan, is undone to exactly the deployed state', async ({ skip }) => {
          const states = redundant();
          if (!states) return skip(`the fixture has no redundant ${role}`);
          const { driver, two } = states;
          const initial = current().desired('initial');
          await deploy(driver, initial);
          await expectRestored(driver, initial, await undoEveryCut(driver, two, await replan(driver, two)));
          await deploy(driver, two);
          await expectRestored(driver, two, await undoEveryCut(driver, initial, await replan(driver, initial)));
        });
      });
    }
  });
}

// The adoption cases (issue 19) live beside this suite; drivers run both with one fixture plus `seedHandMade`.
export { describeAdoptionContract, type AdoptionFixture } from './adoption-contract.js';
