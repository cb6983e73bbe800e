// Every WAN's jobs, live. jobProgress follows one WAN at a time, so this follows the WANs that
// existed when the page loaded and every WAN a wanChanged event names afterwards (one created
// later, or one created between the load and this subscription), until it is deleted.
import { browserClient } from '$lib/api/client';
import { watchJobs } from '$lib/api/jobs';
import { wanChangedSubscription } from '$lib/graphql/wans';
import type { JobViewFragment } from '$lib/gql/graphql';

/** Calls `onJob` for every job change in any WAN and `onFollowing` with how many WANs it follows; returns the stop function. */
export function followAllJobs(wanIds: readonly string[], onJob: (job: JobViewFragment) => void, onFollowing: (count: number) => void): () => void {
  const stops = new Map<string, () => void>();
  const follow = (wanId: string) => {
    if (stops.has(wanId)) return;
    stops.set(wanId, watchJobs({ wanId }, onJob));
    onFollowing(stops.size);
  };
  const unfollow = (wanId: string) => {
    stops.get(wanId)?.();
    stops.delete(wanId);
    onFollowing(stops.size);
  };
  const { unsubscribe } = browserClient()
    .subscription(wanChangedSubscription, {})
    .subscribe((result) => {
      const event = result.data?.wanChanged;
      if (!event) return;
      if (event.entity === 'WAN' && event.kind === 'DELETED') unfollow(event.wanId);
      else follow(event.wanId);
    });
  wanIds.forEach(follow);
  return () => {
    unsubscribe();
    for (const stop of stops.values()) stop();
    stops.clear();
  };
}
