// Peer statistics of one WireGuard interface: `wg show <if> dump` through rpcd's file.exec,
// parsed by the shared dump parser (keys become fingerprints there, errors name line numbers
// only: the first line holds the private key); when the exec is not allowed, LuCI's
// `luci.wireguard getWgInstances` (never shows the private key; every number is a string).
// Neither available → null, and the driver reports statistics as unavailable. The raw output
// never reaches a log, an error or a result.
import type { PeerStatistics } from '../driver.js';
import { DeviceError } from '../driver.js';
import { peerStatusStatistics, type PeerStatus } from '../shared/peer-status.js';
import { parseWgInterfaceDump, toPeerStatistics } from '../shared/wg-dump.js';
import type { UbusClient } from './ubus-client.js';

export const WG = '/usr/bin/wg';

/** file.exec of `wg show <if> dump`, as a ubus call. */
export function wgDumpCall(uciIf: string): { object: string; method: string; args: Record<string, unknown> } {
  return { object: 'file', method: 'exec', args: { command: WG, params: ['show', uciIf, 'dump'] } };
}

interface ExecReply {
  code?: unknown;
  stdout?: unknown;
}

/** Pure: getWgInstances' peers of `uciIf` as statistics; [] when the interface is not running. */
export function luciPeerStatistics(instances: unknown, uciIf: string): PeerStatistics[] {
  const instance = (instances as Record<string, { peers?: PeerStatus[] } | undefined> | null)?.[uciIf];
  return (Array.isArray(instance?.peers) ? instance.peers : []).map(peerStatusStatistics);
}

/** Pure: a file.exec reply of `wg show <if> dump`; [] when wg reports no such device; null when it did not run. */
export function dumpStatistics(status: number, reply: ExecReply | undefined): PeerStatistics[] | null {
  if (status !== 0 || !reply) return null;
  // wg exits 1 with "Unable to access interface: No such device" on stderr: nothing running.
  if (reply.code !== 0) return [];
  return toPeerStatistics(parseWgInterfaceDump(typeof reply.stdout === 'string' ? reply.stdout : ''));
}

function deniedOrMissing(error: unknown): boolean {
  return error instanceof DeviceError && (error.code === 'AUTH_FAILED' || error.code === 'REFUSED');
}

/**
 * The statistics and whether the router can give them at all (false: neither the exec nor
 * luci.wireguard is allowed or installed).
 */
export async function readStatistics(client: UbusClient, uciIf: string): Promise<{ stats: PeerStatistics[] | null; available: boolean }> {
  try {
    const call = wgDumpCall(uciIf);
    const result = await client.call<ExecReply>(call.object, call.method, call.args);
    const stats = dumpStatistics(result.status, result.data);
    if (stats !== null) return { stats, available: true };
  } catch (error) {
    if (!deniedOrMissing(error)) throw error;
  }
  try {
    const result = await client.call('luci.wireguard', 'getWgInstances');
    if (result.status === 0) return { stats: luciPeerStatistics(result.data, uciIf), available: true };
  } catch (error) {
    if (!deniedOrMissing(error)) throw error;
  }
  return { stats: null, available: false };
}
