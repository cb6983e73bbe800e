// The overlay as the domain computes it from one WAN's spec, for reads: compiled once, and
// each derived value (config hashes, conflicts, topology graph, reachability) computed once
// when first asked, so a view shared across requests (see overlay-reader.ts) pays for each once.
import type { OverlaySpec } from '../../domain/model.js';
import { withoutSecrets, type CompiledOverlay, type CompiledPeer } from '../../domain/compiled.js';
import { findCompiledPeer, type CompiledOverlayWithPlan } from '../../domain/compile.js';
import { compileOverlayIncremental } from '../../domain/compile-incremental.js';
import { analyzeConflicts, type Conflict } from '../../domain/conflicts.js';
import { configHash } from '../../domain/staleness.js';
import { computeReachability, type PeerReachability } from '../../domain/reachability.js';
import { topologyGraph, type TopologyGraph } from '../../domain/graph.js';
import { DomainError } from '../../domain/errors.js';
import { renderWgQuick } from '../../domain/render/wgquick.js';
import { renderRouterOsScript } from '../../domain/render/routeros.js';
import { renderLinuxBundle } from '../../domain/render/linux-bundle.js';

export type ConfigStatus = 'NEVER_DELIVERED' | 'CURRENT' | 'STALE';
export type ConfigFormat = 'WG_QUICK' | 'ROUTEROS' | 'LINUX_BUNDLE';

/** A peer's configuration in `format`, from `compiled` (the real compile or its preview). */
export function renderConfig(compiled: CompiledOverlay, peerId: string, format: ConfigFormat): string {
  if (format === 'ROUTEROS') return renderRouterOsScript(compiled, peerId);
  if (format === 'LINUX_BUNDLE') return renderLinuxBundle(compiled, peerId);
  return renderWgQuick(compiled, peerId);
}

/**
 * Config hashes by compiled peer object, shared along a line of views of one WAN: a view
 * compiled from its predecessor reuses the peer objects a change did not touch, so their
 * hashes are found here instead of being computed again. Compiled peers are never changed
 * in place by the services, and the hash also covers the WAN's id and name, which every
 * view sharing a memo has in common (see OverlayView's constructor).
 */
type HashMemo = WeakMap<CompiledPeer, string>;

export class OverlayView {
  private state: CompiledOverlayWithPlan | null = null;
  /** A compiled predecessor's state to compile from, until this view has compiled. */
  private base: CompiledOverlayWithPlan | null;
  private readonly hashMemo: HashMemo;
  private previewOverlay: CompiledOverlay | null = null;
  private readonly previewTexts = new Map<string, string>();
  private conflictList: Conflict[] | null = null;
  private topology: TopologyGraph | null = null;
  private names: Map<string, string> | null = null;
  /** The whole WAN's reachability (O(peers²)), computed only when the whole map is asked for. */
  private reach: Map<string, PeerReachability> | null = null;
  /** One peer's reachability, computed for that peer alone (O(peers)) when only it is asked for. */
  private readonly reachOfPeer = new Map<string, PeerReachability>();

  /**
   * @param onCompile told of each compile (the compile counter of /metrics).
   * @param previous the view this one replaces (same WAN, older spec): the compile then
   *   redoes only what the change touches, and unchanged peers keep their config hashes.
   *   Only its compiled state is kept, never the view itself, so views do not chain up.
   */
  constructor(
    readonly spec: OverlaySpec,
    private readonly onCompile: () => void = () => {},
    previous?: OverlayView,
  ) {
    const sameWan = previous !== undefined && previous.spec.wan.id === spec.wan.id;
    this.base = sameWan ? previous.state ?? previous.base : null;
    this.hashMemo = sameWan && previous.spec.wan.name === spec.wan.name ? previous.hashMemo : new WeakMap();
  }

  get compiled(): CompiledOverlay {
    return this.compiledState.compiled;
  }

  private get compiledState(): CompiledOverlayWithPlan {
    if (!this.state) {
      this.onCompile();
      this.state = compileOverlayIncremental(this.base, this.spec);
      this.base = null;
    }
    return this.state;
  }

  /** What previews render: the same compile with private and preshared keys left out. */
  get preview(): CompiledOverlay {
    this.previewOverlay ??= withoutSecrets(this.compiled);
    return this.previewOverlay;
  }

  /**
   * A peer's preview text, rendered once per view: every subscription an event reaches, and
   * every request while the WAN is unchanged, shares the view, so twenty viewers of a
   * 201-peer WAN render its 201 previews once, not twenty times each.
   */
  previewOf(peerId: string, format: ConfigFormat): string {
    const key = `${format}\u0000${peerId}`;
    let text = this.previewTexts.get(key);
    if (text === undefined) {
      text = renderConfig(this.preview, peerId, format);
      this.previewTexts.set(key, text);
    }
    return text;
  }

  /** The peer's config hash, computed for it alone, once per compiled peer object. */
  hashOf(peerId: string): string {
    const { compiled } = this;
    let peer: CompiledPeer;
    try {
      peer = findCompiledPeer(compiled, peerId);
    } catch {
      throw new DomainError('NOT_FOUND', 'Peer not found in its WAN');
    }
    let hash = this.hashMemo.get(peer);
    if (hash === undefined) {
      hash = configHash(compiled, peerId);
      this.hashMemo.set(peer, hash);
    }
    return hash;
  }

  conflicts(): Conflict[] {
    this.conflictList ??= analyzeConflicts(this.spec);
    return this.conflictList;
  }

  /** Every peer's reachability, or only `peerId`'s (computed for it alone unless the whole map already is). */
  reachability(peerId?: string): PeerReachability[] {
    if (!peerId) {
      this.reach ??= new Map(computeReachability(this.compiled).map((entry) => [entry.peerId, entry]));
      return [...this.reach.values()];
    }
    let entry = this.reach?.get(peerId) ?? this.reachOfPeer.get(peerId);
    if (!entry) {
      entry = computeReachability(this.compiled, [peerId])[0];
      if (entry) this.reachOfPeer.set(peerId, entry);
    }
    return entry ? [entry] : [];
  }

  graph(): TopologyGraph {
    this.topology ??= topologyGraph(this.spec, this.compiled);
    return this.topology;
  }

  peerName(peerId: string): string {
    // A map, not a scan per name: reachability names a peer for each of its O(peers) entries.
    this.names ??= new Map([...this.spec.peers, ...(this.spec.disabledPeers ?? [])].map((peer) => [peer.id, peer.name]));
    return this.names.get(peerId) ?? peerId;
  }
}

export function statusOf(currentHash: string, deliveredHash: string | null): ConfigStatus {
  if (!deliveredHash) return 'NEVER_DELIVERED';
  return deliveredHash === currentHash ? 'CURRENT' : 'STALE';
}
