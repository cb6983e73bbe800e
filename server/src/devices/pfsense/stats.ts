// Pure: peer statistics from GET /api/v2/status/wireguard/tunnels (package >= 2.9.0).
// Peers are read from tunnels[].peers: the /peers list drops peers of later tunnels.
// Counters arrive as integers that may exceed 2^53; the client quotes them before
// parsing, so they reach here as decimal strings.
import type { PeerStatistics } from '../driver.js';
import { peerStatusStatistics, type PeerStatus } from '../shared/peer-status.js';
import { parseDescr, parseKey } from './tags.js';

export const STATUS_PATH = 'status/wireguard/tunnels';
export const COUNTER_FIELDS = ['transfer_rx', 'transfer_tx', 'latest_handshake', 'inpkts', 'outpkts'] as const;

interface TunnelStatus {
  name?: unknown;
  descr?: unknown;
  peers?: PeerStatus[];
}

/** The tunnels that are the interface `interfaceName`: by device name (tun_wgN) or by Meshplane's tag. */
function isTunnel(tunnel: TunnelStatus, interfaceName: string, prefix: string): boolean {
  if (tunnel.name === interfaceName) return true;
  const { key } = parseDescr(tunnel.descr, prefix);
  const parsed = key === null ? null : parseKey(key);
  return parsed !== null && parsed.type === 'tunnel' && parsed.name === interfaceName;
}

export function parsePeerStatistics(tunnels: readonly TunnelStatus[], interfaceName: string, prefix: string): PeerStatistics[] {
  return tunnels.filter((tunnel) => isTunnel(tunnel, interfaceName, prefix)).flatMap((tunnel) => (tunnel.peers ?? []).map(peerStatusStatistics));
}
