// A peer's figures as APIs that relay `wg show dump` report them by field name (pfSense's
// status/wireguard, LuCI's luci.wireguard getWgInstances): latest_handshake, transfer_rx and
// transfer_tx as decimal strings or numbers, endpoint "(none)" before the first handshake.
import type { PeerStatistics } from '../driver.js';

export interface PeerStatus {
  public_key?: unknown;
  endpoint?: unknown;
  latest_handshake?: unknown;
  transfer_rx?: unknown;
  transfer_tx?: unknown;
}

function decimal(value: unknown): string {
  const text = value === null || value === undefined ? '0' : String(value);
  return /^\d+$/.test(text) ? text.replace(/^0+(?=\d)/, '') : '0';
}

export function peerStatusStatistics(peer: PeerStatus): PeerStatistics {
  const handshake = decimal(peer.latest_handshake);
  const endpoint = typeof peer.endpoint === 'string' && peer.endpoint !== '(none)' && peer.endpoint !== '' ? peer.endpoint : null;
  return {
    publicKey: String(peer.public_key ?? ''),
    rxBytes: decimal(peer.transfer_rx),
    txBytes: decimal(peer.transfer_tx),
    lastHandshake: handshake === '0' ? null : new Date(Number(handshake) * 1000),
    currentEndpoint: endpoint,
  };
}
