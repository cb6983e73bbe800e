import { loadPageQuery } from '$lib/api/load';
import { alertsPageQuery } from '$lib/graphql/alerts';
import type { PageLoad } from './$types';

export const load: PageLoad = async (event) => {
  const data = await loadPageQuery(event, 'meshplane:alerts', alertsPageQuery, {});
  return {
    rules: data.alertRules,
    wans: data.wans.edges.map((edge) => edge.node),
    devices: data.devices.edges.map((edge) => edge.node),
  };
};
