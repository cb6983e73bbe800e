import { loadPageQuery } from '$lib/api/load';
import { myDevicesQuery } from '$lib/graphql/self-service';
import type { PageLoad } from './$types';

export const load: PageLoad = async (event) => {
  const data = await loadPageQuery(event, 'meshplane:my-devices', myDevicesQuery, {});
  return { wans: data.selfServiceWans, peers: data.myPeers };
};
