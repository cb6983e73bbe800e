import { error, redirect } from '@sveltejs/kit';
import { loadClient } from '$lib/api/client';
import { describeError } from '$lib/api/errors';
import { wansQuery } from '$lib/graphql/wans';
import type { PageLoad } from './$types';

const PAGE_SIZE = 100;

export const load: PageLoad = async ({ fetch, depends, parent }) => {
  depends('meshplane:wans');
  await parent(); // signed out: the layout redirects to /login before we ask for WANs
  const result = await loadClient(fetch).query(wansQuery, { first: PAGE_SIZE }, { fetch, requestPolicy: 'network-only' }).toPromise();
  if (!result.data) {
    const problem = describeError(result.error);
    if (problem.code === 'UNAUTHENTICATED') redirect(303, '/login');
    error(problem.code === 'NETWORK' ? 503 : 500, { message: problem.message, code: problem.code });
  }
  const { edges, pageInfo } = result.data.wans;
  return { wans: edges.map((edge) => edge.node), more: pageInfo.hasNextPage };
};
