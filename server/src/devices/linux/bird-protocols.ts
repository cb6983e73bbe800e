// `birdc show protocols` as the BGP sessions Meshplane's bird.conf defines: each session's
// protocol is named after the neighbour's address (render/bird.ts bgpProtocolName), and its
// Info column says "Established" once the session is up.
import type { RoutingSession } from '../driver.js';

const SESSION = /^mp_(\d{1,3})_(\d{1,3})_(\d{1,3})_(\d{1,3})\s+BGP\s+\S+\s+(\S+)\s+\S+(?:\s+(.*))?$/;

export function parseBirdProtocols(output: string): RoutingSession[] {
  const sessions: RoutingSession[] = [];
  for (const line of output.split('\n')) {
    const match = SESSION.exec(line.trimEnd());
    if (!match) continue;
    const octets = match.slice(1, 5).map(Number);
    if (octets.some((octet) => octet > 255)) continue;
    sessions.push({ neighbourAddress: octets.join('.'), established: match[5] === 'up' && /^Established\b/.test(match[6] ?? '') });
  }
  return sessions;
}
