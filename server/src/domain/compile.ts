// Turns an OverlaySpec into exactly what each peer's configuration must contain.
import { claimsForPeer, mayCollide, type CarveCache } from './allowed-ips.js';
import type { CompiledOverlay, CompiledPeer, CompiledRemote, CompiledRoute } from './compiled.js';
import { DomainError } from './errors.js';
import { compareRanges, contains, type IpRange } from './ip.js';
import type { OverlaySpec, PeerSpec, WanSpec } from './model.js';
import { buildOverlayFacts, pairKey, type Claim, type OverlayFacts, type PeerFacts } from './overlay-facts.js';
import { compileFirewall, compileNat, compileServices, interfaceAddresses, keepaliveOf } from './compile-parts.js';
import { compileRedundantPeer, redundancyOf } from './hub-redundancy.js';
import { validateOverlaySpec } from './spec-validation.js';
import { planTunnels, type TunnelPlan } from './topology.js';

/** What a peer's neighbours carry: AllowedIPs in neighbour order, and the routes they imply. */
interface Carried {
  /** Frozen lists: a remote's own list when it carries exactly its claims, else one per Carried. */
  readonly allowedIps: readonly (readonly string[])[];
  readonly routes: CompiledRoute[];
}

interface CompileShared {
  readonly facts: OverlayFacts;
  readonly plan: TunnelPlan;
  readonly relayedBy: ReadonlySet<number>;
  readonly cache: CarveCache;
  readonly resolveCollisions: boolean;
  /** Carried by peers whose AllowedIPs cannot depend on who they are, by neighbours (see sharedCarryKey). */
  readonly carried: Map<string, Carried>;
}

/**
 * A peer that hosts no LAN (nothing of its own to leave out) and reaches the rest through
 * a relay gets exactly the AllowedIPs of any other such peer with the same neighbours: the
 * spokes of a hub-spoke WAN share one computation. Null for every other peer.
 */
function sharedCarryKey(shared: CompileShared, peer: PeerFacts): string | null {
  const relay = shared.plan.relay[peer.index];
  if (relay === null || relay === undefined || peer.locals.length > 0) return null;
  return `${relay}:${(shared.plan.neighbours[peer.index] as readonly number[]).join(',')}`;
}

/** Routes in address order (a stable sort, skipped when the claims come sorted, as they usually do). */
function sortedRoutes(claims: readonly Claim[], via: readonly PeerFacts[]): CompiledRoute[] {
  const rangeAt = (i: number): IpRange => (claims[i] as Claim).range;
  const order = claims.map((_, i) => i);
  if (order.some((i) => i > 0 && compareRanges(rangeAt(i - 1), rangeAt(i)) > 0)) order.sort((a, b) => compareRanges(rangeAt(a), rangeAt(b)));
  return order.map((i) => {
    const remote = via[i] as PeerFacts;
    const claim = claims[i] as Claim;
    // A route's next hop is of its own family: dual-stack peers all have an IPv6 tunnel address.
    const gatewayTunnelIp = claim.range.family === 6 ? remote.tunnelIp6Text as string : remote.tunnelIpText;
    return { destination: claim.cidr, via: remote.spec.id, gatewayTunnelIp };
  });
}

function computeCarried(shared: CompileShared, self: number): Carried {
  const { facts, plan } = shared;
  const claims = claimsForPeer(facts, plan, self, shared.cache, shared.resolveCollisions);
  const allowedIps: Array<readonly string[]> = [];
  const routedClaims: Claim[] = [];
  const routedVia: PeerFacts[] = [];
  for (const index of plan.neighbours[self] as readonly number[]) {
    const remote = facts.peers[index] as PeerFacts;
    const allowed = claims.get(index) ?? [];
    // Shared, frozen array when the remote carries exactly its own prefixes.
    allowedIps.push(allowed === remote.claims ? remote.claimCidrs : Object.freeze(allowed.map((claim) => claim.cidr)));
    // The interface addresses already cover the tunnel ranges; everything else needs a route.
    for (const claim of allowed) {
      if (!contains(facts.tunnelRange, claim.range) && !(facts.tunnelRange6 && contains(facts.tunnelRange6, claim.range))) {
        routedClaims.push(claim);
        routedVia.push(remote);
      }
    }
  }
  return { allowedIps, routes: sortedRoutes(routedClaims, routedVia) };
}

function carriedBy(shared: CompileShared, peer: PeerFacts): Carried {
  const key = sharedCarryKey(shared, peer);
  if (key === null) return computeCarried(shared, peer.index);
  let carried = shared.carried.get(key);
  if (!carried) {
    const computed = computeCarried(shared, peer.index);
    // One frozen route list for every peer of the key: a copy per spoke held O(spokes x LANs)
    // route objects (9,000 spokes reaching 1,000 LANs through their hub: ~700 MB). Frozen, so
    // a consumer that tried to edit one peer's routes in place would throw, not edit them all.
    for (const route of computed.routes) Object.freeze(route);
    carried = { allowedIps: computed.allowedIps, routes: Object.freeze(computed.routes) as CompiledRoute[] };
    shared.carried.set(key, carried);
  }
  return carried;
}

function compilePeer(shared: CompileShared, self: number): CompiledPeer {
  const { facts, plan, relayedBy } = shared;
  const peer = facts.peers[self] as PeerFacts;
  const { wan } = facts;
  const carried = carriedBy(shared, peer);
  const keepalive = keepaliveOf(peer, wan.keepalive);

  const remotes: CompiledRemote[] = [];
  const neighbours = plan.neighbours[self] as readonly number[];
  for (let i = 0; i < neighbours.length; i++) {
    const remote = facts.peers[neighbours[i] as number] as PeerFacts;
    remotes.push({
      peerId: remote.spec.id,
      name: remote.spec.name,
      publicKey: remote.spec.publicKey,
      presharedKey: facts.presharedKeys.size === 0 ? null : facts.presharedKeys.get(pairKey(peer.spec.id, remote.spec.id)) ?? null,
      endpoint: remote.endpoint,
      allowedIps: carried.allowedIps[i] as string[],
      persistentKeepalive: keepalive,
    });
  }

  const services = compileServices(peer);
  const forwarding = peer.spec.role === 'HUB' || relayedBy.has(self)
    || peer.subnets.some((subnet) => subnet.spec.routed) || services.length > 0;
  const listenPort = peer.listenPort;
  return {
    peerId: peer.spec.id,
    name: peer.spec.name,
    role: peer.spec.role,
    interface: {
      name: wan.interfaceName,
      addresses: interfaceAddresses(facts, peer, services),
      listenPort,
      mtu: wan.mtu,
      privateKey: peer.spec.privateKey,
      publicKey: peer.spec.publicKey,
    },
    forwarding,
    lans: peer.subnets.length === 0 ? [] : peer.claims.filter((claim) => claim.kind === 'LAN').map((claim) => claim.cidr),
    peers: remotes,
    routes: carried.routes,
    nat: compileNat(peer),
    services,
    firewall: compileFirewall(wan.interfaceName, listenPort, forwarding),
  };
}

export interface CompiledOverlayWithPlan {
  compiled: CompiledOverlay;
  facts: OverlayFacts;
  plan: TunnelPlan;
  /** What a later compile of the same WAN starts from (compileOverlayIncremental). */
  readonly basis: CompileBasis;
}

/** The intermediate results of a compile that the next one may reuse. */
export interface CompileBasis {
  readonly spec: OverlaySpec;
  readonly relayedBy: ReadonlySet<number>;
  readonly resolveCollisions: boolean;
  /** The redundant hubs' ids in order, or null when the WAN runs without redundancy. */
  readonly redundantHubs: string | null;
  /** The compiled enabled peers, in facts order. */
  readonly peers: readonly CompiledPeer[];
  /** By id: each disabled peer's spec and what it compiled to. */
  readonly disabled: ReadonlyMap<string, { readonly spec: PeerSpec; readonly compiled: CompiledPeer }>;
}

/** How a compile may reuse an earlier one's peers: see compileOverlayIncremental. */
export interface Reuse {
  /** The earlier compiled peer for the peer at `index` when nothing it depends on changed. */
  readonly enabled: (index: number, relayedBy: ReadonlySet<number>, resolveCollisions: boolean, redundantHubs: string | null) => CompiledPeer | undefined;
  readonly disabled: (spec: PeerSpec) => CompiledPeer | undefined;
}

export interface Planned {
  readonly plan: TunnelPlan;
  readonly relayedBy: ReadonlySet<number>;
}

export function planned(facts: OverlayFacts): Planned {
  const plan = planTunnels(facts);
  return { plan, relayedBy: new Set(plan.relay.filter((relay): relay is number => relay !== null)) };
}

/** Compiles facts already built from a validated spec, taking from `reuse` what it offers. */
export function compileFacts(spec: OverlaySpec, facts: OverlayFacts, { plan, relayedBy }: Planned, resolveCollisions: boolean, reuse: Reuse | null): CompiledOverlayWithPlan {
  const shared: CompileShared = { facts, plan, relayedBy, cache: new Map(), resolveCollisions, carried: new Map() };
  const redundancy = redundancyOf(facts, plan);
  const redundantHubs = redundancy ? redundancy.hubs.map((index) => (facts.peers[index] as PeerFacts).spec.id).join('\n') : null;
  const peers = facts.peers.map((peer) => reuse?.enabled(peer.index, relayedBy, resolveCollisions, redundantHubs)
    ?? (redundancy ? compileRedundantPeer(facts, plan, redundancy, peer.index) : compilePeer(shared, peer.index)));
  const enabled = peers.slice();
  const disabled = new Map<string, { spec: PeerSpec; compiled: CompiledPeer }>();
  for (const disabledSpec of spec.disabledPeers ?? []) {
    const compiled = reuse?.disabled(disabledSpec) ?? compileDisabledPeer(spec.wan, disabledSpec);
    disabled.set(disabledSpec.id, { spec: disabledSpec, compiled });
    peers.push(compiled);
  }
  const compiled: CompiledOverlay = { wan: spec.wan, peers };
  registerPeerIndex(compiled, facts);
  return {
    compiled,
    facts,
    plan,
    basis: { spec, relayedBy, resolveCollisions, redundantHubs, peers: enabled, disabled },
  };
}

/** Compiles and also returns the parsed facts and tunnel plan, for callers that need both. */
export function compileOverlayDetailed(spec: OverlaySpec): CompiledOverlayWithPlan {
  validateOverlaySpec(spec);
  const facts = buildOverlayFacts(spec);
  return compileFacts(spec, facts, planned(facts), mayCollide(facts), null);
}

/**
 * A disabled peer's own configuration: compiled alone (so its fields are checked as any
 * peer's), then cut to its interface with the tunnel addresses. Deployed or applied, it takes
 * every tunnel, route, NAT and rule of this WAN off the peer; enabling it brings them back.
 */
function compileDisabledPeer(wan: WanSpec, spec: PeerSpec): CompiledPeer {
  const alone = compileOverlayDetailed({ wan, peers: [{ ...spec, subnets: [], services: [] }], presharedKeys: [] }).compiled.peers[0] as CompiledPeer;
  return {
    peerId: alone.peerId,
    name: alone.name,
    role: alone.role,
    interface: alone.interface,
    forwarding: false,
    lans: [],
    peers: [],
    routes: [],
    nat: [],
    services: [],
    firewall: [],
    disabled: true,
  };
}

/**
 * Validates the spec (throwing DomainError on anything unsafe) and compiles it. Peers
 * come out ordered by tunnel IP, remotes likewise, prefixes by address: the same spec
 * always yields byte-identical renderings.
 */
export function compileOverlay(spec: OverlaySpec): CompiledOverlay {
  return compileOverlayDetailed(spec).compiled;
}

// Renderers look peers up one at a time; an index per compiled overlay keeps rendering a
// whole 5,000-peer WAN linear. A compile registers one built from its facts' index (which an
// incremental compile mostly reuses), so looking up one peer after a change costs O(1).
const peerIndexes = new WeakMap<CompiledOverlay, (peerId: string) => CompiledPeer | undefined>();

function registerPeerIndex(compiled: CompiledOverlay, facts: OverlayFacts): void {
  const enabled = facts.peers.length;
  const disabled = compiled.peers.length === enabled ? null : new Map(compiled.peers.slice(enabled).map((peer) => [peer.peerId, peer]));
  // As a map over all peers would, a disabled peer wins over an enabled one of the same id.
  peerIndexes.set(compiled, (peerId) => {
    const found = disabled?.get(peerId);
    if (found) return found;
    const index = facts.indexById.get(peerId);
    return index === undefined ? undefined : compiled.peers[index];
  });
}

export function findCompiledPeer(compiled: CompiledOverlay, peerId: string): CompiledPeer {
  let find = peerIndexes.get(compiled);
  if (!find) {
    const index = new Map(compiled.peers.map((peer) => [peer.peerId, peer]));
    find = (id) => index.get(id);
    peerIndexes.set(compiled, find);
  }
  const peer = find(peerId);
  if (!peer) throw new DomainError('NOT_FOUND', `peer ${peerId} is not part of this overlay`, { peerId });
  return peer;
}
