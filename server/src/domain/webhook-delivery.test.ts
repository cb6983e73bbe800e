import { createHmac } from 'node:crypto';
import { describe, expect, it } from 'vitest';
import { nextAttemptDelay, outcomeOfStatus, parseRetryAfter, RETRY_DELAYS_MS, signature, sortableIdFactory } from './webhook-delivery.js';

describe('webhook delivery rules', () => {
  it('signs "<timestamp>.<body>" with HMAC-SHA256, as the README tells receivers to check', () => {
    const expected = createHmac('sha256', 'whsec_test').update('1700000000.{"a":1}').digest('hex');
    expect(signature('whsec_test', 1700000000, '{"a":1}')).toBe(`sha256=${expected}`);
    expect(signature('whsec_test', 1700000001, '{"a":1}')).not.toBe(`sha256=${expected}`);
  });

  it('retries network-like answers (408, 429, 5xx) and gives up at once on other 4xx', () => {
    const now = new Date('2026-01-01T00:00:00Z');
    expect(outcomeOfStatus(204, null, now)).toEqual({ kind: 'delivered' });
    for (const status of [408, 429, 500, 502, 503, 504]) expect(outcomeOfStatus(status, null, now).kind, String(status)).toBe('retry');
    for (const status of [400, 401, 403, 404, 410, 422]) expect(outcomeOfStatus(status, null, now).kind, String(status)).toBe('final');
    expect(outcomeOfStatus(429, '30', now)).toEqual({ kind: 'retry', retryAfterMs: 30_000 });
  });

  it('reads Retry-After as seconds or an HTTP date', () => {
    const now = new Date('2026-01-01T00:00:00Z');
    expect(parseRetryAfter('120', now)).toBe(120_000);
    expect(parseRetryAfter('Thu, 01 Jan 2026 00:01:00 GMT', now)).toBe(60_000);
    expect(parseRetryAfter('soon', now)).toBeNull();
    expect(parseRetryAfter(undefined, now)).toBeNull();
  });

  it('backs off 10 s, 1 min, 5 min, 30 min, 2 h, 6 h with ±20 % jitter, then gives up', () => {
    expect(RETRY_DELAYS_MS).toEqual([10_000, 60_000, 300_000, 1_800_000, 7_200_000, 21_600_000]);
    expect(nextAttemptDelay(1, RETRY_DELAYS_MS, 0.5)).toBe(10_000);
    expect(nextAttemptDelay(1, RETRY_DELAYS_MS, 0)).toBe(8_000);
    expect(nextAttemptDelay(1, RETRY_DELAYS_MS, 0.999999)).toBe(12_000);
    expect(nextAttemptDelay(6, RETRY_DELAYS_MS, 0.5)).toBe(21_600_000);
    expect(nextAttemptDelay(7, RETRY_DELAYS_MS, 0.5)).toBeNull();
  });

  it('honours a longer Retry-After, capped, and never waits less than planned', () => {
    expect(nextAttemptDelay(1, RETRY_DELAYS_MS, 0.5, 120_000)).toBe(120_000);
    expect(nextAttemptDelay(1, RETRY_DELAYS_MS, 0.5, 1_000)).toBe(10_000);
    expect(nextAttemptDelay(1, RETRY_DELAYS_MS, 0.5, 100 * 3600_000)).toBe(6 * 3600_000);
  });

  it('makes ids that sort in the order they were made', () => {
    const next = sortableIdFactory(() => 'r');
    const ids = Array.from({ length: 500 }, () => next());
    expect([...ids].sort()).toEqual(ids);
    expect(new Set(ids).size).toBe(ids.length);
  });
});
