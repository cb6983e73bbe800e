// `birdc show protocols` as the BGP sessions Meshplane's bird.conf defines: each session's
// protocol is named after the neighbour's address (render/bird.ts bgpProtocolName: mp_10_0_0_1,
// or mp6_fd10__1 for an IPv6 session), and its Info column says "Established" once the session is up.
import { canonicalAddress } from '../../domain/ip.js';
import type { RoutingSession } from '../driver.js';

const SESSION = /^(mp6?)_([0-9a-f_]+)\s+BGP\s+\S+\s+(\S+)\s+\S+(?:\s+(.*))?$/;
const IPV4 = /^(\d{1,3})_(\d{1,3})_(\d{1,3})_(\d{1,3})$/;

/** The neighbour address a protocol name stands for, canonical; null for a name that is none of ours. */
function neighbourAddress(kind: string, name: string): string | null {
  if (kind === 'mp') {
    const octets = IPV4.exec(name)?.slice(1, 5).map(Number);
    return octets === undefined || octets.some((octet) => octet > 255) ? null : octets.join('.');
  }
  const address = canonicalAddress(name.replace(/_/g, ':'));
  return address !== null && address.includes(':') ? address : null;
}

export function parseBirdProtocols(output: string): RoutingSession[] {
  const sessions: RoutingSession[] = [];
  for (const line of output.split('\n')) {
    const match = SESSION.exec(line.trimEnd());
    if (!match) continue;
    const address = neighbourAddress(match[1] as string, match[2] as string);
    if (address === null) continue;
    sessions.push({ neighbourAddress: address, established: match[3] === 'up' && /^Established\b/.test(match[4] ?? '') });
  }
  return sessions;
}
