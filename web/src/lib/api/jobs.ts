// Live jobs over graphql-ws: the job as it is now, then every change (steps, progress, log).
import { browserClient } from './client';
import { jobProgressSubscription } from '../graphql/deploy';
import type { JobViewFragment } from '../gql/graphql';

export const isActive = (job: { status: string }) => job.status === 'QUEUED' || job.status === 'RUNNING';

/** Follows one job (jobId) or every job of a WAN (wanId); returns the unsubscribe function. */
export function watchJobs(filter: { jobId: string } | { wanId: string }, onJob: (job: JobViewFragment) => void): () => void {
  const { unsubscribe } = browserClient()
    .subscription(jobProgressSubscription, filter)
    .subscribe((result) => {
      if (result.data) onJob(result.data.jobProgress);
    });
  return unsubscribe;
}
