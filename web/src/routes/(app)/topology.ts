import type { Topology } from '$lib/gql/graphql';

export const topologyLabels: Record<Topology, string> = {
  MESH: 'Mesh',
  HUB_SPOKE: 'Hub and spoke',
  HYBRID: 'Hybrid',
};
