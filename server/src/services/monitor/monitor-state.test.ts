// The monitor state every replica holds: changes are reported per WAN only when a status
// really changed (not when a handshake's age moved by its rounding), and a full observation
// replaces what a replica held, dropping peers and devices the poller no longer knows.
import { describe, expect, it } from 'vitest';
import type { ObservedStatus } from '../../infra/pubsub/topics.js';
import { HANDSHAKE_JITTER_MS, MonitorState } from './monitor-state.js';
import { nextHealth } from '../../domain/device-health.js';

const at = (ms: number) => new Date(Date.UTC(2025, 0, 1) + ms).toISOString();

function status(peerId: string, overrides: Partial<ObservedStatus> = {}): ObservedStatus {
  return { peerId, wanId: 'wan-1', online: true, lastHandshake: at(0), rxBytes: '10', txBytes: '20', endpoint: null, observedAt: at(0), ...overrides };
}

describe('MonitorState', () => {
  it('reports the peers whose status changed, by WAN', () => {
    const state = new MonitorState();
    expect(state.apply({ full: false, statuses: [status('a'), status('b', { wanId: 'wan-2' })], devices: [] })).toEqual(new Map([['wan-1', ['a']], ['wan-2', ['b']]]));
    // The same handshake seen a poll later (its age rounded differently) is no change; new counters are.
    const changes = state.apply({ full: false, statuses: [status('a', { lastHandshake: at(HANDSHAKE_JITTER_MS - 1) }), status('b', { wanId: 'wan-2', rxBytes: '11' })], devices: [] });
    expect(changes).toEqual(new Map([['wan-2', ['b']]]));
    expect(state.status('b')?.rxBytes).toBe('11');
    expect(state.status('b')?.lastHandshake).toEqual(new Date(at(0)));
  });

  it('replaces everything with a full observation and round-trips through its snapshot', () => {
    const poller = new MonitorState();
    const d1 = { deviceId: 'd1', ...nextHealth(undefined, { ok: true, statsAvailable: false }, { now: new Date(at(0)), intervalMs: 5000 }).health };
    poller.apply({ full: false, statuses: [status('a'), status('b', { online: false })], devices: [d1] });
    const replica = new MonitorState();
    const gone = nextHealth(undefined, { ok: false, fault: 'TIMEOUT', message: 'no reply' }, { now: new Date(at(0)), intervalMs: 5000 }).health;
    replica.apply({ full: false, statuses: [status('gone')], devices: [{ deviceId: 'd-gone', ...gone }] });

    const changes = replica.apply(JSON.parse(JSON.stringify(poller.snapshot())));
    expect(changes).toEqual(new Map([['wan-1', ['a', 'b']]]));
    expect(replica.allStatuses()).toEqual(poller.allStatuses());
    expect(replica.allDevices()).toEqual([d1]);
    expect(replica.status('gone')).toBeUndefined();
  });

  it('hands the tunnel reports to a replica through the snapshot and names the WANs whose tunnels may have changed', () => {
    const poller = new MonitorState();
    const d1 = { deviceId: 'd1', ...nextHealth(undefined, { ok: true, statsAvailable: true }, { now: new Date(at(0)), intervalMs: 5000 }).health };
    const report = { reporterId: 'a', wanId: 'wan-1', deviceId: 'd1', observedAt: at(0), remotes: [{ peerId: 'b', lastHandshake: at(0) }, { peerId: 'c', lastHandshake: null }] };
    expect(poller.applyTunnels({ full: false, statuses: [], devices: [d1], tunnels: [report] })).toEqual(new Set(['wan-1']));
    poller.apply({ full: false, statuses: [status('a')], devices: [d1] });
    // The same handshakes a poll later: nothing changed.
    expect(poller.applyTunnels({ full: false, statuses: [], devices: [d1], tunnels: [{ ...report, observedAt: at(100), remotes: [{ peerId: 'b', lastHandshake: at(HANDSHAKE_JITTER_MS - 1) }, { peerId: 'c', lastHandshake: null }] }] })).toEqual(new Set());
    // The device failing changes what its reports are worth.
    const failing = { deviceId: 'd1', ...nextHealth(d1, { ok: false, fault: 'UNREACHABLE', message: 'no route' }, { now: new Date(at(200)), intervalMs: 5000 }).health };
    expect(poller.applyTunnels({ full: false, statuses: [], devices: [failing], tunnels: [] })).toEqual(new Set(['wan-1']));

    const replica = new MonitorState();
    const snapshot = JSON.parse(JSON.stringify(poller.snapshot()));
    expect(replica.applyTunnels(snapshot)).toEqual(new Set(['wan-1']));
    replica.apply(snapshot);
    expect(replica.tunnelReport('a')?.remotes).toEqual(new Map([['b', new Date(at(HANDSHAKE_JITTER_MS - 1))], ['c', null]]));
    // A later full observation without the report drops it.
    expect(replica.applyTunnels({ full: true, statuses: [], devices: [], tunnels: [] })).toEqual(new Set(['wan-1']));
    expect(replica.tunnelReport('a')).toBeUndefined();
  });
});
