// What this OPNsense can do, from its version (System: Firmware privilege) or, without it,
// from which endpoints exist: a missing endpoint answers 404 (400 up to 24.1) before
// authentication, so "absent" is told from "not allowed" (403) without extra rights.
import { DeviceError } from '../driver.js';
import { compareVersions } from '../shared/versions.js';
import type { OpnSenseClient } from './client.js';

export interface Capabilities {
  /** The exact version ("26.7.2"), or null when the firmware endpoint is not allowed. */
  version: string | null;
  /** The oldest release the features seen could be ("24.7" when only feature-probed). */
  atLeast: string;
  /** Core WireGuard (24.1+): the plugin era is refused. */
  coreWireguard: boolean;
  /** delClient unlinks the peer from every instance (24.1.6+); unknown patch levels count as before. */
  deleteUnlinks: boolean;
  oneToOne: boolean;
  assignment: boolean;
  /** filter/savepoint and the 60 s rollback (up to 26.1.x). */
  savepoint: boolean;
  /** Why nothing may be written to this firewall, or null. */
  refusal: string | null;
}

function at(version: string, than: string): boolean {
  return compareVersions(version, than) >= 0;
}

export function capabilitiesOf(version: string): Capabilities {
  return {
    version,
    atLeast: version,
    coreWireguard: at(version, '24.1'),
    deleteUnlinks: at(version, '24.1.6'),
    oneToOne: at(version, '24.7'),
    assignment: at(version, '26.7'),
    savepoint: !at(version, '26.7'),
    refusal: refusalOf(version),
  };
}

function refusalOf(version: string): string | null {
  if (!at(version, '24.1')) return `OPNsense ${version} has WireGuard only as the os-wireguard plugin, which Meshplane does not support: update to 24.1 or later (WireGuard in core)`;
  if (compareVersions(version, '24.7.0') === 0) return `OPNsense 24.7.0 ignores JSON bodies from API keys (every save fails): update to 24.7.1 or later`;
  return null;
}

async function exists(client: OpnSenseClient, path: string): Promise<boolean> {
  const reply = await client.raw('GET', path);
  if (reply.status === 404 || (reply.status === 400 && /not found/i.test(reply.text))) return false;
  if (reply.status === 401) client.parse('GET', path, reply);
  return true;
}

/** Reads the version, or probes the features when the user may not read it. */
export async function probeCapabilities(client: OpnSenseClient): Promise<Capabilities> {
  const firmware = await client.raw('GET', 'core/firmware/info');
  if (firmware.status === 200) {
    const version = String(client.parse<{ product_version?: unknown }>('GET', 'core/firmware/info', firmware).product_version ?? '');
    if (/^\d+\.\d+/.test(version)) return capabilitiesOf(version.split(/[_\s-]/)[0] as string);
  }
  if (firmware.status === 401) client.parse('GET', 'core/firmware/info', firmware);
  const [psk, oneToOne, assignment] = await Promise.all([
    exists(client, 'wireguard/client/psk'), exists(client, 'firewall/one_to_one/searchRule'), exists(client, 'interfaces/assignment/searchItem'),
  ]);
  const floor = assignment ? '26.7' : oneToOne ? '24.7' : psk ? '24.1' : '23.7';
  const probed = capabilitiesOf(floor);
  // 24.7.0 cannot be told from 24.7.x without the version: its failed saves say so (errors.ts).
  return { ...probed, version: null, deleteUnlinks: assignment || oneToOne, refusal: psk ? null : probed.refusal };
}

export function refuseUnsupported(capabilities: Capabilities | null): void {
  if (capabilities?.refusal) throw new DeviceError('REFUSED', capabilities.refusal);
}
