// The ubus objects the simulated router registers, looked up by name per call: one
// `network.interface.<name>` per interface netifd knows, and `luci.wireguard` only while
// luci-proto-wireguard is installed (else the wire answers -32000 Object not found).
import type { OpenWrtModel, UbusObject } from '../model.js';
import { fileObject } from './file.js';
import { luciWireguardObject } from './luci-wireguard.js';
import { networkInterfaceObject, networkObject, perInterfaceObject } from './network.js';
import { systemObject } from './system.js';
import { uciObject } from './uci.js';

export function ubusObjects(model: OpenWrtModel): Map<string, UbusObject> {
  const objects = new Map<string, UbusObject>([
    ['file', fileObject(model)],
    ['network', networkObject(model)],
    ['network.interface', networkInterfaceObject(model)],
    ['system', systemObject(model)],
    ['uci', uciObject(model)],
  ]);
  for (const name of model.runtime.interfaces.keys()) objects.set(`network.interface.${name}`, perInterfaceObject(model, name));
  if (model.behaviour.luciWireguard) objects.set('luci.wireguard', luciWireguardObject(model));
  return new Map([...objects].sort(([a], [b]) => a.localeCompare(b)));
}

/** One object by name, or null (→ -32000). */
export function ubusObject(model: OpenWrtModel, name: string): UbusObject | null {
  return ubusObjects(model).get(name) ?? null;
}
