// Brute-force protection for sign-in (and closed registration): failed attempts are counted
// per account and per client address (rate-limiter-flexible's in-memory limiter, one process);
// past the limit every attempt is refused with RATE_LIMITED and `retryAfterSeconds` until the
// window has passed, even with the right password. A successful sign-in clears the account's
// count, not the address's.
import { RateLimiterMemory, RateLimiterRes } from 'rate-limiter-flexible';
import { rateLimited } from '../../graphql/errors.js';

export interface LoginLimits {
  /** Failed attempts per account within the window. */
  perAccount: number;
  /** Failed attempts per client address within the window (many accounts, one attacker). */
  perAddress: number;
  windowSeconds: number;
}

export const DEFAULT_LOGIN_LIMITS: LoginLimits = { perAccount: 10, perAddress: 100, windowSeconds: 15 * 60 };

export class LoginLimiter {
  private readonly byAccount: RateLimiterMemory;
  private readonly byAddress: RateLimiterMemory;

  constructor(readonly limits: LoginLimits = DEFAULT_LOGIN_LIMITS) {
    // blockDuration = window: a limiter that is full stays closed for a whole window.
    this.byAccount = new RateLimiterMemory({ keyPrefix: 'login-account', points: limits.perAccount, duration: limits.windowSeconds, blockDuration: limits.windowSeconds });
    this.byAddress = new RateLimiterMemory({ keyPrefix: 'login-address', points: limits.perAddress, duration: limits.windowSeconds, blockDuration: limits.windowSeconds });
  }

  /** Throws RATE_LIMITED when the account or the address used up its failed attempts. */
  async assertAllowed(account: string, address: string): Promise<void> {
    const [forAccount, forAddress] = await Promise.all([this.byAccount.get(account), this.byAddress.get(address)]);
    const waits = [
      forAccount && forAccount.consumedPoints >= this.limits.perAccount ? forAccount.msBeforeNext : 0,
      forAddress && forAddress.consumedPoints >= this.limits.perAddress ? forAddress.msBeforeNext : 0,
    ];
    const waitMs = Math.max(...waits);
    if (waitMs > 0) {
      throw rateLimited('Too many failed sign-in attempts: wait before trying again', Math.max(1, Math.ceil(waitMs / 1000)));
    }
  }

  /** Counts a failed attempt against the account (if any) and the address. */
  async recordFailure(account: string | null, address: string): Promise<void> {
    await Promise.all([account ? consume(this.byAccount, account) : null, consume(this.byAddress, address)]);
  }

  async recordSuccess(account: string): Promise<void> {
    await this.byAccount.delete(account);
  }
}

/** Consuming past the limit rejects with the limiter's state: that is the expected outcome here. */
async function consume(limiter: RateLimiterMemory, key: string): Promise<void> {
  try {
    await limiter.consume(key);
  } catch (error) {
    if (!(error instanceof RateLimiterRes)) throw error;
  }
}
