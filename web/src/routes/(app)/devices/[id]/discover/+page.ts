import { loadPageQuery } from '$lib/api/load';
import { discoverPageQuery } from '$lib/graphql/adoption';
import type { PageLoad } from './$types';

export const load: PageLoad = async (event) => {
  const data = await loadPageQuery(event, `meshplane:device:${event.params.id}`, discoverPageQuery, { deviceId: event.params.id });
  return { device: data.device, wans: data.wans.edges.map((edge) => edge.node) };
};
