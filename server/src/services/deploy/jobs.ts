// Deploy/verify/revert/clear run as persisted jobs with steps, progress, a log, a result and
// an error. One job per device at a time (a per-device queue here, a device lease across
// replicas), a bounded number across devices, and jobs a restart interrupted are marked
// INTERRUPTED on start, never left RUNNING: only those whose runner (server process) is dead,
// since other replicas on the same database may be running theirs (runner-presence.ts).
// Whatever fails on the way (the lease, the database, the work) ends the job FAILED with a
// message and never escapes as an unhandled rejection, which would stop the whole server.
import type { Db } from '../../infra/db/client.js';
import type { Logger } from '../../infra/logger.js';
import { KeyedMutex } from '../../infra/keyed-mutex.js';
import { Semaphore } from '../../infra/semaphore.js';
import { acquire, keepLease, LeaseBusyError, type Lease, type LockManager } from '../../infra/locks.js';
import { type PubSub, publishJobEvent } from '../../infra/pubsub/topics.js';
import type { JobKind } from '../../generated/prisma/enums.js';
import type { Identity } from '../auth/identity.js';
import { JobRecord, type JobContext } from './job-record.js';
import { DomainError } from '../../domain/errors.js';
import { RunnerPresence } from './runner-presence.js';

export type { JobContext, JobStep } from './job-record.js';

export interface JobScope {
  kind: JobKind;
  wanId: string | null;
  peerId: string | null;
  deviceId: string;
}

export interface DeviceLeaseTimings {
  /** A device lease outlives a crashed holder by at most this long; it is renewed every third of it. */
  ttlMs: number;
  /** How long a job waits for a device another replica is working on before it fails. */
  maxWaitMs: number;
  pollMs: number;
}

const DEFAULT_LEASE: DeviceLeaseTimings = { ttlMs: 30_000, maxWaitMs: 10 * 60_000, pollMs: 100 };
/** Active jobs a WAN feed starts with (one per device at most run at once; the rest queue). */
const MAX_ACTIVE_LISTED = 500;

type Outcome = 'SUCCEEDED' | 'FAILED';

const messageOf = (error: unknown) => (error instanceof Error ? error.message : String(error));
/** The last line of a multi-line message: Prisma's errors start with the call site and source. */
const lastLineOf = (error: unknown) => messageOf(error).split('\n').map((line) => line.trim()).filter(Boolean).at(-1) ?? 'unknown error';

export class JobRunner {
  private readonly deviceQueues = new KeyedMutex();
  private readonly slots: Semaphore;
  private readonly running = new Set<Promise<unknown>>();
  private readonly leaseTimings: DeviceLeaseTimings;
  private readonly presence: RunnerPresence;
  private sweeper: NodeJS.Timeout | null = null;
  /** Told about each job that ended FAILED, after that end was written (deploy.failed webhooks). */
  private failedListener: ((jobId: string) => Promise<void>) | null = null;

  constructor(
    private readonly prisma: Db,
    private readonly pubsub: PubSub,
    private readonly log: Logger,
    /** Device leases shared by the replicas, so two replicas never work on one device at once. */
    private readonly locks: LockManager,
    concurrency = 4,
    /** Told when a job ends (metrics). */
    private readonly onFinished: (kind: string, status: string, seconds: number) => void = () => undefined,
    lease: Partial<DeviceLeaseTimings> = {},
    /** This runner's presence lease (runner-presence.ts); also how often dead runners' jobs are looked for. */
    private readonly runnerLeaseMs = 30_000,
  ) {
    this.slots = new Semaphore(concurrency);
    this.leaseTimings = { ...DEFAULT_LEASE, ...lease };
    this.presence = new RunnerPresence(locks, log, runnerLeaseMs);
  }

  /**
   * At start, before any job: joins (takes this runner's presence lease), then marks
   * INTERRUPTED the QUEUED and RUNNING jobs that no live runner will finish (they can be
   * re-run): those of runners whose lease has expired, because their process died, and those
   * recorded without a runner. Jobs of live runners, i.e. of other replicas sharing the
   * database, are left to them. In one process without Redis every earlier runner is dead.
   * A runner that died moments ago still holds its lease for up to its ttl (a replica
   * restarted at once with Redis), so the check for dead runners repeats every ttl until
   * close(); jobs without a runner (from a server before runners were recorded, possibly a
   * replica still running the previous version) only at start, as that version did.
   */
  async recoverInterrupted(): Promise<number> {
    await this.presence.join();
    if (!this.sweeper) {
      this.sweeper = setInterval(() => {
        this.markJobsOfDeadRunners(false).catch((error: unknown) => this.log.warn({ err: { message: lastLineOf(error) } }, 'could not look for jobs of stopped servers'));
      }, this.runnerLeaseMs);
      this.sweeper.unref();
    }
    return this.markJobsOfDeadRunners(true);
  }

  private async markJobsOfDeadRunners(withoutRunner: boolean): Promise<number> {
    const runners = await this.prisma.deployJob.findMany({ where: { status: { in: ['QUEUED', 'RUNNING'] } }, distinct: ['runnerId'], select: { runnerId: true } });
    const dead: string[] = [];
    try {
      // One check per runner with unfinished jobs: a few replicas, plus the dead ones.
      for (const { runnerId } of runners) if (runnerId !== null && !(await this.presence.isAlive(runnerId))) dead.push(runnerId);
    } catch (error) {
      // Guessing could interrupt a live replica's jobs: leave them to a later check.
      this.log.warn({ err: { message: messageOf(error) } }, 'could not tell which servers are alive (lease store); jobs a stopped server left unfinished are marked later');
      return 0;
    }
    if (dead.length === 0 && !withoutRunner) return 0;
    const { count } = await this.prisma.deployJob.updateMany({
      where: { status: { in: ['QUEUED', 'RUNNING'] }, OR: [...(withoutRunner ? [{ runnerId: null }] : []), { runnerId: { in: dead } }] },
      data: { status: 'INTERRUPTED', finishedAt: new Date(), error: 'The server stopped while this job was running; run it again.' },
    });
    if (count > 0) this.log.warn({ count }, 'marked jobs interrupted: the server running them stopped');
    return count;
  }

  /** The WAN's QUEUED and RUNNING jobs, oldest first. */
  async activeJobIds(wanId: string): Promise<string[]> {
    const rows = await this.prisma.deployJob.findMany({
      where: { wanId, status: { in: ['QUEUED', 'RUNNING'] } }, orderBy: { createdAt: 'asc' }, take: MAX_ACTIVE_LISTED, select: { id: true },
    });
    return rows.map((row) => row.id);
  }

  /** Creates the job and starts it in the background; returns its id at once. */
  async start(actor: Identity | null, scope: JobScope, work: (ctx: JobContext) => Promise<unknown>): Promise<string> {
    const job = await this.prisma.deployJob.create({
      data: { kind: scope.kind, wanId: scope.wanId, peerId: scope.peerId, deviceId: scope.deviceId, actorId: actor?.user.id ?? null, runnerId: this.presence.id },
    });
    publishJobEvent(this.pubsub, { jobId: job.id, wanId: scope.wanId });
    const execution = this.deviceQueues.run(scope.deviceId, () => this.slots.run(() => this.run(job.id, scope, work)));
    this.running.add(execution);
    // run() settles every failure itself; this catch is the last guard, because a rejection
    // left unhandled here would terminate the process.
    void execution
      .catch((error: unknown) => this.log.error({ jobId: job.id, err: { message: messageOf(error) } }, 'job runner failed'))
      .finally(() => this.running.delete(execution));
    return job.id;
  }

  /**
   * Runs a short device read that is not a job (an adoption's discovery) the way jobs run: in
   * the device's queue here and under its lease across replicas, so it never interleaves with
   * a deploy to the same device. Fails when the lease cannot be had (as a job would).
   */
  async onDevice<T>(deviceId: string, work: () => Promise<T>): Promise<T> {
    return this.deviceQueues.run(deviceId, async () => {
      const lease = await this.takeLease(deviceId).catch((error: unknown) => {
        throw new DomainError('CONFLICT', error instanceof LeaseBusyError
          ? `The device stayed busy with another job (possibly on another replica) for ${Math.round(error.waitedMs / 1000)} s: try again later`
          : `The device lease could not be taken (lease store: ${messageOf(error)})`);
      });
      const stopRenewing = keepLease(lease, this.leaseTimings.ttlMs, (reason) => this.log.warn({ deviceId, reason }, 'a device read lost its lease'));
      try {
        return await work();
      } finally {
        stopRenewing();
        await lease.release().catch((error: unknown) => this.log.warn({ deviceId, err: { message: messageOf(error) } }, 'could not release the device lease; it expires by itself'));
      }
    });
  }

  onJobFailed(listener: (jobId: string) => Promise<void>): void {
    this.failedListener = listener;
  }

  /** Resolves when the job has finished (for tests and synchronous callers). */
  async wait(jobId: string, pollMs = 50, maxPolls = 6000) {
    for (let poll = 0; poll < maxPolls; poll++) {
      const job = await this.prisma.deployJob.findUniqueOrThrow({ where: { id: jobId } });
      if (job.status !== 'QUEUED' && job.status !== 'RUNNING') return job;
      await new Promise((resolve) => setTimeout(resolve, pollMs));
    }
    throw new Error(`job ${jobId} did not finish`);
  }

  /** Waits for running jobs (on shutdown). */
  async drain(): Promise<void> {
    await Promise.allSettled([...this.running]);
  }

  /** On shutdown: waits for running jobs, then gives up this runner's presence lease. */
  async close(): Promise<void> {
    if (this.sweeper) clearInterval(this.sweeper);
    this.sweeper = null;
    await this.drain();
    await this.presence.leave();
  }

  /** One job, start to end, holding the device lease; never rejects. */
  private async run(jobId: string, scope: JobScope, work: (ctx: JobContext) => Promise<unknown>): Promise<void> {
    const started = Date.now();
    const record = new JobRecord(this.prisma, this.log, jobId, () => publishJobEvent(this.pubsub, { jobId, wanId: scope.wanId }));
    let outcome: Outcome = 'FAILED';
    try {
      const lease = await this.takeLease(scope.deviceId).catch(async (error: unknown) => {
        await this.end(record, 'FAILED', { error: this.leaseRefusal(error) });
        return null;
      });
      if (!lease) return;
      const lost = new AbortController();
      const stopRenewing = keepLease(lease, this.leaseTimings.ttlMs, (reason) => {
        this.log.warn({ jobId, deviceId: scope.deviceId, reason }, 'job lost its device lease');
        lost.abort(new Error(`Stopped: this job lost its lease on the device (${reason}), so another job may be changing the device now. Check the device and run the job again.`));
      });
      try {
        outcome = await this.execute(record, work, lost.signal);
      } finally {
        stopRenewing();
        await lease.release().catch((error: unknown) => this.log.warn({ jobId, err: { message: messageOf(error) } }, 'could not release the device lease; it expires by itself'));
      }
    } catch (error) {
      this.log.error({ jobId, err: { message: messageOf(error) } }, 'job runner failed');
    } finally {
      this.onFinished(scope.kind, outcome, (Date.now() - started) / 1000);
      if (outcome === 'FAILED') await this.failedListener?.(jobId).catch((error: unknown) => this.log.warn({ jobId, err: { message: messageOf(error) } }, 'could not queue the job\'s failure for webhooks'));
    }
  }

  private takeLease(deviceId: string): Promise<Lease> {
    const { ttlMs, maxWaitMs, pollMs } = this.leaseTimings;
    return acquire(this.locks, `device:${deviceId}`, ttlMs, { maxWaitMs, pollMs });
  }

  private leaseRefusal(error: unknown): string {
    if (error instanceof LeaseBusyError) {
      return `Could not start: another job (possibly on another replica) kept this device busy for ${Math.round(error.waitedMs / 1000)} s. Run the job again later.`;
    }
    return `Could not start: the device lease could not be taken because the lease store (Redis) failed: ${messageOf(error)}. Run the job again once it is reachable.`;
  }

  /** Runs the work until it ends or the lease is lost, and records the outcome. */
  private async execute(record: JobRecord, work: (ctx: JobContext) => Promise<unknown>, signal: AbortSignal): Promise<Outcome> {
    let running: Promise<unknown> = Promise.resolve();
    let outcome: { status: Outcome; data: Record<string, unknown> };
    try {
      await record.start();
      running = Promise.resolve().then(() => work(record.context(signal)));
      const result = await untilAborted(running, signal);
      outcome = { status: 'SUCCEEDED', data: { progress: 100, result: JSON.stringify(result ?? null) } };
    } catch (error) {
      this.log.warn({ jobId: record.jobId, err: { message: record.redact(messageOf(error)) } }, 'job failed');
      outcome = { status: 'FAILED', data: { error: messageOf(error) } };
    }
    const status = await this.end(record, outcome.status, outcome.data);
    // Work abandoned after a lost lease may still be waiting on the device (each call has its
    // timeout): the next job for the device in this process starts once it has let go.
    await running.catch(() => undefined);
    return status;
  }

  /**
   * Records how the job ended. When the database refuses a success, says that the work was
   * done but not recorded; when it refuses everything, the job stays RUNNING until the next
   * start marks it INTERRUPTED (logged here).
   */
  private async end(record: JobRecord, status: Outcome, data: Record<string, unknown>): Promise<Outcome> {
    try {
      await record.finish({ ...data, status, finishedAt: new Date() });
      return status;
    } catch (error) {
      if (status === 'SUCCEEDED') {
        const message = `The work finished but its outcome could not be saved (${lastLineOf(error)}). Check the device and run the job again if needed.`;
        return this.end(record, 'FAILED', { error: message });
      }
      this.log.error({ jobId: record.jobId, err: { message: lastLineOf(error) } }, 'could not record the end of a job; the next start marks it INTERRUPTED');
      return 'FAILED';
    }
  }
}

/** The work's result, or the signal's reason as soon as it is aborted (the work is not stopped). */
function untilAborted<T>(work: Promise<T>, signal: AbortSignal): Promise<T> {
  if (signal.aborted) return Promise.reject(signal.reason as Error);
  return new Promise<T>((resolve, reject) => {
    const onAbort = () => reject(signal.reason as Error);
    signal.addEventListener('abort', onAbort, { once: true });
    void work.then(resolve, reject).finally(() => signal.removeEventListener('abort', onAbort));
  });
}
