// Auto-redeploy: when a change to a WAN alters the rendering of peers marked auto-deploy,
// redeploy them. Changes are debounced per WAN, so a burst of edits makes one deploy per
// device; only peers whose config actually changed (by hash) are deployed.
//
// Every replica hears every change (wanChanged goes through Redis), so the check-and-start
// runs under a lease per WAN (Redis with REDIS_URL, in memory otherwise): the second replica
// then sees the job the first one queued instead of queueing its own. A deploy that is already
// RUNNING may have rendered before the change, so after it ends the WAN is checked again.
import type { Db } from '../../infra/db/client.js';
import type { Logger } from '../../infra/logger.js';
import type { SecretBox } from '../../infra/crypto/secret-box.js';
import type { LockManager } from '../../infra/locks.js';
import type { PubSub, WanChange } from '../../infra/pubsub/topics.js';
import { OverlayReader, statusOf } from '../overlay/overlays.js';
import type { Deployments } from './deployments.js';

/** Outlives a crashed holder by at most this long; a check takes well under it. */
const LEASE_MS = 60_000;
/** Tries again (after the debounce) this often while another replica checks the WAN. */
const MAX_BUSY_RETRIES = 5;
/** Follow-ups after follow-ups (a deploy running each time) stop after this many. */
const MAX_FOLLOW_UPS = 5;

export interface AutoRedeployOptions {
  /** Quiet time after the last change to a WAN before checking it. */
  debounceMs: number;
  /** How often a follow-up looks whether the running deploys it waits for have ended. */
  followUpPollMs?: number;
  /** A follow-up stops waiting after this long (a job waits at most 10 minutes for its device). */
  followUpMaxWaitMs?: number;
}

/** Why a check runs: a fresh change, another try while the lease was busy, or a follow-up. */
interface Attempt {
  busyRetries: number;
  followUps: number;
}

export class AutoRedeployer {
  private readonly timers = new Map<string, NodeJS.Timeout>();
  private listening: AsyncIterator<WanChange> | null = null;
  private readonly inFlight = new Set<Promise<void>>();
  /** Per WAN, the running deploy jobs a follow-up waits for. */
  private readonly awaited = new Map<string, Set<string>>();
  private readonly wakers = new Set<() => void>();
  private stopped = false;
  private readonly followUpPollMs: number;
  private readonly followUpMaxWaitMs: number;

  /** Checks this replica completed, or left to another replica holding the WAN's lease (tests wait on it). */
  checks = 0;
  /** Times a check found a deploy running and scheduled a follow-up (tests wait on it). */
  followUps = 0;

  constructor(
    private readonly prisma: Db,
    private readonly secrets: SecretBox,
    private readonly pubsub: PubSub,
    private readonly deployments: Deployments,
    /** Shared by the replicas: one check of a WAN at a time. */
    private readonly locks: LockManager,
    private readonly log: Logger,
    private readonly options: AutoRedeployOptions,
  ) {
    this.followUpPollMs = options.followUpPollMs ?? 1000;
    this.followUpMaxWaitMs = options.followUpMaxWaitMs ?? 15 * 60_000;
  }

  /** Nothing scheduled, checking or waiting for a running deploy. */
  get idle(): boolean {
    return this.timers.size === 0 && this.inFlight.size === 0 && this.awaited.size === 0;
  }

  start(): void {
    if (this.listening) return;
    this.stopped = false;
    const iterator = this.pubsub.subscribe('wanChanged')[Symbol.asyncIterator]();
    this.listening = iterator;
    void (async () => {
      for (let next = await iterator.next(); !next.done; next = await iterator.next()) {
        if (next.value.kind === 'DELETED' && next.value.entity === 'WAN') continue;
        this.schedule(next.value.wanId, { busyRetries: 0, followUps: 0 });
      }
    })();
  }

  async stop(): Promise<void> {
    this.stopped = true;
    for (const timer of this.timers.values()) clearTimeout(timer);
    this.timers.clear();
    for (const wake of this.wakers) wake();
    await this.listening?.return?.();
    this.listening = null;
    await Promise.allSettled([...this.inFlight]);
  }

  private schedule(wanId: string, attempt: Attempt): void {
    if (this.stopped) return;
    clearTimeout(this.timers.get(wanId));
    const timer = setTimeout(() => {
      this.timers.delete(wanId);
      this.track(this.check(wanId, attempt));
    }, this.options.debounceMs);
    timer.unref();
    this.timers.set(wanId, timer);
  }

  private track(work: Promise<void>): void {
    const tracked = work.catch((error: unknown) => this.log.warn({ err: { message: (error as Error).message } }, 'auto-redeploy failed'));
    this.inFlight.add(tracked);
    void tracked.finally(() => this.inFlight.delete(tracked));
  }

  /** Checks the WAN now, as the debounce timer does (tests race replicas with it). */
  checkNow(wanId: string): Promise<void> {
    return this.check(wanId, { busyRetries: 0, followUps: 0 });
  }

  private async check(wanId: string, attempt: Attempt): Promise<void> {
    const lease = await this.locks.tryAcquire(`auto-redeploy:${wanId}`, LEASE_MS);
    if (!lease) {
      // Another replica is checking this WAN; it may have read before our change committed.
      if (attempt.busyRetries < MAX_BUSY_RETRIES) this.schedule(wanId, { ...attempt, busyRetries: attempt.busyRetries + 1 });
      this.checks++;
      return;
    }
    try {
      const { running } = await this.redeploy(wanId);
      if (running.length > 0 && attempt.followUps < MAX_FOLLOW_UPS) {
        this.followUps++;
        this.followUp(wanId, running, attempt.followUps + 1);
      }
    } finally {
      this.checks++;
      await lease.release();
    }
  }

  /**
   * Starts a deploy job for every auto-deploy peer of the WAN whose config is not current;
   * returns them and the RUNNING deploys of stale peers (they may have rendered before the change).
   */
  private async redeploy(wanId: string): Promise<{ jobs: string[]; running: string[] }> {
    const candidates = await this.prisma.peer.findMany({ where: { wanId, autoDeploy: true, deviceId: { not: null }, privateKeyEnc: { not: null } }, select: { id: true, deliveredHash: true } });
    if (candidates.length === 0) return { jobs: [], running: [] };
    const view = await new OverlayReader(this.prisma, this.secrets).view(wanId);
    const stale = candidates.filter((peer) => statusOf(view.hashOf(peer.id), peer.deliveredHash) !== 'CURRENT').map((peer) => peer.id);
    if (stale.length === 0) return { jobs: [], running: [] };
    const pending = await this.prisma.deployJob.findMany({ where: { peerId: { in: stale }, kind: 'DEPLOY', status: { in: ['QUEUED', 'RUNNING'] } }, select: { id: true, peerId: true, status: true } });
    const jobs: string[] = [];
    const running: string[] = [];
    for (const peerId of stale) {
      const mine = pending.filter((job) => job.peerId === peerId);
      // A queued deploy renders when it starts, so it will carry this change: not queued twice.
      if (mine.some((job) => job.status === 'QUEUED')) continue;
      if (mine.length > 0) running.push(...mine.map((job) => job.id));
      else jobs.push(await this.deployments.deploy(null, peerId, true));
    }
    if (jobs.length > 0) this.log.info({ wanId, jobs: jobs.length }, 'auto-redeploy started');
    return { jobs, running };
  }

  /** Waits (bounded) until the running deploys have ended, then checks the WAN again. */
  private followUp(wanId: string, jobIds: string[], followUps: number): void {
    const waiting = this.awaited.get(wanId);
    if (waiting) {
      // One waiter per WAN: it also waits for these.
      for (const id of jobIds) waiting.add(id);
      return;
    }
    const ids = new Set(jobIds);
    this.awaited.set(wanId, ids);
    this.track((async () => {
      try {
        for (let waited = 0; !this.stopped && waited < this.followUpMaxWaitMs; waited += this.followUpPollMs) {
          await this.sleep(this.followUpPollMs);
          const open = await this.prisma.deployJob.count({ where: { id: { in: [...ids] }, status: { in: ['QUEUED', 'RUNNING'] } } });
          if (open === 0) {
            this.schedule(wanId, { busyRetries: 0, followUps });
            return;
          }
        }
        if (!this.stopped) this.log.warn({ wanId }, 'auto-redeploy stopped waiting for a running deploy');
      } finally {
        this.awaited.delete(wanId);
      }
    })());
  }

  /** Resolves after ms, or at once when stopping. */
  private sleep(ms: number): Promise<void> {
    return new Promise((resolve) => {
      const done = () => {
        clearTimeout(timer);
        this.wakers.delete(done);
        resolve();
      };
      const timer = setTimeout(done, ms);
      this.wakers.add(done);
    });
  }
}
