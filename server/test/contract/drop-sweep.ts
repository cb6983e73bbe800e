// A connection dropped at each request of a full deploy in turn (reads, every write, every
// apply), for any driver whose simulator can drop "the request after k answered ones": the
// deploy fails naming the device without a secret in the message, a rerun converges to
// exactly what an undisturbed deploy made (one of each managed item), the operator's own
// items stay as they were, and a redeploy then plans nothing.
import { describe, expect, it } from 'vitest';
import type { DesiredDeviceState, DeviceDriver } from '../../src/devices/driver.js';
import { DeviceError } from '../../src/devices/driver.js';

export interface DropSweepDevice {
  driver: DeviceDriver;
  /** The state deployed in every round. */
  state: DesiredDeviceState;
  /** Values that must never appear in a failure message (credentials, private keys, PSKs). */
  secrets: string[];
  /** Back to the starting point (Meshplane's items cleared, or an older deployment), through the driver. */
  reset(): Promise<void>;
  /** Items the operator made by hand, added once after the first reset (optional). */
  addOperatorItems?(): Promise<void>;
  /** How many requests the device has answered or seen so far. */
  requestCount(): number;
  /** The requests since `from` that changed the device, as "<METHOD> <path>". */
  writesSince(from: number): string[];
  /** Arms the drop: the device answers `answered` more requests, then drops the next connection. */
  dropAfter(answered: number): void;
  /** Whether the armed drop has happened (the switch clears itself when it fires). */
  dropFired(): boolean;
  /** Meshplane's items with what points at them, comparable with toEqual (no volatile ids). */
  managed(): unknown;
  /** The tags of Meshplane's items, one per item: a duplicate means a rerun created one twice. */
  managedTags(): string[];
  /** Everything else on the device, comparable with toEqual. */
  unmanaged(): unknown;
  /** Whether every written change is applied (loaded) on the device. */
  everythingApplied(): boolean;
  /**
   * Waits out the device's own rollback timer (OpenWrt's `uci apply` rollback), when it has one:
   * the rerun's state must still be there afterwards, not taken back by a timer an interrupted
   * round armed.
   */
  outlastRollback?(): Promise<void>;
  stop(): Promise<void>;
}

export interface DropSweepCase {
  /** Where each round starts from ("a firewall without Meshplane objects"). */
  from: string;
  start(): Promise<DropSweepDevice>;
  /** Writes an undisturbed deploy must make (a subset of its writes, in any order). */
  writes?: readonly string[];
  /** What a failure must look like (the device named, the transport's code). */
  failure: RegExp;
  /**
   * Whether a deploy whose connection dropped may still succeed, given the writes it made: a
   * drop at a last clean-up request after everything was applied (the rerun still converges).
   */
  bestEffort?: (writes: readonly string[]) => boolean;
}

/** A device error as the deploy job would show it: its code, then what failed and where; null when it succeeded. */
async function attemptDeploy(driver: DeviceDriver, state: DesiredDeviceState): Promise<string | null> {
  try {
    const actual = await driver.readState(state);
    return (await driver.apply(driver.plan(state, actual))).failed?.message ?? null;
  } catch (error) {
    if (error instanceof DeviceError) return `${error.code}: ${error.message}`;
    throw error;
  }
}

async function planned(driver: DeviceDriver, state: DesiredDeviceState) {
  return driver.plan(state, await driver.readState(state)).operations;
}

export function describeDropSweep(name: string, cases: readonly DropSweepCase[]): void {
  describe.each(cases)(`${name}: a connection dropped at each request of a deploy from $from`, (sweep) => {
    it('fails naming the device without secrets, and a rerun converges with exactly one of each, nothing else changed', async () => {
      const device = await sweep.start();
      try {
        const { driver, state } = device;
        await device.reset();
        await device.addOperatorItems?.();
        const theirs = device.unmanaged();
        const from = device.requestCount();
        expect(await attemptDeploy(driver, state)).toBeNull();
        const total = device.requestCount() - from;
        const writes = device.writesSince(from);
        if (sweep.writes) expect(writes).toEqual(expect.arrayContaining([...sweep.writes]));
        const converged = device.managed();
        const tags = device.managedTags();
        expect(new Set(tags).size).toBe(tags.length);
        expect(tags.length).toBeGreaterThan(0);
        await device.reset();

        for (let answered = 0; answered < total; answered++) {
          const at = `drop after ${answered} of ${total}`;
          const before = device.requestCount();
          device.dropAfter(answered);
          const failure = await attemptDeploy(driver, state);
          expect(device.dropFired(), `${at}: the drop did not happen`).toBe(true);
          const made = device.writesSince(before);
          if (failure === null) {
            expect(sweep.bestEffort?.(made) ?? false, `${at}: the deploy succeeded although the connection dropped (writes: ${made.join(', ')})`).toBe(true);
          } else {
            expect(failure, at).toMatch(sweep.failure);
            for (const secret of device.secrets) expect(failure, at).not.toContain(secret);
          }

          expect(await attemptDeploy(driver, state), `rerun after a ${at}`).toBeNull();
          expect(device.managed(), at).toEqual(converged);
          expect(device.unmanaged(), at).toEqual(theirs);
          expect(await planned(driver, state), `redeploy after a ${at}`).toEqual([]);
          expect(device.everythingApplied(), at).toBe(true);
          if (device.outlastRollback) {
            await device.outlastRollback();
            expect(device.managed(), `${at}, after the rollback timer`).toEqual(converged);
            expect(device.unmanaged(), `${at}, after the rollback timer`).toEqual(theirs);
          }
          await device.reset();
        }
      } finally {
        await device.stop();
      }
    });
  });
}
