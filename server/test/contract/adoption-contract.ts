/**
 * Adoption cases every DeviceDriver must pass (issue 19), as one vitest suite each driver runs
 * against its simulator or lab device. Signature (stable; extend only with optional fields):
 *
 *   describeAdoptionContract(name: string, setup: () => Promise<AdoptionFixture>): void
 *
 * `setup` is the driver's describeDriverContract fixture (a device with no Meshplane resources,
 * unmanaged state welcome) plus ONE hook:
 *   - seedHandMade(state): puts on the device, as a person would by hand and WITHOUT any
 *     Meshplane tag, the WireGuard interface of `state.peer` (same name and tunnel addresses;
 *     its private key where the state has one) and one peer per remote of `state.peer.peers`
 *     (same public key; AllowedIPs, endpoint and keepalive may differ from the state: the
 *     deploy after adoption sets them in place). Where the device can fake traffic (the
 *     simulators), it also gives those peers a handshake and byte counters, so the suite can
 *     see that every session survives adoption and the deploy after it.
 *
 * What the suite proves: adoption writes only the tag (one update per adopted item, every
 * other device item untouched), ids and sessions survive, the next deploy removes and adds
 * nothing it adopted, a second adoption plan is empty, and an item tagged for another WAN is
 * never taken.
 *
 * Usage:
 *   describeAdoptionContract('linux', async () => ({ ...(await contractFixture()), seedHandMade }));
 */
import { describe, expect, it } from 'vitest';
import type { DesiredDeviceState, DeviceDriver, PeerStatistics } from '../../src/devices/driver.js';
import { ADOPTED_REASON } from '../../src/domain/adoption/adoption-plan.js';
import type { ActualResource } from '../../src/domain/plan.js';
import { fixturePerTest, type ContractFixture } from './driver-contract.js';

export interface AdoptionFixture extends ContractFixture {
  seedHandMade: (state: DesiredDeviceState) => Promise<void>;
  /** seedHandMade gives every remote a handshake and counters (the simulators): the suite then requires them, so "sessions kept" cannot pass by comparing nothing. */
  seedsSessions?: boolean;
}

const itemId = (resource: { kind: string; id: string }) => `${resource.kind} ${resource.id}`;
const propsOf = (resource: ActualResource) => JSON.stringify(Object.entries(resource.props).sort(([a], [b]) => a.localeCompare(b)));

/** The same WAN under another id: what another Meshplane WAN using the same names looks like to the driver. */
function otherWan(state: DesiredDeviceState): DesiredDeviceState {
  return { ...state, overlay: { ...state.overlay, wan: { ...state.overlay.wan, id: `${state.overlay.wan.id}other` } } };
}

function adoptionOf(driver: DeviceDriver) {
  if (!driver.adoptionPlan) throw new Error(`the ${driver.kind} driver has no adoptionPlan()`);
  return driver.adoptionPlan.bind(driver);
}

/**
 * The hand-made sessions as the device's read-only discovery reports them: statistics() follows
 * Meshplane's tagged interface, which does not exist before the adoption.
 */
async function discoveredSessions(driver: DeviceDriver, state: DesiredDeviceState, seedsSessions: boolean): Promise<Map<string, PeerStatistics>> {
  const discovery = await driver.discover();
  const remotes = new Set(state.peer.peers.map((remote) => remote.publicKey));
  const sessions = new Map<string, PeerStatistics>();
  for (const iface of discovery.interfaces) {
    for (const peer of iface.peers) {
      if (!remotes.has(peer.publicKey)) continue;
      sessions.set(peer.publicKey, { publicKey: peer.publicKey, lastHandshake: peer.lastHandshake, rxBytes: peer.rxBytes ?? '0', txBytes: peer.txBytes ?? '0', currentEndpoint: null });
    }
  }
  expect([...sessions.keys()].sort(), 'discover() shows every hand-made remote').toEqual([...remotes].sort());
  if (seedsSessions) {
    for (const [publicKey, entry] of sessions) expect(entry.lastHandshake, `the seeded handshake of ${publicKey} before adoption`).not.toBeNull();
  }
  return sessions;
}

async function statisticsOf(driver: DeviceDriver, state: DesiredDeviceState): Promise<Map<string, PeerStatistics> | null> {
  const statistics = await driver.statistics(state.peer.interface.name);
  return statistics === null ? null : new Map(statistics.map((entry) => [entry.publicKey, entry]));
}

/**
 * Every session that existed still does: the same handshake (within the device's one-second
 * rounding) and counters no lower than before. A peer removed and added again starts with no
 * handshake and zero counters, which fails here.
 */
function expectSessionsKept(before: Map<string, PeerStatistics>, after: Map<string, PeerStatistics> | null, when: string): void {
  for (const [publicKey, entry] of before) {
    const now = after?.get(publicKey);
    expect(now, `${when}: peer ${publicKey} is gone`).toBeDefined();
    if (entry.lastHandshake !== null) {
      expect(now?.lastHandshake, `${when}: peer ${publicKey} lost its handshake`).not.toBeNull();
      expect(Math.abs((now?.lastHandshake?.getTime() ?? 0) - entry.lastHandshake.getTime()), `${when}: handshake of ${publicKey}`).toBeLessThanOrEqual(2000);
    }
    expect(BigInt(now?.rxBytes ?? '0') >= BigInt(entry.rxBytes), `${when}: rx of ${publicKey} went back`).toBe(true);
    expect(BigInt(now?.txBytes ?? '0') >= BigInt(entry.txBytes), `${when}: tx of ${publicKey} went back`).toBe(true);
  }
}

/**
 * Seeds the hand-made copy of `state`, adopts it, deploys `state`, and checks every step: only
 * tag writes, ids and sessions kept, nothing adopted removed or added, untouched items as they
 * were, and nothing left to adopt or deploy afterwards.
 */
async function adoptAndDeploy(fixture: AdoptionFixture, state: DesiredDeviceState): Promise<void> {
  const { driver, peerKind, inspect, seedHandMade } = fixture;
  const adoptionPlan = adoptionOf(driver);
  await seedHandMade(state);
  const before = await driver.readState(state);
  expect(before.filter((resource) => resource.key !== null), 'the hand-made copy carries no tag').toEqual([]);
  const sessions = await discoveredSessions(driver, state, fixture.seedsSessions ?? false);

  const adoption = adoptionPlan(state, before);
  expect(adoption.ambiguous).toEqual([]);
  const adoptedPeers = adoption.adopted.filter((item) => item.kind === peerKind);
  expect(adoptedPeers, 'every remote is adopted').toHaveLength(state.peer.peers.length);
  expect(adoption.adopted.length).toBeGreaterThan(adoptedPeers.length);
  for (const operation of adoption.plan.operations) {
    expect(operation).toMatchObject({ op: 'update', reason: ADOPTED_REASON });
  }
  // One write per adopted item, on that item, and nothing else.
  const adoptedIds = new Set(adoption.adopted.map(itemId));
  expect(adoption.plan.operations.map((operation) => itemId(operation as { kind: string; id: string })).every((id) => adoptedIds.has(id))).toBe(true);

  const writesBefore = await inspect?.();
  const applied = await driver.apply(adoption.plan);
  expect(applied.failed, applied.failed?.message).toBeNull();
  if (writesBefore) expect((await inspect?.())?.writes).toBe(writesBefore.writes + adoption.plan.operations.length);

  const afterAdoption = await driver.readState(state);
  const byId = new Map(afterAdoption.map((resource) => [itemId(resource), resource]));
  for (const item of adoption.adopted) expect(byId.get(itemId(item))?.key, `${item.kind} ${item.id} keeps its id and carries the tag`).toBe(item.key);
  // Items that matched nothing read exactly as before.
  const untouched = before.filter((resource) => !adoptedIds.has(itemId(resource)));
  expect(untouched.map((resource) => `${itemId(resource)} ${propsOf(resource)}`))
    .toEqual(untouched.map((resource) => { const now = byId.get(itemId(resource)); return now ? `${itemId(now)} ${propsOf(now)}` : `${itemId(resource)} gone`; }));
  expectSessionsKept(sessions, await discoveredSessions(driver, state, false), 'after adoption');

  const plan = driver.plan(state, afterAdoption);
  expect(plan.operations.filter((operation) => operation.op === 'delete'), 'the deploy after adoption deletes nothing').toEqual([]);
  const adoptedKeys = new Set(adoption.adopted.map((item) => `${item.kind} ${item.key}`));
  expect(plan.operations.filter((operation) => operation.op === 'create' && adoptedKeys.has(`${operation.kind} ${operation.key}`))).toEqual([]);
  expect(plan.operations.filter((operation) => operation.kind === peerKind && operation.op !== 'update')).toEqual([]);
  const deployed = await driver.apply(plan);
  expect(deployed.failed, deployed.failed?.message).toBeNull();

  const afterDeploy = await driver.readState(state);
  const deployedById = new Map(afterDeploy.map((resource) => [itemId(resource), resource]));
  for (const item of adoption.adopted) expect(deployedById.get(itemId(item))?.key, `${item.kind} ${item.id} after the deploy`).toBe(item.key);
  expectSessionsKept(sessions, await discoveredSessions(driver, state, false), 'after the deploy');
  const statistics = await statisticsOf(driver, state);
  if (statistics !== null) expectSessionsKept(sessions, statistics, 'in statistics() after the deploy');
  expect(driver.plan(state, afterDeploy).operations).toEqual([]);
  const again = adoptionPlan(state, afterDeploy);
  expect(again.plan.operations).toEqual([]);
  expect(again.adopted).toEqual([]);
}

export interface AdoptionContractOptions {
  /** The fixture builds dual-stack states (ContractFixture.dualStack); false registers no dual-stack case. */
  dualStack?: boolean;
}

export function describeAdoptionContract(name: string, setup: () => Promise<AdoptionFixture>, options: AdoptionContractOptions = {}): void {
  describe(`DeviceDriver adoption contract: ${name}`, () => {
    const current = fixturePerTest(setup);

    it('takes over a hand-made copy in place: only tag writes, ids and sessions kept, the next deploy removes and adds nothing adopted, a second adoption is empty', async () => {
      await adoptAndDeploy(current(), current().desired('initial'));
    });

    if (options.dualStack !== false) {
      it('does the same in a dual-stack WAN', async () => {
        const fixture = current();
        if (!fixture.dualStack) throw new Error('this fixture builds no dual-stack states: pass { dualStack: false } to describeAdoptionContract');
        await adoptAndDeploy(fixture, fixture.dualStack('initial'));
      });
    }

    it('never takes an item another WAN manages, nor anything when nothing is hand-made', async () => {
      const { driver, desired, inspect } = current();
      const adoptionPlan = adoptionOf(driver);
      const state = desired('initial');
      const empty = adoptionPlan(state, await driver.readState(state));
      expect(empty.plan.operations).toEqual([]);
      expect(empty.adopted).toEqual([]);
      const created = driver.plan(state, await driver.readState(state));
      expect((await driver.apply(created)).failed).toBeNull();
      const other = otherWan(state);
      const writes = await inspect?.();
      const foreign = adoptionPlan(other, await driver.readState(other));
      expect(foreign.adopted, 'items tagged for another WAN are not candidates').toEqual([]);
      expect(foreign.plan.operations).toEqual([]);
      if (writes) expect((await inspect?.())?.writes).toBe(writes.writes);
    });
  });
}
