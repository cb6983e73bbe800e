// Live tunnel status over graphql-ws: every peer of a WAN now, then the ones the handshake
// monitor saw change. Kept in a reactive map keyed by peer id.
import { SvelteMap } from 'svelte/reactivity';
import { browserClient } from './client';
import { peerStatusSubscription } from '../graphql/wans';
import type { PeerLiveStatusFragment } from '../gql/graphql';

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

/** up: both ends report a recent handshake; down: one end is known to be offline; else unknown. */
export function linkStateOf(statuses: StatusMap, from: string, to: string): 'up' | 'down' | undefined {
  const a = statuses.get(from);
  const b = statuses.get(to);
  if (a?.online && b?.online) return 'up';
  if (a?.online === false || b?.online === false) return 'down';
  return undefined;
}
