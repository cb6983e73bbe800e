// A connection dropped at each request of a full deploy, revert or clear in turn (reads, every
// write, every apply), for any driver whose simulator can drop "the request after k answered
// ones": the run fails naming the device without a secret in the message, a rerun converges to
// exactly what an undisturbed run made (one of each managed item; none after a clear), the
// operator's own items stay as they were, and running it again then plans nothing.
import { describe, expect, it } from 'vitest';
import type { DesiredDeviceState, DeviceDriver } from '../../src/devices/driver.js';
import type { ActualResource } from '../../src/domain/plan.js';
import { DeviceError } from '../../src/devices/driver.js';

export interface DropSweepDevice {
  driver: DeviceDriver;
  /** The state deployed in every round (a revert: the one gone back to; a clear: the one deployed, read with). */
  state: DesiredDeviceState;
  /** Values that must never appear in a failure message (credentials, private keys, PSKs). */
  secrets: string[];
  /** Back to the starting point (Meshplane's items cleared, an older or a newer deployment), through the driver. */
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
  /**
   * What each round runs (default deploy): a revert is a deploy of the state of the deployment
   * gone back to (as the service's revert is), from the newer one `reset` makes; a clear
   * removes every Meshplane item `reset` deployed (clearPlan), so it converges to none.
   */
  operation?: 'deploy' | 'revert' | 'clear';
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

type Operation = NonNullable<DropSweepCase['operation']>;

const planOf = (operation: Operation, driver: DeviceDriver, state: DesiredDeviceState, actual: readonly ActualResource[]) =>
  (operation === 'clear' ? driver.clearPlan(actual) : driver.plan(state, actual));

/** A device error as the job would show it: its code, then what failed and where; null when it succeeded. */
async function attempt(operation: Operation, driver: DeviceDriver, state: DesiredDeviceState): Promise<string | null> {
  try {
    const actual = await driver.readState(state);
    return (await driver.apply(planOf(operation, driver, state, actual))).failed?.message ?? null;
  } catch (error) {
    if (error instanceof DeviceError) return `${error.code}: ${error.message}`;
    throw error;
  }
}

async function planned(operation: Operation, driver: DeviceDriver, state: DesiredDeviceState) {
  return planOf(operation, driver, state, await driver.readState(state)).operations;
}

export function describeDropSweep(name: string, cases: readonly DropSweepCase[]): void {
  const named = cases.map((sweep) => ({ ...sweep, operation: sweep.operation ?? 'deploy' }));
  describe.each(named)(`${name}: a connection dropped at each request of a $operation from $from`, (sweep) => {
    it('fails naming the device without secrets, and a rerun converges with exactly one of each, nothing else changed', async () => {
      const device = await sweep.start();
      const { operation } = sweep;
      try {
        const { driver, state } = device;
        await device.reset();
        await device.addOperatorItems?.();
        if (operation === 'clear') expect(device.managedTags().length, 'nothing to clear at the starting point').toBeGreaterThan(0);
        const theirs = device.unmanaged();
        const from = device.requestCount();
        expect(await attempt(operation, driver, state)).toBeNull();
        const total = device.requestCount() - from;
        const writes = device.writesSince(from);
        if (sweep.writes) expect(writes).toEqual(expect.arrayContaining([...sweep.writes]));
        expect(device.everythingApplied(), `an undisturbed ${operation}`).toBe(true);
        const converged = device.managed();
        const tags = device.managedTags();
        expect(new Set(tags).size).toBe(tags.length);
        if (operation === 'clear') expect(tags).toEqual([]);
        else expect(tags.length).toBeGreaterThan(0);
        await device.reset();

        for (let answered = 0; answered < total; answered++) {
          const at = `drop after ${answered} of ${total}`;
          const before = device.requestCount();
          device.dropAfter(answered);
          const failure = await attempt(operation, driver, state);
          expect(device.dropFired(), `${at}: the drop did not happen`).toBe(true);
          const made = device.writesSince(before);
          if (failure === null) {
            expect(sweep.bestEffort?.(made) ?? false, `${at}: the ${operation} succeeded although the connection dropped (writes: ${made.join(', ')})`).toBe(true);
          } else {
            expect(failure, at).toMatch(sweep.failure);
            for (const secret of device.secrets) expect(failure, at).not.toContain(secret);
          }

          expect(await attempt(operation, driver, state), `rerun after a ${at}`).toBeNull();
          expect(device.managed(), at).toEqual(converged);
          expect(device.unmanaged(), at).toEqual(theirs);
          expect(await planned(operation, driver, state), `${operation} again after a ${at}`).toEqual([]);
          expect(device.everythingApplied(), at).toBe(true);
          if (device.outlastRollback) {
            await device.outlastRollback();
            expect(device.managed(), `${at}, after the rollback timer`).toEqual(converged);
            expect(device.unmanaged(), `${at}, after the rollback timer`).toEqual(theirs);
            expect(device.everythingApplied(), `${at}, after the rollback timer`).toBe(true);
          }
          await device.reset();
        }
      } finally {
        await device.stop();
      }
    });
  });
}
