// Sends queued webhook deliveries. Every replica runs one. A delivery is sent only by the
// replica whose conditional update claimed it (status and attempt count unchanged since it was
// read), so two replicas never send the same attempt. Per webhook only the head of its queue
// (the earliest delivery not yet succeeded or given up) is sent: a later event waits while an
// earlier one to the same webhook is pending or retrying, and goes once it succeeded or failed
// after its last retry.
import type { Db } from '../../infra/db/client.js';
import type { Logger } from '../../infra/logger.js';
import type { SecretBox } from '../../infra/crypto/secret-box.js';
import { ATTEMPT_LOG_MAX, REQUEST_TIMEOUT_MS, RETRY_DELAYS_MS, nextAttemptDelay } from '../../domain/webhook-delivery.js';
import { sendAttempt, type AttemptResult } from './webhook-sender.js';

export interface WebhookWorkerOptions {
  /** How often to look for due deliveries when nothing woke the worker (default 5 s). */
  pollMs?: number;
  /** Delays before each retry (default RETRY_DELAYS_MS: 10 s … 6 h; tests shorten them). */
  retryDelaysMs?: readonly number[];
  /** Longest Retry-After honoured (default 6 h; tests shorten it with the delays). */
  retryAfterMaxMs?: number;
  /** Deliveries kept per webhook (the oldest finished ones beyond are pruned; default 1,000). */
  keepPerWebhook?: number;
  /** Finished deliveries older than this are pruned (default 30 days). */
  keepDays?: number;
  random?: () => number;
}

export interface AttemptRecord {
  at: string;
  statusCode: number | null;
  error: string | null;
  durationMs: number;
  /** The start of the receiver's answer: RESPONSE_KEEP_MAX bytes for the latest attempt, less for earlier ones. */
  response?: string | null;
}

/** What an earlier attempt keeps of its answer once a later one is logged. */
const EARLIER_RESPONSE_MAX = 512;

/** A claim outlives the longest attempt; a replica that died mid-send loses it after this. */
const CLAIM_MS = REQUEST_TIMEOUT_MS * 3;
/** Rows deleted per prune statement: pruning never holds the database for long. */
const PRUNE_SLICE = 200;
const PRUNE_EVERY_MS = 10 * 60_000;
/** After an emit, look again at these delays: the change that emitted may commit a little later. */
const WAKE_DELAYS_MS = [5, 50, 250, 1000];

interface Head {
  id: string;
  webhookId: string;
  status: 'PENDING' | 'DELIVERING' | 'SUCCEEDED' | 'FAILED';
  attempts: number;
  nextAttemptAt: Date;
  claimedUntil: Date | null;
}

const HEAD = { id: true, webhookId: true, status: true, attempts: true, nextAttemptAt: true, claimedUntil: true } as const;

/** When a head may be sent: a pending one at its next attempt, one being sent when its claim lapses. */
const dueTime = (head: Head) => (head.status === 'PENDING' ? head.nextAttemptAt.getTime() : (head.claimedUntil?.getTime() ?? 0));

/** The attempt log with one more record, at most ATTEMPT_LOG_MAX (the first attempt and the latest ones). */
export function appendAttempt(log: string, record: AttemptRecord): string {
  let list: AttemptRecord[];
  try {
    const parsed: unknown = JSON.parse(log);
    list = Array.isArray(parsed) ? (parsed as AttemptRecord[]) : [];
  } catch {
    list = [];
  }
  list = list.map((earlier) => (earlier.response && earlier.response.length > EARLIER_RESPONSE_MAX ? { ...earlier, response: `${earlier.response.slice(0, EARLIER_RESPONSE_MAX)}…` } : earlier));
  list.push(record);
  if (list.length > ATTEMPT_LOG_MAX) list = [list[0]!, ...list.slice(list.length - ATTEMPT_LOG_MAX + 1)];
  return JSON.stringify(list);
}

export class WebhookWorker {
  private timer: NodeJS.Timeout | null = null;
  private wakeTimers = new Set<NodeJS.Timeout>();
  private running: Promise<void> | null = null;
  /** Webhooks being sent to by this replica, one lane each. */
  private readonly lanes = new Map<string, Promise<void>>();
  private again = false;
  private stopped = true;
  private lastPrune = 0;
  private readonly pollMs: number;
  private readonly delays: readonly number[];

  constructor(
    private readonly prisma: Db,
    private readonly secrets: SecretBox,
    private readonly log: Logger,
    private readonly options: WebhookWorkerOptions = {},
  ) {
    this.pollMs = options.pollMs ?? 5000;
    this.delays = options.retryDelaysMs ?? RETRY_DELAYS_MS;
  }

  start(): void {
    if (!this.stopped) return;
    this.stopped = false;
    this.kick();
  }

  async stop(): Promise<void> {
    this.stopped = true;
    if (this.timer) clearTimeout(this.timer);
    this.timer = null;
    for (const timer of this.wakeTimers) clearTimeout(timer);
    this.wakeTimers.clear();
    await this.running;
    await Promise.all(this.lanes.values());
  }

  /** Something was queued: look soon (and a few times more while its transaction commits). */
  wake(): void {
    if (this.stopped) return;
    for (const delay of WAKE_DELAYS_MS) {
      const timer = setTimeout(() => {
        this.wakeTimers.delete(timer);
        this.kick();
      }, delay);
      timer.unref();
      this.wakeTimers.add(timer);
    }
  }

  /** Runs a pass now, or right after the one running. */
  private kick(): void {
    if (this.stopped) return;
    if (this.running) {
      this.again = true;
      return;
    }
    this.running = this.pass()
      .catch((error: unknown) => {
        this.log.warn({ err: { message: (error as Error).message } }, 'webhook delivery pass failed; trying again');
        return this.pollMs;
      })
      .then((nextInMs) => {
        this.running = null;
        if (this.stopped) return;
        if (this.again) {
          this.again = false;
          this.kick();
          return;
        }
        if (this.timer) clearTimeout(this.timer);
        this.timer = setTimeout(() => this.kick(), nextInMs);
        this.timer.unref();
      });
  }

  /**
   * Starts a lane for each webhook whose head is due (webhooks in parallel, so a slow receiver
   * holds up only its own queue); returns when to look next.
   */
  private async pass(): Promise<number> {
    await this.pruneNow();
    let nextInMs = this.pollMs;
    const now = Date.now();
    for (const head of await this.heads()) {
      if (this.lanes.has(head.webhookId)) continue;
      const dueAt = dueTime(head);
      if (dueAt <= now) this.runLane(head);
      else nextInMs = Math.min(nextInMs, dueAt - now);
    }
    return Math.max(nextInMs, 10);
  }

  /** One webhook's queue, head after head while they are due; then the worker looks again. */
  private runLane(first: Head): void {
    const lane = (async () => {
      let head: Head | null = first;
      while (head && !this.stopped && dueTime(head) <= Date.now()) {
        if (!(await this.claimAndSend(head))) return;
        head = await this.headOf(head.webhookId);
      }
    })()
      .catch((error: unknown) => this.log.warn({ webhookId: first.webhookId, err: { message: (error as Error).message } }, 'webhook delivery failed to run; trying again'))
      .finally(() => {
        this.lanes.delete(first.webhookId);
        this.kick();
      });
    this.lanes.set(first.webhookId, lane);
  }

  /** The first delivery not yet finished of each enabled webhook. */
  private async heads(): Promise<Head[]> {
    const firsts = await this.prisma.webhookDelivery.groupBy({
      by: ['webhookId'],
      where: { status: { in: ['PENDING', 'DELIVERING'] }, webhook: { enabled: true } },
      _min: { seq: true },
    });
    if (firsts.length === 0) return [];
    return this.prisma.webhookDelivery.findMany({
      where: { OR: firsts.map((first) => ({ webhookId: first.webhookId, seq: first._min.seq! })) },
      select: HEAD,
    });
  }

  private headOf(webhookId: string): Promise<Head | null> {
    return this.prisma.webhookDelivery.findFirst({ where: { webhookId, status: { in: ['PENDING', 'DELIVERING'] }, webhook: { enabled: true } }, orderBy: { seq: 'asc' }, select: HEAD });
  }

  private async claimAndSend(head: Head): Promise<boolean> {
    const now = new Date();
    const { count } = await this.prisma.webhookDelivery.updateMany({
      where: {
        id: head.id,
        status: head.status,
        attempts: head.attempts,
        ...(head.status === 'PENDING' ? { nextAttemptAt: { lte: now } } : { claimedUntil: { lte: now } }),
      },
      data: { status: 'DELIVERING', claimedUntil: new Date(now.getTime() + CLAIM_MS) },
    });
    if (count === 0) return false;
    const row = await this.prisma.webhookDelivery.findUnique({ where: { id: head.id }, include: { webhook: true } });
    if (!row) return false;
    let secret: string;
    try {
      secret = this.secrets.open(row.webhook.secretEnc);
    } catch (error) {
      await this.record(row, { outcome: { kind: 'final' }, statusCode: null, error: `the signing secret cannot be opened (${(error as Error).message}): rotate it`, durationMs: 0, responseBody: null });
      return true;
    }
    const result = await sendAttempt({ url: row.webhook.url, body: row.payload, secret, eventType: row.eventType, eventId: row.eventId, allowPrivateTargets: row.webhook.allowPrivateTargets });
    await this.record(row, result);
    return true;
  }

  /** Writes an attempt's result: succeeded, failed for good, or pending again with its next time. */
  private async record(row: { id: string; attempts: number; attemptLog: string; eventId: string; webhookId: string }, result: AttemptResult): Promise<void> {
    const attempts = row.attempts + 1;
    const at = new Date();
    const delay = result.outcome.kind === 'retry' ? nextAttemptDelay(attempts, this.delays, (this.options.random ?? Math.random)(), result.outcome.retryAfterMs, this.options.retryAfterMaxMs) : null;
    const status = result.outcome.kind === 'delivered' ? 'SUCCEEDED' : delay === null ? 'FAILED' : 'PENDING';
    const lastError = status === 'FAILED' && result.outcome.kind === 'retry' ? `${result.error} (gave up after ${attempts} attempts)` : result.error;
    await this.prisma.webhookDelivery.updateMany({
      where: { id: row.id, status: 'DELIVERING', attempts: row.attempts },
      data: {
        status,
        attempts,
        claimedUntil: null,
        nextAttemptAt: delay === null ? at : new Date(at.getTime() + delay),
        lastStatusCode: result.statusCode,
        lastError,
        lastDurationMs: result.durationMs,
        attemptLog: appendAttempt(row.attemptLog, { at: at.toISOString(), statusCode: result.statusCode, error: result.error, durationMs: result.durationMs, response: result.responseBody }),
        ...(status === 'PENDING' ? {} : { completedAt: at }),
      },
    });
    const fields = { webhookId: row.webhookId, eventId: row.eventId, attempt: attempts, statusCode: result.statusCode };
    if (status === 'SUCCEEDED') this.log.debug(fields, 'webhook delivered');
    else this.log.info({ ...fields, error: lastError, ...(delay === null ? {} : { retryInMs: delay }) }, status === 'FAILED' ? 'webhook delivery failed' : 'webhook attempt failed; retrying');
  }

  /** Deletes finished deliveries beyond the keep limits, a slice at a time. */
  private async pruneNow(): Promise<void> {
    if (Date.now() - this.lastPrune < PRUNE_EVERY_MS) return;
    this.lastPrune = Date.now();
    await this.prune();
  }

  async prune(): Promise<number> {
    const finished = { status: { in: ['SUCCEEDED', 'FAILED'] as Array<'SUCCEEDED' | 'FAILED'> } };
    const keepPer = this.options.keepPerWebhook ?? 1000;
    const before = new Date(Date.now() - (this.options.keepDays ?? 30) * 86_400_000);
    let removed = 0;
    const deleteSlice = async (where: object): Promise<number> => {
      const ids = (await this.prisma.webhookDelivery.findMany({ where, select: { id: true }, take: PRUNE_SLICE, orderBy: { createdAt: 'asc' } })).map((row) => row.id);
      if (ids.length === 0) return 0;
      return (await this.prisma.webhookDelivery.deleteMany({ where: { id: { in: ids } } })).count;
    };
    for (let n; (n = await deleteSlice({ ...finished, createdAt: { lt: before } })) > 0; ) removed += n;
    for (const hook of await this.prisma.webhook.findMany({ select: { id: true } })) {
      const boundary = await this.prisma.webhookDelivery.findFirst({ where: { webhookId: hook.id }, orderBy: { createdAt: 'desc' }, skip: keepPer, select: { createdAt: true } });
      if (!boundary) continue;
      for (let n; (n = await deleteSlice({ ...finished, webhookId: hook.id, createdAt: { lte: boundary.createdAt } })) > 0; ) removed += n;
    }
    if (removed > 0) this.log.info({ removed }, 'pruned old webhook deliveries');
    return removed;
  }
}
