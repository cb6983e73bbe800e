// A firewall as an operator left it: WAN and LAN, the default LAN rule, and (unless
// seed=false) unmanaged objects Meshplane must never touch: a hand-made tunnel with a
// peer, a WAN gateway, a static route and a WAN rule for the hand-made tunnel.
import { validateObject, type ModelSpec } from './fields.js';
import type { PfSenseModel } from './model.js';
import { firewallRuleSpec, gatewaySpec, interfaceSpec, staticRouteSpec } from './network-specs.js';
import type { KeyedStore, ListStore, Obj } from './store.js';
import { peerSpec, tunnelSpec } from './wireguard-specs.js';

/** Fixed, valid keys so the seeded objects are the same on every start. */
export const SEEDED = {
  tunnelPrivateKey: Buffer.alloc(32, 7).toString('base64'),
  peerPublicKey: 'mA1tsHhHx1ChA/fMO+Snfcq4uNjyh5JQ6eIHn9S+5mM=',
  tunnelListenPort: '51999',
};

function add(model: PfSenseModel, spec: ModelSpec, store: ListStore, input: Obj): void {
  store.add(validateObject(spec, input, { env: model, siblings: store.entries(), selfId: null, existing: null }));
}

function addInterface(model: PfSenseModel, store: KeyedStore, id: string, input: Obj): void {
  store.put(id, validateObject(interfaceSpec, input, { env: model, siblings: store.entries(), selfId: id, existing: null }));
}

export function seedModel(model: PfSenseModel, unmanaged: boolean): void {
  addInterface(model, model.interfaces, 'wan', { if: 'em0', descr: 'WAN', enable: true, typev4: 'static', ipaddr: '198.51.100.2', subnet: 24 });
  addInterface(model, model.interfaces, 'lan', { if: 'em1', descr: 'LAN', enable: true, typev4: 'static', ipaddr: '192.168.1.1', subnet: 24 });
  const lan = model.interfaceName('lan');
  const wan = model.interfaceName('wan');
  add(model, firewallRuleSpec, model.rules, { type: 'pass', interface: [lan], ipprotocol: 'inet46', source: lan, destination: 'any', descr: 'Default allow LAN to any rule' });
  if (unmanaged) {
    add(model, tunnelSpec, model.tunnels, {
      privatekey: SEEDED.tunnelPrivateKey, listenport: SEEDED.tunnelListenPort, descr: 'Road warriors (hand-made)',
      addresses: [{ address: '10.99.0.1', mask: 24 }],
    });
    add(model, peerSpec, model.peers, {
      enabled: true, tun: 'tun_wg0', publickey: SEEDED.peerPublicKey, descr: 'laptop', allowedips: [{ address: '10.99.0.2', mask: 32 }],
    });
    add(model, gatewaySpec, model.gateways, { name: 'WAN_GW', interface: wan, ipprotocol: 'inet', gateway: '198.51.100.1', descr: 'Upstream' });
    add(model, staticRouteSpec, model.routes, { network: '10.200.0.0/16', gateway: 'WAN_GW', descr: 'Legacy data centre' });
    add(model, firewallRuleSpec, model.rules, {
      type: 'pass', interface: [wan], ipprotocol: 'inet', protocol: 'udp', source: 'any', destination: '(self)',
      destination_port: SEEDED.tunnelListenPort, descr: 'Hand-made WireGuard',
    });
    model.wireguardSettings = { ...model.wireguardSettings, enable: true };
  }
  for (const area of ['wireguard', 'interfaces', 'routing', 'firewall'] as const) model.runApply(area);
  model.applyCount.wireguard = model.applyCount.interfaces = model.applyCount.routing = model.applyCount.firewall = 0;
}
