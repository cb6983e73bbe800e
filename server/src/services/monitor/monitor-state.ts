// What the handshake monitor knows, held by every replica alike: each peer's live status and
// each device's health. The polling replica applies its observations here and publishes them;
// the others apply what it publishes, so `Peer.status`, `Device.reachable` and `/metrics`
// answer the same on every replica.
import type { MonitorObservation, ObservedDevice, ObservedStatus, ObservedTunnels } from '../../infra/pubsub/topics.js';
import type { EndReport } from '../../domain/tunnel-state.js';

export interface PeerStatus {
  peerId: string;
  wanId: string;
  online: boolean;
  lastHandshake: Date | null;
  rxBytes: string;
  txBytes: string;
  endpoint: string | null;
  /** When a device last reported on this peer. */
  observedAt: Date;
}

/**
 * Devices report a handshake's age in whole seconds, so the instant derived from it moves by
 * up to a second between polls although no new handshake happened: within this much it is
 * the same handshake (WireGuard re-handshakes at most every 5 s, normally every 2 minutes).
 */
export const HANDSHAKE_JITTER_MS = 2000;

function sameHandshake(a: Date | null, b: Date | null): boolean {
  if (a === null || b === null) return a === b;
  return Math.abs(a.getTime() - b.getTime()) <= HANDSHAKE_JITTER_MS;
}

export function sameStatus(a: PeerStatus | undefined, b: PeerStatus): boolean {
  return !!a && a.online === b.online && sameHandshake(a.lastHandshake, b.lastHandshake) && a.rxBytes === b.rxBytes && a.txBytes === b.txBytes && a.endpoint === b.endpoint;
}

/** The Redis transport is JSON: dates cross replicas as ISO strings. */
export function statusToWire(status: PeerStatus): ObservedStatus {
  return { ...status, lastHandshake: status.lastHandshake?.toISOString() ?? null, observedAt: status.observedAt.toISOString() };
}

function statusFromWire(status: ObservedStatus): PeerStatus {
  return { ...status, lastHandshake: status.lastHandshake ? new Date(status.lastHandshake) : null, observedAt: new Date(status.observedAt) };
}

export type MonitorUpdate = Omit<MonitorObservation, 'from'>;

/** What a bound peer's device last reported per remote, with the device and WAN it was read for. */
export interface TunnelReport extends EndReport {
  reporterId: string;
  wanId: string;
  deviceId: string;
}

function reportFromWire(wire: ObservedTunnels): TunnelReport {
  return {
    reporterId: wire.reporterId, wanId: wire.wanId, deviceId: wire.deviceId, observedAt: new Date(wire.observedAt),
    remotes: new Map(wire.remotes.map((remote) => [remote.peerId, remote.lastHandshake ? new Date(remote.lastHandshake) : null])),
    ...(wire.sessions ? { sessions: new Map(wire.sessions.map((session) => [session.peerId, session.established])) } : {}),
  };
}

export function reportToWire(report: TunnelReport): ObservedTunnels {
  return {
    reporterId: report.reporterId, wanId: report.wanId, deviceId: report.deviceId, observedAt: report.observedAt.toISOString(),
    remotes: [...report.remotes].map(([peerId, at]) => ({ peerId, lastHandshake: at?.toISOString() ?? null })),
    ...(report.sessions ? { sessions: [...report.sessions].map(([peerId, established]) => ({ peerId, established })) } : {}),
  };
}

/** The same remotes with the same handshakes (within the rounding of their age). */
export function sameReport(a: TunnelReport | undefined, b: TunnelReport): boolean {
  if (!a || a.deviceId !== b.deviceId || a.remotes.size !== b.remotes.size) return false;
  if ((a.sessions === undefined) !== (b.sessions === undefined) || (a.sessions && b.sessions && !sameSessions(a.sessions, b.sessions))) return false;
  return [...b.remotes].every(([peerId, at]) => a.remotes.has(peerId) && sameHandshake(a.remotes.get(peerId) ?? null, at));
}

function sameSessions(a: ReadonlyMap<string, boolean>, b: ReadonlyMap<string, boolean>): boolean {
  return a.size === b.size && [...b].every(([peerId, established]) => a.get(peerId) === established);
}

export class MonitorState {
  private readonly statuses = new Map<string, PeerStatus>();
  private readonly devices = new Map<string, ObservedDevice>();
  private readonly reports = new Map<string, TunnelReport>();

  status(peerId: string): PeerStatus | undefined {
    return this.statuses.get(peerId);
  }

  allStatuses(): PeerStatus[] {
    return [...this.statuses.values()];
  }

  device(deviceId: string): ObservedDevice | undefined {
    return this.devices.get(deviceId);
  }

  allDevices(): ObservedDevice[] {
    return [...this.devices.values()];
  }

  /** What the device of this bound peer last reported per remote. */
  tunnelReport(peerId: string): TunnelReport | undefined {
    return this.reports.get(peerId);
  }

  /**
   * Applies an observation's tunnel reports (and, for a full one, drops the reports it lacks);
   * returns the WANs whose tunnel states may have changed: a report changed, or the health of a
   * device reporting on them did. Call before apply(), which records the devices' health.
   */
  applyTunnels(observation: MonitorUpdate): Set<string> {
    const wans = new Set<string>();
    const incoming = (observation.tunnels ?? []).map(reportFromWire);
    if (observation.full) {
      const kept = new Set(incoming.map((report) => report.reporterId));
      for (const [peerId, report] of this.reports) if (!kept.has(peerId)) { this.reports.delete(peerId); wans.add(report.wanId); }
    }
    for (const report of incoming) {
      if (!sameReport(this.reports.get(report.reporterId), report)) wans.add(report.wanId);
      this.reports.set(report.reporterId, report);
    }
    for (const device of observation.devices) {
      const before = this.devices.get(device.deviceId);
      if (before && before.since === device.since && before.statsAvailable === device.statsAvailable && !!before.lastError === !!device.lastError) continue;
      for (const report of this.reports.values()) if (report.deviceId === device.deviceId) wans.add(report.wanId);
    }
    return wans;
  }

  /** Applies an observation; returns the peers whose status changed, by WAN (for peerStatusChanged). */
  apply(observation: MonitorUpdate): Map<string, string[]> {
    if (observation.full) {
      // A full observation is everything the poller knows: what it no longer has is gone.
      this.retain(new Set(observation.statuses.map((status) => status.peerId)), new Set(observation.devices.map((device) => device.deviceId)));
    }
    const changed = new Map<string, string[]>();
    for (const wire of observation.statuses) {
      const status = statusFromWire(wire);
      if (!sameStatus(this.statuses.get(status.peerId), status)) changed.set(status.wanId, [...(changed.get(status.wanId) ?? []), status.peerId]);
      this.statuses.set(status.peerId, status);
    }
    for (const device of observation.devices) this.devices.set(device.deviceId, device);
    return changed;
  }

  /** Everything, as a full observation. */
  snapshot(): MonitorUpdate {
    return { full: true, statuses: this.allStatuses().map(statusToWire), devices: this.allDevices(), tunnels: [...this.reports.values()].map(reportToWire) };
  }

  /** Forgets peers and devices outside these sets (deleted, or no longer seen by any device). */
  retain(peerIds: ReadonlySet<string>, deviceIds: ReadonlySet<string>): void {
    for (const peerId of this.statuses.keys()) if (!peerIds.has(peerId)) this.statuses.delete(peerId);
    for (const deviceId of this.devices.keys()) if (!deviceIds.has(deviceId)) this.devices.delete(deviceId);
    for (const [peerId, report] of this.reports) if (!peerIds.has(peerId) || !deviceIds.has(report.deviceId)) this.reports.delete(peerId);
  }
}
