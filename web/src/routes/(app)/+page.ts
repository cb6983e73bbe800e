import { loadQuery } from '$lib/api/load';
import { wansQuery } from '$lib/graphql/wans';
import type { PageLoad } from './$types';

const PAGE_SIZE = 100;

export const load: PageLoad = async ({ fetch, depends, parent }) => {
  depends('meshplane:wans');
  await parent(); // signed out: the layout redirects to /login before we ask for WANs
  const { wans } = await loadQuery(fetch, wansQuery, { first: PAGE_SIZE });
  return { wans: wans.edges.map((edge) => edge.node), more: wans.pageInfo.hasNextPage };
};
