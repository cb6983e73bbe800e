// The typed map of pub/sub topics: one channel per entity id; events carry ids only and
// subscribers reload through the same resolvers (and authorization) as queries.
import { createPubSub } from 'graphql-yoga';
import type { DeviceHealth } from '../../domain/device-health.js';

export type ChangeKind = 'CREATED' | 'UPDATED' | 'DELETED';

export interface WanChange {
  kind: ChangeKind;
  wanId: string;
  entity: 'WAN' | 'PEER' | 'SUBNET' | 'SERVICE';
  entityId: string;
}

export interface JobEvent {
  jobId: string;
  wanId: string | null;
}

export interface PeerStatusEvent {
  wanId: string;
  peerIds: string[];
}

/** A peer status as it crosses replicas (dates as ISO strings: the Redis transport is JSON). */
export interface ObservedStatus {
  peerId: string;
  wanId: string;
  online: boolean;
  lastHandshake: string | null;
  rxBytes: string;
  txBytes: string;
  endpoint: string | null;
  observedAt: string;
}

/** What one device read of a bound peer's interface: each remote peer it has, with its last handshake. */
export interface ObservedTunnels {
  /** The bound peer whose interface was read. */
  reporterId: string;
  wanId: string;
  deviceId: string;
  observedAt: string;
  remotes: Array<{ peerId: string; lastHandshake: string | null }>;
  /** Redundant hubs: the device's BGP session with each remote it runs one with. */
  sessions?: Array<{ peerId: string; established: boolean }>;
}

/** A device's health as the polling replica last read it (or a connection test on any replica found). */
export interface ObservedDevice extends DeviceHealth {
  deviceId: string;
}

/**
 * What the polling replica's monitor publishes: the statuses and device health that changed,
 * or (full) everything it knows, which replaces what a replica held: replicas that started
 * later, or missed a message (Redis pub/sub is at most once), catch up from it.
 */
export interface MonitorObservation {
  /** The publishing replica (it applied the observation before publishing and skips its own). */
  from: string;
  full: boolean;
  statuses: ObservedStatus[];
  devices: ObservedDevice[];
  /** Per bound peer, what its device reported per remote (per-tunnel state). */
  tunnels?: ObservedTunnels[];
}

export type Topics = {
  /** The polling replica's monitor: what it observed, for every replica to apply. */
  'monitor:observed': [MonitorObservation];
  /** A replica without the polling replica's state asks it for a full observation. */
  'monitor:snapshotRequest': [{ from: string }];
  /** Handshake monitor: these peers' live status changed. */
  'peerStatusChanged:byWan': [wanId: string, event: PeerStatusEvent];
  /** Handshake monitor: what a device reports about this WAN's tunnels changed (readings or a device's health). */
  'tunnelReports:byWan': [wanId: string, event: { wanId: string }];
  /** A deploy job changed state, progress or log. */
  'jobProgress:byId': [jobId: string, event: JobEvent];
  'jobProgress:byWan': [wanId: string, event: JobEvent];
  /** Every change to a WAN or what it contains. */
  wanChanged: [WanChange];
  'wanChanged:byId': [wanId: string, change: WanChange];
  /** Credentials stopped working: every replica closes the WebSockets opened with them. */
  'auth:revoked': [AccessRevoked];
  /** An in-app notification was written (services/integrations/notifications.ts). */
  notificationAdded: [{ notificationId: string }];
};

/** Whose credentials were revoked: all of a user's, a user's sessions, one session or one API token. */
export type AccessRevoked = { reason: string } & (
  | { scope: 'user'; userId: string }
  | { scope: 'userSessions'; userId: string }
  | { scope: 'session'; sessionId: string }
  | { scope: 'token'; tokenId: string }
);

export function createTopics() {
  return createPubSub<Topics>();
}

export type PubSub = ReturnType<typeof createTopics>;

export function publishWanChange(pubsub: PubSub, change: WanChange): void {
  pubsub.publish('wanChanged', change);
  pubsub.publish('wanChanged:byId', change.wanId, change);
}

export function publishJobEvent(pubsub: PubSub, event: JobEvent): void {
  pubsub.publish('jobProgress:byId', event.jobId, event);
  if (event.wanId) pubsub.publish('jobProgress:byWan', event.wanId, event);
}
