// The adoption contract's hook for RouterOS: what a person would have typed into the router
// for the desired state, without any Meshplane tag (test/contract/adoption-contract.ts), with a
// live session on every peer so the contract can see sessions survive.
import { safeEndpoint } from '../../../domain/render/safe-values.js';
import type { DesiredDeviceState } from '../../driver.js';
import type { RouterOsSimulator } from '../../../../test/sim/routeros/index.js';
import { IP_ADDRESS, IPV6_ADDRESS, WIREGUARD, WIREGUARD_PEERS } from '../../../../test/sim/routeros/index.js';

export function seedHandMadeCopy(sim: RouterOsSimulator, state: DesiredDeviceState): void {
  const iface = state.peer.interface;
  sim.model.seed(WIREGUARD, {
    name: iface.name,
    'listen-port': String(iface.listenPort ?? state.overlay.wan.listenPort),
    ...(iface.privateKey !== null ? { 'private-key': iface.privateKey } : {}),
    comment: 'set up by hand',
  });
  for (const address of iface.addresses) sim.model.seed(address.includes(':') ? IPV6_ADDRESS : IP_ADDRESS, { address, interface: iface.name });
  for (const [index, remote] of state.peer.peers.entries()) {
    const endpoint = remote.endpoint === null ? null : safeEndpoint(remote.endpoint);
    sim.model.seed(WIREGUARD_PEERS, {
      interface: iface.name,
      'public-key': remote.publicKey,
      // Only the tunnel address: the deploy after adoption adds the LANs in place.
      'allowed-address': remote.allowedIps[0] ?? '',
      ...(endpoint === null ? {} : { 'endpoint-address': endpoint.host, 'endpoint-port': String(endpoint.port) }),
      comment: `site ${index + 1}`,
    });
    sim.setHandshake(remote.publicKey, 20 + index, { rx: 1_000_000 + index, tx: 2_000_000 + index });
  }
}
