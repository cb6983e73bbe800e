// Pure rules of webhook delivery: the signature, the payload, what is retried and when.
import { createHmac } from 'node:crypto';

/** Delays before each retry: 7 attempts in all, over about 8.5 hours. */
export const RETRY_DELAYS_MS = [10_000, 60_000, 5 * 60_000, 30 * 60_000, 2 * 3600_000, 6 * 3600_000] as const;
/** ±20 % random spread on each delay, so receivers coming back are not hit all at once. */
export const RETRY_JITTER = 0.2;
/** A Retry-After longer than this is capped (and shorter than the planned delay is ignored). */
export const RETRY_AFTER_MAX_MS = 6 * 3600_000;
export const REQUEST_TIMEOUT_MS = 10_000;
/** Response bytes read at most (the rest is not read) and kept in the log. */
export const RESPONSE_READ_MAX = 64 * 1024;
export const RESPONSE_KEEP_MAX = 4 * 1024;
/**
 * Deliveries waiting per webhook at most (pending or being sent). A receiver down for hours
 * holds its queue at the first event; events beyond this are stored as not sent (FAILED, in
 * the delivery log, redeliverable) instead of growing the queue without end.
 */
export const QUEUE_MAX = 10_000;
/** Webhooks at most: every event reads them all, and each keeps a queue and a log of its own. */
export const WEBHOOKS_MAX = 100;

/** The delivery log's words for an event not queued because `queueMax` were already waiting. */
export function queueFullError(queueMax: number): string {
  return `not sent: ${queueMax.toLocaleString('en-US')} deliveries were already waiting for this webhook (is the receiver down?); redeliver it once they have gone`;
}

/** Attempts kept per delivery in its attempt log. */
export const ATTEMPT_LOG_MAX = 10;

export const USER_AGENT = 'Meshplane-Webhook/1';

/** `sha256=<hex HMAC-SHA256(secret, "<timestamp>.<raw body>")>` */
export function signature(secret: string, timestamp: number, body: string): string {
  return `sha256=${createHmac('sha256', secret).update(`${timestamp}.${body}`).digest('hex')}`;
}

export type AttemptOutcome =
  | { kind: 'delivered' }
  /** Worth another attempt (network error, timeout, 408, 429, 5xx). */
  | { kind: 'retry'; retryAfterMs: number | null }
  /** Another attempt would get the same answer (other 4xx, a redirect, a refused target). */
  | { kind: 'final' };

/** What an HTTP status means for the delivery. */
export function outcomeOfStatus(status: number, retryAfter: string | null | undefined, now: Date): AttemptOutcome {
  if (status >= 200 && status < 300) return { kind: 'delivered' };
  if (status === 408 || status === 429 || status >= 500) return { kind: 'retry', retryAfterMs: parseRetryAfter(retryAfter, now) };
  return { kind: 'final' };
}

/** Retry-After as seconds or an HTTP date, in ms from now; null when absent or unreadable. */
export function parseRetryAfter(value: string | null | undefined, now: Date): number | null {
  if (!value) return null;
  const trimmed = value.trim();
  if (/^\d+$/.test(trimmed)) return Number(trimmed) * 1000;
  const at = Date.parse(trimmed);
  return Number.isNaN(at) ? null : Math.max(0, at - now.getTime());
}

/**
 * When to try again after `attempts` attempts failed, or null when those were all. `delays` is
 * the schedule (tests shorten it); `random` in [0, 1) spreads it by ±RETRY_JITTER; a Retry-After
 * longer than the planned delay (capped at `retryAfterMaxMs`) is honoured.
 */
export function nextAttemptDelay(attempts: number, delays: readonly number[], random: number, retryAfterMs: number | null = null, retryAfterMaxMs = RETRY_AFTER_MAX_MS): number | null {
  const planned = delays[attempts - 1];
  if (planned === undefined) return null;
  const spread = planned * (1 + RETRY_JITTER * (2 * random - 1));
  const asked = retryAfterMs === null ? 0 : Math.min(retryAfterMs, retryAfterMaxMs);
  return Math.round(Math.max(spread, asked));
}

/** Time-sortable ids: queue positions and event ids sort in the order this process made them. */
export function sortableIdFactory(random: () => string): () => string {
  let lastMs = 0;
  let counter = 0;
  return () => {
    const now = Date.now();
    if (now === lastMs) counter++;
    else {
      lastMs = now;
      counter = 0;
    }
    return `${now.toString(36).padStart(9, '0')}${counter.toString(36).padStart(4, '0')}${random()}`;
  };
}
