// netifd's `network`, `network.interface` (argument `interface`: missing → [2], unknown → [4])
// and the per-interface `network.interface.<name>` objects. status/dump keys come in the order
// netifd_dump_status() emits them.
import { UBUS, type OpenWrtModel, type UbusObject, type UbusReply } from '../model.js';
import type { RtInterface } from '../runtime.js';

export function interfaceStatus(model: OpenWrtModel, iface: RtInterface): Record<string, unknown> {
  const section = model.uci.load('network')?.find(iface.name);
  const auto = section?.options.get('auto') !== '0';
  const out: Record<string, unknown> = { up: iface.up, pending: false, available: true, autostart: auto && !iface.adminDown, dynamic: false };
  if (iface.up) {
    out.uptime = Math.max(0, model.clock.now() - iface.upSince);
    out.l3_device = iface.device ?? iface.name;
  }
  out.proto = iface.proto;
  if (iface.device !== null && iface.proto !== 'wireguard') out.device = iface.device;
  if (iface.up) {
    out.updated = ['addresses', 'routes'];
    out.metric = iface.routes[0]?.metric ?? 0;
    out.dns_metric = 0;
    out.delegation = true;
    out['ipv4-address'] = iface.ipv4.map(({ address, mask }) => ({ address, mask }));
    out['ipv6-address'] = iface.ipv6.map(({ address, mask }) => ({ address, mask }));
    out['ipv6-prefix'] = [];
    out['ipv6-prefix-assignment'] = [];
    out.route = iface.routes.map(({ target, mask, nexthop, source }) => ({ target, mask, nexthop, source }));
    out['dns-server'] = [];
    out['dns-search'] = [];
    out.neighbors = [];
    out.inactive = { 'ipv4-address': [], 'ipv6-address': [], route: [], 'dns-server': [], 'dns-search': [], neighbors: [] };
  }
  out.data = {};
  return out;
}

type Action = 'up' | 'down' | 'renew' | 'restart' | 'status';

function act(model: OpenWrtModel, name: string, action: Action): UbusReply {
  const iface = model.runtime.interfaces.get(name);
  if (!iface) return { status: UBUS.NOT_FOUND };
  switch (action) {
    case 'status':
      return { status: UBUS.OK, data: interfaceStatus(model, iface) };
    case 'up':
      model.writes++;
      model.runtime.up(name);
      return { status: UBUS.OK };
    case 'down':
      model.writes++;
      model.runtime.down(name);
      return { status: UBUS.OK };
    case 'renew':
      model.writes++;
      model.runtime.renew(name);
      return { status: UBUS.OK };
    case 'restart':
      model.runtime.down(name);
      model.runtime.up(name);
      return { status: UBUS.OK };
  }
}

const ACTIONS: Action[] = ['up', 'down', 'renew', 'restart', 'status'];

export function networkInterfaceObject(model: OpenWrtModel): UbusObject {
  const object: UbusObject = {};
  for (const action of ACTIONS) {
    object[action] = {
      args: { interface: 'string' },
      handler: (_ctx, args) => (typeof args.interface === 'string' ? act(model, args.interface, action) : { status: UBUS.INVALID_ARGUMENT }),
    };
  }
  object.dump = {
    args: {},
    handler: () => ({ status: UBUS.OK, data: { interface: [...model.runtime.interfaces.values()].map((iface) => ({ interface: iface.name, ...interfaceStatus(model, iface) })) } }),
  };
  return object;
}

export function perInterfaceObject(model: OpenWrtModel, name: string): UbusObject {
  const object: UbusObject = {};
  for (const action of ACTIONS) object[action] = { args: {}, handler: () => act(model, name, action) };
  return object;
}

export function networkObject(model: OpenWrtModel): UbusObject {
  return {
    reload: {
      args: {},
      handler: () => {
        model.runtime.reloadNetwork();
        return { status: UBUS.OK };
      },
    },
    restart: {
      args: {},
      handler: () => {
        for (const name of model.runtime.interfaces.keys()) model.runtime.down(name);
        for (const name of model.runtime.interfaces.keys()) model.runtime.up(name);
        return { status: UBUS.OK };
      },
    },
    get_proto_handlers: {
      args: {},
      handler: () => ({
        status: UBUS.OK,
        data: {
          static: { immediate: true, no_device: false, no_device_config: false, available: true, renew_available: false },
          dhcp: { immediate: false, no_device: false, no_device_config: false, available: true, renew_available: true },
          dhcpv6: { immediate: false, no_device: false, no_device_config: false, available: true, renew_available: true },
          wireguard: { immediate: false, no_device: true, no_device_config: true, available: true, renew_available: model.behaviour.handler === 'renew' },
        },
      }),
    },
  };
}
