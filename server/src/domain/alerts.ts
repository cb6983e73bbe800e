// When an alert fires and resolves, and when a tunnel.down / tunnel.up event is due, from what
// the handshake monitor observes (tunnel state per pair of peers, device health). Pure: the
// caller passes the observations, what it remembered from before and the time.
//
// UNKNOWN is not DOWN. A tunnel no device can report on (neither end on a managed device, or
// every reporting device unreadable) never counts as down, so it never fires TUNNEL_DOWN or
// HANDSHAKE_STALE and never sends tunnel.down: that is what DEVICE_UNREACHABLE is for. While a
// subject is UNKNOWN, a firing incident stays open (nobody saw it recover), and a hold not yet
// fired is forgotten: "for N minutes" counts only minutes a device reported, so a gap nobody
// reported (the tunnel may have come back meanwhile) starts the count again.
import type { TunnelState } from './tunnel-state.js';

export type AlertKind = 'TUNNEL_DOWN' | 'HANDSHAKE_STALE' | 'DEVICE_UNREACHABLE';

export const ALERT_KINDS: readonly AlertKind[] = ['TUNNEL_DOWN', 'HANDSHAKE_STALE', 'DEVICE_UNREACHABLE'];

/** A rule's minutes: at least one, at most a week. */
export const MIN_ALERT_MINUTES = 1;
export const MAX_ALERT_MINUTES = 10_080;
/**
 * Rules in all: each enabled one is checked against every tunnel or device in its scope every
 * 10 s, so their number bounds what an evaluation costs (rules are shared operational
 * settings, like devices, not per user).
 */
export const MAX_ALERT_RULES = 100;

export interface AlertRuleSpec {
  id: string;
  kind: AlertKind;
  minutes: number;
  /** null: every WAN. */
  wanId: string | null;
  /** DEVICE_UNREACHABLE only: this device alone. */
  deviceId: string | null;
}

export interface PeerRef {
  id: string;
  name: string;
}

/** A tunnel between two enabled peers, as the monitor's reports make it now. */
export interface TunnelObservation {
  /** <wanId>:<peer a>:<peer b>, a < b. */
  key: string;
  wan: { id: string; name: string };
  a: PeerRef;
  b: PeerRef;
  state: TunnelState;
  lastHandshake: Date | null;
  /** Why, in a sentence (domain/tunnel-state.ts). */
  reason: string;
  /** The end whose device the state comes from (null when UNKNOWN): the page an alert links to. */
  reportedBy: string | null;
}

export interface DeviceObservation {
  id: string;
  name: string;
  /** null: not checked yet (nobody can say). */
  readable: boolean | null;
  /** The last check's error in words, when it failed. */
  error: string | null;
  /** The WANs whose peers it hosts (a WAN-scoped rule watches these devices). */
  wanIds: readonly string[];
}

export type AlertSubject = { kind: 'tunnel'; tunnel: TunnelObservation } | { kind: 'device'; device: DeviceObservation };

export function tunnelKey(wanId: string, first: string, second: string): string {
  const [a, b] = first < second ? [first, second] : [second, first];
  return `${wanId}:${a}:${b}`;
}

export function subjectKey(subject: AlertSubject): string {
  return subject.kind === 'tunnel' ? `tunnel:${subject.tunnel.key}` : `device:${subject.device.id}`;
}

/** The subject in words: "branch ↔ hq in WAN live", "device sim-router". */
export function subjectName(subject: AlertSubject): string {
  return subject.kind === 'tunnel'
    ? `${subject.tunnel.a.name} ↔ ${subject.tunnel.b.name} in WAN ${subject.tunnel.wan.name}`
    : `device ${subject.device.name}`;
}

/** Whether the rule watches this subject (its kind and its scope). */
export function inScope(rule: AlertRuleSpec, subject: AlertSubject): boolean {
  if (subject.kind === 'tunnel') return rule.kind !== 'DEVICE_UNREACHABLE' && (rule.wanId === null || rule.wanId === subject.tunnel.wan.id);
  if (rule.kind !== 'DEVICE_UNREACHABLE') return false;
  if (rule.deviceId !== null) return rule.deviceId === subject.device.id;
  return rule.wanId === null || subject.device.wanIds.includes(rule.wanId);
}

export interface Condition {
  /** true: holds now; false: does not; null: nobody can say (UNKNOWN, device not checked yet). */
  holds: boolean | null;
  /** How long it must hold before the alert fires. */
  holdMs: number;
}

/**
 * The rule's condition for the subject now. `monitorNow` is the monitor's time (handshake ages
 * are measured on it); the hold is measured on the alert clock by stepHold.
 */
export function conditionOf(rule: AlertRuleSpec, subject: AlertSubject, monitorNow: Date): Condition {
  const holdMs = rule.minutes * 60_000;
  if (subject.kind === 'device') return { holds: subject.device.readable === null ? null : !subject.device.readable, holdMs };
  const { tunnel } = subject;
  if (tunnel.state === 'UNKNOWN') return { holds: null, holdMs };
  if (rule.kind === 'TUNNEL_DOWN') return { holds: tunnel.state === 'DOWN', holdMs };
  // HANDSHAKE_STALE: a handshake's age is the time the condition has held already, so it fires
  // as soon as the age passes N minutes; a tunnel reported with no handshake at all must stay
  // so for N minutes.
  if (tunnel.lastHandshake === null) return { holds: true, holdMs };
  return { holds: monitorNow.getTime() - tunnel.lastHandshake.getTime() >= holdMs, holdMs: 0 };
}

/** What is remembered of a condition for one rule and subject (an AlertIncident row). */
export interface Hold {
  /** When it was first seen holding (the alert clock). */
  since: Date;
  firing: boolean;
}

export interface HoldStep {
  /** What to remember now (null: nothing; a pending hold is forgotten, a firing one resolved). */
  next: Hold | null;
  action: 'fire' | 'resolve' | null;
}

/**
 * One evaluation: fires once when the condition has held `holdMs`, resolves once when it stops
 * holding; a condition that stops before firing is forgotten (a flap within the hold sends
 * nothing); nobody-can-say keeps a firing incident open and forgets one not fired yet.
 */
export function stepHold(current: Hold | null, condition: Condition, now: Date): HoldStep {
  if (condition.holds === null) return { next: current?.firing ? current : null, action: null };
  if (!condition.holds) return { next: null, action: current?.firing ? 'resolve' : null };
  const since = current?.since ?? now;
  if (current?.firing) return { next: current, action: null };
  return now.getTime() - since.getTime() >= condition.holdMs ? { next: { since, firing: true }, action: 'fire' } : { next: { since, firing: false }, action: null };
}

/** The tunnel.down / tunnel.up memory of one tunnel (a TunnelWatch row). */
export interface TunnelWatch {
  state: 'UP' | 'DOWN';
  /** When the current DOWN began (the alert clock); null while DOWN: a gap nobody reported, count again from the next DOWN. */
  downSince: Date | null;
  /** tunnel.down was sent for the current outage. */
  downSent: boolean;
}

export interface TunnelWatchStep {
  next: TunnelWatch | null;
  changed: boolean;
  event: 'tunnel.down' | 'tunnel.up' | null;
}

/**
 * tunnel.down when a tunnel seen UP has been DOWN for the grace period; tunnel.up when it is UP
 * again after a tunnel.down (never an up without a down); a DOWN shorter than the grace sends
 * nothing. A tunnel never seen UP is not watched (it never worked: nothing went down). UNKNOWN
 * during a DOWN not yet sent restarts the grace at the next DOWN (the tunnel may have been up
 * meanwhile); once tunnel.down was sent, the outage stays until a device reports it UP.
 */
export function stepTunnelWatch(current: TunnelWatch | null, state: TunnelState, now: Date, graceMs: number): TunnelWatchStep {
  const same = { next: current, changed: false, event: null };
  if (state === 'UNKNOWN') {
    if (current?.state !== 'DOWN' || current.downSent || current.downSince === null) return same;
    return { next: { state: 'DOWN', downSince: null, downSent: false }, changed: true, event: null };
  }
  if (state === 'UP') {
    if (current?.state === 'UP') return same;
    return { next: { state: 'UP', downSince: null, downSent: false }, changed: true, event: current?.downSent ? 'tunnel.up' : null };
  }
  if (!current) return same;
  const down: TunnelWatch = current.state === 'DOWN' && (current.downSent || current.downSince !== null) ? current : { state: 'DOWN', downSince: now, downSent: false };
  if (!down.downSent && now.getTime() - down.downSince!.getTime() >= graceMs) return { next: { ...down, downSent: true }, changed: true, event: 'tunnel.down' };
  return { next: down, changed: down !== current, event: null };
}

/** The rule in plain words: "Tell me when a tunnel in WAN hq-mesh is down for 5 minutes". */
export function describeRule(rule: Pick<AlertRuleSpec, 'kind' | 'minutes'>, scope: { wanName: string | null; deviceName: string | null }): string {
  const minutes = `${rule.minutes} minute${rule.minutes === 1 ? '' : 's'}`;
  const where = scope.wanName === null ? 'any WAN' : `WAN ${scope.wanName}`;
  switch (rule.kind) {
    case 'TUNNEL_DOWN':
      return `Tell me when a tunnel in ${where} is down for ${minutes}`;
    case 'HANDSHAKE_STALE':
      return `Tell me when a tunnel in ${where} has had no handshake for ${minutes}`;
    case 'DEVICE_UNREACHABLE':
      return scope.deviceName !== null
        ? `Tell me when device ${scope.deviceName} cannot be reached for ${minutes}`
        : `Tell me when a device ${scope.wanName === null ? '' : `of WAN ${scope.wanName} `}cannot be reached for ${minutes}`;
  }
}
