// Peer expiry: a sweep on an interval disables every enabled peer whose expiresAt has passed,
// as an operator's disable would (the peer leaves every other configuration; staleness and
// auto-redeploy follow from the change event), audited as peer.expire by the system.
//
// Every replica sweeps. Each peer is disabled by a conditional update (still enabled, still
// expired), so when two replicas find the same peer only the one whose update matched writes
// the audit entry and announces it: the other's update matches no row.
import type { Db } from '../../infra/db/client.js';
import type { Logger } from '../../infra/logger.js';
import { type PubSub, publishWanChange } from '../../infra/pubsub/topics.js';
import { recordAudit } from '../audit.js';
import { count } from '../../domain/plural.js';
import { IntervalTask } from '../../infra/interval-task.js';
import type { EventSink } from '../integrations/events.js';
import { emitPeerEvent } from '../integrations/event-sources.js';

/** Whose work a peer.expire entry is. */
export const EXPIRY_ACTOR = 'meshplane (expiry)';

export interface PeerExpiryOptions {
  /** How often to look for expired peers. */
  intervalMs: number;
  /** Peers disabled per sweep at most (the earliest expiries first); the rest wait for the next sweep. */
  batch?: number;
}

interface Expired {
  id: string;
  wanId: string;
  name: string;
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
  async sweep(now = new Date()): Promise<Expired[]> {
    const due = await this.prisma.peer.findMany({
      where: { enabled: true, expiresAt: { lte: now } },
      select: { id: true, wanId: true, name: true, expiresAt: true, role: true, tunnelIp: true, tunnelIp6: true },
      orderBy: [{ expiresAt: 'asc' }, { id: 'asc' }],
      take: this.batch,
    });
    if (due.length === 0) return [];
    const expired = await this.prisma.$transaction(async (tx) => {
      const done: Expired[] = [];
      for (const peer of due) {
        const { count } = await tx.peer.updateMany({ where: { id: peer.id, enabled: true, expiresAt: { lte: now } }, data: { enabled: false } });
        if (count === 0) continue;
        await emitPeerEvent(this.events, tx, 'peer.expired', { ...peer, enabled: false });
        await recordAudit(tx, null, {
          action: 'peer.expire', targetType: 'Peer', targetId: peer.id, targetName: peer.name, details: { name: peer.name, wanId: peer.wanId, expiresAt: peer.expiresAt },
        }, EXPIRY_ACTOR);
        done.push({ id: peer.id, wanId: peer.wanId, name: peer.name });
      }
      return done;
    });
    for (const peer of expired) publishWanChange(this.pubsub, { kind: 'UPDATED', wanId: peer.wanId, entity: 'PEER', entityId: peer.id });
    if (expired.length > 0) this.log.info({ peers: expired.map((peer) => peer.name) }, `disabled ${count(expired.length, 'expired peer')}`);
    return expired;
  }
}
