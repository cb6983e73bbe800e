// What is wrong or risky in an overlay (analyzeConflicts, for the UI) and the guards that
// refuse a mutation outright (assert*, for services).
import { findCollisions, rawClaimsForPeer, type CarveCache, type RemoteClaim } from './allowed-ips.js';
import type { CompiledOverlay } from './compiled.js';
import { DomainError } from './errors.js';
import { redundancyProblem } from './hub-redundancy.js';
import { compareRanges, formatCidr, overlaps, parseCidr, tryParseAddressOrCidr, type IpRange } from './ip.js';
import type { OverlaySpec, PeerSpec, WanSpec } from './model.js';
import { buildOverlayFacts, type Claim, type OverlayFacts, type PeerFacts, type SubnetFacts } from './overlay-facts.js';
import { validateOverlaySpec } from './spec-validation.js';
import { planTunnels, type TunnelPlan } from './topology.js';
import { validateCidr } from './validation.js';
import { count } from './plural.js';

export type ConflictSeverity = 'CRITICAL' | 'WARNING' | 'INFO';

export interface Conflict {
  severity: ConflictSeverity;
  code: string;
  message: string;
  peerIds: string[];
  subnetIds: string[];
  cidrs: string[];
  /** LANs whose auto-NAT resolves the conflict (auto-NAT translates a LAN's whole overlap group). */
  autoNatSubnetIds: string[];
}

const SEVERITY_ORDER: Record<ConflictSeverity, number> = { CRITICAL: 0, WARNING: 1, INFO: 2 };

function conflict(severity: ConflictSeverity, code: string, message: string, parts: Partial<Pick<Conflict, 'peerIds' | 'subnetIds' | 'cidrs' | 'autoNatSubnetIds'>> = {}): Conflict {
  return { severity, code, message, peerIds: parts.peerIds ?? [], subnetIds: parts.subnetIds ?? [], cidrs: parts.cidrs ?? [], autoNatSubnetIds: parts.autoNatSubnetIds ?? [] };
}

function label(peer: PeerFacts | PeerSpec): string {
  const spec = 'spec' in peer ? peer.spec : peer;
  return `"${spec.name}" (${spec.tunnelIp})`;
}

/** Pairs of overlapping ranges from a list sorted by start, in O(n log n + pairs). */
function overlappingPairs<T>(items: readonly T[], rangeOf: (item: T) => IpRange): Array<[T, T]> {
  const pairs: Array<[T, T]> = [];
  const open: T[] = [];
  for (const item of items) {
    const range = rangeOf(item);
    for (let i = open.length - 1; i >= 0; i--) if (rangeOf(open[i] as T).end < range.start) open.splice(i, 1);
    for (const other of open) pairs.push([other, item]);
    open.push(item);
  }
  return pairs;
}

function rangeConflicts(facts: OverlayFacts): Conflict[] {
  const found: Conflict[] = [];
  const reserved = [
    { range: facts.tunnelRange, what: 'tunnel range', code: 'SUBNET_IN_TUNNEL_RANGE' },
    { range: facts.servicesRange, what: 'services range', code: 'SUBNET_IN_SERVICES_RANGE' },
    ...(facts.tunnelRange6 ? [{ range: facts.tunnelRange6, what: 'IPv6 tunnel range', code: 'SUBNET_IN_TUNNEL_RANGE' }] : []),
    ...(facts.servicesRange6 ? [{ range: facts.servicesRange6, what: 'IPv6 services range', code: 'SUBNET_IN_SERVICES_RANGE' }] : []),
  ] as const;
  for (const peer of facts.peers) {
    for (const subnet of peer.subnets) {
      for (const { range, what, code } of reserved) {
        for (const candidate of subnet.translated ? [subnet.real, subnet.translated] : [subnet.real]) {
          if (!overlaps(candidate, range)) continue;
          found.push(conflict('CRITICAL', code,
            `${formatCidr(candidate)} of ${label(peer)} overlaps the WAN's ${what} ${formatCidr(range)}; addresses there would be unreachable or hijacked`,
            { peerIds: [peer.spec.id], subnetIds: [subnet.spec.id], cidrs: [formatCidr(candidate), formatCidr(range)] }));
        }
      }
    }
  }
  return found;
}

function lanOverlapConflicts(facts: OverlayFacts): Conflict[] {
  const found: Conflict[] = [];
  const involved = new Set<Claim>();
  for (const [a, b] of overlappingPairs(facts.lanClaims, (claim) => claim.range)) {
    if (a.owner === b.owner) continue;
    involved.add(a).add(b);
    const peerA = facts.peers[a.owner] as PeerFacts;
    const peerB = facts.peers[b.owner] as PeerFacts;
    found.push(conflict('WARNING', 'SUBNET_OVERLAP',
      `${a.cidr} of ${label(peerA)} overlaps ${b.cidr} of ${label(peerB)}; translate them with auto-NAT (every LAN overlapping them is translated too)`,
      { peerIds: [peerA.spec.id, peerB.spec.id], subnetIds: [a.subnetId as string, b.subnetId as string], cidrs: [a.cidr, b.cidr], autoNatSubnetIds: [a.subnetId as string, b.subnetId as string] }));
  }
  // Third peers route an overlapped range to one owner only (the compiler's tie-break: the
  // earlier peer, the wider prefix), and accept it as a source from that owner only.
  const accepted: Claim[] = [];
  for (const claim of [...involved].sort((x, y) => x.owner - y.owner || x.range.prefix - y.range.prefix)) {
    const winner = accepted.find((kept) => kept.owner !== claim.owner && overlaps(kept.range, claim.range));
    if (!winner) {
      accepted.push(claim);
      continue;
    }
    const loser = facts.peers[claim.owner] as PeerFacts;
    const others = facts.peers.filter((peer) => !peer.locals.some((local) => overlaps(local, claim.range)));
    if (others.length === 0) continue;
    const owner = facts.peers[winner.owner] as PeerFacts;
    found.push(conflict('WARNING', 'LAN_UNROUTED',
      `${claim.cidr} of ${label(loser)} is routed to ${label(owner)} by every other peer (${owner.spec.name}'s ${winner.cidr} takes the range): no other site reaches it and its hosts reach no other site's LAN; translate it with auto-NAT`,
      { peerIds: [loser.spec.id, owner.spec.id], subnetIds: [claim.subnetId as string, winner.subnetId as string], cidrs: [claim.cidr, winner.cidr], autoNatSubnetIds: [claim.subnetId as string] }));
  }
  return found;
}

/** The first of `ranges` that overlaps `range`. */
function overlapping(range: IpRange, ranges: readonly IpRange[]): IpRange | undefined {
  return ranges.find((other) => overlaps(range, other));
}

/**
 * Every direction between two sites' LANs that overlapping ranges break. Hosts on LAN X of
 * peer x reach LAN Y of peer y only if x routes Y (as the overlay sees it) into the tunnel,
 * which it does not when that range is local to x, and y accepts packets from X (as the
 * overlay sees it), which WireGuard does not when that range is local to y: y left it out of
 * x's AllowedIPs, and its replies would stay on its own LAN. A hub relaying between them has
 * both problems when X or Y is local to it. So only peers whose local ranges overlap, and the
 * peers relayed by a hub that one of their LANs overlaps, can break each other this way.
 */
function lanDirectionConflicts(facts: OverlayFacts, plan: TunnelPlan): Conflict[] {
  const pairs = new Map<string, [PeerFacts, PeerFacts]>();
  const addPair = (x: number, y: number): void => {
    if (x === y) return;
    const [first, second] = x < y ? [x, y] : [y, x];
    pairs.set(`${first}:${second}`, [facts.peers[first] as PeerFacts, facts.peers[second] as PeerFacts]);
  };
  const locals = facts.peers.flatMap((peer) => peer.locals.map((range) => ({ range, owner: peer.index })));
  locals.sort((x, y) => compareRanges(x.range, y.range));
  for (const [x, y] of overlappingPairs(locals, (local) => local.range)) addPair(x.owner, y.owner);

  const neighbourSets = new Map<number, Set<number>>();
  const relayBetween = (near: PeerFacts, far: PeerFacts): PeerFacts | null => {
    let direct = neighbourSets.get(near.index);
    if (!direct) neighbourSets.set(near.index, (direct = new Set(plan.neighbours[near.index])));
    const relay = direct.has(far.index) ? null : plan.relay[near.index];
    return relay === null || relay === undefined || relay === far.index ? null : facts.peers[relay] as PeerFacts;
  };
  // A LAN local to a hub breaks every path the hub relays for its owner.
  const relays = new Set(plan.relay.filter((relay): relay is number => relay !== null));
  for (const hub of relays) {
    const hubFacts = facts.peers[hub] as PeerFacts;
    for (const lan of facts.lanClaims) {
      if (lan.owner === hub || !overlapping(lan.range, hubFacts.locals)) continue;
      const owner = facts.peers[lan.owner] as PeerFacts;
      for (const other of facts.peers) {
        if (relayBetween(owner, other) === hubFacts || relayBetween(other, owner) === hubFacts) addPair(lan.owner, other.index);
      }
    }
  }

  const found: Conflict[] = [];
  for (const [one, other] of pairs.values()) {
    for (const [near, far] of [[one, other], [other, one]] as const) {
      const relay = relayBetween(near, far);
      for (const source of near.subnets) {
        if (!source.spec.routed) continue;
        for (const target of far.subnets) {
          if (!target.spec.routed) continue;
          const why = brokenBecause(near, far, relay, source, target);
          if (why === null) continue;
          // The LANs to translate: those local to another peer on the path.
          const sourceClashes = overlapping(source.effective, far.locals) ?? (relay && overlapping(source.effective, relay.locals));
          const targetClashes = overlapping(target.effective, near.locals) ?? (relay && overlapping(target.effective, relay.locals));
          const untranslated = [...(sourceClashes ? [source] : []), ...(targetClashes ? [target] : [])].filter((subnet) => subnet.translated === null);
          const fix = untranslated.length === 0
            ? 'give them translations that overlap no LAN'
            : `translate ${untranslated.map((subnet) => `${formatCidr(subnet.real)} of ${label(subnet === source ? near : far)}`).join(' and ')} with auto-NAT`;
          found.push(conflict('WARNING', 'LAN_UNREACHABLE',
            `hosts on ${formatCidr(source.effective)} of ${label(near)} cannot reach ${formatCidr(target.effective)} of ${label(far)}: ${why}; ${fix}`,
            {
              peerIds: [near.spec.id, far.spec.id],
              subnetIds: [source.spec.id, target.spec.id],
              cidrs: [formatCidr(source.effective), formatCidr(target.effective)],
              autoNatSubnetIds: untranslated.map((subnet) => subnet.spec.id),
            }));
        }
      }
    }
  }
  return found;
}

/** Why LAN `source` of `near` cannot reach LAN `target` of `far` (through `relay`, if any), or null. */
function brokenBecause(near: PeerFacts, far: PeerFacts, relay: PeerFacts | null, source: SubnetFacts, target: SubnetFacts): string | null {
  const shadow = overlapping(target.effective, near.locals);
  if (shadow) return `for ${label(near)} that range is its own LAN ${formatCidr(shadow)}, so it never sends it into the tunnel`;
  const dropped = overlapping(source.effective, far.locals);
  if (dropped) return `${label(far)} drops their packets: ${formatCidr(source.effective)} is its own LAN ${formatCidr(dropped)}, so it accepts from ${label(near)} only sources outside it`;
  if (!relay) return null;
  const local = overlapping(target.effective, relay.locals) ?? overlapping(source.effective, relay.locals);
  return local ? `the hub ${label(relay)} relaying between them neither forwards nor accepts its own LAN ${formatCidr(local)}` : null;
}

function peerConflicts(facts: OverlayFacts, plan: TunnelPlan): Conflict[] {
  const found: Conflict[] = [];
  const total = facts.peers.length;
  for (const peer of facts.peers) {
    const { spec } = peer;
    if (spec.role === 'CLIENT' && spec.subnets.length > 0) {
      found.push(conflict('WARNING', 'CLIENT_HOSTS_LAN',
        `${label(peer)} is a CLIENT but hosts ${spec.subnets.map((s) => s.cidr).join(', ')}; roaming clients should not route LANs, make it a SITE`,
        { peerIds: [spec.id], subnetIds: spec.subnets.map((s) => s.id), cidrs: spec.subnets.map((s) => s.cidr) }));
    }
    mismatchedEndpointPort(spec, facts.wan, (message) => found.push(conflict('CRITICAL', 'ENDPOINT_PORT_MISMATCH', message, { peerIds: [spec.id] })));

    const direct = plan.neighbours[peer.index] as readonly number[];
    if (peer.hasEndpoint || total < 2) continue;
    if (direct.length === 0) {
      found.push(conflict('WARNING', 'CGNAT_UNREACHABLE',
        `${label(peer)} has no endpoint and no peer it connects to has one either: it cannot reach anyone; give it or a hub an endpoint`,
        { peerIds: [spec.id] }));
    } else if (plan.relay[peer.index] === null && direct.length < total - 1) {
      const directSet = new Set(direct);
      const missing = facts.peers.filter((other) => other.index !== peer.index && !directSet.has(other.index));
      found.push(conflict('INFO', 'CGNAT_NO_DIRECT_PATH',
        `${label(peer)} and ${count(missing.length, 'other peer')} without endpoints cannot reach each other; add a hub with an endpoint to relay`,
        { peerIds: [spec.id, ...missing.map((other) => other.spec.id)] }));
    }
  }
  return found;
}

function serviceIpConflicts(facts: OverlayFacts): Conflict[] {
  const owners = new Map<string, Set<string>>();
  for (const peer of facts.peers) {
    for (const service of peer.spec.services) {
      const set = owners.get(service.serviceIp) ?? new Set<string>();
      set.add(peer.spec.id);
      owners.set(service.serviceIp, set);
    }
  }
  return [...owners].filter(([, peers]) => peers.size > 1).map(([serviceIp, peers]) => conflict('CRITICAL', 'SERVICE_IP_SHARED',
    `service IP ${serviceIp} is published by several peers (${[...peers].join(', ')}); each service IP must belong to one peer`,
    { peerIds: [...peers].sort(), cidrs: [`${serviceIp}/32`] }));
}

/**
 * A WAN that opted into redundant hubs but runs without them (fewer than two hubs, a hub
 * without endpoint, ...): rendered as a plain hub-and-spoke WAN, where losing the first hub
 * cuts the spokes off, so the operator must know the opt-in is not in effect, and why.
 */
function redundancyConflicts(facts: OverlayFacts, plan: TunnelPlan): Conflict[] {
  let problem = redundancyProblem(facts, plan);
  if (problem === null) return [];
  const hubs = facts.peers.filter((peer) => peer.spec.role === 'HUB');
  // A HUB_SPOKE WAN without hubs is planned as a mesh (see NO_HUB): not a topology to change.
  if (hubs.length === 0) problem = 'the WAN has no hub yet, and hub redundancy needs at least two';
  const unreachable = hubs.filter((hub) => !hub.hasEndpoint);
  return [conflict('WARNING', 'HUB_REDUNDANCY_INACTIVE',
    `hub redundancy is on but not in effect (the WAN is rendered with a single relaying hub, whose loss cuts the spokes off): ${problem}`,
    { peerIds: (unreachable.length > 0 ? unreachable : hubs).map((hub) => hub.spec.id) })];
}

function compareConflicts(a: Conflict, b: Conflict): number {
  return SEVERITY_ORDER[a.severity] - SEVERITY_ORDER[b.severity]
    || (a.code < b.code ? -1 : a.code > b.code ? 1 : 0)
    || (a.message < b.message ? -1 : a.message > b.message ? 1 : 0);
}

/** Everything worth telling the operator about, most severe first. Never throws. */
export function analyzeConflicts(spec: OverlaySpec): Conflict[] {
  try {
    validateOverlaySpec(spec);
  } catch (error) {
    if (!(error instanceof DomainError)) throw error;
    return [conflict('CRITICAL', 'INVALID_SPEC', error.message)];
  }
  const facts = buildOverlayFacts(spec);
  const plan = planTunnels(facts);
  const found = [...rangeConflicts(facts), ...lanOverlapConflicts(facts), ...lanDirectionConflicts(facts, plan), ...peerConflicts(facts, plan), ...serviceIpConflicts(facts), ...redundancyConflicts(facts, plan)];
  if (facts.disabledHubs.length > 0 && facts.wan.topology !== 'MESH' && !facts.peers.some((peer) => peer.spec.role === 'HUB')) {
    const names = facts.disabledHubs.join(', ');
    found.push(conflict('WARNING', 'HUBS_DISABLED', `every hub is disabled (${names}): peers that reach the others through a hub have no tunnel until one is enabled`));
  }
  if (plan.topology !== facts.wan.topology) {
    found.push(conflict('INFO', 'NO_HUB', `topology ${facts.wan.topology} has no HUB peer: every peer is connected to every other (mesh) until a hub is added`));
  }
  return found.sort(compareConflicts);
}

// ---------------------------------------------------------------------------------------
// Guards for mutations

/** Refuses a LAN that overlaps the tunnel or services range, or another LAN of the same peer. */
export function assertSubnetAllowed(spec: OverlaySpec, peerId: string, cidr: string): void {
  const range = parseCidr(validateCidr(cidr, 'cidr'));
  const { wan } = spec;
  const reservedRanges = [
    ['tunnel range', wan.tunnelCidr], ['services range', wan.servicesCidr],
    ['IPv6 tunnel range', wan.tunnelCidr6], ['IPv6 services range', wan.servicesCidr6],
  ] as const;
  for (const [what, reserved] of reservedRanges) {
    if (reserved && overlaps(range, parseCidr(reserved))) {
      throw new DomainError('SUBNET_CONFLICT', `${formatCidr(range)} overlaps the WAN's ${what} ${reserved}`, { cidrs: [formatCidr(range), reserved] });
    }
  }
  const peer = spec.peers.find((candidate) => candidate.id === peerId);
  if (!peer) throw new DomainError('NOT_FOUND', `peer ${peerId} is not part of this WAN`, { peerId });
  for (const existing of peer.subnets) {
    const other = tryParseAddressOrCidr(existing.cidr);
    if (other && overlaps(range, other)) {
      throw new DomainError('SUBNET_CONFLICT', `${formatCidr(range)} overlaps ${existing.cidr}, which "${peer.name}" already hosts`, { cidrs: [formatCidr(range), existing.cidr], subnetIds: [existing.id] });
    }
  }
}

function isCompiled(input: CompiledOverlay | OverlaySpec): input is CompiledOverlay {
  return !('presharedKeys' in input);
}

function overlapError(owner: string, collisions: ReadonlyArray<{ a: string; aCidr: string; b: string; bCidr: string }>): DomainError {
  const listed = collisions.slice(0, 5).map((c) => `${c.aCidr} (peer ${c.a}) overlaps ${c.bCidr} (peer ${c.b})`).join('; ');
  const more = collisions.length > 5 ? ` and ${collisions.length - 5} more` : '';
  return new DomainError('ALLOWED_IPS_OVERLAP',
    `AllowedIPs on the interface of peer ${owner} would overlap, and WireGuard would silently route one peer's traffic to another: ${listed}${more}`,
    { peerId: owner, collisions: collisions.slice(0, 50) });
}

function assertCompiledHasNoOverlap(compiled: CompiledOverlay): void {
  for (const peer of compiled.peers) {
    const entries: Array<{ remote: string; cidr: string; range: IpRange }> = [];
    for (const remote of peer.peers) {
      for (const cidr of remote.allowedIps) {
        const range = tryParseAddressOrCidr(cidr);
        if (range) entries.push({ remote: remote.peerId, cidr, range });
      }
    }
    entries.sort((x, y) => compareRanges(x.range, y.range));
    const collisions = overlappingPairs(entries, (entry) => entry.range)
      .filter(([x, y]) => x.remote !== y.remote)
      .map(([x, y]) => ({ a: x.remote, aCidr: x.cidr, b: y.remote, bCidr: y.cidr }));
    if (collisions.length > 0) throw overlapError(peer.peerId, collisions);
  }
}

/**
 * Compiled form: checks the final AllowedIPs of every interface (a last line of defence
 * before anything is deployed). Spec form: checks what the spec asks for before the
 * compiler's tie-breaking, so a mutation that would make two peers claim the same tunnel
 * IP, service IP or WAN range is refused. Overlapping LANs of different peers are left to
 * analyzeConflicts (a WARNING that auto-NAT resolves), not refused here.
 */
export function assertNoAllowedIpsOverlap(input: CompiledOverlay | OverlaySpec): void {
  if (isCompiled(input)) return assertCompiledHasNoOverlap(input);
  validateOverlaySpec(input);
  const facts = buildOverlayFacts(input);
  const plan = planTunnels(facts);
  const cache: CarveCache = new Map();
  const idOf = (entry: RemoteClaim): string => (facts.peers[entry.claim.owner === -1 ? entry.remote : entry.claim.owner] as PeerFacts).spec.id;
  for (const peer of facts.peers) {
    const collisions = findCollisions(rawClaimsForPeer(facts, plan, peer.index, cache))
      .filter(({ a, b }) => !(a.claim.kind === 'LAN' && b.claim.kind === 'LAN'))
      .map(({ a, b }) => ({ a: idOf(a), aCidr: a.claim.cidr, b: idOf(b), bCidr: b.claim.cidr }));
    if (collisions.length > 0) throw overlapError(peer.spec.id, collisions);
  }
}

type PortFacts = Pick<PeerSpec, 'id' | 'name' | 'endpointPort' | 'listenPort' | 'portForwarded'>;

function mismatchedEndpointPort(peer: PortFacts, wan: Pick<WanSpec, 'listenPort'>, report: (message: string) => void): void {
  const listenPort = peer.listenPort ?? wan.listenPort;
  if (peer.endpointPort === null || peer.endpointPort === listenPort || peer.portForwarded) return;
  report(`"${peer.name}" is dialled on port ${peer.endpointPort} but listens on ${listenPort}; without a port-forward upstream the handshakes never arrive. Use the same port or mark it port-forwarded`);
}

/**
 * The port others dial must be the listen port unless the upstream router forwards it. Both
 * ports are at fault, so the refusal names both fields (a form marks both), each in its words.
 */
export function assertEndpointPort(peer: PortFacts, wan: Pick<WanSpec, 'listenPort'>): void {
  mismatchedEndpointPort(peer, wan, (message) => {
    const listenPort = peer.listenPort ?? wan.listenPort;
    const listens = peer.listenPort === null ? `the WAN's listen port ${listenPort}` : `its listen port ${listenPort}`;
    const fix = 'Use the same port for both, or say that an upstream router forwards the endpoint port';
    throw new DomainError('ENDPOINT_PORT_MISMATCH', message, {
      peerId: peer.id,
      field: 'endpointPort',
      fields: [
        { field: 'endpointPort', message: `Endpoint port ${peer.endpointPort} is not ${listens}: handshakes sent there never arrive. ${fix}` },
        { field: 'listenPort', message: `Listen port ${listenPort} is not the endpoint port ${peer.endpointPort} other peers dial. ${fix}` },
      ],
    });
  });
}

/**
 * A device must be managed over an address outside the tunnel range: otherwise a deploy
 * that changes the tunnel cuts the connection it is deployed over. Hostnames cannot be
 * judged here and pass.
 */
export function assertManagementAddress(wan: Pick<WanSpec, 'tunnelCidr' | 'tunnelCidr6'>, address: string): void {
  // "[v6]:port", "[v6]", "v4:port", or a bare address.
  const bracketed = /^\[([^\]]+)\](?::\d+)?$/.exec(address);
  const host = bracketed ? bracketed[1] as string : tryParseAddressOrCidr(address) ? address : address.replace(/:\d+$/, '');
  const range = tryParseAddressOrCidr(host);
  for (const tunnelCidr of [wan.tunnelCidr, wan.tunnelCidr6]) {
    if (range && tunnelCidr && overlaps(range, parseCidr(tunnelCidr))) {
      throw new DomainError('MANAGEMENT_IN_TUNNEL',
        `management address ${host} lies inside the tunnel range ${tunnelCidr}; manage the device over an address outside the overlay`,
        { address: host, tunnelCidr });
    }
  }
}

