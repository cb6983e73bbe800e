// A clear (every Meshplane section, include file and running peer removed) and a revert (back to
// the previous deployment) with the connection dropped at each of their requests in turn: the
// request lost before the router ran it, or its reply lost after it ran (test-fixtures.ts).
// With a translated LAN (its nftables include file and section) and a preshared key, also
// dual-stack with published services. Each rerun
// must converge to what an undisturbed run leaves: no leftover file, section, rule or running
// peer, no apply pending in rpcd, the admin's sections untouched, and still so once the rollback
// timer an interrupted round armed has run out.
import { setTimeout as sleep } from 'node:timers/promises';
import { describe, expect, it } from 'vitest';
import { describeDropSweep, type DropSweepCase } from '../../../test/contract/drop-sweep.js';
import { startOpenWrtSimulator } from '../../../test/sim/openwrt/index.js';
import { overlay, peer, subnet } from '../../domain/__fixtures__/overlay.js';
import type { OverlaySpec } from '../../domain/model.js';
import { createOpenWrtDriver } from './driver.js';
import { KIND } from './kinds.js';
import { managedOn, owrtSweepDevice, SIM_TIMING, simTarget, siteSpec, stateOf, TIME_SCALE } from './test-fixtures.js';

const PSK = Buffer.alloc(32, 5).toString('base64');
const PSK2 = Buffer.alloc(32, 6).toString('base64');

/** The router "ow" (its LAN translated), b with a routed LAN and a PSK, c behind CGNAT. Every variant keeps these keys. */
const BASE: OverlaySpec = {
  ...overlay([
    peer('ow', '10.0.0.1', { subnets: [subnet('lanOw', '192.168.1.0/24', { natCidr: '172.16.1.0/24' })] }),
    peer('b', '10.0.0.2', { subnets: [subnet('lanB', '192.168.2.0/24')] }),
    peer('c', '10.0.0.3', { endpointHost: null }),
  ]),
  presharedKeys: [{ peerAId: 'ow', peerBId: 'b', key: PSK }],
};
/** Dual-stack: both families translated (NETMAP, NPTv6) and published services, all in one include. */
const DUAL: OverlaySpec = { ...siteSpec(true), presharedKeys: [{ peerAId: 'ow', peerBId: 'b', key: PSK }] };

/** A later edit of the same WAN: the router's LANs shown as `nat` says (null: routed as they are), without c, another PSK, no services. */
function edited(spec: OverlaySpec, change: { nat?: string | null; withoutC?: boolean; psk?: string; withoutServices?: boolean }): OverlaySpec {
  return {
    ...spec,
    peers: spec.peers.filter((item) => !(change.withoutC && item.id === 'c')).map((item) => (item.id !== 'ow' ? item : {
      ...item,
      subnets: change.nat === undefined ? item.subnets : item.subnets.map((lan) => ({ ...lan, natCidr: lan.cidr.includes(':') ? null : change.nat ?? null })),
      services: change.withoutServices ? [] : item.services,
    })),
    presharedKeys: change.psk === undefined ? spec.presharedKeys : spec.presharedKeys.map((entry) => ({ ...entry, key: change.psk! })),
  };
}

type Drop = 'request' | 'reply';

/** Cut off after the confirm: the include files or the running peers were not brought in line (the rerun does it). */
const FAILURE = /^(written but not applied: |applied and confirmed; (the running WireGuard device was not updated|an include file it stopped using was not removed): )?(UNREACHABLE|TIMEOUT): (\/tmp\/meshplane-psk was not removed after wg set: )?.*site-b/;
/**
 * Once the change was staged (its uci writes went in the batch before the apply), a lost
 * connection is answered by the next check on a new one: the run may stand.
 */
const bestEffort = (made: readonly string[]) => made.some((write) => write.startsWith('uci.'));

function cases(drop: Drop): DropSweepCase[] {
  const start = (state: OverlaySpec, startFrom: OverlaySpec) => () => owrtSweepDevice({ state: stateOf(state), startFrom: stateOf(startFrom), secrets: [PSK, PSK2], drop });
  const sweep = (operation: 'clear' | 'revert', from: string, state: OverlaySpec, startFrom: OverlaySpec): DropSweepCase => ({ operation, from, failure: FAILURE, bestEffort, start: start(state, startFrom) });
  return [
    sweep('clear', 'a deployment with a translated LAN', BASE, BASE),
    // The running device drops c and takes back the PSK with `wg set` (through a file that must not stay).
    sweep('revert', 'a newer deployment (another translation, c removed, the PSK rotated)', BASE, edited(BASE, { nat: '172.16.9.0/24', withoutC: true, psk: PSK2 })),
    sweep('revert', 'a deployment without a translation back to one with it', BASE, edited(BASE, { nat: null })),
    sweep('revert', 'a deployment with a translation back to one without', edited(BASE, { nat: null }), BASE),
    sweep('clear', 'a dual-stack deployment with services', DUAL, DUAL),
    sweep('revert', 'a dual-stack deployment with services back to one without services or IPv4 translation', edited(DUAL, { nat: null, withoutServices: true }), DUAL),
  ];
}

describeDropSweep('OpenWrt driver', cases('request'));
describeDropSweep('OpenWrt driver, replies lost after the router ran the request', cases('reply'));

describe('a clear whose run stopped between the apply and the confirm (Meshplane restarted)', () => {
  it('is confirmed by the rerun, which also removes the include file: the router\'s timer puts nothing back', async () => {
    const sim = await startOpenWrtSimulator({ timeScale: TIME_SCALE });
    const driver = createOpenWrtDriver(simTarget(sim, { timeoutMs: 300 }), { timing: SIM_TIMING });
    try {
      const state = stateOf(BASE);
      expect((await driver.apply(driver.plan(state, await driver.readState(state)))).failed).toBeNull();
      expect(managedOn(sim).files).toHaveLength(1);
      // The confirm never comes: the apply stays pending with rpcd's timer running.
      sim.faults.failCall = { object: 'uci', method: 'confirm', rpcError: -32603, times: 1 };
      expect((await driver.apply(driver.clearPlan(await driver.readState(state)))).failed).not.toBeNull();
      expect(sim.model.apply.applySid).not.toBeNull();

      const plan = driver.clearPlan(await driver.readState(state));
      expect(plan.operations.map((operation) => operation.kind).sort()).toEqual([KIND.leftovers, KIND.apply].sort());
      expect((await driver.apply(plan)).failed).toBeNull();
      await sleep(90 * TIME_SCALE + 300);
      const { others: _others, ...mine } = managedOn(sim);
      expect(mine).toEqual({ network: [], firewall: [], files: [], running: [] });
      expect(sim.model.apply.applySid).toBeNull();
      expect(driver.clearPlan(await driver.readState(state)).operations).toEqual([]);
    } finally {
      await driver.close();
      await sim.stop();
    }
  });
});

describe('an include file the router refuses to remove', () => {
  it('fails the clear naming the refusal, keeps it listed, and the rerun removes it; another WAN\'s include is untouched', async () => {
    const sim = await startOpenWrtSimulator({ timeScale: TIME_SCALE });
    const driver = createOpenWrtDriver(simTarget(sim, { timeoutMs: 300 }), { timing: SIM_TIMING });
    const other = createOpenWrtDriver(simTarget(sim, { id: 'dev-openwrt-2', timeoutMs: 300 }), { timing: SIM_TIMING });
    try {
      const second = stateOf(overlay([
        peer('ow', '10.9.0.1', { subnets: [subnet('lanOw3', '192.168.3.0/24', { natCidr: '172.16.3.0/24' })] }),
        peer('d', '10.9.0.2', { subnets: [subnet('lanD', '192.168.4.0/24')] }),
      ], { id: 'wan2', tunnelCidr: '10.9.0.0/24', servicesCidr: '10.9.5.0/24', listenPort: 51821, interfaceName: 'wg-two' }));
      expect((await other.apply(other.plan(second, await other.readState(second))))).toMatchObject({ failed: null });
      const theirs = managedOn(sim);
      expect(theirs.files).toHaveLength(1);

      const state = stateOf(BASE);
      expect((await driver.apply(driver.plan(state, await driver.readState(state)))).failed).toBeNull();
      expect(managedOn(sim).files).toHaveLength(2);
      sim.faults.failCall = { object: 'file', method: 'remove', status: 6, times: 1 };
      const failed = (await driver.apply(driver.clearPlan(await driver.readState(state)))).failed;
      expect(failed?.message).toMatch(/^applied and confirmed; an include file it stopped using was not removed: REFUSED: file\.remove: PERMISSION_DENIED \(6\)/);
      expect(managedOn(sim).files).toHaveLength(3); // its include file, its list, and wan2's

      expect((await driver.apply(driver.clearPlan(await driver.readState(state)))).failed).toBeNull();
      expect(driver.clearPlan(await driver.readState(state)).operations).toEqual([]);
      expect(managedOn(sim)).toEqual(theirs);
      expect(other.plan(second, await other.readState(second)).operations).toEqual([]);
    } finally {
      await other.close();
      await driver.close();
      await sim.stop();
    }
  });
});
