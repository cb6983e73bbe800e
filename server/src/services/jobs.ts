// Deploy/verify/revert/clear run as persisted jobs with steps, progress, a log, a result and
// an error. One job per device at a time (a per-device queue), a bounded number across
// devices, and jobs a restart interrupted are marked INTERRUPTED on start, never left RUNNING.
import type { Db } from '../infra/db/client.js';
import type { Logger } from '../infra/logger.js';
import { KeyedMutex } from '../infra/keyed-mutex.js';
import { Semaphore } from '../infra/semaphore.js';
import { acquire, type LockManager } from '../infra/locks.js';
import { type PubSub, publishJobEvent } from '../infra/pubsub/topics.js';
import type { JobKind } from '../generated/prisma/enums.js';
import type { Identity } from './auth/identity.js';

export interface JobStep {
  name: string;
  status: 'RUNNING' | 'DONE' | 'FAILED';
  startedAt: string;
  finishedAt: string | null;
  detail: string | null;
}

export interface JobContext {
  readonly jobId: string;
  /** Runs one named step, recording its start, end and outcome. */
  step<T>(name: string, work: () => Promise<T>, describe?: (result: T) => string | null): Promise<T>;
  log(line: string): Promise<void>;
  progress(percent: number): Promise<void>;
}

export interface JobScope {
  kind: JobKind;
  wanId: string | null;
  peerId: string | null;
  deviceId: string;
}

const MAX_LOG_CHARS = 64_000;
/** Buffered log lines and progress are written at most this often (and at every step change). */
const LOG_FLUSH_MS = 200;
/** A device lease outlives a crashed holder by at most this long. */
const DEVICE_LEASE_MS = 30_000;

export class JobRunner {
  private readonly deviceQueues = new KeyedMutex();
  private readonly slots: Semaphore;
  private readonly running = new Set<Promise<unknown>>();

  constructor(
    private readonly prisma: Db,
    private readonly pubsub: PubSub,
    private readonly log: Logger,
    /** Device leases shared by the replicas, so two replicas never work on one device at once. */
    private readonly locks: LockManager,
    concurrency = 4,
    /** Told when a job ends (metrics). */
    private readonly onFinished: (kind: string, status: string, seconds: number) => void = () => undefined,
  ) {
    this.slots = new Semaphore(concurrency);
  }

  /** Marks jobs a previous process left QUEUED or RUNNING as INTERRUPTED; they can be re-run. */
  async recoverInterrupted(): Promise<number> {
    const { count } = await this.prisma.deployJob.updateMany({
      where: { status: { in: ['QUEUED', 'RUNNING'] } },
      data: { status: 'INTERRUPTED', finishedAt: new Date(), error: 'The server stopped while this job was running; run it again.' },
    });
    if (count > 0) this.log.warn({ count }, 'marked jobs interrupted by a restart');
    return count;
  }

  /** Creates the job and starts it in the background; returns its id at once. */
  async start(actor: Identity | null, scope: JobScope, work: (ctx: JobContext) => Promise<unknown>): Promise<string> {
    const job = await this.prisma.deployJob.create({
      data: { kind: scope.kind, wanId: scope.wanId, peerId: scope.peerId, deviceId: scope.deviceId, actorId: actor?.user.id ?? null },
    });
    publishJobEvent(this.pubsub, { jobId: job.id, wanId: scope.wanId });
    const execution = this.deviceQueues.run(scope.deviceId, () => this.slots.run(async () => {
      const lease = await acquire(this.locks, `device:${scope.deviceId}`, DEVICE_LEASE_MS);
      const keepAlive = setInterval(() => void lease.extend(), DEVICE_LEASE_MS / 3);
      try {
        const started = Date.now();
        const status = await this.execute(job.id, scope.wanId, work);
        this.onFinished(scope.kind, status, (Date.now() - started) / 1000);
      } finally {
        clearInterval(keepAlive);
        await lease.release();
      }
    }));
    this.running.add(execution);
    void execution.finally(() => this.running.delete(execution));
    return job.id;
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

  private async execute(jobId: string, wanId: string | null, work: (ctx: JobContext) => Promise<unknown>): Promise<'SUCCEEDED' | 'FAILED'> {
    const steps: JobStep[] = [];
    let logText = '';
    const publish = () => publishJobEvent(this.pubsub, { jobId, wanId });
    // Log lines and progress arrive once per device command: they are buffered and written
    // together at most every LOG_FLUSH_MS, or with the next step change (a deploy of 50
    // peers was ~150 row updates, each rewriting the whole log). Writes run one at a time,
    // in order, so a later write never loses to an earlier one.
    let pending: Record<string, unknown> = {};
    let flushTimer: NodeJS.Timeout | null = null;
    let writes: Promise<void> = Promise.resolve();
    const save = (data: Record<string, unknown>): Promise<void> => {
      if (flushTimer) clearTimeout(flushTimer);
      flushTimer = null;
      const merged = { ...pending, ...data };
      pending = {};
      writes = writes.then(async () => {
        await this.prisma.deployJob.update({ where: { id: jobId }, data: merged });
        publish();
      });
      return writes;
    };
    const defer = (data: Record<string, unknown>): Promise<void> => {
      Object.assign(pending, data);
      flushTimer ??= setTimeout(() => {
        flushTimer = null;
        save({}).catch((error: unknown) => this.log.warn({ jobId, err: { message: (error as Error).message } }, 'could not save job progress'));
      }, LOG_FLUSH_MS);
      return Promise.resolve();
    };
    const ctx: JobContext = {
      jobId,
      step: async (name, run, describe) => {
        const step: JobStep = { name, status: 'RUNNING', startedAt: new Date().toISOString(), finishedAt: null, detail: null };
        steps.push(step);
        await save({ steps: JSON.stringify(steps) });
        try {
          const result = await run();
          Object.assign(step, { status: 'DONE', finishedAt: new Date().toISOString(), detail: describe?.(result) ?? null });
          await save({ steps: JSON.stringify(steps) });
          return result;
        } catch (error) {
          Object.assign(step, { status: 'FAILED', finishedAt: new Date().toISOString(), detail: (error as Error).message });
          await save({ steps: JSON.stringify(steps) });
          throw error;
        }
      },
      log: (line) => {
        logText = `${logText}${new Date().toISOString()} ${line}\n`.slice(-MAX_LOG_CHARS);
        return defer({ log: logText });
      },
      progress: (percent) => defer({ progress: Math.max(0, Math.min(100, Math.round(percent))) }),
    };
    await save({ status: 'RUNNING', startedAt: new Date() });
    try {
      const result = await work(ctx);
      await save({ status: 'SUCCEEDED', progress: 100, finishedAt: new Date(), result: JSON.stringify(result ?? null) });
      return 'SUCCEEDED';
    } catch (error) {
      this.log.warn({ jobId, err: { message: (error as Error).message } }, 'job failed');
      // A failed buffered write must not hide the job's own failure: record it regardless.
      writes = writes.catch(() => undefined);
      await save({ status: 'FAILED', finishedAt: new Date(), error: (error as Error).message });
      return 'FAILED';
    }
  }
}
