import { loadPageQuery } from '$lib/api/load';
import { devicesQuery } from '$lib/graphql/devices';
import type { PageLoad } from './$types';

export const load: PageLoad = async (event) => {
  const data = await loadPageQuery(event, 'meshplane:devices', devicesQuery, {});
  return { devices: data.devices.edges.map((edge) => edge.node), defaultDeviceId: data.backend.defaultDevice?.id ?? null };
};
