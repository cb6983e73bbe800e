// Which job runners are alive. Each server process has one runner with a random id; it
// stamps that id on the jobs it creates (DeployJob.runnerId) and holds the lease
// `runner:<id>` (Redis with REDIS_URL, else this process's memory), renewed every third of
// its ttl while the process lives and released when it stops. A process that dies stops
// renewing, so its lease expires within the ttl: a starting replica then knows that the
// QUEUED/RUNNING jobs stamped with that id will never end, while those of runners whose lease
// is held are still being worked on by another replica and must be left alone.
import { randomUUID } from 'node:crypto';
import type { Lease, LockManager } from '../../infra/locks.js';
import type { Logger } from '../../infra/logger.js';

/** A dead runner's jobs count as still running for at most this long after it died. */
const DEFAULT_TTL_MS = 30_000;

const leaseName = (runnerId: string) => `runner:${runnerId}`;

export class RunnerPresence {
  readonly id = randomUUID();
  private lease: Lease | null = null;
  private timer: NodeJS.Timeout | null = null;
  private renewing = false;

  constructor(
    private readonly locks: LockManager,
    private readonly log: Logger,
    private readonly ttlMs = DEFAULT_TTL_MS,
  ) {}

  /** Takes this runner's lease (when it can: renewing retries) and keeps it until leave(). */
  async join(): Promise<void> {
    if (this.timer) return;
    this.timer = setInterval(() => void this.renew(), this.ttlMs / 3);
    // The lease must not keep a process alive that has nothing else to do.
    this.timer.unref();
    await this.renew();
  }

  /** Whether the runner with this id holds its lease, i.e. its process is alive. */
  isAlive(runnerId: string): Promise<boolean> {
    return this.locks.isHeld(leaseName(runnerId));
  }

  async leave(): Promise<void> {
    if (this.timer) clearInterval(this.timer);
    this.timer = null;
    const lease = this.lease;
    this.lease = null;
    await lease?.release().catch((error: unknown) => this.log.warn({ err: { message: (error as Error).message } }, 'could not release the job runner lease; it expires by itself'));
  }

  private async renew(): Promise<void> {
    if (this.renewing) return;
    this.renewing = true;
    try {
      if (this.lease && (await this.lease.extend())) return;
      // Never taken, or expired while the lease store was unreachable: take it again (the
      // name is this runner's own, so nobody else holds it).
      const lease = await this.locks.tryAcquire(leaseName(this.id), this.ttlMs);
      if (this.timer) this.lease = lease;
      else await lease?.release(); // left while this attempt was under way
    } catch (error) {
      this.log.warn({ runnerId: this.id, err: { message: (error as Error).message } }, 'could not renew the job runner lease');
    } finally {
      this.renewing = false;
    }
  }
}
