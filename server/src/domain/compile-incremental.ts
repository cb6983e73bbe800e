// Compiling a WAN again after a change, redoing only what the change touches: the result is
// the one compileOverlay gives for the new spec, but every compiled peer whose inputs are
// unchanged is the earlier object itself, so whatever is memoised per compiled peer (config
// hashes, see OverlayView) carries over. A spoke's edit then recompiles that spoke and its
// hubs, not 10,000 peers.
//
// What a compiled peer depends on (compilePeer, compileRedundantPeer, compileDisabledPeer):
// - the WAN's settings (all of them, compared as a whole);
// - its own PeerSpec;
// - its neighbours in the tunnel plan, in order, and their PeerSpecs (names, keys,
//   endpoints, claims, tunnel addresses), its relay, whether it relays for others, and the
//   preshared key of each of its pairs;
// - with a relay, or with redundant hubs: every routed LAN of the WAN (owner and prefix);
//   with redundant hubs also the hubs, in order;
// - whether any claims of the WAN may collide (per-peer resolution on or off).
// Positions in the facts order do not matter: only the relative order of two peers does,
// and that follows from their tunnel addresses and ids, which a reused peer keeps.
// Anything else that changes makes the compile start over.
import { mayCollide } from './allowed-ips.js';
import { compileFacts, compileOverlayDetailed, planned, type CompiledOverlayWithPlan, type Planned, type Reuse } from './compile.js';
import type { OverlaySpec, PeerSpec, WanSpec } from './model.js';
import { buildOverlayFacts, pairKey, type Claim, type OverlayFacts, type PeerFacts } from './overlay-facts.js';
import { validateOverlaySpec, validatePeer, validateWanSpec } from './spec-validation.js';
import { effectiveTopology } from './topology.js';
import { validateKey } from './validation.js';

/**
 * Compiles `spec` as compileOverlayDetailed does (same result, same DomainError for an
 * invalid spec), starting from `previous`, an earlier compile of the same WAN.
 */
export function compileOverlayIncremental(previous: CompiledOverlayWithPlan | null, spec: OverlaySpec): CompiledOverlayWithPlan {
  if (!previous || previous.basis.spec.wan.id !== spec.wan.id) return compileOverlayDetailed(spec);
  const before = previous.basis.spec;
  const wanSame = before.wan === spec.wan || sameData(before.wan, spec.wan);
  const rangesSame = wanSame || sameRanges(before.wan, spec.wan);
  const factsReusable = wanSame || before.wan.listenPort === spec.wan.listenPort;

  // Which peers changed; a repeated id, an invalid peer or a clash makes the full compile
  // (which throws the error it always threw) take over.
  const unchanged = new Map<string, PeerFacts>();
  const changed: Array<{ peer: PeerSpec; field: string }> = [];
  spec.peers.forEach((peer, i) => {
    const index = previous.facts.indexById.get(peer.id);
    const old = index === undefined ? undefined : previous.facts.peers[index];
    if (old && !unchanged.has(peer.id) && (old.spec === peer || sameData(old.spec, peer))) unchanged.set(peer.id, old);
    else changed.push({ peer, field: `peers[${i}]` });
  });
  const changedIds = new Set<string>();
  for (const { peer } of changed) {
    if (unchanged.has(peer.id) || changedIds.has(peer.id)) return compileOverlayDetailed(spec);
    changedIds.add(peer.id);
  }
  const presharedKeysSame = before.presharedKeys === spec.presharedKeys || sameData(before.presharedKeys, spec.presharedKeys);
  try {
    // The WAN's own checks come first in validateOverlaySpec, as here; a peer that passed
    // them under the same ranges passes them again.
    const ranges = validateWanSpec(spec.wan);
    if (!rangesSame) validateOverlaySpec(spec);
    else for (const { peer, field } of changed) validatePeer(peer, field, spec, ranges);
    // Preshared keys are checked last there, after every peer.
    if (!presharedKeysSame) spec.presharedKeys.forEach((psk, i) => validateKey(psk.key, `presharedKeys[${i}].key`));
  } catch {
    return compileOverlayDetailed(spec);
  }

  const facts = buildOverlayFacts(spec, {
    facts: previous.facts,
    reusable: factsReusable ? unchanged : new Map(),
    presharedKeysSame,
  });
  if (clashingAddress(facts, changedIds)) return compileOverlayDetailed(spec);

  const topologySame = effectiveTopology(before.wan.topology, previous.facts.peers, previous.facts.disabledHubs.length > 0)
    === effectiveTopology(spec.wan.topology, facts.peers, facts.disabledHubs.length > 0);
  const sameOrder = facts.indexById === previous.facts.indexById;
  // The plan depends on each peer's role and whether it has an endpoint, and on the order.
  const planSame = topologySame && sameOrder && (previous.facts.disabledHubs.length > 0) === (facts.disabledHubs.length > 0)
    && [...changedIds].every((id) => {
      const index = facts.indexById.get(id) as number;
      const now = facts.peers[index] as PeerFacts;
      const then = previous.facts.peers[index] as PeerFacts;
      return now.spec.role === then.spec.role && now.hasEndpoint === then.hasEndpoint;
    });
  const plan: Planned = planSame ? { plan: previous.plan, relayedBy: previous.basis.relayedBy } : planned(facts);

  // Collisions depend on the claims alone: unchanged when every peer kept its claims.
  const claimsSame = rangesSame && facts.peers.length === previous.facts.peers.length
    && [...changedIds].every((id) => {
      const index = previous.facts.indexById.get(id);
      return index !== undefined && sameList((previous.facts.peers[index] as PeerFacts).claimCidrs, (facts.peers[facts.indexById.get(id) as number] as PeerFacts).claimCidrs);
    });
  const resolveCollisions = claimsSame ? previous.basis.resolveCollisions : mayCollide(facts);

  const lansSame = sameLanClaims(previous.facts, facts);
  const reuse: Reuse = {
    enabled: (index, relayedBy, resolve, redundantHubs) => {
      if (!wanSame || !topologySame || resolve !== previous.basis.resolveCollisions || redundantHubs !== previous.basis.redundantHubs) return undefined;
      const now = facts.peers[index] as PeerFacts;
      if (changedIds.has(now.spec.id)) return undefined;
      const then = previous.facts.indexById.get(now.spec.id) as number;
      const p = previous.plan;
      const n = plan.plan;
      if (relayedBy.has(index) !== previous.basis.relayedBy.has(then)) return undefined;
      const relayNow = n.relay[index] ?? null;
      const relayThen = p.relay[then] ?? null;
      if ((relayNow === null) !== (relayThen === null)) return undefined;
      if (relayNow !== null && (facts.peers[relayNow] as PeerFacts).spec.id !== (previous.facts.peers[relayThen as number] as PeerFacts).spec.id) return undefined;
      if ((relayNow !== null || redundantHubs !== null) && !lansSame) return undefined;
      const neighboursNow = n.neighbours[index] as readonly number[];
      const neighboursThen = p.neighbours[then] as readonly number[];
      if (neighboursNow.length !== neighboursThen.length) return undefined;
      for (let i = 0; i < neighboursNow.length; i++) {
        const id = (facts.peers[neighboursNow[i] as number] as PeerFacts).spec.id;
        if (changedIds.has(id) || id !== (previous.facts.peers[neighboursThen[i] as number] as PeerFacts).spec.id) return undefined;
        if (!presharedKeysSame) {
          const pair = pairKey(now.spec.id, id);
          if ((facts.presharedKeys.get(pair) ?? null) !== (previous.facts.presharedKeys.get(pair) ?? null)) return undefined;
        }
      }
      return previous.basis.peers[then];
    },
    disabled: (disabledSpec) => {
      const earlier = previous.basis.disabled.get(disabledSpec.id);
      return wanSame && earlier && (earlier.spec === disabledSpec || sameData(earlier.spec, disabledSpec)) ? earlier.compiled : undefined;
    },
  };
  return compileFacts(spec, facts, plan, resolveCollisions, reuse);
}

/**
 * Whether a changed peer's tunnel address is another peer's too (which validation refuses).
 * IPv4 addresses sit next to each other in the facts order; IPv6 ones (dual-stack) and the
 * rare IPv4/IPv6 pair of equal value are checked against all.
 */
function clashingAddress(facts: OverlayFacts, changedIds: ReadonlySet<string>): boolean {
  if (changedIds.size === 0) return false;
  if (facts.tunnelRange6 !== null) {
    const seen = new Set<bigint>();
    for (const peer of facts.peers) {
      for (const address of peer.tunnelIp6 === null ? [peer.tunnelIp] : [peer.tunnelIp, peer.tunnelIp6]) {
        if (seen.has(address)) return true;
        seen.add(address);
      }
    }
    return false;
  }
  for (const id of changedIds) {
    const index = facts.indexById.get(id) as number;
    const address = (facts.peers[index] as PeerFacts).tunnelIp;
    if (facts.peers[index - 1]?.tunnelIp === address || facts.peers[index + 1]?.tunnelIp === address) return true;
  }
  return false;
}

/** The same routed LANs, owned by the same peers, in the same order. */
function sameLanClaims(a: OverlayFacts, b: OverlayFacts): boolean {
  if (a.lanClaims === b.lanClaims) return true;
  if (a.lanClaims.length !== b.lanClaims.length) return false;
  return a.lanClaims.every((claim, i) => {
    const other = b.lanClaims[i] as Claim;
    return claim.cidr === other.cidr && claim.subnetId === other.subnetId
      && (a.peers[claim.owner] as PeerFacts).spec.id === (b.peers[other.owner] as PeerFacts).spec.id;
  });
}

function sameRanges(a: WanSpec, b: WanSpec): boolean {
  return a.tunnelCidr === b.tunnelCidr && a.servicesCidr === b.servicesCidr
    && a.tunnelCidr6 === b.tunnelCidr6 && a.servicesCidr6 === b.servicesCidr6;
}

function sameList(a: readonly string[], b: readonly string[]): boolean {
  return a === b || (a.length === b.length && a.every((value, i) => value === b[i]));
}

/**
 * Deep equality of spec data (plain objects, arrays, primitives), over every key either side
 * has: a field added to the model later counts without being listed here.
 */
export function sameData(a: unknown, b: unknown): boolean {
  if (a === b) return true;
  if (typeof a !== 'object' || typeof b !== 'object' || a === null || b === null) return false;
  if (Array.isArray(a)) {
    if (!Array.isArray(b) || a.length !== b.length) return false;
    for (let i = 0; i < a.length; i++) if (!sameData(a[i], b[i])) return false;
    return true;
  }
  if (Array.isArray(b)) return false;
  const x = a as Record<string, unknown>;
  const y = b as Record<string, unknown>;
  let keys = 0;
  for (const key in x) {
    keys++;
    if (!(key in y) || !sameData(x[key], y[key])) return false;
  }
  for (const key in y) keys--;
  return keys === 0;
}

