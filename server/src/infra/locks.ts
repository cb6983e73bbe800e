// Named leases that coordinate replicas: one deploy job per device at a time and one
// replica polling devices. In one process an in-memory table is enough; with REDIS_URL the
// leases live in Redis (SET NX PX, released and extended only by their holder).
import { randomUUID } from 'node:crypto';
import type { Redis } from 'ioredis';

export interface Lease {
  /** Keeps the lease for another ttl; false when it was lost (expired and taken). */
  extend(): Promise<boolean>;
  release(): Promise<void>;
}

export interface LockManager {
  tryAcquire(name: string, ttlMs: number): Promise<Lease | null>;
  /** Whether someone holds the lease now (it was taken and has neither expired nor been released). */
  isHeld(name: string): Promise<boolean>;
}

/** Another holder kept the lease for the whole wait (as opposed to the lease store failing). */
export class LeaseBusyError extends Error {
  override readonly name = 'LeaseBusyError';
  constructor(readonly lease: string, readonly waitedMs: number) {
    super(`${lease} stayed held by another holder for ${Math.round(waitedMs / 1000)} s`);
  }
}

/** Waits (bounded, polling) until the lease is free; LeaseBusyError when it never was. */
export async function acquire(locks: LockManager, name: string, ttlMs: number, { pollMs = 100, maxWaitMs = 10 * 60_000 } = {}): Promise<Lease> {
  for (let waited = 0; waited <= maxWaitMs; waited += pollMs) {
    const lease = await locks.tryAcquire(name, ttlMs);
    if (lease) return lease;
    await new Promise((resolve) => setTimeout(resolve, pollMs));
  }
  throw new LeaseBusyError(name, maxWaitMs);
}

/**
 * Renews a held lease every third of its ttl until the returned stop function is called.
 * Calls `onLost` once, and stops renewing, when another holder has the lease, or when no
 * renewal succeeded for two thirds of the ttl (the store is unreachable or too slow): the
 * lease may then expire before the next attempt, so the holder must not count on it.
 */
export function keepLease(lease: Lease, ttlMs: number, onLost: (reason: string) => void): () => void {
  let confirmedAt = Date.now();
  let renewing = false;
  let lastError = 'no answer';
  let lost = false;
  const lose = (reason: string) => {
    if (lost) return;
    lost = true;
    clearInterval(timer);
    onLost(reason);
  };
  const timer = setInterval(() => {
    if (Date.now() - confirmedAt >= (ttlMs * 2) / 3) return lose(`it could not be renewed (${lastError})`);
    if (renewing) return;
    renewing = true;
    lease.extend().then(
      (kept) => {
        if (kept) confirmedAt = Date.now();
        else lose('another holder has taken it');
      },
      (error: unknown) => {
        lastError = (error as Error).message;
      },
    ).finally(() => {
      renewing = false;
    });
  }, ttlMs / 3);
  return () => clearInterval(timer);
}

export class LocalLocks implements LockManager {
  private readonly held = new Map<string, { token: string; expires: number }>();

  async tryAcquire(name: string, ttlMs: number): Promise<Lease | null> {
    const current = this.held.get(name);
    if (current && current.expires > Date.now()) return null;
    const token = randomUUID();
    this.held.set(name, { token, expires: Date.now() + ttlMs });
    return {
      extend: async () => {
        const entry = this.held.get(name);
        if (entry?.token !== token) return false;
        entry.expires = Date.now() + ttlMs;
        return true;
      },
      release: async () => {
        if (this.held.get(name)?.token === token) this.held.delete(name);
      },
    };
  }

  async isHeld(name: string): Promise<boolean> {
    return (this.held.get(name)?.expires ?? 0) > Date.now();
  }
}

// Compare-and-act scripts: only the holder (same token) may extend or release.
const RELEASE = "if redis.call('get', KEYS[1]) == ARGV[1] then return redis.call('del', KEYS[1]) else return 0 end";
const EXTEND = "if redis.call('get', KEYS[1]) == ARGV[1] then return redis.call('pexpire', KEYS[1], ARGV[2]) else return 0 end";

export class RedisLocks implements LockManager {
  constructor(
    private readonly redis: Redis,
    private readonly prefix = 'meshplane:lock:',
  ) {}

  async tryAcquire(name: string, ttlMs: number): Promise<Lease | null> {
    const key = this.prefix + name;
    const token = randomUUID();
    if ((await this.redis.set(key, token, 'PX', ttlMs, 'NX')) !== 'OK') return null;
    return {
      extend: async () => (await this.redis.eval(EXTEND, 1, key, token, String(ttlMs))) === 1,
      release: async () => {
        await this.redis.eval(RELEASE, 1, key, token);
      },
    };
  }

  async isHeld(name: string): Promise<boolean> {
    return (await this.redis.exists(this.prefix + name)) === 1;
  }
}
