// Brute-force protection for sign-in (and closed registration): attempts are counted per
// account and per client address; past the limit every attempt is refused with RATE_LIMITED
// and `retryAfterSeconds` until the window has passed, even with the right password.
//
// An attempt takes its point BEFORE the password is checked and gets it back when it
// succeeds: a check first and a count after the (slow) password hash let any number of
// parallel guesses through the gap. With REDIS_URL the counts live in Redis, so replicas
// share one budget instead of granting it once each; an in-memory limiter stands in while
// Redis cannot answer (sign-in keeps working, limited per process).
import type { Redis } from 'ioredis';
import { RateLimiterMemory, RateLimiterRedis, RateLimiterRes, type RateLimiterAbstract } from 'rate-limiter-flexible';
import { rateLimited } from '../../graphql/errors.js';

export interface LoginLimits {
  /** Failed attempts per account within the window. */
  perAccount: number;
  /** Failed attempts per client address within the window (many accounts, one attacker). */
  perAddress: number;
  windowSeconds: number;
}

export const DEFAULT_LOGIN_LIMITS: LoginLimits = { perAccount: 10, perAddress: 100, windowSeconds: 15 * 60 };

/** One attempt that holds its points; unsettled, it counts as a failure. */
export interface LoginAttempt {
  /** Signed in: the account's count starts over and the address gets its point back. */
  succeeded(): Promise<void>;
  /** Failed for a reason that is not guessing (a taken e-mail address, a weak password): both points back. */
  refund(): Promise<void>;
}

function limiter(keyPrefix: string, points: number, windowSeconds: number, redis: Redis | null): RateLimiterAbstract {
  // blockDuration = window: a limiter that is full stays closed for a whole window.
  const options = { keyPrefix, points, duration: windowSeconds, blockDuration: windowSeconds };
  if (!redis) return new RateLimiterMemory(options);
  return new RateLimiterRedis({ ...options, storeClient: redis, insuranceLimiter: new RateLimiterMemory(options) });
}

export class LoginLimiter {
  private readonly byAccount: RateLimiterAbstract;
  private readonly byAddress: RateLimiterAbstract;

  constructor(
    readonly limits: LoginLimits = DEFAULT_LOGIN_LIMITS,
    redis: Redis | null = null,
  ) {
    this.byAccount = limiter('login-account', limits.perAccount, limits.windowSeconds, redis);
    this.byAddress = limiter('login-address', limits.perAddress, limits.windowSeconds, redis);
  }

  /**
   * Takes a point from the address and from the account (when there is one), atomically in the
   * store; throws RATE_LIMITED when either has none left, taking nothing from the other.
   */
  async begin(account: string | null, address: string): Promise<LoginAttempt> {
    await take(this.byAddress, address);
    if (account) {
      try {
        await take(this.byAccount, account);
      } catch (error) {
        await this.byAddress.reward(address, 1);
        throw error;
      }
    }
    return {
      succeeded: async () => {
        await Promise.all([account ? this.byAccount.delete(account) : null, this.byAddress.reward(address, 1)]);
      },
      refund: async () => {
        await Promise.all([account ? this.byAccount.reward(account, 1) : null, this.byAddress.reward(address, 1)]);
      },
    };
  }
}

/** Consuming past the limit rejects with the limiter's state: that becomes RATE_LIMITED. */
async function take(limiter: RateLimiterAbstract, key: string): Promise<void> {
  try {
    await limiter.consume(key);
  } catch (error) {
    if (!(error instanceof RateLimiterRes)) throw error;
    throw rateLimited('Too many failed sign-in attempts: wait before trying again', Math.max(1, Math.ceil(error.msBeforeNext / 1000)));
  }
}
