import { describe, expect, it } from 'vitest';
import { backoffDelay, isDue, MAX_BACKOFF_MS, nextHealth, type DeviceHealth, type HealthProbe } from './device-health.js';

const T0 = Date.UTC(2025, 0, 1, 10, 2);
const at = (ms: number) => new Date(T0 + ms);
const refused: HealthProbe = { ok: false, fault: 'AUTH_FAILED', message: 'invalid user name or password' };

/** Runs checks one after the other, each at the time the previous one scheduled. */
function run(probes: HealthProbe[], intervalMs = 5000): Array<{ health: DeviceHealth; change: string }> {
  const out: Array<{ health: DeviceHealth; change: string }> = [];
  let previous: DeviceHealth | undefined;
  let now = at(0);
  for (const probe of probes) {
    const step = nextHealth(previous, probe, { now, intervalMs });
    out.push(step);
    previous = step.health;
    now = new Date(step.health.nextCheckAt);
  }
  return out;
}

describe('device health', () => {
  it('says reachable but not authenticated after a refused login, with the code device calls answer', () => {
    const [first] = run([refused]);
    expect(first!.health).toMatchObject({ reachable: true, authenticated: false, lastError: { code: 'DEVICE_AUTH_FAILED', message: refused.ok ? '' : refused.message }, failures: 1 });
    expect(first!.change).toBe('failing');
    const [tls] = run([{ ok: false, fault: 'TLS', message: 'no TLS handshake' }]);
    expect(tls!.health).toMatchObject({ reachable: false, authenticated: null, lastError: { code: 'DEVICE_TLS_FAILED' } });
  });

  it('doubles the wait after each refused login or connection failure up to 10 minutes, and says the change once', () => {
    const steps = run(Array.from({ length: 12 }, () => refused));
    const waits = steps.map(({ health }) => Date.parse(health.nextCheckAt) - Date.parse(health.checkedAt));
    expect(waits).toEqual([5, 10, 20, 40, 80, 160, 320, 600, 600, 600, 600, 600].map((seconds) => seconds * 1000));
    expect(steps.map(({ change }) => change)).toEqual(['failing', ...Array(11).fill('unchanged')]);
    expect(new Set(steps.map(({ health }) => health.since))).toEqual(new Set([at(0).toISOString()]));
    expect(backoffDelay(40, 5000)).toBe(MAX_BACKOFF_MS);
  });

  it('starts over on reset, on recovery, and reports another error as a change', () => {
    const [, second] = run([refused, refused]);
    const reset = nextHealth(second!.health, refused, { now: at(60_000), intervalMs: 5000, reset: true });
    expect(reset.health.failures).toBe(1);
    expect(Date.parse(reset.health.nextCheckAt) - Date.parse(reset.health.checkedAt)).toBe(5000);
    const other = nextHealth(second!.health, { ok: false, fault: 'UNREACHABLE', message: 'ECONNREFUSED' }, { now: at(60_000), intervalMs: 5000 });
    expect(other).toMatchObject({ change: 'failing differently', health: { reachable: false, failures: 3, since: at(60_000).toISOString() } });
    const back = nextHealth(other.health, { ok: true, statsAvailable: true }, { now: at(90_000), intervalMs: 5000 });
    expect(back).toMatchObject({ change: 'recovered', health: { reachable: true, authenticated: true, lastError: null, failures: 0, statsAvailable: true } });
    // A command the device refuses is reported, but does not back off.
    expect(nextHealth(back.health, { ok: false, fault: 'REFUSED', message: 'no such command' }, { now: at(95_000), intervalMs: 5000 }).health.failures).toBe(0);
  });

  it('is due within the tolerance of its next check', () => {
    const [first] = run([refused]);
    expect(isDue(first!.health, at(4000), 500)).toBe(false);
    expect(isDue(first!.health, at(4600), 500)).toBe(true);
    expect(isDue(undefined, at(0), 0)).toBe(true);
  });
});
