// Peer expiry: a sweep on an interval disables every enabled peer whose expiresAt has passed,
// as an operator's disable would (the peer leaves every other configuration; staleness and
// auto-redeploy follow from the change event), audited as peer.expire by the system.
//
// Every replica sweeps; disablePeers' conditional update (still enabled, still expired) lets
// only one of two replicas that found the same peer write its audit entry and announce it.
import type { Db } from '../../infra/db/client.js';
import type { Logger } from '../../infra/logger.js';
import type { PubSub } from '../../infra/pubsub/topics.js';
import { count } from '../../domain/plural.js';
import { IntervalTask } from '../../infra/interval-task.js';
import type { EventSink } from '../integrations/events.js';
import { announceDisabledPeers, DISABLED_PEER_FACTS, disablePeers, type PeerToDisable } from './disable-peers.js';

/** Whose work a peer.expire entry is. */
export const EXPIRY_ACTOR = 'meshplane (expiry)';

export interface PeerExpiryOptions {
  /** How often to look for expired peers. */
  intervalMs: number;
  /** Peers disabled per sweep at most (the earliest expiries first); the rest wait for the next sweep. */
  batch?: number;
}

export class PeerExpiry {
  private readonly task: IntervalTask;
  private readonly batch: number;

  constructor(
    private readonly prisma: Db,
    private readonly pubsub: PubSub,
    private readonly log: Logger,
    readonly options: PeerExpiryOptions,
    /** Where peer.expired goes (the webhooks), in the sweep's transaction. */
    private readonly events: EventSink | null = null,
  ) {
    this.batch = options.batch ?? 200;
    this.task = new IntervalTask(options.intervalMs, () => this.sweep(), (error) => this.log.warn({ err: { message: (error as Error).message } }, 'peer expiry sweep failed; trying again next interval'));
  }

  start(): void {
    this.task.start();
  }

  stop(): Promise<void> {
    return this.task.stop();
  }

  /** Disables the peers expired at `now` (at most `batch`), one transaction; returns those this call disabled. */
  async sweep(now = new Date()): Promise<PeerToDisable[]> {
    const due = await this.prisma.peer.findMany({
      where: { enabled: true, expiresAt: { lte: now } },
      select: DISABLED_PEER_FACTS,
      orderBy: [{ expiresAt: 'asc' }, { id: 'asc' }],
      take: this.batch,
    });
    if (due.length === 0) return [];
    const expired = await this.prisma.$transaction((tx) => disablePeers(tx, this.events, due, {
      stillDue: { expiresAt: { lte: now } },
      event: 'peer.expired',
      audit: (peer) => ({ action: 'peer.expire', targetType: 'Peer', targetId: peer.id, targetName: peer.name, details: { name: peer.name, wanId: peer.wanId, expiresAt: peer.expiresAt } }),
      actor: null,
      actorLabel: EXPIRY_ACTOR,
    }));
    announceDisabledPeers(this.pubsub, expired);
    if (expired.length > 0) this.log.info({ peers: expired.map((peer) => peer.name) }, `disabled ${count(expired.length, 'expired peer')}`);
    return expired;
  }
}
