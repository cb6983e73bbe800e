// luci-proto-wireguard's rpcd plugin: getWgInstances from the running devices. Every number is a
// string (split from `wg show all dump`), the private key is never shown, a peer's `name` is the
// UCI description of the section with its public key, and allowed_ips stays empty while the
// endpoint is "(none)" (the plugin only splits that field when there is an endpoint).
import { UBUS, type OpenWrtModel, type UbusObject } from '../model.js';

export function luciWireguardObject(model: OpenWrtModel): UbusObject {
  return {
    getWgInstances: {
      args: {},
      handler: () => {
        const network = model.uci.load('network');
        const out: Record<string, unknown> = {};
        for (const device of model.runtime.wg.values()) {
          const sections = network?.sections.filter((section) => section.type === `wireguard_${device.ifname}`) ?? [];
          out[device.ifname] = {
            name: device.ifname,
            public_key: device.publicKey ?? '(none)',
            listen_port: String(device.port),
            fwmark: device.fwmark ? `0x${device.fwmark.toString(16)}` : 'off',
            peers: device.peers.map((peer) => {
              const description = sections.find((section) => section.options.get('public_key') === peer.publicKey)?.options.get('description');
              return {
                ...(typeof description === 'string' ? { name: description } : {}),
                public_key: peer.publicKey,
                endpoint: peer.endpoint ?? '(none)',
                allowed_ips: peer.endpoint === null ? [] : [...peer.allowedIps],
                latest_handshake: String(peer.latestHandshake),
                transfer_rx: peer.rx.toString(),
                transfer_tx: peer.tx.toString(),
                persistent_keepalive: peer.keepalive ? String(peer.keepalive) : 'off',
              };
            }),
          };
        }
        return { status: UBUS.OK, data: out };
      },
    },
  };
}
