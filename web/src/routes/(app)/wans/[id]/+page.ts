import { loadQuery } from '$lib/api/load';
import { wanPageQuery } from '$lib/graphql/wans';
import type { PageLoad } from './$types';

export const load: PageLoad = async ({ fetch, depends, parent, params }) => {
  depends(`meshplane:wan:${params.id}`);
  await parent();
  const data = await loadQuery(fetch, wanPageQuery, { id: params.id });
  return {
    wan: data.wan,
    devices: data.devices.edges.map((edge) => edge.node),
    defaultDevice: data.backend.defaultDevice,
  };
};
