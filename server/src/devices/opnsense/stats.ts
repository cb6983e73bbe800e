// Pure: peer statistics from POST /api/wireguard/service/show (type ["peer"]), which OPNsense
// builds from `wg show all dump` without the keys. Counters arrive as JSON integers that
// may exceed 2^53: they are quoted before parsing (SHOW_COUNTERS), so they reach here as
// decimal strings. Search and get rows are never used: from 25.7.1 they carry private keys.
import type { PeerStatistics } from '../driver.js';
import { keyOfName, nameSegment, parseKey } from './tags.js';

export const SHOW_PATH = 'wireguard/service/show';
export const SHOW_BODY = { current: 1, rowCount: -1, type: ['peer'] };
export const SHOW_COUNTERS = ['transfer-rx', 'transfer-tx', 'latest-handshake'] as const;

export interface ShowRow {
  if?: unknown;
  type?: unknown;
  'public-key'?: unknown;
  endpoint?: unknown;
  'latest-handshake'?: unknown;
  'transfer-rx'?: unknown;
  'transfer-tx'?: unknown;
  ifname?: unknown;
}

function decimal(value: unknown): string {
  const text = value === null || value === undefined ? '0' : String(value);
  return /^\d+$/.test(text) ? text.replace(/^0+(?=\d)/, '') : '0';
}

/** The rows of the instance that is the overlay interface `interfaceName`: by Meshplane's name tag, or by device (wgN). */
function isInstance(row: ShowRow, interfaceName: string, prefix: string): boolean {
  if (row.if === interfaceName) return true;
  const key = keyOfName(row.ifname, prefix);
  const parsed = key === null ? null : parseKey(key);
  return parsed !== null && parsed.type === 'tunnel' && parsed.name === nameSegment(prefix, parsed.wanId, 'tunnel', interfaceName);
}

export function parseShowStatistics(rows: readonly ShowRow[], interfaceName: string, prefix: string): PeerStatistics[] {
  const peers = rows.filter((row) => row.type === undefined || row.type === 'peer');
  const ours = peers.filter((row) => isInstance(row, interfaceName, prefix));
  // Before adoption the instance still carries the admin's name: the one named like the interface.
  return (ours.length > 0 ? ours : peers.filter((row) => row.ifname === interfaceName)).map((row) => {
    const handshake = decimal(row['latest-handshake']);
    const endpoint = typeof row.endpoint === 'string' && row.endpoint !== '(none)' && row.endpoint !== '' ? row.endpoint : null;
    return {
      publicKey: String(row['public-key'] ?? ''),
      rxBytes: decimal(row['transfer-rx']),
      txBytes: decimal(row['transfer-tx']),
      lastHandshake: handshake === '0' ? null : new Date(Number(handshake) * 1000),
      currentEndpoint: endpoint,
    };
  });
}
