import { loadPageQuery } from '$lib/api/load';
import { webhooksPageQuery } from '$lib/graphql/webhooks';
import type { PageLoad } from './$types';

export const load: PageLoad = async (event) => {
  const data = await loadPageQuery(event, 'meshplane:webhooks', webhooksPageQuery, {});
  return { webhooks: data.webhooks.edges.map((edge) => edge.node), eventTypes: data.webhookEventTypes };
};
