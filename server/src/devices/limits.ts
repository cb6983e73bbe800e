// One limit on requests in flight per device, shared by every driver made for that device:
// services make a fresh driver per call (test, preflight, plan, verify, statistics, each job)
// and the monitor keeps its own, so a limit held inside each driver would let a device with
// concurrency 1 serve a plan, a verify and a deploy at once.
import { Semaphore } from '../infra/semaphore.js';
import type { DeviceTarget } from './driver.js';

/** Runs one request to a device when the device has room for it. */
export interface RequestLimiter {
  run<T>(task: () => Promise<T>): Promise<T>;
}

/** A device's configured concurrency as a semaphore limit (at least 1). */
export function requestLimit(concurrency: number): number {
  return Math.max(1, Math.floor(concurrency) || 1);
}

export class DeviceLimiters {
  /** One entry per device this process has talked to (a handful to a few thousand). */
  private readonly byDevice = new Map<string, Semaphore>();

  /** The device's shared limiter, sized by its concurrency as the target says now. */
  forDevice(target: Pick<DeviceTarget, 'id' | 'concurrency'>): Semaphore {
    const limit = requestLimit(target.concurrency);
    const existing = this.byDevice.get(target.id);
    if (existing) {
      // The device was edited: requests already admitted finish, new ones see the new limit.
      existing.resize(limit);
      return existing;
    }
    const created = new Semaphore(limit);
    this.byDevice.set(target.id, created);
    return created;
  }
}
