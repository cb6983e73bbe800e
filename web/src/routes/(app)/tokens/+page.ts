import { loadPageQuery } from '$lib/api/load';
import { apiTokensQuery } from '$lib/graphql/users';
import type { PageLoad } from './$types';

export const load: PageLoad = async (event) => {
  const data = await loadPageQuery(event, 'meshplane:tokens', apiTokensQuery, {});
  return { tokens: data.myApiTokens.edges.map((edge) => edge.node) };
};
