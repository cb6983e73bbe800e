import { loadPageQuery, loadQuery } from '$lib/api/load';
import { jobsQuery } from '$lib/graphql/deploy';
import { wanIdsQuery } from '$lib/graphql/wans';
import type { PageLoad } from './$types';

const WAN_PAGE = 1000; // the API's largest page (server/src/graphql/argument-checks.ts MAX_PAGE_SIZE)

export const load: PageLoad = async (event) => {
  const jobs = await loadPageQuery(event, 'meshplane:jobs', jobsQuery, { first: 50 });
  // Every WAN, page by page: jobProgress follows one WAN at a time.
  const wanIds: string[] = [];
  for (let after: string | undefined; ; ) {
    const { wans } = await loadQuery(event.fetch, wanIdsQuery, { first: WAN_PAGE, after });
    wanIds.push(...wans.edges.map((edge) => edge.node.id));
    if (!wans.pageInfo.hasNextPage || !wans.pageInfo.endCursor) break;
    after = wans.pageInfo.endCursor;
  }
  return { jobs: jobs.jobs.edges.map((edge) => edge.node), wanIds };
};
