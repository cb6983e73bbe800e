// Brute-force protection for sign-in (and closed registration) that does not hand attackers a
// lock-out: the design of rate-limiter-flexible's "login endpoint protection" recipe plus
// OWASP's device cookies.
//
// - (account, client address) pair: 10 consecutive failures, then that pair waits 15 minutes.
//   A sign-in from the pair starts its count over. Blocking the pair, not the account, is what
//   keeps an attacker at one address from locking everyone else out.
// - client address: 100 failures a day across all accounts, then the address waits a day.
// - account: 50 failures an hour from clients that are neither a known device nor a known
//   address, then such clients wait for the hour to end. This bounds attackers spread over
//   many addresses; it never stops a known device or address.
// - A known device (a valid device cookie for the account, issued by a successful sign-in;
//   device-cookie.ts) counts only against its own (account, device) pair: no attacker anywhere
//   can lock it out. A known address (one that signed in to the account within 14 days) skips
//   the account limit but keeps its pair and address limits, since others may share it (NAT).
//
// IPv6 clients are counted per /64, what one subscriber gets. Every attempt takes its points
// BEFORE the password is checked (a check first and a count after the slow hash lets any
// number of parallel guesses through the gap); a refused attempt gives back what it took, so
// only checked passwords count. With REDIS_URL the counts and known addresses live in Redis, so
// replicas share one budget; an in-memory limiter stands in while Redis cannot answer.
import { isIPv6 } from 'node:net';
import type { Redis } from 'ioredis';
import { normalizeCidr } from 'cidr-tools';
import { RateLimiterMemory, RateLimiterRedis, RateLimiterRes, type RateLimiterAbstract } from 'rate-limiter-flexible';
import { rateLimited } from '../../graphql/errors.js';

export interface Limit {
  points: number;
  windowSeconds: number;
  /** How long a limit that is used up refuses (default: until the window ends). */
  blockSeconds?: number;
}

export interface LoginLimits {
  /** Consecutive failures of one account from one client address, or from one known device. */
  perPair: Limit;
  /** Failures from one client address, all accounts together. */
  perAddress: Limit;
  /** Failures of one account from clients that are neither a known device nor a known address. */
  perAccount: Limit;
  /** How long an address that signed in to an account stays known for it (below 24.8 days: the memory store's timers). */
  knownAddressSeconds: number;
}

export const DEFAULT_LOGIN_LIMITS: LoginLimits = {
  perPair: { points: 10, windowSeconds: 15 * 60, blockSeconds: 15 * 60 },
  perAddress: { points: 100, windowSeconds: 24 * 3600, blockSeconds: 24 * 3600 },
  perAccount: { points: 50, windowSeconds: 3600 },
  knownAddressSeconds: 14 * 24 * 3600,
};

/** One attempt that holds its points; unsettled, it counts as a failure. */
export interface LoginAttempt {
  /** Signed in: the pair's count starts over, the other points come back, the address becomes known for the account. */
  succeeded(): Promise<void>;
  /** Failed for a reason that is not guessing (a taken e-mail address, a weak password): every point back. */
  refund(): Promise<void>;
}

function limiter(keyPrefix: string, limit: Limit, redis: Redis | null): RateLimiterAbstract {
  const options = { keyPrefix, points: limit.points, duration: limit.windowSeconds, blockDuration: limit.blockSeconds ?? 0 };
  if (!redis) return new RateLimiterMemory(options);
  return new RateLimiterRedis({ ...options, storeClient: redis, insuranceLimiter: new RateLimiterMemory(options) });
}

/** What the limits count a client as: an IPv4 address (also when IPv4-mapped), or an IPv6 /64. */
export function addressKey(address: string): string {
  const mapped = /^::ffff:(\d+\.\d+\.\d+\.\d+)$/i.exec(address);
  if (mapped) return mapped[1]!;
  return isIPv6(address) ? normalizeCidr(`${address}/64`) : address;
}

interface Charge {
  limiter: RateLimiterAbstract;
  key: string;
}

export class LoginLimiter {
  private readonly byPair: RateLimiterAbstract;
  private readonly byAddress: RateLimiterAbstract;
  private readonly byAccount: RateLimiterAbstract;
  private readonly knownAddresses: RateLimiterAbstract;

  constructor(
    readonly limits: LoginLimits = DEFAULT_LOGIN_LIMITS,
    redis: Redis | null = null,
  ) {
    this.byPair = limiter('login-pair', limits.perPair, redis);
    this.byAddress = limiter('login-address', limits.perAddress, redis);
    this.byAccount = limiter('login-account', limits.perAccount, redis);
    this.knownAddresses = limiter('login-known', { points: 1, windowSeconds: limits.knownAddressSeconds }, redis);
  }

  /**
   * Takes a point from every limit the attempt falls under, each atomically in the store;
   * throws RATE_LIMITED when one has none left, giving back what it took from the others.
   * `device`: the device id of a valid device cookie for this account (device-cookie.ts).
   */
  async begin(account: string | null, address: string, device: string | null = null): Promise<LoginAttempt> {
    const from = addressKey(address);
    // Addresses never contain '|', so "<address>|<account>" cannot be read two ways.
    const pair: Charge | null = account ? { limiter: this.byPair, key: device ? `device:${device}|${account}` : `${from}|${account}` } : null;
    const charges: Charge[] = [];
    if (!(pair && device)) charges.push({ limiter: this.byAddress, key: from });
    if (pair) charges.push(pair);
    if (account && !device && !(await this.isKnown(account, from))) charges.push({ limiter: this.byAccount, key: account });

    const taken: Charge[] = [];
    const giveBack = (charges: Charge[]) => Promise.all(charges.map(({ limiter, key }) => limiter.reward(key, 1)));
    for (const charge of charges) {
      try {
        await take(charge);
      } catch (error) {
        await giveBack(taken);
        throw error;
      }
      taken.push(charge);
    }
    return {
      succeeded: async () => {
        await Promise.all([giveBack(taken.filter((charge) => charge !== pair)), pair?.limiter.delete(pair.key)]);
        if (account) await this.remember(account, from);
      },
      refund: async () => {
        await giveBack(taken);
      },
    };
  }

  private async isKnown(account: string, from: string): Promise<boolean> {
    return (await this.knownAddresses.get(`${from}|${account}`)) !== null;
  }

  private async remember(account: string, from: string): Promise<void> {
    try {
      await this.knownAddresses.set(`${from}|${account}`, 1, this.limits.knownAddressSeconds);
    } catch {
      // Redis did not answer: the address stays unknown (its attempts count against the
      // account limit too), which must not fail a sign-in whose password was right.
    }
  }
}

/** Consuming past the limit rejects with the limiter's state: that becomes RATE_LIMITED. */
async function take({ limiter, key }: Charge): Promise<void> {
  try {
    await limiter.consume(key);
  } catch (error) {
    if (!(error instanceof RateLimiterRes)) throw error;
    const seconds = Math.max(1, Math.ceil(error.msBeforeNext / 1000));
    // The sign-in page shows this message as is: say how long, in units a person reads.
    const wait = seconds < 120 ? `${seconds} s` : seconds < 2 * 3600 ? `${Math.ceil(seconds / 60)} min` : `${Math.ceil(seconds / 3600)} h`;
    throw rateLimited(`Too many failed sign-in attempts: try again in ${wait}`, seconds);
  }
}
