import { loadQuery } from '$lib/api/load';
import { peerPageQuery } from '$lib/graphql/peers';
import type { PageLoad } from './$types';

export const load: PageLoad = async ({ fetch, depends, parent, params }) => {
  depends(`meshplane:peer:${params.id}`);
  await parent();
  const data = await loadQuery(fetch, peerPageQuery, { id: params.id });
  return { peer: data.peer, devices: data.devices.edges.map((edge) => edge.node) };
};
