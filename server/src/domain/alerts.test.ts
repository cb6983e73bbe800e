import { describe, expect, it } from 'vitest';
import type { TunnelState } from './tunnel-state.js';
import {
  conditionOf, describeRule, inScope, stepHold, stepTunnelWatch, type AlertRuleSpec, type AlertSubject, type Hold, type TunnelWatch,
} from './alerts.js';

const T0 = new Date('2026-12-01T10:00:00Z');
const at = (minutes: number) => new Date(T0.getTime() + minutes * 60_000);

function tunnel(state: TunnelState, lastHandshake: Date | null = null, wanId = 'w1'): AlertSubject {
  return { kind: 'tunnel', tunnel: { key: `${wanId}:a:b`, wan: { id: wanId, name: 'hq-mesh' }, a: { id: 'a', name: 'branch' }, b: { id: 'b', name: 'hq' }, state, lastHandshake, reason: '', reportedBy: null } };
}
function device(readable: boolean | null, wanIds: string[] = ['w1']): AlertSubject {
  return { kind: 'device', device: { id: 'd1', name: 'edge', readable, error: readable === false ? 'unreachable' : null, wanIds } };
}
const rule = (kind: AlertRuleSpec['kind'], minutes = 5, scope: Partial<AlertRuleSpec> = {}): AlertRuleSpec => ({ id: 'r1', kind, minutes, wanId: null, deviceId: null, ...scope });

/** Runs the rule over a timeline of (minute, subject) and returns the actions with their minute. */
function run(spec: AlertRuleSpec, timeline: Array<[number, AlertSubject]>, start: Hold | null = null) {
  let hold = start;
  const actions: Array<[number, 'fire' | 'resolve']> = [];
  for (const [minute, subject] of timeline) {
    const step = stepHold(hold, conditionOf(spec, subject, at(minute)), at(minute));
    hold = step.next;
    if (step.action) actions.push([minute, step.action]);
  }
  return { actions, hold };
}

describe('alert rule evaluation', () => {
  it('fires once when the condition has held N minutes, and resolves once when it stops', () => {
    const { actions, hold } = run(rule('TUNNEL_DOWN', 5), [[0, tunnel('UP')], [1, tunnel('DOWN')], [3, tunnel('DOWN')], [5.9, tunnel('DOWN')], [6, tunnel('DOWN')], [7, tunnel('DOWN')], [30, tunnel('DOWN')], [31, tunnel('UP')], [32, tunnel('UP')]]);
    expect(actions).toEqual([[6, 'fire'], [31, 'resolve']]);
    expect(hold).toBeNull();
  });

  it('a flap shorter than N minutes fires nothing, and the next outage counts from its own start', () => {
    const { actions } = run(rule('TUNNEL_DOWN', 5), [[0, tunnel('DOWN')], [4, tunnel('DOWN')], [4.5, tunnel('UP')], [5, tunnel('DOWN')], [9, tunnel('DOWN')], [10, tunnel('DOWN')]]);
    expect(actions).toEqual([[10, 'fire']]);
  });

  it('UNKNOWN never fires TUNNEL_DOWN or HANDSHAKE_STALE, and never resolves a firing incident', () => {
    expect(run(rule('TUNNEL_DOWN', 1), [[0, tunnel('UNKNOWN')], [100, tunnel('UNKNOWN')]]).actions).toEqual([]);
    expect(run(rule('HANDSHAKE_STALE', 1), [[0, tunnel('UNKNOWN')], [100, tunnel('UNKNOWN')]]).actions).toEqual([]);
    // Firing, then nobody can say: still open; reported UP again: resolved then.
    expect(run(rule('TUNNEL_DOWN', 1), [[0, tunnel('DOWN')], [1, tunnel('DOWN')], [2, tunnel('UNKNOWN')], [50, tunnel('UNKNOWN')], [51, tunnel('UP')]]).actions).toEqual([[1, 'fire'], [51, 'resolve']]);
    // Pending, then UNKNOWN for longer than N: it does not fire while nobody reports it.
    expect(run(rule('TUNNEL_DOWN', 5), [[0, tunnel('DOWN')], [1, tunnel('UNKNOWN')], [10, tunnel('UNKNOWN')]]).actions).toEqual([]);
  });

  it('a gap nobody reports breaks the hold: DOWN, UNKNOWN, DOWN again counts N minutes from the second DOWN', () => {
    // Down 1 minute, then 10 minutes nobody can say (the tunnel may have come back meanwhile),
    // then down again: not "down for 5 minutes" until 5 reported minutes have passed.
    const gap = run(rule('TUNNEL_DOWN', 5), [[0, tunnel('DOWN')], [1, tunnel('DOWN')], [2, tunnel('UNKNOWN')], [11, tunnel('UNKNOWN')], [12, tunnel('DOWN')], [13, tunnel('DOWN')], [16.9, tunnel('DOWN')], [17, tunnel('DOWN')]]);
    expect(gap.actions).toEqual([[17, 'fire']]);
    // The same for a device nobody has checked (a restart), and for a tunnel without a handshake.
    expect(run(rule('DEVICE_UNREACHABLE', 2), [[0, device(false)], [1, device(null)], [5, device(false)], [6, device(false)], [7, device(false)]]).actions).toEqual([[7, 'fire']]);
    expect(run(rule('HANDSHAKE_STALE', 5), [[0, tunnel('DOWN', null)], [1, tunnel('UNKNOWN')], [6, tunnel('DOWN', null)], [10, tunnel('DOWN', null)], [11, tunnel('DOWN', null)]]).actions).toEqual([[11, 'fire']]);
  });

  it('a flapping tunnel (down 1 minute, up, down 1 minute...) with N=5 never fires, however long it flaps', () => {
    const timeline: Array<[number, AlertSubject]> = [];
    for (let minute = 0; minute < 120; minute += 2) timeline.push([minute, tunnel('DOWN')], [minute + 0.5, tunnel('DOWN')], [minute + 1, tunnel('UP')], [minute + 1.5, tunnel('UP')]);
    expect(run(rule('TUNNEL_DOWN', 5), timeline).actions).toEqual([]);
  });

  it('a restart with an open incident neither fires again nor forgets to resolve', () => {
    const open: Hold = { since: at(-60), firing: true };
    expect(run(rule('TUNNEL_DOWN', 5), [[0, tunnel('DOWN')], [10, tunnel('DOWN')], [11, tunnel('UP')]], open).actions).toEqual([[11, 'resolve']]);
  });

  it('HANDSHAKE_STALE: a handshake older than N fires at once; a reported tunnel with none fires after N minutes', () => {
    expect(run(rule('HANDSHAKE_STALE', 10), [[0, tunnel('DOWN', at(-11))]]).actions).toEqual([[0, 'fire']]);
    expect(run(rule('HANDSHAKE_STALE', 10), [[0, tunnel('UP', at(-1))], [5, tunnel('UP', at(4))]]).actions).toEqual([]);
    expect(run(rule('HANDSHAKE_STALE', 10), [[0, tunnel('DOWN', null)], [9, tunnel('DOWN', null)], [10, tunnel('DOWN', null)], [11, tunnel('UP', at(11))]]).actions).toEqual([[10, 'fire'], [11, 'resolve']]);
  });

  it('DEVICE_UNREACHABLE: fires after N minutes unreadable; a device not checked yet is not unreachable', () => {
    expect(run(rule('DEVICE_UNREACHABLE', 2), [[0, device(null)], [10, device(null)]]).actions).toEqual([]);
    expect(run(rule('DEVICE_UNREACHABLE', 2), [[0, device(false)], [1, device(false)], [2, device(false)], [3, device(true)]]).actions).toEqual([[2, 'fire'], [3, 'resolve']]);
  });

  it('scope: every WAN, one WAN, one device; device rules watch devices only', () => {
    expect(inScope(rule('TUNNEL_DOWN'), tunnel('DOWN', null, 'w2'))).toBe(true);
    expect(inScope(rule('TUNNEL_DOWN', 5, { wanId: 'w1' }), tunnel('DOWN', null, 'w2'))).toBe(false);
    expect(inScope(rule('TUNNEL_DOWN'), device(false))).toBe(false);
    expect(inScope(rule('DEVICE_UNREACHABLE'), tunnel('DOWN'))).toBe(false);
    expect(inScope(rule('DEVICE_UNREACHABLE', 5, { wanId: 'w2' }), device(false, ['w1']))).toBe(false);
    expect(inScope(rule('DEVICE_UNREACHABLE', 5, { wanId: 'w1' }), device(false, ['w1']))).toBe(true);
    expect(inScope(rule('DEVICE_UNREACHABLE', 5, { deviceId: 'd2' }), device(false))).toBe(false);
  });

  it('describes a rule in plain words', () => {
    expect(describeRule({ kind: 'TUNNEL_DOWN', minutes: 5 }, { wanName: 'hq-mesh', deviceName: null })).toBe('Tell me when a tunnel in WAN hq-mesh is down for 5 minutes');
    expect(describeRule({ kind: 'DEVICE_UNREACHABLE', minutes: 1 }, { wanName: null, deviceName: 'edge' })).toBe('Tell me when device edge cannot be reached for 1 minute');
  });
});

describe('tunnel.down / tunnel.up after a grace period', () => {
  const GRACE = 120_000;
  function events(states: Array<[number, TunnelState]>, start: TunnelWatch | null = null) {
    let watch = start;
    const sent: Array<[number, string]> = [];
    for (const [minute, state] of states) {
      const step = stepTunnelWatch(watch, state, at(minute), GRACE);
      watch = step.next;
      if (step.event) sent.push([minute, step.event]);
    }
    return sent;
  }

  it('down once after the grace, up once after it', () => {
    expect(events([[0, 'UP'], [1, 'DOWN'], [2, 'DOWN'], [3, 'DOWN'], [4, 'DOWN'], [5, 'UP'], [6, 'UP']])).toEqual([[3, 'tunnel.down'], [5, 'tunnel.up']]);
  });

  it('a flap within the grace sends nothing, not even an up', () => {
    expect(events([[0, 'UP'], [1, 'DOWN'], [2, 'UP'], [2.5, 'DOWN'], [3, 'UP']])).toEqual([]);
  });

  it('a tunnel never seen UP sends nothing; UNKNOWN is not DOWN', () => {
    expect(events([[0, 'DOWN'], [10, 'DOWN']])).toEqual([]);
    expect(events([[0, 'UP'], [1, 'UNKNOWN'], [10, 'UNKNOWN'], [11, 'UP']])).toEqual([]);
  });

  it('a gap nobody reports restarts the grace: UP, DOWN, UNKNOWN, DOWN sends tunnel.down a grace after the second DOWN', () => {
    expect(events([[0, 'UP'], [1, 'DOWN'], [2, 'UNKNOWN'], [10, 'UNKNOWN'], [11, 'DOWN'], [12, 'DOWN'], [13, 'DOWN']])).toEqual([[13, 'tunnel.down']]);
    // Once tunnel.down was sent, a gap keeps the outage: no second down, one up when it is back.
    expect(events([[0, 'UP'], [1, 'DOWN'], [3, 'DOWN'], [4, 'UNKNOWN'], [10, 'DOWN'], [20, 'DOWN'], [21, 'UP']])).toEqual([[3, 'tunnel.down'], [21, 'tunnel.up']]);
    // A gap, then UP: no up without a down.
    expect(events([[0, 'UP'], [1, 'DOWN'], [2, 'UNKNOWN'], [10, 'UP']])).toEqual([]);
  });

  it('after a restart with tunnel.down sent, tunnel.up still follows', () => {
    expect(events([[0, 'DOWN'], [1, 'UP']], { state: 'DOWN', downSince: at(-10), downSent: true })).toEqual([[1, 'tunnel.up']]);
  });
});
