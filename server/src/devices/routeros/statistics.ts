// Pure: `/interface/wireguard/peers` rows as PeerStatistics. Counters stay decimal strings
// (they pass 2^53 on long-lived tunnels); last-handshake is an age ("1m5s", absent or
// "never" when there was none), turned into a point in time against `now`.
import type { PeerStatistics } from '../driver.js';
import type { Row } from './transport.js';
import { counter, parseDuration } from './values.js';

function endpointOf(row: Row): string | null {
  const address = (row['current-endpoint-address'] ?? '').trim();
  const port = (row['current-endpoint-port'] ?? '').trim();
  if (address === '' || address === '0.0.0.0' || address === '::') return null;
  const host = address.includes(':') ? `[${address}]` : address;
  return port === '' || port === '0' ? host : `${host}:${port}`;
}

export function toPeerStatistics(rows: readonly Row[], now: Date): PeerStatistics[] {
  return rows
    .filter((row) => (row['public-key'] ?? '') !== '')
    .map((row) => {
      const age = parseDuration(row['last-handshake']);
      return {
        publicKey: row['public-key'] as string,
        rxBytes: counter(row.rx),
        txBytes: counter(row.tx),
        lastHandshake: age === null ? null : new Date(now.getTime() - age),
        currentEndpoint: endpointOf(row),
      };
    });
}
