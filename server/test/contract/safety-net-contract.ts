/**
 * The device's own safety net (issue 20): a deploy that cuts Meshplane's management path off
 * must undo itself on the device, and one that does not must stay. One vitest suite each driver
 * with such a net runs against its simulator. Signature (stable; extend only with optional fields):
 *
 *   describeSafetyNetContract(name: string, setup: () => Promise<SafetyNetFixture>): void
 *
 * `setup` runs before every test and returns a device with no Meshplane resources on it and:
 *   - driver: the DeviceDriver under test;
 *   - desired: a state whose first deploy writes the device's firewall (rules Meshplane needs);
 *   - cutOnNextApply(): the next firewall change the device applies cuts Meshplane's management
 *     path (new connections to the API fail) until the device puts the previous state back;
 *   - rollbackWindowMs: how long the device waits for a confirmation before it rolls back (a
 *     simulator runs with a short one, e.g. 1 s);
 *   - snapshot(): what the device's rollback restores (OPNsense: the Filter node as running;
 *     OpenWrt: the UCI config and firewall as running), read straight from the device and
 *     comparable with toEqual: the "device as before" probe;
 *   - rollbackWords?: what the failure must say (default: it was rolled back or reverted);
 *   - teardown(): stops what setup started.
 *
 * Usage:
 *   describeSafetyNetContract('OPNsense 26.1', async () => ({ driver, desired, cutOnNextApply, rollbackWindowMs, snapshot, teardown }));
 */
import { setTimeout as sleep } from 'node:timers/promises';
import { describe, expect, it } from 'vitest';
import type { DesiredDeviceState, DeviceDriver } from '../../src/devices/driver.js';
import { fixturePerTest } from './driver-contract.js';

export interface SafetyNetFixture {
  driver: DeviceDriver;
  desired: DesiredDeviceState;
  cutOnNextApply: () => void;
  rollbackWindowMs: number;
  snapshot: () => Promise<unknown>;
  rollbackWords?: RegExp;
  teardown: () => Promise<void>;
}

const ROLLED_BACK = /roll(ed)? (it )?back|revert/i;

/** Polls `probe` until it holds, at most `attempts` times `everyMs` apart; the last result. */
async function eventually(probe: () => Promise<boolean>, everyMs: number, attempts: number): Promise<boolean> {
  for (let attempt = 0; attempt < attempts; attempt++) {
    if (await probe()) return true;
    await sleep(everyMs);
  }
  return probe();
}

export function describeSafetyNetContract(name: string, setup: () => Promise<SafetyNetFixture>): void {
  describe(`DeviceDriver safety-net contract: ${name}`, () => {
    const current = fixturePerTest(setup);

    it('a deploy that cuts the management path reports failed naming the device\'s rollback; the device is reachable and as before within the window; a deploy after it converges', async () => {
      const { driver, desired, cutOnNextApply, rollbackWindowMs, snapshot, rollbackWords } = current();
      const before = await snapshot();
      const plan = driver.plan(desired, await driver.readState(desired));
      expect(plan.operations.length).toBeGreaterThan(0);
      cutOnNextApply();
      const result = await driver.apply(plan);
      expect(result.failed, 'the cut deploy must not be reported as done').not.toBeNull();
      expect(result.failed?.message).toMatch(rollbackWords ?? ROLLED_BACK);
      // The driver returns once the device put things back; a short grace covers the device's
      // own reload finishing after its reply (bounded: two windows).
      const restored = await eventually(async () => JSON.stringify(await snapshot()) === JSON.stringify(before), 50, Math.ceil((2 * rollbackWindowMs) / 50));
      expect(restored, 'the device is as before the deploy').toBe(true);
      expect(await snapshot()).toEqual(before);
      const report = await driver.testConnection();
      expect(report.reachable, report.message).toBe(true);
      expect(report.loggedIn, report.message).toBe(true);

      const again = driver.plan(desired, await driver.readState(desired));
      const redeployed = await driver.apply(again);
      expect(redeployed.failed, redeployed.failed?.message).toBeNull();
      expect(driver.plan(desired, await driver.readState(desired)).operations).toEqual([]);
    });

    it('a deploy that does not cut is confirmed and kept after the window', async () => {
      const { driver, desired, rollbackWindowMs, snapshot } = current();
      const before = await snapshot();
      const plan = driver.plan(desired, await driver.readState(desired));
      const result = await driver.apply(plan);
      expect(result.failed, result.failed?.message).toBeNull();
      const deployed = await snapshot();
      expect(deployed).not.toEqual(before);
      await sleep(2 * rollbackWindowMs + 200);
      expect(await snapshot(), 'nothing rolled back after the window').toEqual(deployed);
      expect(driver.plan(desired, await driver.readState(desired)).operations).toEqual([]);
      const report = await driver.testConnection();
      expect(report.reachable, report.message).toBe(true);
    });
  });
}
