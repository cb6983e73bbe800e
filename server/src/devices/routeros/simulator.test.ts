// The RouterOS driver against the project's RouterOS simulator (test/sim/routeros), over
// the binary API (plain and TLS) and REST, emulating 7.17 (no `!empty`) and 7.18.
import { afterEach, describe, expect, it } from 'vitest';
import { describeDriverContract, type ContractFixture } from '../../../test/contract/driver-contract.js';
import { describeAdoptionContract } from '../../../test/contract/adoption-contract.js';
import { seedHandMadeCopy } from './__fixtures__/hand-made.js';
import { generateSelfSignedCertificate } from '../../../test/sim/routeros/tls-certificate.js';
import { DeviceError } from '../driver.js';
import { simHarness, simTarget, writesOf, type SimHarness, type SimVariant } from './__fixtures__/sim-harness.js';
import { desiredState, overlaySpec } from './__fixtures__/overlay-variants.js';
import { redundantWan } from '../../../test/contract/redundant-wan.js';
import { createRouterOsDriver, createRouterOsTransport, waitForHandshake, type RouterOsDriver } from './index.js';
import { MENU } from './menus.js';
import { undoPlan } from '../../domain/undo.js';
import type { PlanOperation } from '../../domain/plan.js';
import { generateKeyPair } from '../../domain/keys.js';

const VARIANTS: SimVariant[] = [
  { label: 'API 7.17', kind: 'ROUTEROS_API', tls: false, version: '7.17' },
  { label: 'API 7.18', kind: 'ROUTEROS_API', tls: false, version: '7.18.2' },
  { label: 'API-SSL 7.18', kind: 'ROUTEROS_API', tls: true, version: '7.18.2' },
  { label: 'REST 7.17', kind: 'ROUTEROS_REST', tls: true, version: '7.17' },
  { label: 'REST 7.18', kind: 'ROUTEROS_REST', tls: true, version: '7.18.2' },
];

const API_USER_ADDRESSES = ['10.0.0.0/24', '127.0.0.1'];

async function deploy(driver: RouterOsDriver, state = desiredState('initial', { apiAllowedAddresses: API_USER_ADDRESSES })) {
  const plan = driver.plan(state, await driver.readState(state));
  return { plan, result: await driver.apply(plan) };
}

/** What both contract suites need of a fresh simulator (REST logs in as a user without `sensitive`). */
function contractFixture(h: SimHarness): ContractFixture {
  return {
    driver: h.driver,
    desired: (name) => desiredState(name, { apiAllowedAddresses: API_USER_ADDRESSES }),
    peerKind: MENU.peers,
    dualStack: (name) => desiredState(name, { apiAllowedAddresses: API_USER_ADDRESSES }, 'dual'),
    inspect: async () => ({ writes: writesOf(h.commands).length }),
    teardown: () => h.stop(),
  };
}

/** The router's own peer ("site", same keys) in a WAN with redundant hubs. */
const redundantSite = redundantWan(overlaySpec('initial').peers.find((spec) => spec.id === 'site')!);

for (const variant of VARIANTS) {
  describeDriverContract(`RouterOS simulator, ${variant.label}`, async () => {
    const h = await simHarness(variant, { maskSensitive: variant.kind === 'ROUTEROS_REST' });
    return {
      ...contractFixture(h),
      ownNetwork: '192.168.88.0/24', // the simulator's defconf bridge address
      redundant: { roles: ['spoke', 'hub'], desired: (role, hubAdded) => ({ ...redundantSite(role, hubAdded), apiAllowedAddresses: API_USER_ADDRESSES }) },
    };
  }, { dualStack: true });

  describeAdoptionContract(`RouterOS simulator, ${variant.label}`, async () => {
    const h = await simHarness(variant, { maskSensitive: variant.kind === 'ROUTEROS_REST' });
    return { ...contractFixture(h), seedHandMade: async (state) => seedHandMadeCopy(h.sim, state) };
  });
}

describe.each(VARIANTS)('RouterOS driver on the simulator, $label', (variant) => {
  let current: SimHarness | null = null;
  const start = async (options?: Parameters<typeof simHarness>[1]) => (current = await simHarness(variant, options));

  afterEach(async () => {
    await current?.stop();
    current = null;
  });

  it('redeploy after one peer\'s AllowedIPs changed sends exactly one peer set, no peer add or remove', async () => {
    const { driver, commands } = await start();
    await deploy(driver);
    commands.length = 0;
    const { result } = await deploy(driver, desiredState('allowedIpsChanged', { apiAllowedAddresses: API_USER_ADDRESSES }));
    expect(result.failed).toBeNull();
    const peerWrites = writesOf(commands).filter((command) => command.startsWith(`${MENU.peers}/`));
    expect(peerWrites).toEqual([`${MENU.peers}/set`]);
    commands.length = 0;
    await deploy(driver, desiredState('allowedIpsChanged', { apiAllowedAddresses: API_USER_ADDRESSES }));
    expect(writesOf(commands)).toEqual([]);
  });

  it('leaves the unmanaged interface, peers, rules, NAT and routes in place through deploy and clear; demotes the competing route', async () => {
    const { sim, driver } = await start();
    const menus = [MENU.interface, MENU.peers, MENU.address, MENU.route, MENU.filter, MENU.nat];
    const unmanaged = () => menus.flatMap((menu) => sim.model.rows(menu)
      .filter((row) => !row.comment?.startsWith('meshplane:') && row.dynamic !== 'true')
      .map((row) => ({ menu, id: row['.id'], comment: row.comment, distance: row.distance, name: row.name })));
    const before = unmanaged();
    await deploy(driver);
    const state = desiredState('initial', { apiAllowedAddresses: API_USER_ADDRESSES });
    const cleared = await driver.apply(driver.clearPlan(await driver.readState(state)));
    expect(cleared.failed).toBeNull();
    const after = unmanaged();
    const demoted = (row: { menu: string; comment?: string }) => row.menu === MENU.route && row.comment === 'old path to branch LAN';
    expect(after.filter((row) => !demoted(row))).toEqual(before.filter((row) => !demoted(row)));
    expect(before.find(demoted)?.distance).toBe('1');
    expect(after.find(demoted)?.distance).toBe('11');
    expect(sim.model.rows(MENU.route).filter((row) => row.comment?.startsWith('meshplane:'))).toEqual([]);
    // The API user keeps its addresses plus the overlay's.
    expect(sim.model.rows(MENU.user).find((row) => row.name === sim.username)?.address).toBe('127.0.0.0/8,192.168.88.0/24,10.0.0.0/24,127.0.0.1/32');
  });

  it('places the WireGuard input rule before the default drop', async () => {
    const { sim, driver } = await start();
    await deploy(driver);
    const comments = sim.model.rows(MENU.filter).map((rule) => rule.comment ?? '');
    const ours = comments.indexOf('meshplane:wan1:filter:input-udp-51820');
    expect(ours).toBeGreaterThanOrEqual(0);
    expect(ours).toBeLessThan(comments.indexOf('defconf: drop all not coming from LAN'));
  });

  it('reports a clear DeviceError as the cause when the connection drops mid-apply; a rerun converges with no duplicates', async () => {
    const { sim, driver } = await start();
    const state = desiredState('initial', { apiAllowedAddresses: API_USER_ADDRESSES });
    const plan = driver.plan(state, await driver.readState(state));
    sim.faults.dropAfterCommands = 3;
    // Returned, not thrown: the deploy service undoes the attempted operations from it.
    const dropped = await driver.apply(plan);
    // Over the binary API the fourth write is in a pipelined step: the router dropped the
    // connection before writing the replies of writes sent with it, so fewer may be known done.
    if (variant.kind === 'ROUTEROS_API') expect(dropped.applied).toBeLessThanOrEqual(3);
    else expect(dropped.applied).toBe(3);
    expect(dropped.attempted ?? dropped.applied + 1).toBeGreaterThanOrEqual(4);
    const failure = dropped.failed?.cause;
    expect(failure).toBeInstanceOf(DeviceError);
    expect(failure?.code).toBe('UNREACHABLE');
    expect(failure?.message).toMatch(new RegExp(`stopped at .* after ${dropped.applied} of \\d+ operations$`));
    const { result } = await deploy(driver, state);
    expect(result.failed).toBeNull();
    const managed = (await driver.readState(state)).filter((resource) => resource.key !== null);
    expect(managed.map((resource) => `${resource.kind} ${resource.key}`).sort()).toEqual(driver.desiredResources(state).map((resource) => `${resource.kind} ${resource.key}`).sort());
    expect((await deploy(driver, state)).plan.operations).toEqual([]);
  });

  it('a request still queued when its transport is closed fails instead of opening a new connection', async () => {
    // What a call that gave up after one of its parallel reads failed leaves behind.
    const { sim, commands } = await start();
    const transport = createRouterOsTransport(simTarget(sim, variant, { concurrency: 1 }));
    const settled = Promise.allSettled([transport.print(MENU.interface), transport.print(MENU.peers)]);
    await transport.close();
    const [, queued] = await settled;
    expect(queued).toMatchObject({ status: 'rejected', reason: expect.any(DeviceError) });
    expect(commands).not.toContain(`${MENU.peers}/print`);
  });

  if (variant.kind === 'ROUTEROS_API') {
    it('pipelines the writes of a step: the router has all three peer adds in flight at once, one at a time with a window of 1, two with concurrency 2', async () => {
      const { sim, driver } = await start({ target: { concurrency: 16 } });
      const state = desiredState('initial', { apiAllowedAddresses: API_USER_ADDRESSES });
      const plan = driver.plan(state, await driver.readState(state));
      const peerAdds = plan.operations.filter((operation) => operation.op === 'create' && operation.kind === MENU.peers);
      expect(peerAdds).toHaveLength(3);
      // Slow replies keep each command in flight long enough for the next to arrive, if it was sent.
      sim.faults.replyDelayMs = 20;
      sim.load.resetPeak();
      expect((await driver.apply(plan)).failed).toBeNull();
      expect(sim.load.peak).toBe(3);

      // The window, then the device's concurrency (each pipelined write takes a request slot), bound it.
      for (const [options, peak] of [[{ pipelineWindow: 1 }, 1], [{}, 2]] as const) {
        await driver.apply(driver.clearPlan(await driver.readState(state)));
        const bounded = createRouterOsDriver(simTarget(sim, variant, { concurrency: 'pipelineWindow' in options ? 16 : 2 }), options);
        try {
          const again = bounded.plan(state, await bounded.readState(state));
          sim.load.resetPeak();
          expect((await bounded.apply(again)).failed).toBeNull();
          expect(sim.load.peak).toBe(peak);
        } finally {
          await bounded.close();
        }
      }
    });

    it('a !trap in the middle of a pipelined step names its item; the writes sent with it are attempted, and undone', async () => {
      const { sim, driver } = await start({ target: { concurrency: 16 } });
      const state = desiredState('initial', { apiAllowedAddresses: API_USER_ADDRESSES });
      await deploy(driver, state);
      for (const row of sim.model.rows(MENU.peers).filter((peer) => peer.comment?.startsWith('meshplane:'))) {
        sim.model.execute({ command: `${MENU.peers}/remove`, attributes: { '.id': row['.id'] as string } });
      }
      // The operator's peer on Meshplane's interface takes part of the branch's LAN: the router refuses the branch.
      sim.model.execute({ command: `${MENU.peers}/add`, attributes: { interface: 'wg-mesh', 'public-key': generateKeyPair().publicKey, 'allowed-address': '192.168.2.128/25' } });
      const before = await driver.readState(state);
      const plan = driver.plan(state, before);
      const [hub, branch, laptop] = state.peer.peers;
      const publicKeyOf = (operation: PlanOperation | undefined) => (operation?.op === 'create' ? operation.props['public-key'] : undefined);
      // One step of three peer adds, the branch's in the middle.
      expect(plan.operations.map((operation) => `${operation.op} ${operation.kind} ${publicKeyOf(operation)}`)).toEqual([hub, branch, laptop].map((remote) => `create ${MENU.peers} ${remote?.publicKey}`));
      sim.faults.replyDelayMs = 20;
      sim.load.resetPeak();
      const result = await driver.apply(plan);
      expect(sim.load.peak).toBe(3);
      expect(publicKeyOf(result.failed?.operation)).toBe(branch?.publicKey);
      expect(result.failed?.message).toContain('overlaps with another peer');
      expect(result.failed?.cause).toBeUndefined();
      expect(result.applied).toBe(1);
      // The laptop's add went with the branch's and was carried out.
      expect(result.attempted).toBe(3);
      expect(sim.model.rows(MENU.peers).some((peer) => peer['public-key'] === laptop?.publicKey)).toBe(true);

      // What the deploy service does next: undo every attempted operation; the device reads as before.
      sim.faults.replyDelayMs = 0;
      const undo = undoPlan(before, await driver.readState(state), plan.operations.slice(0, result.attempted), driver.undoPolicy);
      expect(undo.plan.operations.map((operation) => operation.op)).toEqual(['delete', 'delete']);
      expect((await driver.apply(undo.plan)).failed).toBeNull();
      expect(await driver.readState(state)).toEqual(before);
    });
  }

  it('reports a command the router refuses in `failed` with its message', async () => {
    const { sim, driver } = await start();
    sim.faults.trap(`${MENU.peers}/add`, 'failure: simulated peer refusal');
    const { result } = await deploy(driver);
    expect(result.failed?.operation).toMatchObject({ op: 'create', kind: MENU.peers });
    expect(result.failed?.message).toContain('failure: simulated peer refusal');
  });

  it('deploys with replies fragmented byte by byte', async () => {
    const { sim, driver } = await start();
    sim.faults.fragmentOutput = true;
    const { result } = await deploy(driver);
    expect(result.failed).toBeNull();
    expect((await deploy(driver)).plan.operations).toEqual([]);
  });

  it('reads empty menus and statistics of a peerless interface (!empty on 7.18, bare !done on 7.17)', async () => {
    const { driver } = await start();
    await expect(driver.statistics('wg-nonexistent')).resolves.toEqual([]);
    await expect(driver.statistics('wg-nonexistent')).resolves.toEqual([]);
  });

  it('reports statistics and which peers lack a fresh handshake', async () => {
    const { sim, driver } = await start();
    await deploy(driver);
    const state = desiredState();
    const [hub, branch, laptop] = state.peer.peers;
    sim.setHandshake(hub?.publicKey as string, 5, { rx: 2 ** 40, tx: 7, endpointAddress: '198.51.100.9', endpointPort: 51820 });
    sim.setHandshake(branch?.publicKey as string, 4000);
    const statistics = await driver.statistics('wg-mesh');
    expect(statistics.find((entry) => entry.publicKey === hub?.publicKey)).toMatchObject({ rxBytes: String(2 ** 40), txBytes: '7', currentEndpoint: '198.51.100.9:51820' });
    const probe = await waitForHandshake(driver, 'wg-mesh', state.peer.peers.map((remote) => remote.publicKey), 0, 1, { sleep: async () => undefined });
    expect(probe).toEqual({ fresh: [hub?.publicKey], stale: [branch?.publicKey, laptop?.publicKey], supported: true });
  });

  it('tests the connection: version and identity; a refused login is AUTH_FAILED', async () => {
    const { sim, driver } = await start();
    await expect(driver.testConnection()).resolves.toMatchObject({ reachable: true, loggedIn: true, version: `${variant.version} (stable)`, identity: 'MikroTik' });
    await driver.close();
    sim.faults.refuseLogin = true;
    const refused = createRouterOsDriver(simTarget(sim, variant));
    await expect(refused.testConnection()).resolves.toMatchObject({ reachable: true, loggedIn: false, message: expect.stringMatching(/invalid user name or password|401/) });
    await refused.close();
  });

  it('gives up on slow replies with TIMEOUT', async () => {
    const { sim } = await start();
    sim.faults.replyDelayMs = 1000;
    const slow = createRouterOsDriver(simTarget(sim, variant, { timeoutMs: 150 }));
    const failure = await slow.readState(desiredState()).catch((error: unknown) => error);
    await slow.close();
    expect(failure).toMatchObject({ code: 'TIMEOUT' });
  });

  if (variant.tls) {
    it('verifies TLS by default: without the device CA the connection fails with TLS', async () => {
      const { sim } = await start();
      const untrusted = createRouterOsDriver(simTarget(sim, variant, { caPem: null }));
      const report = await untrusted.testConnection();
      await untrusted.close();
      expect(report).toMatchObject({ reachable: false, loggedIn: false, message: expect.stringContaining('TLS failed') });
    });

    it('with verification off (tlsVerify: false) logs in without any CA', async () => {
      const { sim } = await start();
      const unverified = createRouterOsDriver(simTarget(sim, variant, { tlsVerify: false, caPem: null }));
      try {
        await expect(unverified.testConnection()).resolves.toMatchObject({ reachable: true, loggedIn: true, version: `${variant.version} (stable)` });
        await expect(unverified.statistics('wg-nonexistent')).resolves.toEqual([]);
      } finally {
        await unverified.close();
      }
    });

    it('with a CA that did not sign the device certificate, fails with a TLS error naming the fix', async () => {
      const { sim } = await start();
      const otherCa = (await generateSelfSignedCertificate()).cert;
      const misconfigured = createRouterOsDriver(simTarget(sim, variant, { caPem: otherCa }));
      const report = await misconfigured.testConnection();
      await misconfigured.close();
      expect(report).toMatchObject({ reachable: false, loggedIn: false });
      expect(report.message).toMatch(/: TLS failed \([A-Z_]+: .+\); check the device's CA certificate or TLS verification setting$/);
    });
  }
});
