// Which hub each spoke of a WAN with redundant hubs uses now, and which hubs are lost, from
// the tunnel states the devices report and nothing else (tunnel-state.ts: a reported BGP
// session, else the handshakes). A spoke is on a
// backup hub only when its devices confirm every better-ranked hub's tunnel DOWN and that
// backup's UP; when a better-ranked tunnel is UNKNOWN, so is the answer. Its routing engine
// makes the same choice from the same tunnels (BGP over BFD follows the better-ranked hub
// whose session is up), so this names the hub the traffic takes as far as the devices saw.
import type { CompiledOverlay } from './compiled.js';
import { pairKey } from './overlay-facts.js';
import type { TunnelState } from './tunnel-state.js';

export type SpokeHubState = 'PRIMARY' | 'BACKUP' | 'CUT_OFF' | 'UNKNOWN';
export type HubState = 'UP' | 'LOST' | 'UNKNOWN';

export interface TunnelReading {
  from: string;
  to: string;
  state: TunnelState;
  reason: string;
}

export interface SpokeHubUsage {
  spokeId: string;
  state: SpokeHubState;
  /** The hub the spoke uses now (PRIMARY or BACKUP), else null. */
  hubId: string | null;
  /** That hub's rank for the spoke (1 = primary). */
  hubRank: number | null;
  reason: string;
}

export interface HubStatus {
  hubId: string;
  state: HubState;
  /** Spokes that use this hub now (as far as the devices confirm). */
  spokesUsing: number;
  reason: string;
}

export interface HubUsage {
  hubs: HubStatus[];
  spokes: SpokeHubUsage[];
}

/** Empty for a WAN without redundant hubs. */
export function hubUsage(compiled: CompiledOverlay, tunnels: readonly TunnelReading[]): HubUsage {
  const hubs = compiled.peers.filter((peer) => peer.routing?.transit);
  if (hubs.length === 0) return { hubs: [], spokes: [] };
  const names = new Map(compiled.peers.map((peer) => [peer.peerId, peer.name]));
  const byPair = new Map(tunnels.map((tunnel) => [pairKey(tunnel.from, tunnel.to), tunnel]));
  const stateOf = (a: string, b: string): TunnelReading | undefined => byPair.get(pairKey(a, b));
  const using = new Map<string, number>(hubs.map((hub) => [hub.peerId, 0]));

  const spokes: SpokeHubUsage[] = [];
  for (const spoke of compiled.peers) {
    if (!spoke.routing || spoke.routing.transit) continue;
    const ranked = spoke.routing.neighbours.filter((entry) => entry.hubRank !== null).sort((a, b) => (a.hubRank as number) - (b.hubRank as number));
    let usage: SpokeHubUsage | null = null;
    const down: string[] = [];
    for (const hub of ranked) {
      const tunnel = stateOf(spoke.peerId, hub.peerId);
      const state = tunnel?.state ?? 'UNKNOWN';
      const detail = tunnel?.reason ?? 'no tunnel';
      if (state === 'UP') {
        const rank = hub.hubRank as number;
        const why = rank === 1 ? `its tunnel to its primary hub ${hub.name} is up (${detail})` : `its devices report ${down.join(', ')} down and ${hub.name} up (${detail})`;
        usage = { spokeId: spoke.peerId, state: rank === 1 ? 'PRIMARY' : 'BACKUP', hubId: hub.peerId, hubRank: rank, reason: why };
        using.set(hub.peerId, (using.get(hub.peerId) ?? 0) + 1);
        break;
      }
      if (state === 'UNKNOWN') {
        usage = { spokeId: spoke.peerId, state: 'UNKNOWN', hubId: null, hubRank: null, reason: `the state of its tunnel to ${hub.name} is unknown (${detail})` };
        break;
      }
      down.push(hub.name);
    }
    spokes.push(usage ?? { spokeId: spoke.peerId, state: 'CUT_OFF', hubId: null, hubRank: null, reason: `its devices report the tunnels to every hub down (${down.join(', ')})` });
  }

  const statuses: HubStatus[] = hubs.map((hub) => {
    const own = tunnels.filter((tunnel) => tunnel.from === hub.peerId || tunnel.to === hub.peerId);
    const spokesUsing = using.get(hub.peerId) ?? 0;
    const up = own.filter((tunnel) => tunnel.state === 'UP').length;
    const reported = own.filter((tunnel) => tunnel.state !== 'UNKNOWN').length;
    if (up > 0) return { hubId: hub.peerId, state: 'UP', spokesUsing, reason: `${up} of its ${own.length} tunnels are up` };
    if (reported > 0 && reported === own.length) {
      return { hubId: hub.peerId, state: 'LOST', spokesUsing, reason: `the devices report all ${own.length} of its tunnels down` };
    }
    if (reported > 0) {
      return { hubId: hub.peerId, state: 'UNKNOWN', spokesUsing, reason: `${reported} of its ${own.length} tunnels are reported down, the others' state is unknown` };
    }
    return { hubId: hub.peerId, state: 'UNKNOWN', spokesUsing, reason: `no device reports any of ${names.get(hub.peerId) ?? hub.peerId}'s tunnels` };
  });
  return { hubs: statuses, spokes };
}
