// One model of a device's health, fed by the handshake monitor's polls and by connection
// tests alike, so `Device.health` and `testDeviceConnection` never disagree about the same
// failure. Pure: the caller passes the time. A device that refuses the login or cannot be
// reached is checked less and less often (a real router logs every refused login and may block
// the address); a manual test or a change of the device's settings starts over.

/** How a device call failed (the drivers' DeviceError codes). */
export type DeviceFault = 'UNREACHABLE' | 'AUTH_FAILED' | 'TIMEOUT' | 'PROTOCOL' | 'REFUSED' | 'TLS';

/** The client-facing code of each fault (DEVICE_*), as device calls answer it. */
export const FAULT_CODES = {
  UNREACHABLE: 'DEVICE_UNREACHABLE',
  TIMEOUT: 'DEVICE_TIMEOUT',
  TLS: 'DEVICE_TLS_FAILED',
  AUTH_FAILED: 'DEVICE_AUTH_FAILED',
  REFUSED: 'DEVICE_REFUSED',
  PROTOCOL: 'DEVICE_ERROR',
} as const satisfies Record<DeviceFault, string>;

/** The longest wait between two checks of a failing device. */
export const MAX_BACKOFF_MS = 10 * 60_000;

/** Faults that back off: a refused login (each attempt is logged by the router) and a device that cannot be reached. */
const BACKS_OFF: ReadonlySet<DeviceFault> = new Set(['AUTH_FAILED', 'UNREACHABLE', 'TIMEOUT', 'TLS']);

/** JSON-safe (it crosses replicas through Redis): times are ISO strings. */
export interface DeviceHealth {
  /** The device answered (null: not checked yet). */
  reachable: boolean | null;
  /** It accepted the credentials (null: not known, e.g. unreachable). */
  authenticated: boolean | null;
  /** It can report handshakes and traffic (null: not known yet). */
  statsAvailable: boolean | null;
  lastError: { code: (typeof FAULT_CODES)[DeviceFault]; message: string } | null;
  /** When the current state (working, or failing with this error) began. */
  since: string;
  checkedAt: string;
  /** When the device will be checked next; later and later while it keeps failing. */
  nextCheckAt: string;
  /** Consecutive failures that back off (0 when working). */
  failures: number;
}

/** What one check found. */
export type HealthProbe =
  | { ok: true; statsAvailable?: boolean | null }
  | { ok: false; fault: DeviceFault; message: string };

/** How the health changed with a check: what is worth one log line. */
export type HealthChange = 'unchanged' | 'working' | 'failing' | 'failing differently' | 'recovered';

export function backoffDelay(failures: number, baseMs: number, capMs = MAX_BACKOFF_MS): number {
  if (failures <= 0) return baseMs;
  return Math.min(baseMs * 2 ** Math.min(failures - 1, 30), Math.max(capMs, baseMs));
}

/** What a fault says about reachability and the login; a working check says yes to both. */
export function faultMeaning(fault: DeviceFault | null): Pick<DeviceHealth, 'reachable' | 'authenticated'> {
  switch (fault) {
    case null:
      return { reachable: true, authenticated: true };
    case 'AUTH_FAILED':
      return { reachable: true, authenticated: false };
    case 'REFUSED':
    case 'PROTOCOL':
      return { reachable: true, authenticated: null };
    default:
      return { reachable: false, authenticated: null };
  }
}

export interface CheckContext {
  now: Date;
  /** How long until the next check of a working device (the first backoff step too). */
  intervalMs: number;
  /** A manual test or a change of the device's settings: the backoff starts over. */
  reset?: boolean;
  capMs?: number;
}

/** The health after a check, and how it changed. */
export function nextHealth(previous: DeviceHealth | undefined, probe: HealthProbe, context: CheckContext): { health: DeviceHealth; change: HealthChange } {
  const now = context.now.toISOString();
  const lastError = probe.ok ? null : { code: FAULT_CODES[probe.fault], message: probe.message };
  const priorFailures = context.reset ? 0 : (previous?.failures ?? 0);
  const failures = !probe.ok && BACKS_OFF.has(probe.fault) ? priorFailures + 1 : 0;
  const change: HealthChange = !previous || previous.reachable === null
    ? (probe.ok ? 'working' : 'failing')
    : previous.lastError === null
      ? (probe.ok ? 'unchanged' : 'failing')
      : probe.ok
        ? 'recovered'
        : previous.lastError.code === lastError!.code && previous.lastError.message === lastError!.message ? 'unchanged' : 'failing differently';
  const statsAvailable = probe.ok && probe.statsAvailable !== undefined ? probe.statsAvailable : (previous?.statsAvailable ?? null);
  return {
    change,
    health: {
      ...faultMeaning(probe.ok ? null : probe.fault),
      statsAvailable,
      lastError,
      since: change === 'unchanged' && previous ? previous.since : now,
      checkedAt: now,
      nextCheckAt: new Date(context.now.getTime() + backoffDelay(failures, context.intervalMs, context.capMs)).toISOString(),
      failures,
    },
  };
}

/** Whether the device is due for a check at `now`, within `toleranceMs` (timers fire a little early or late). */
export function isDue(health: DeviceHealth | undefined, now: Date, toleranceMs: number): boolean {
  return !health || Date.parse(health.nextCheckAt) - toleranceMs <= now.getTime();
}
