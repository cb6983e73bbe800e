import { loadPageQuery, loadQuery } from '$lib/api/load';
import { jobsQuery } from '$lib/graphql/deploy';
import { wanIdsQuery } from '$lib/graphql/wans';
import type { JobKind, JobStatus, JobTrigger } from '$lib/gql/graphql';
import type { PageLoad } from './$types';

const KINDS = ['DEPLOY', 'VERIFY', 'REVERT', 'CLEAR'] as const satisfies readonly JobKind[];
const STATUSES = ['QUEUED', 'RUNNING', 'SUCCEEDED', 'FAILED', 'INTERRUPTED'] as const satisfies readonly JobStatus[];
const TRIGGERS = ['MANUAL', 'AUTOMATIC'] as const satisfies readonly JobTrigger[];

/** A filter from the URL, or none when the value is not one the API knows (a hand-edited link). */
function oneOf<T extends string>(value: string | null, allowed: readonly T[]): T | undefined {
  return allowed.find((candidate) => candidate === value);
}

/** Jobs a page shows at first and adds with each "Load more" (the `first` of jobsQuery). */
const JOB_PAGE = 50;
const WAN_PAGE = 1000; // the API's largest page (server/src/graphql/argument-checks.ts MAX_PAGE_SIZE)

export const load: PageLoad = async (event) => {
  const params = event.url.searchParams;
  const filters = {
    wanId: params.get('wan') || undefined,
    kind: oneOf(params.get('kind'), KINDS),
    status: oneOf(params.get('status'), STATUSES),
    trigger: oneOf(params.get('trigger'), TRIGGERS),
  };
  const jobs = await loadPageQuery(event, 'meshplane:jobs', jobsQuery, { ...filters });
  // Every WAN, page by page: jobProgress follows one WAN at a time.
  const wanIds: string[] = [];
  const wans: Array<{ id: string; name: string }> = [];
  for (let after: string | undefined; ; ) {
    const { wans: page } = await loadQuery(event.fetch, wanIdsQuery, { first: WAN_PAGE, after });
    wanIds.push(...page.edges.map((edge) => edge.node.id));
    wans.push(...page.edges.map((edge) => edge.node));
    if (!page.pageInfo.hasNextPage || !page.pageInfo.endCursor) break;
    after = page.pageInfo.endCursor;
  }
  return { jobs: jobs.jobs.edges.map((edge) => edge.node), pageInfo: jobs.jobs.pageInfo, pageSize: JOB_PAGE, wanIds, wans, filters, choices: { kinds: KINDS, statuses: STATUSES, triggers: TRIGGERS } };
};
