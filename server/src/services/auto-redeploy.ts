// Auto-redeploy: when a change to a WAN alters the rendering of peers marked auto-deploy,
// redeploy them. Changes are debounced per WAN, so a burst of edits makes one deploy per
// device; only peers whose config actually changed (by hash) are deployed.
import type { Db } from '../infra/db/client.js';
import type { Logger } from '../infra/logger.js';
import type { SecretBox } from '../infra/crypto/secret-box.js';
import type { PubSub, WanChange } from '../infra/pubsub/topics.js';
import { OverlayReader, statusOf } from './overlays.js';
import type { Deployments } from './deployments.js';

export class AutoRedeployer {
  private readonly timers = new Map<string, NodeJS.Timeout>();
  private listening: AsyncIterator<WanChange> | null = null;

  constructor(
    private readonly prisma: Db,
    private readonly secrets: SecretBox,
    private readonly pubsub: PubSub,
    private readonly deployments: Deployments,
    private readonly log: Logger,
    private readonly debounceMs: number,
  ) {}

  start(): void {
    if (this.listening) return;
    const iterator = this.pubsub.subscribe('wanChanged')[Symbol.asyncIterator]();
    this.listening = iterator;
    void (async () => {
      for (let next = await iterator.next(); !next.done; next = await iterator.next()) {
        if (next.value.kind === 'DELETED' && next.value.entity === 'WAN') continue;
        this.schedule(next.value.wanId);
      }
    })();
  }

  async stop(): Promise<void> {
    for (const timer of this.timers.values()) clearTimeout(timer);
    this.timers.clear();
    await this.listening?.return?.();
    this.listening = null;
  }

  private schedule(wanId: string): void {
    clearTimeout(this.timers.get(wanId));
    const timer = setTimeout(() => {
      this.timers.delete(wanId);
      this.redeploy(wanId).catch((error: unknown) => this.log.warn({ wanId, err: { message: (error as Error).message } }, 'auto-redeploy failed'));
    }, this.debounceMs);
    timer.unref();
    this.timers.set(wanId, timer);
  }

  /** Starts a deploy job for every auto-deploy peer of the WAN whose config is not current. */
  async redeploy(wanId: string): Promise<string[]> {
    const candidates = await this.prisma.peer.findMany({ where: { wanId, autoDeploy: true, deviceId: { not: null }, privateKeyEnc: { not: null } }, select: { id: true, deliveredHash: true } });
    if (candidates.length === 0) return [];
    const view = await new OverlayReader(this.prisma, this.secrets).view(wanId);
    const jobs: string[] = [];
    for (const peer of candidates) {
      if (statusOf(view.hashOf(peer.id), peer.deliveredHash) === 'CURRENT') continue;
      // The job queue holds one job per device at a time; a peer already queued is not queued twice.
      const pending = await this.prisma.deployJob.count({ where: { peerId: peer.id, kind: 'DEPLOY', status: { in: ['QUEUED', 'RUNNING'] } } });
      if (pending === 0) jobs.push(await this.deployments.deploy(null, peer.id, true));
    }
    if (jobs.length > 0) this.log.info({ wanId, jobs: jobs.length }, 'auto-redeploy started');
    return jobs;
  }
}
