// The router's own safety net around one staged change (reference §4.6): `uci apply` with
// rollback arms rpcd's timer; Meshplane checks the result on a NEW connection (a kept-alive
// socket would ride on an established conntrack state the new config may cut) and only then
// confirms. A check that keeps failing → `uci rollback` (the driver's decision); the router
// not answering at all → its own timer restores the old config, and the error says so.
import { setTimeout as sleep } from 'node:timers/promises';
import { DeviceError } from '../driver.js';
import { statusText } from './errors.js';
import type { UbusCall, UbusClient, UbusResult } from './ubus-client.js';

export interface SafeApplyTiming {
  /** rpcd's rollback timer, seconds (LuCI's default is 90). */
  rollbackSeconds: number;
  /** Wait after `uci apply` before the first check (procd reloads on a short delay). */
  settleMs: number;
  pollMs: number;
  /** A check still failing by then → rollback; well under the rollback timer. */
  checkDeadlineMs: number;
  /** Length of one of the router's seconds, for the wait on its own rollback (tests run the simulator faster). */
  secondMs: number;
}

export const DEFAULT_TIMING: SafeApplyTiming = { rollbackSeconds: 90, settleMs: 1_000, pollMs: 250, checkDeadlineMs: 20_000, secondMs: 1_000 };

/** A read-only check of the applied config: null when it passes, else why not. */
export interface ApplyCheck {
  calls: UbusCall[];
  verdict(results: UbusResult[]): string | null;
}

export type SafeApplyOutcome =
  | { outcome: 'confirmed' }
  | { outcome: 'nothing' }
  /** rpcd answered the apply with a refusal (another session's apply pending, no write grant): nothing was committed. */
  | { outcome: 'refused'; error: DeviceError }
  /** The driver rolled back (a check failed); the config is as before. */
  | { outcome: 'rolled-back'; error: DeviceError }
  /** Unreachable after apply: the router's timer restored it (or will). */
  | { outcome: 'cut'; error: DeviceError };

/** `uci apply` + checks + `uci confirm` / `uci rollback`. Throws only when the apply call itself fails to get an answer. */
function applyRefusal(status: number): DeviceError {
  return new DeviceError('REFUSED', status === 6
    ? 'uci.apply: PERMISSION_DENIED (6): another session\'s change is pending on the router (LuCI?); retry after its rollback window'
    : `uci.apply: ${statusText(status)}`);
}

const lostConnection = (error: unknown) => error instanceof DeviceError && (error.code === 'UNREACHABLE' || error.code === 'TIMEOUT');

/**
 * `uci apply` + checks + `uci confirm` / `uci rollback`. An apply whose answer is lost (the new
 * config may be what cut the connection) is followed up like an answered one: the first reply
 * on a new connection tells whether the change is still staged (then it is applied again).
 */
export async function safeApply(client: UbusClient, device: string, checks: readonly ApplyCheck[], timing: SafeApplyTiming): Promise<SafeApplyOutcome> {
  const apply = { object: 'uci', method: 'apply', args: { rollback: true, timeout: timing.rollbackSeconds } };
  let answered = true;
  try {
    const [applied] = await client.batch([apply]);
    if (applied?.status === 5) return { outcome: 'nothing' };
    if (applied?.status !== 0) return { outcome: 'refused', error: applyRefusal(applied?.status ?? -1) };
  } catch (error) {
    if (!lostConnection(error)) throw error;
    answered = false;
  }
  const started = Date.now();
  await sleep(timing.settleMs);
  let lastProblem = 'no check has run';
  let confirmSent = false;
  let confirmLost = false;
  let reached = false;
  // Bounded: every pass waits pollMs and the loop ends at the deadline.
  while (Date.now() - started < timing.checkDeadlineMs) {
    const connection = client.freshConnection();
    try {
      if (!answered) {
        const [changes] = await client.batch([{ object: 'uci', method: 'changes', args: {} }], connection);
        const staged = changes?.status === 0 && Object.keys((changes.data?.changes ?? {}) as object).length > 0;
        if (staged) {
          const [again] = await client.batch([apply], connection);
          if (again?.status === 5) return { outcome: 'nothing' };
          if (again?.status !== 0) return { outcome: 'refused', error: applyRefusal(again?.status ?? -1) };
        }
        answered = true;
      }
      const results = checks.length === 0 ? [] : await client.batch(checks.flatMap((check) => check.calls), connection);
      reached = true;
      let offset = 0;
      const problems = checks.map((check) => {
        const slice = results.slice(offset, offset + check.calls.length);
        offset += check.calls.length;
        return check.verdict(slice);
      }).filter((problem): problem is string => problem !== null);
      if (problems.length === 0) {
        confirmSent = true;
        const confirmed = await client.call('uci', 'confirm', {});
        // NO_DATA after a confirm whose answer was lost, well inside the window: that one took.
        if (confirmed.status === 0 || (confirmed.status === 5 && confirmLost)) return { outcome: 'confirmed' };
        return { outcome: 'rolled-back', error: new DeviceError('REFUSED', `uci.confirm: ${statusText(confirmed.status)}: the router rolled the change back before Meshplane could confirm it; plan again`) };
      }
      lastProblem = problems.join('; ');
    } catch (error) {
      if (!(error instanceof DeviceError) || error.code === 'AUTH_FAILED' || error.code === 'PROTOCOL') throw error;
      confirmLost ||= confirmSent;
      lastProblem = `no answer on a new connection (${error.code})`;
    } finally {
      await connection.close().catch(() => undefined);
    }
    await sleep(timing.pollMs);
  }
  if (reached) {
    const rolledBack = await client.call('uci', 'rollback', {}).catch((error: unknown) => error);
    const how = rolledBack instanceof Error ? `the rollback call got no answer (${(rolledBack as DeviceError).code ?? 'error'}); the router restores it by itself after ${timing.rollbackSeconds} s`
      : (rolledBack as UbusResult).status === 0 ? 'Meshplane rolled it back (uci rollback)'
        : (rolledBack as UbusResult).status === 5 ? `the router's own ${timing.rollbackSeconds} s timer had already rolled it back (uci rollback: NO_DATA (5))`
          : `uci rollback: ${statusText((rolledBack as UbusResult).status)}`;
    return { outcome: 'rolled-back', error: new DeviceError('REFUSED', `the applied change did not check out within ${Math.round(timing.checkDeadlineMs / 1000)} s (${lastProblem}); ${how}`) };
  }
  return { outcome: 'cut', error: await afterOwnRollback(client, device, timing, started) };
}

/** Waits out the router's rollback timer, then asks whether it answers again. */
async function afterOwnRollback(client: UbusClient, device: string, timing: SafeApplyTiming, started: number): Promise<DeviceError> {
  const window = timing.rollbackSeconds * timing.secondMs;
  const grace = Math.max(timing.settleMs, 2 * timing.pollMs) + 2 * timing.secondMs;
  await sleep(Math.max(0, started + window + grace - Date.now()));
  const connection = client.freshConnection();
  try {
    await client.batch([{ object: 'session', method: 'access', args: {} }], connection);
    return new DeviceError('UNREACHABLE', `the change cut Meshplane's management path to ${device}; the router rolled it back by itself after ${timing.rollbackSeconds} s (rpcd's uci rollback timer): the device is as before`);
  } catch {
    return new DeviceError('UNREACHABLE', `the change cut Meshplane's management path to ${device} and it still does not answer; a rollback is pending on the device (rpcd's ${timing.rollbackSeconds} s uci rollback timer)`);
  } finally {
    await connection.close().catch(() => undefined);
  }
}
