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
}

/** Waits (bounded, polling) until the lease is free. */
export async function acquire(locks: LockManager, name: string, ttlMs: number, { pollMs = 100, maxWaitMs = 10 * 60_000 } = {}): Promise<Lease> {
  for (let waited = 0; waited <= maxWaitMs; waited += pollMs) {
    const lease = await locks.tryAcquire(name, ttlMs);
    if (lease) return lease;
    await new Promise((resolve) => setTimeout(resolve, pollMs));
  }
  throw new Error(`could not acquire ${name} within ${maxWaitMs} ms`);
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
}
