// A desired state's instance as an admin sets it up in the OPNsense GUI, for addHandMadeMesh:
// the same name, private key, listen port and tunnel addresses, one peer per remote with its
// key, PSK, allowed IPs and endpoint, no Meshplane tag anywhere.
import type { DesiredDeviceState } from '../../../src/devices/driver.js';
import { splitEndpoint, tunnelAddress6 } from '../../../src/devices/shared/endpoints.js';
import type { HandMadeMesh } from './seed.js';

/** OPNsense names take [0-9A-Za-z._-] only. */
const asName = (text: string) => text.replace(/[^0-9A-Za-z._-]/g, '-').slice(0, 64);

export function handMadeMeshOf(state: DesiredDeviceState): HandMadeMesh {
  const { interface: own, peers: remotes } = state.peer;
  if (own.privateKey === null) throw new Error('an OPNsense instance needs its private key');
  const address6 = tunnelAddress6(own);
  return {
    descr: asName(own.name), privateKey: own.privateKey, listenPort: String(own.listenPort ?? 51820), address: own.addresses[0] as string,
    ...(address6 === null ? {} : { address6 }),
    peers: remotes.map((remote) => {
      const endpoint = remote.endpoint === null ? null : splitEndpoint(remote.endpoint);
      return {
        descr: asName(`Site_${remote.peerId}`), publickey: remote.publicKey, presharedkey: remote.presharedKey ?? '',
        endpoint: endpoint?.host ?? null, port: endpoint?.port ?? null, persistentkeepalive: 25, allowedips: remote.allowedIps,
      };
    }),
  };
}
