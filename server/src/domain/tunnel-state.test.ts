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
