// Live status over graphql-ws: every peer of a WAN now, then the ones the handshake monitor
// saw change (a reactive map keyed by peer id); and every tunnel's state, per pair.
import { SvelteMap } from 'svelte/reactivity';
import { browserClient } from './client';
import { peerStatusSubscription, tunnelStateSubscription } from '../graphql/wans';
import type { PeerLiveStatusFragment, TunnelViewFragment } from '../gql/graphql';

export type LiveStatus = NonNullable<PeerLiveStatusFragment['status']>;
export type StatusMap = SvelteMap<string, LiveStatus | null>;

/** Fills `into` with the WAN's statuses as they arrive; returns the unsubscribe function. */
export function watchPeerStatus(wanId: string, into: StatusMap): () => void {
  const { unsubscribe } = browserClient()
    .subscription(peerStatusSubscription, { wanId })
    .subscribe((result) => {
      for (const peer of result.data?.peerStatusChanged ?? []) into.set(peer.id, peer.status);
    });
  return unsubscribe;
}

export type Tunnel = TunnelViewFragment;
export type TunnelMap = SvelteMap<string, Tunnel>;

export const tunnelKey = (tunnel: { from: string; to: string }) => `${tunnel.from}|${tunnel.to}`;

/**
 * Fills `into` with the WAN's tunnel states (keyed by tunnelKey) as the server derives them
 * from the devices' per-pair handshakes; returns the unsubscribe function.
 */
export function watchTunnels(wanId: string, into: TunnelMap): () => void {
  const { unsubscribe } = browserClient()
    .subscription(tunnelStateSubscription, { wanId })
    .subscribe((result) => {
      for (const tunnel of result.data?.tunnelStateChanged ?? []) into.set(tunnelKey(tunnel), tunnel);
    });
  return unsubscribe;
}
