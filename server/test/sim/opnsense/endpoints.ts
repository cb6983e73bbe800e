// Every endpoint family the simulator serves, registered in this order at start (index.ts).
// A new family (filter, NAT, rollback, network …) adds its register function here.
import type { EndpointFamily } from './router.js';
import { registerFilterEndpoints } from './filter-endpoints.js';
import { registerNetworkEndpoints } from './network-endpoints.js';
import { registerWireGuardEndpoints } from './wireguard-endpoints.js';

export const ENDPOINT_FAMILIES: readonly EndpointFamily[] = [
  registerWireGuardEndpoints,
  registerFilterEndpoints,
  registerNetworkEndpoints,
];
