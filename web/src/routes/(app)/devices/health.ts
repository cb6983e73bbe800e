// What a device card says about the device's health: one badge ("reachable", "login refused",
// "unreachable") and, while it fails, since when and when the monitor tries again.
import type { DeviceViewFragment } from '$lib/gql/graphql';

type Health = NonNullable<DeviceViewFragment['health']>;

const time = new Intl.DateTimeFormat(undefined, { timeStyle: 'short' });

function inAbout(ms: number): string {
  const seconds = Math.max(0, Math.round(ms / 1000));
  if (seconds < 90) return `${seconds} s`;
  return `${Math.round(seconds / 60)} min`;
}

export interface HealthSummary {
  tone: 'ok' | 'warn' | 'bad';
  label: string;
  /** While failing: "login refused since 10:02 — next try in 4 min (…)". */
  detail: string;
}

export function healthSummary(health: Health | null | undefined, now = Date.now()): HealthSummary | null {
  if (!health || health.reachable === null) return null;
  if (!health.lastError) return { tone: 'ok', label: 'reachable', detail: '' };
  const refused = health.authenticated === false;
  const what = refused ? 'reachable, login refused' : health.reachable ? 'reachable, failing' : 'unreachable';
  const next = Date.parse(health.nextCheckAt) - now;
  const detail = `${what} since ${time.format(new Date(health.since))} — next try in ${inAbout(next)} (${health.lastError.code}: ${health.lastError.message})`;
  return { tone: refused || health.reachable ? 'warn' : 'bad', label: refused ? 'login refused' : health.reachable ? 'failing' : 'unreachable', detail };
}
