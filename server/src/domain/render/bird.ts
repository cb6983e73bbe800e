// BIRD 2 configuration of a peer in a WAN with redundant hubs (see hub-redundancy.ts): eBGP
// with BFD over every tunnel. Only values re-checked here reach the file: addresses, CIDRs,
// numbers; names appear only inside quoted descriptions and # comments, cut to safe text.
import { familyOfValue, type CompiledBgpNeighbour, type CompiledOverlay, type CompiledPeer } from '../compiled.js';
import { findCompiledPeer } from '../compile.js';
import { DomainError } from '../errors.js';
import { canonicalAddress, type IpFamily } from '../ip.js';
import { commentText, safeCidr, safeInteger, safeIp } from './safe-values.js';

/**
 * The protocol name of one session, derived from the neighbour's address so always a valid
 * symbol: "mp_10_0_0_1" for IPv4, "mp6_fd10_aaaa__1" for IPv6 (the canonical text, ":" as "_",
 * so the name reads back to the address).
 */
export function bgpProtocolName(neighbour: Pick<CompiledBgpNeighbour, 'address'>): string {
  const address = safeIp(neighbour.address);
  if (familyOfValue(address) === 4) return `mp_${address.replace(/\./g, '_')}`;
  return `mp6_${(canonicalAddress(address) as string).replace(/:/g, '_')}`;
}

/** Local routes that exist only to be announced (never installed in the kernel), per family. */
export const ORIGINATE_PROTOCOL = 'mp_originate';
export const ORIGINATE_PROTOCOL6 = 'mp_originate6';
/** Hubs' routes to spokes that do not run BGP (installed in the kernel and announced), per family. */
export const SPOKE_ROUTES_PROTOCOL = 'mp_spokes';
export const SPOKE_ROUTES_PROTOCOL6 = 'mp_spokes6';

/** What differs between the IPv4 and the IPv6 half of a dual-stack peer's routing. */
interface FamilyNames {
  family: IpFamily;
  channel: 'ipv4' | 'ipv6';
  pinned: string;
  hostLength: number;
  originate: string;
  spokes: string;
}

const FAMILY: Record<IpFamily, FamilyNames> = {
  4: { family: 4, channel: 'ipv4', pinned: 'MP_PINNED', hostLength: 32, originate: ORIGINATE_PROTOCOL, spokes: SPOKE_ROUTES_PROTOCOL },
  6: { family: 6, channel: 'ipv6', pinned: 'MP_PINNED6', hostLength: 128, originate: ORIGINATE_PROTOCOL6, spokes: SPOKE_ROUTES_PROTOCOL6 },
};

/**
 * The peer's own IPv6 tunnel address (the first IPv6 address of its interface: services come
 * after it), or null for an IPv4-only peer. Every interface of a peer has the same one.
 */
function ownAddress6(peer: CompiledPeer): string | null {
  const address = peer.interface.addresses.find((entry) => familyOfValue(entry) === 6);
  return address === undefined ? null : safeIp(address.split('/')[0] as string);
}

function ofFamily(values: readonly string[], family: IpFamily): string[] {
  return values.filter((value) => familyOfValue(value) === family);
}
/**
 * Kernel metric of the routes this BIRD installs. A BIRD's kernel protocol deletes every `proto
 * bird` route of its own metric that it did not install itself, at start and at each scan; the
 * distribution's BIRD (Debian's bird2 starts bird.service with a kernel protocol, metric 32) would
 * otherwise delete ours within seconds and every minute after (seen in the lab).
 */
export const KERNEL_METRIC = 4242;

function prefixSet(cidrs: readonly string[]): string {
  return cidrs.length === 0 ? '[ ]' : `[ ${cidrs.map(safeCidr).join(', ')} ]`;
}

/**
 * One session over a tunnel: between the IPv4 tunnel addresses carrying IPv4 prefixes, or in a
 * dual-stack WAN between the IPv6 ones carrying IPv6 prefixes (same ASNs, preference and BFD).
 */
function sessionLines(peer: CompiledPeer, neighbour: CompiledBgpNeighbour, names: FamilyNames, local: string, remote: string): string[] {
  const routing = peer.routing!;
  const { timers } = routing;
  const address = safeIp(remote);
  const exported = routing.transit
    ? `proto = "${names.originate}" || proto = "${names.spokes}" || source = RTS_BGP`
    : `proto = "${names.originate}"`;
  const role = neighbour.hubRank === null ? neighbour.role.toLowerCase() : `hub ${neighbour.hubRank}${neighbour.hubRank === 1 ? ' (primary)' : ' (backup)'}`;
  return [
    `# ${commentText(neighbour.name)}: ${role}, behind ${commentText(neighbour.interfaceName)}${names.family === 6 ? ', IPv6' : ''}`,
    `protocol bgp ${bgpProtocolName({ address })} {`,
    `  description "${commentText(neighbour.name, 60).replace(/["\\]/g, '')}";`,
    `  local ${safeIp(local)} as ${safeInteger(routing.asn, 'asn')};`,
    `  neighbor ${address} as ${safeInteger(neighbour.asn, 'asn')};`,
    '  direct;',
    '  bfd on;',
    `  hold time ${safeInteger(timers.holdSeconds, 'hold time')};`,
    `  keepalive time ${safeInteger(timers.keepaliveSeconds, 'keepalive time')};`,
    `  connect retry time ${safeInteger(timers.connectRetrySeconds, 'connect retry time')};`,
    '  connect delay time 1;',
    '  error wait time 1, 10;',
    `  ${names.channel} {`,
    `    preference ${safeInteger(neighbour.preference, 'preference')};`,
    // A neighbour's own address is accepted from it alone (see CompiledRouting.pinned).
    `    import filter { if net ~ ${names.pinned} && net != ${address}/${names.hostLength} then reject; accept; };`,
    `    export where ${exported};`,
    '    next hop self;',
    '  };',
    '}',
  ];
}

/** bird.conf for a peer with `routing` (BIRD 2.0); a dual-stack peer gets the IPv6 twin of each part. */
export function renderCompiledPeerBird(compiled: CompiledOverlay, peer: CompiledPeer): string {
  const routing = peer.routing;
  if (!routing || routing.protocol !== 'bgp') {
    throw new DomainError('INVALID_INPUT', `peer ${peer.name} runs no BGP: BIRD has nothing to do there`, { peerId: peer.peerId });
  }
  const own6 = ownAddress6(peer);
  if (own6 === null && routing.neighbours.some((neighbour) => neighbour.address6 !== undefined)) {
    throw new DomainError('INVALID_INPUT', `peer ${peer.name} has IPv6 BGP neighbours but no IPv6 tunnel address`, { peerId: peer.peerId });
  }
  const families: IpFamily[] = own6 === null ? [4] : [4, 6];
  const { bfd } = routing;
  const lines = [
    `# Meshplane: BIRD 2 routing for peer ${commentText(peer.name)} on WAN ${commentText(compiled.wan.name)}.`,
    '# Generated by Meshplane, local edits are lost on the next download.',
    `# eBGP with BFD over each tunnel: routes follow session health, so traffic moves to another hub`,
    `# within about ${Math.ceil((bfd.intervalMs * bfd.multiplier) / 1000)} s of one failing, with no control plane involved.`,
    `router id ${safeIp(routing.routerId)};`,
    'log syslog all;',
    '',
    // A prefix set holds one family: the IPv6 neighbours' /128s get a set of their own.
    ...families.map((family) => `define ${FAMILY[family].pinned} = ${prefixSet(ofFamily(routing.pinned, family))};`),
    '',
    'protocol device {',
    '  scan time 10;',
    '}',
    '',
    'protocol bfd {',
    '  interface "*" {',
    `    min rx interval ${safeInteger(bfd.intervalMs, 'BFD interval')} ms;`,
    `    min tx interval ${safeInteger(bfd.intervalMs, 'BFD interval')} ms;`,
    '    idle tx interval 1000 ms;',
    `    multiplier ${safeInteger(bfd.multiplier, 'BFD multiplier')};`,
    '  };',
    '}',
    '',
    '# Announced only: the kernel already has these (local LANs, own addresses) or must not get them.',
  ];
  for (const family of families) {
    lines.push(`protocol static ${FAMILY[family].originate} {`, `  ${FAMILY[family].channel};`);
    for (const cidr of ofFamily(routing.originate, family)) lines.push(`  route ${safeCidr(cidr)} blackhole;`);
    lines.push('}', '');
  }
  for (const family of families) {
    const routes = routing.staticRoutes.filter((route) => familyOfValue(route.destination) === family);
    if (routes.length === 0) continue;
    if (family === 4 || !routing.staticRoutes.some((route) => familyOfValue(route.destination) === 4)) {
      lines.push('# Spokes that run no BGP: routed to them directly and announced for them.');
    }
    lines.push(`protocol static ${FAMILY[family].spokes} {`, `  ${FAMILY[family].channel};`);
    for (const route of routes) {
      if (familyOfValue(route.gateway) !== family) throw new DomainError('INVALID_INPUT', `refusing to render a route to ${route.destination} via ${route.gateway}: not of one address family`, { field: 'gateway' });
      lines.push(`  route ${safeCidr(route.destination)} via ${safeIp(route.gateway)};`);
    }
    lines.push('}', '');
  }
  for (const family of families) {
    const { channel, spokes } = FAMILY[family];
    // Packets this host sends to the overlay leave from its own tunnel address of the family.
    const source = family === 4 ? safeIp(routing.routerId) : (own6 as string);
    lines.push(
      'protocol kernel {',
      `  metric ${KERNEL_METRIC};  # apart from any other BIRD's routes (a distribution's bird.service)`,
      `  ${channel} {`,
      '    import none;',
      // IPv6 only: a neighbour's own /128 is always connected already (the hub's /64, the peer
      // route of a point-to-point link), and Linux refuses an IPv6 route whose gateway resolves
      // only through a route that has a gateway itself, which a "/128 via itself" would be.
      family === 4
        ? `    export filter { if source = RTS_BGP || proto = "${spokes}" then { krt_prefsrc = ${source}; accept; } reject; };`
        : `    export filter { if net ~ ${FAMILY[6].pinned} then reject; if source = RTS_BGP || proto = "${spokes}" then { krt_prefsrc = ${source}; accept; } reject; };`,
      '  };',
      '}',
      '',
    );
  }
  for (const neighbour of routing.neighbours) {
    lines.push(...sessionLines(peer, neighbour, FAMILY[4], routing.routerId, neighbour.address), '');
    if (own6 !== null && neighbour.address6 !== undefined) lines.push(...sessionLines(peer, neighbour, FAMILY[6], own6, neighbour.address6), '');
  }
  return lines.join('\n');
}

export function renderBird(compiled: CompiledOverlay, peerId: string): string {
  return renderCompiledPeerBird(compiled, findCompiledPeer(compiled, peerId));
}
