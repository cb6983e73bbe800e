// Adoption on OPNsense against the simulator: a hand-made copy of the desired instance (same
// name, key and addresses, its peers with live sessions, a WAN rule for its port) is tagged in
// place: only `name` and `description` change on the wire, every uuid and session stays, the
// admin's other items are byte-identical, and a peer the admin also attached to another
// instance keeps that instance through the tag write and every deploy after it.
import { describe, expect, it } from 'vitest';
import { ADOPTED_REASON } from '../../domain/adoption/adoption-plan.js';
import type { OpnSenseSimulator } from '../../../test/sim/opnsense/index.js';
import { addHandMadeMesh } from '../../../test/sim/opnsense/index.js';
import { handMadeMeshOf } from '../../../test/sim/opnsense/hand-made-state.js';
import type { DesiredDeviceState } from '../driver.js';
import type { OpnSenseDriver } from './driver.js';
import { KIND } from './kinds.js';
import { deploy, driverOnSimulator, opnSiteSpec, stateFor } from './test-fixtures.js';

const start = driverOnSimulator();

type Fields = Record<string, string>;

/** servers, clients and filter rules by uuid, as the config holds them (the pending marker left out: it comes and goes with every apply). */
function config(sim: OpnSenseSimulator): Record<'servers' | 'clients' | 'rules', Map<string, Fields>> {
  const rules = new Map([...sim.model.config.filter.rules].filter(([, rule]) => !String(rule.description).includes(':pending')));
  return { servers: new Map(sim.model.config.servers), clients: new Map(sim.model.config.clients), rules: structuredClone(rules) };
}

/** The fields that differ between two versions of one record. */
function changed(before: Fields | undefined, after: Fields | undefined): string[] {
  const names = new Set([...Object.keys(before ?? {}), ...Object.keys(after ?? {})]);
  return [...names].filter((name) => before?.[name] !== after?.[name]).sort();
}

/** Requests since `from` that wrote an item (not the area applies, not the pending marker), uuids as read. */
function itemWrites(sim: OpnSenseSimulator, from: number, marker: (path: string) => boolean): string[] {
  return sim.requests.slice(from)
    .filter((request) => request.write && /^(add|set|del|toggle)/i.test(request.action?.split('/').pop() ?? '') && !marker(request.path))
    .map((request) => request.path.replace('/api/', ''));
}

async function seeded(sim: OpnSenseSimulator, state: DesiredDeviceState) {
  const mesh = addHandMadeMesh(sim.model, handMadeMeshOf(state));
  state.peer.peers.forEach((remote, index) => sim.setPeerStats(remote.publicKey, { latestHandshake: 1_765_000_000 + index, rx: 2n ** 60n + BigInt(index), tx: 4_096n * BigInt(index + 1) }, mesh.ifname));
  const wanRule = [...sim.model.config.filter.rules].find(([, rule]) => rule.description === `WireGuard ${state.peer.interface.name}`)?.[0] as string;
  return { ...mesh, wanRule };
}

async function adopt(driver: OpnSenseDriver, state: DesiredDeviceState) {
  const adoption = driver.adoptionPlan(state, await driver.readState(state));
  return { adoption, result: await driver.apply(adoption.plan) };
}

const membersOf = (sim: OpnSenseSimulator, uuid: string) => (sim.model.config.servers.get(uuid)?.peers ?? '').split(',').filter(Boolean);

describe('OPNsense adoption in place', () => {
  it('writes only name and description: the same uuids, sessions untouched, the admin\'s other items byte-identical', async () => {
    const { sim, driver } = await start();
    const state = stateFor(opnSiteSpec());
    const mesh = await seeded(sim, state);
    const statsBefore = await driver.statistics(state.peer.interface.name);
    expect(statsBefore?.map((entry) => entry.rxBytes)).toEqual([String(2n ** 60n), String(2n ** 60n + 1n)]);
    const before = config(sim);
    const from = sim.requests.length;

    const { adoption, result } = await adopt(driver, state);
    expect(result).toEqual({ applied: adoption.plan.operations.length, failed: null });
    expect(adoption.ambiguous).toEqual([]);
    expect(adoption.adopted.map((item) => [item.kind, item.id, item.key])).toEqual([
      [KIND.server, mesh.uuid, 'wan1:tunnel:wg-mesh'],
      [KIND.client, mesh.peerUuids[0], 'wan1:peer:b'],
      [KIND.client, mesh.peerUuids[1], 'wan1:peer:c'],
      [KIND.rule, mesh.wanRule, 'wan1:rule:wan-udp-51820'],
    ]);
    expect(adoption.plan.operations.every((operation) => operation.op === 'update' && operation.reason === ADOPTED_REASON)).toBe(true);

    // On the wire: one save per adopted item, on its own uuid.
    const markerPaths = (path: string) => !before.rules.has(path.split('/').pop() ?? '') && /filter\/(addRule|delRule|setRule)/.test(path);
    expect(itemWrites(sim, from, markerPaths)).toEqual([
      `wireguard/server/setServer/${mesh.uuid}`,
      `wireguard/client/setClient/${mesh.peerUuids[0]}`,
      `wireguard/client/setClient/${mesh.peerUuids[1]}`,
      `firewall/filter/setRule/${mesh.wanRule}`,
    ]);
    // In the config: the same uuids; the adopted items changed in their tag field only; everything else as it was.
    const after = config(sim);
    for (const list of ['servers', 'clients', 'rules'] as const) {
      expect([...after[list].keys()].sort(), list).toEqual([...before[list].keys()].sort());
      for (const [uuid, record] of before[list]) {
        const tagField = list === 'rules' ? 'description' : 'name';
        const adopted = adoption.adopted.some((item) => item.id === uuid);
        expect(changed(record, after[list].get(uuid)), `${list} ${record.name ?? record.description}`).toEqual(adopted ? [tagField] : []);
      }
    }
    expect(after.servers.get(mesh.uuid)?.name).toBe('meshplane.wan1.i.wg-mesh');
    expect(after.clients.get(mesh.peerUuids[0] as string)?.name).toBe('meshplane.wan1.p.b');
    // The admin's text stays after the tag; the any-source rule on the wireguard group (shared by every instance) is not taken.
    expect(after.rules.get(mesh.wanRule)?.description).toBe('meshplane:wan1:rule:wan-udp-51820 WireGuard wg-mesh');
    expect([...after.rules.values()].find((rule) => rule.interface === 'wireguard')?.description).toBe('Allow wg-mesh');
    expect(membersOf(sim, mesh.uuid)).toEqual(mesh.peerUuids);

    // The sessions: same handshakes and counters, found now by the tag.
    expect(await driver.statistics(state.peer.interface.name)).toEqual(statsBefore);
    expect(sim.model.running.wg.get(mesh.ifname)?.peers.map((peer) => peer.pubkey)).toEqual(state.peer.peers.map((remote) => remote.publicKey));

    // The deploy after it updates in place, and then nothing is left to do.
    const { plan, result: deployed } = await deploy(driver, state);
    expect(deployed.failed).toBeNull();
    expect(plan.operations.filter((operation) => operation.op !== 'update' && (operation.kind === KIND.server || operation.kind === KIND.client))).toEqual([]);
    expect([...sim.model.config.servers.keys()].sort()).toEqual([...before.servers.keys()].sort());
    expect(await driver.statistics(state.peer.interface.name)).toEqual(statsBefore);
    expect((await deploy(driver, state)).plan.operations).toEqual([]);
  });

  it('a peer attached to two instances keeps its other instance after the tag write, the deploy after it, and a deploy that re-attaches it', async () => {
    const { sim, driver } = await start();
    const state = stateFor(opnSiteSpec());
    const mesh = await seeded(sim, state);
    const [siteB] = mesh.peerUuids as [string];
    const [rwUuid, rw] = [...sim.model.config.servers].find(([, server]) => server.name === 'rw') as [string, Fields];
    sim.model.config.servers.set(rwUuid, { ...rw, peers: [...membersOf(sim, rwUuid), siteB].join(',') });

    const discovered = await driver.discover();
    const peerB = discovered.interfaces.find((iface) => iface.ref === mesh.uuid)?.peers.find((peer) => peer.ref === siteB);
    expect(peerB).toBeDefined();
    expect(discovered.interfaces.find((iface) => iface.ref === rwUuid)?.peers.map((peer) => peer.ref)).toContain(siteB);
    expect(discovered.interfaces.find((iface) => iface.ref === mesh.uuid)?.unmodelled).toEqual(expect.arrayContaining([
      expect.objectContaining({ owner: siteB, name: 'also a peer of', value: expect.stringMatching(/^rw \(wg0\)/) }),
    ]));

    const { adoption, result } = await adopt(driver, state);
    expect(result.failed).toBeNull();
    expect(adoption.adopted.map((item) => item.id)).toContain(siteB);
    expect(sim.model.config.clients.get(siteB)?.name).toBe('meshplane.wan1.p.b');
    expect(membersOf(sim, rwUuid)).toContain(siteB);
    expect(membersOf(sim, mesh.uuid)).toContain(siteB);

    // The deploy after adoption saves the peer (keepalive, endpoint …): its servers keep rw.
    const { plan, result: deployed } = await deploy(driver, state);
    expect(deployed.failed).toBeNull();
    expect(plan.operations.some((operation) => operation.op === 'update' && operation.id === siteB)).toBe(true);
    expect(membersOf(sim, rwUuid)).toContain(siteB);
    expect(membersOf(sim, mesh.uuid)).toContain(siteB);
    expect((await deploy(driver, state)).plan.operations).toEqual([]);

    // Someone takes it off Meshplane's instance by hand: the deploy attaches it again, and rw still holds it.
    const ours = sim.model.config.servers.get(mesh.uuid) as Fields;
    sim.model.config.servers.set(mesh.uuid, { ...ours, peers: membersOf(sim, mesh.uuid).filter((uuid) => uuid !== siteB).join(',') });
    const reattach = await deploy(driver, state);
    expect(reattach.result.failed).toBeNull();
    expect(reattach.plan.operations.map((operation) => [operation.op, operation.key, operation.op === 'update' ? Object.keys(operation.changes) : []])).toEqual([['update', 'wan1:peer:b', ['servers']]]);
    expect(membersOf(sim, mesh.uuid)).toContain(siteB);
    expect(membersOf(sim, rwUuid)).toContain(siteB);
  });

  it('an instance with "Disable routes" on is reported by discover, adopted by name only, and the change to instance routes shows in the deploy plan', async () => {
    const { sim, driver } = await start();
    const state = stateFor(opnSiteSpec());
    const mesh = await seeded(sim, state);
    const server = sim.model.config.servers.get(mesh.uuid) as Fields;
    sim.model.config.servers.set(mesh.uuid, { ...server, disableroutes: '1', gateway: '10.0.0.2' });

    const discovered = await driver.discover();
    expect(discovered.interfaces.find((iface) => iface.ref === mesh.uuid)?.unmodelled).toEqual(expect.arrayContaining([
      expect.objectContaining({ name: 'disable routes', value: expect.stringMatching(/^yes/) }),
      { owner: 'interface', name: 'gateway', value: '10.0.0.2' },
    ]));
    expect(discovered.notes).toEqual(expect.arrayContaining([expect.stringMatching(/^wg-mesh \(wg\d+\) has "Disable routes" on/)]));

    const { adoption, result } = await adopt(driver, state);
    expect(result.failed).toBeNull();
    expect(adoption.plan.operations.find((operation) => operation.kind === KIND.server)).toMatchObject({ changes: { name: 'meshplane.wan1.i.wg-mesh' } });
    expect(sim.model.config.servers.get(mesh.uuid)).toMatchObject({ disableroutes: '1', gateway: '10.0.0.2' });
    const plan = driver.plan(state, await driver.readState(state));
    expect(plan.operations.find((operation) => operation.kind === KIND.server)).toMatchObject({ op: 'update', changes: { disableroutes: '0', gateway: '' } });
  });

  it('two hand-made instances with the same key are ambiguous: neither is taken', async () => {
    const { sim, driver } = await start();
    const state = stateFor(opnSiteSpec());
    await seeded(sim, state);
    addHandMadeMesh(sim.model, { ...handMadeMeshOf(state), descr: 'copy', listenPort: '51830', peers: [] });
    const adoption = driver.adoptionPlan(state, await driver.readState(state));
    expect(adoption.ambiguous.map((item) => [item.kind, item.key, item.ids.length])).toEqual([[KIND.server, 'wan1:tunnel:wg-mesh', 2]]);
    expect(adoption.adopted.some((item) => item.kind === KIND.server)).toBe(false);
  });
});
