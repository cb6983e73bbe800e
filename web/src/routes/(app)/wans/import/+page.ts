import { loadPageQuery } from '$lib/api/load';
import { adoptionTargetsQuery } from '$lib/graphql/adoption';
import type { PageLoad } from './$types';

export const load: PageLoad = async (event) => {
  const data = await loadPageQuery(event, 'meshplane:wans', adoptionTargetsQuery, {});
  return { wans: data.wans.edges.map((edge) => edge.node) };
};
