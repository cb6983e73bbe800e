import { describe, expect, it } from 'vitest';
import type { DeviceDiscovery } from '../../domain/adoption/discovery.js';
import type { Identity } from '../auth/identity.js';
import { DeviceReadings } from './discovery.js';
import { DISCOVERY_CACHE_MS } from './limits.js';

const actor = {} as Identity;
const empty: DeviceDiscovery = { interfaces: [], connectedNetworks: [], routes: [], notes: [] };

describe('device readings for adoption', () => {
  function setup() {
    let clock = 1_000_000;
    let changed: Date | null = null;
    const reads: string[] = [];
    const readings = new DeviceReadings(
      async (_actor, deviceId) => (reads.push(deviceId), { ...empty, notes: [`read ${reads.length}`] }),
      async () => changed,
      () => clock,
    );
    return { readings, reads, tick: (ms: number) => (clock += ms), change: () => (changed = new Date(clock)) };
  }

  it('reuses a reading for a few minutes, shared by concurrent callers', async () => {
    const { readings, reads, tick } = setup();
    const [a, b] = await Promise.all([readings.get(actor, 'd1'), readings.get(actor, 'd1')]);
    expect(a).toBe(b);
    tick(DISCOVERY_CACHE_MS - 1);
    expect((await readings.get(actor, 'd1')).notes).toEqual(['read 1']);
    tick(1);
    expect((await readings.get(actor, 'd1')).notes).toEqual(['read 2']);
    expect(reads).toEqual(['d1', 'd1']);
  });

  it('reads again once the device was changed (its settings, or a job on it finished) after the reading began', async () => {
    const { readings, tick, change } = setup();
    await readings.get(actor, 'd1');
    tick(10);
    expect((await readings.get(actor, 'd1')).notes).toEqual(['read 1']);
    change();
    tick(10);
    expect((await readings.get(actor, 'd1')).notes).toEqual(['read 2']);
    expect((await readings.get(actor, 'd1')).notes).toEqual(['read 2']);
    expect((await readings.get(actor, 'd1', true)).notes).toEqual(['read 3']);
  });
});
