import { describe, expect, it } from 'vitest';
import { freshUntil, tunnelStatus, type TunnelEnd } from './tunnel-state.js';

const NOW = new Date(Date.UTC(2025, 0, 1, 12));
const ago = (seconds: number) => new Date(NOW.getTime() - seconds * 1000);
const FRESH = { now: NOW, freshMs: 180_000 };

function end(peerId: string, remotes: Record<string, Date | null> | null, silent: string | null = null): TunnelEnd {
  return { peerId, name: peerId, managed: remotes !== null || silent !== null, silent, report: remotes ? { observedAt: NOW, remotes: new Map(Object.entries(remotes)) } : null };
}

describe('tunnelStatus', () => {
  it('is UP when either end reports a fresh handshake, naming that end and the newest handshake', () => {
    expect(tunnelStatus(end('b', { a: ago(300) }), end('a', { b: ago(10) }), FRESH)).toMatchObject({ a: 'a', b: 'b', state: 'UP', reportedBy: 'a', lastHandshake: ago(10) });
    expect(tunnelStatus(end('a', { b: ago(179) }), end('b', null), FRESH)).toMatchObject({ state: 'UP', reportedBy: 'a' });
  });

  it('is DOWN when a reporting end has no fresh handshake, none at all, or no such peer', () => {
    expect(tunnelStatus(end('a', { b: ago(180) }), end('b', null), FRESH)).toMatchObject({ state: 'DOWN', reportedBy: 'a', lastHandshake: ago(180) });
    expect(tunnelStatus(end('a', { b: null }), end('b', null), FRESH)).toMatchObject({ state: 'DOWN', lastHandshake: null, reason: "a's device reports no handshake with b" });
    expect(tunnelStatus(end('a', { c: ago(1) }), end('b', null), FRESH)).toMatchObject({ state: 'DOWN', reason: "a's device has no peer b" });
  });

  it('is UNKNOWN when no end can report, saying why; a silent end never makes it DOWN', () => {
    expect(tunnelStatus(end('a', null), end('b', null), FRESH)).toMatchObject({ state: 'UNKNOWN', reportedBy: null, reason: 'neither a nor b is on a device Meshplane reads' });
    // What an unreachable device said before does not count.
    const unreachable: TunnelEnd = { ...end('a', { b: null }), silent: 'cannot be read now (DEVICE_UNREACHABLE)' };
    expect(tunnelStatus(unreachable, end('b', null), FRESH)).toMatchObject({ state: 'UNKNOWN', reason: "a's device cannot be read now (DEVICE_UNREACHABLE)" });
    expect(tunnelStatus(unreachable, end('b', { a: ago(5) }), FRESH)).toMatchObject({ state: 'UP', reportedBy: 'b' });
  });

  it('says when an UP tunnel stops being fresh', () => {
    const up = tunnelStatus(end('a', { b: ago(100) }), end('b', null), FRESH);
    expect(freshUntil(up, FRESH.freshMs)).toEqual(new Date(NOW.getTime() + 80_000));
    expect(freshUntil(tunnelStatus(end('a', { b: null }), end('b', null), FRESH), FRESH.freshMs)).toBeNull();
  });
});

describe('tunnelStatus with a reported BGP session (redundant hubs)', () => {
  const withSessions = (base: TunnelEnd, sessions: Record<string, boolean>): TunnelEnd => ({ ...base, report: { ...base.report!, sessions: new Map(Object.entries(sessions)) } });

  it('a session reported down makes a tunnel with a fresh handshake DOWN: BFD knows long before the handshake ages', () => {
    const status = tunnelStatus(withSessions(end('spoke', { hub: ago(3) }), { hub: false }), end('hub', null), FRESH);
    expect(status).toMatchObject({ state: 'DOWN', reportedBy: 'spoke', lastHandshake: ago(3), reason: "spoke's routing reports its BGP session with hub down (BFD notices a dead tunnel within a second)" });
  });

  it('an established session is UP, and either end saying so is enough', () => {
    expect(tunnelStatus(withSessions(end('a', { b: ago(400) }), { b: true }), end('b', null), FRESH)).toMatchObject({ state: 'UP', reason: "a's routing reports its BGP session with b established" });
    expect(tunnelStatus(withSessions(end('a', { b: ago(3) }), { b: false }), withSessions(end('b', { a: ago(3) }), { a: true }), FRESH)).toMatchObject({ state: 'UP', reportedBy: 'a' });
  });

  it('without a session for the pair, or from a silent end, the handshakes decide', () => {
    expect(tunnelStatus(withSessions(end('a', { b: ago(3) }), { c: false }), end('b', null), FRESH)).toMatchObject({ state: 'UP', reason: "a's device reports a handshake with b 3 s ago" });
    const silent: TunnelEnd = { ...withSessions(end('a', { b: ago(3) }), { b: false }), silent: 'cannot be read now (DEVICE_UNREACHABLE)' };
    expect(tunnelStatus(silent, end('b', { a: ago(3) }), FRESH)).toMatchObject({ state: 'UP', reportedBy: 'b' });
  });
});
