// The persisted row of one running job: steps, buffered log lines and progress, and its end.
// Log lines and progress arrive once per device command: they are buffered and written
// together at most every LOG_FLUSH_MS, or with the next step change (a deploy of 50 peers
// was ~150 row updates, each rewriting the whole log). Writes run one at a time, in order,
// so a later write never loses to an earlier one.
import type { Db } from '../../infra/db/client.js';
import type { Logger } from '../../infra/logger.js';
import { redactSecrets } from '../../domain/secret-masking.js';

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
  /**
   * Names secrets this job handles (the peer's keys, the device credential): whatever the
   * job writes (log, steps, result, error, warnings) has them replaced by ‹redacted›.
   */
  conceal(...secrets: ReadonlyArray<string | null | undefined>): void;
}

const MAX_LOG_CHARS = 64_000;
/** Buffered log lines and progress are written at most this often (and at every step change). */
const LOG_FLUSH_MS = 200;

type Row = Record<string, unknown>;

export class JobRecord {
  private readonly steps: JobStep[] = [];
  private logText = '';
  private readonly secrets = new Set<string>();
  private pending: Row = {};
  private flushTimer: NodeJS.Timeout | null = null;
  private writes: Promise<void> = Promise.resolve();
  /** Cleared when the job ends: work abandoned after a lost lease records nothing more. */
  private open = true;

  constructor(
    private readonly prisma: Db,
    private readonly log: Logger,
    readonly jobId: string,
    private readonly publish: () => void,
  ) {}

  /** The context handed to the job's work; every step first checks that the job may go on. */
  context(signal: AbortSignal): JobContext {
    return {
      jobId: this.jobId,
      step: async (name, run, describe) => {
        signal.throwIfAborted();
        const step: JobStep = { name, status: 'RUNNING', startedAt: new Date().toISOString(), finishedAt: null, detail: null };
        this.steps.push(step);
        await this.saveSteps();
        try {
          const result = await run();
          Object.assign(step, { status: 'DONE', finishedAt: new Date().toISOString(), detail: describe?.(result) ?? null });
          // Written with the next step's start or the job's end, which follow at once, or
          // within LOG_FLUSH_MS: one update per step instead of two (a 200-device deploy runs
          // 200 jobs of 9 steps each).
          await this.defer({ steps: JSON.stringify(this.steps) });
          return result;
        } catch (error) {
          Object.assign(step, { status: 'FAILED', finishedAt: new Date().toISOString(), detail: (error as Error).message });
          await this.saveSteps();
          throw error;
        }
      },
      log: (line) => {
        this.logText = `${this.logText}${new Date().toISOString()} ${line}\n`.slice(-MAX_LOG_CHARS);
        return this.defer({ log: this.logText });
      },
      progress: (percent) => this.defer({ progress: Math.max(0, Math.min(100, Math.round(percent))) }),
      conceal: (...secrets) => {
        for (const secret of secrets) if (secret) this.secrets.add(secret);
      },
    };
  }

  /** `text` without the secrets this job was told about (also for what is logged about it). */
  redact(text: string): string {
    return this.secrets.size === 0 ? text : redactSecrets(text, this.secrets);
  }

  start(): Promise<void> {
    return this.save({ status: 'RUNNING', startedAt: new Date() });
  }

  /**
   * Writes the job's end (with anything still buffered); afterwards the work's steps, log and
   * progress are no longer recorded. Rejects when the database refused the write.
   */
  async finish(end: Row): Promise<void> {
    this.open = false;
    await this.write(end);
  }

  private saveSteps(): Promise<void> {
    return this.save({ steps: JSON.stringify(this.steps) });
  }

  private save(data: Row): Promise<void> {
    return this.open ? this.write(data) : Promise.resolve();
  }

  private write(data: Row): Promise<void> {
    if (this.flushTimer) clearTimeout(this.flushTimer);
    this.flushTimer = null;
    // The last line of defence: no text column of the job can hold a secret it handled,
    // whichever message or device reply carried it there.
    const merged = Object.fromEntries(Object.entries({ ...this.pending, ...data }).map(([column, value]) => [column, typeof value === 'string' ? this.redact(value) : value]));
    this.pending = {};
    // An earlier failed write (already reported to its caller) must not fail this one too.
    const write = this.writes.catch(() => undefined).then(async () => {
      await this.prisma.deployJob.update({ where: { id: this.jobId }, data: merged });
      this.publish();
    });
    this.writes = write;
    return write;
  }

  private defer(data: Row): Promise<void> {
    if (!this.open) return Promise.resolve();
    Object.assign(this.pending, data);
    this.flushTimer ??= setTimeout(() => {
      this.flushTimer = null;
      this.save({}).catch((error: unknown) => this.log.warn({ jobId: this.jobId, err: { message: (error as Error).message } }, 'could not save job progress'));
    }, LOG_FLUSH_MS);
    return Promise.resolve();
  }
}
