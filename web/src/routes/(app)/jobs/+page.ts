import { loadPageQuery } from '$lib/api/load';
import { jobsQuery } from '$lib/graphql/deploy';
import { wansQuery } from '$lib/graphql/wans';
import type { PageLoad } from './$types';

export const load: PageLoad = async (event) => {
  const [jobs, wans] = await Promise.all([loadPageQuery(event, 'meshplane:jobs', jobsQuery, { first: 50 }), loadPageQuery(event, 'meshplane:wans', wansQuery, { first: 100 })]);
  return { jobs: jobs.jobs.edges.map((edge) => edge.node), wanIds: wans.wans.edges.map((edge) => edge.node.id) };
};
