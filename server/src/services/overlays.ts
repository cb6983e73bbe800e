// The overlay as the domain computes it, for reads: one load + compile per WAN per request
// (so a WAN page with 1,000 peers compiles once, not once per peer), and config delivery,
// which records the hash a peer received so staleness is "rendering changed since then".
import type { Db } from '../infra/db/client.js';
import type { SecretBox } from '../infra/crypto/secret-box.js';
import { type PubSub, publishWanChange } from '../infra/pubsub/topics.js';
import type { OverlaySpec } from '../domain/model.js';
import type { CompiledOverlay } from '../domain/compiled.js';
import { compileOverlay } from '../domain/compile.js';
import { analyzeConflicts, type Conflict } from '../domain/conflicts.js';
import { configHash } from '../domain/staleness.js';
import { computeReachability, type PeerReachability } from '../domain/reachability.js';
import { topologyGraph, type TopologyGraph } from '../domain/graph.js';
import { renderWgQuick } from '../domain/render/wgquick.js';
import { renderRouterOsScript } from '../domain/render/routeros.js';
import { renderQrPng, renderQrSvg } from '../domain/render/qr.js';
import { DomainError } from '../domain/errors.js';
import { loadOverlayRows, loadOverlaySpec, overlaySpecFromRows, type OverlayRows } from './overlay-spec.js';
import type { Identity } from './auth/identity.js';
import { recordAudit } from './audit.js';

export type ConfigFormat = 'WG_QUICK' | 'ROUTEROS';
export type ConfigStatus = 'NEVER_DELIVERED' | 'CURRENT' | 'STALE';

export class OverlayView {
  private compiledOverlay: CompiledOverlay | null = null;
  private hashes: Map<string, string> | null = null;
  private conflictList: Conflict[] | null = null;
  /** The whole WAN's reachability (O(peers²)), computed only when the whole map is asked for. */
  private reach: Map<string, PeerReachability> | null = null;
  /** One peer's reachability, computed for that peer alone (O(peers)) when only it is asked for. */
  private readonly reachOfPeer = new Map<string, PeerReachability>();

  constructor(readonly spec: OverlaySpec) {}

  get compiled(): CompiledOverlay {
    this.compiledOverlay ??= compileOverlay(this.spec);
    return this.compiledOverlay;
  }

  hashOf(peerId: string): string {
    this.hashes ??= new Map(this.compiled.peers.map((peer) => [peer.peerId, configHash(this.compiled, peer.peerId)]));
    const hash = this.hashes.get(peerId);
    if (!hash) throw new DomainError('NOT_FOUND', 'Peer not found in its WAN');
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
    return topologyGraph(this.spec, this.compiled);
  }

  peerName(peerId: string): string {
    return this.spec.peers.find((peer) => peer.id === peerId)?.name ?? peerId;
  }
}

export function statusOf(currentHash: string, deliveredHash: string | null): ConfigStatus {
  if (!deliveredHash) return 'NEVER_DELIVERED';
  return deliveredHash === currentHash ? 'CURRENT' : 'STALE';
}

/**
 * Compiled views across requests, per master key: a view is a pure function of the WAN's
 * rows, so when the rows read now equal the rows a view was built from, the view (its
 * decrypted keys, compilation, config hashes, conflicts, reachability) is reused. Nothing
 * to invalidate: any change to the WAN changes its rows. Bounded to the most recent WANs.
 */
class OverlayViewCache {
  private readonly entries = new Map<string, { rows: string; view: OverlayView }>();

  constructor(private readonly maxWans = 32) {}

  viewFor(wanId: string, rows: OverlayRows, build: () => OverlayView): OverlayView {
    const text = JSON.stringify(rows);
    const cached = this.entries.get(wanId);
    if (cached && cached.rows === text) return cached.view;
    const view = build();
    this.entries.delete(wanId);
    this.entries.set(wanId, { rows: text, view });
    if (this.entries.size > this.maxWans) this.entries.delete(this.entries.keys().next().value as string);
    return view;
  }
}

const viewCaches = new WeakMap<SecretBox, OverlayViewCache>();

/** Per-request cache of overlay views; create one per GraphQL request. */
export class OverlayReader {
  private readonly views = new Map<string, Promise<OverlayView>>();

  constructor(
    private readonly prisma: Db,
    private readonly secrets: SecretBox,
  ) {}

  /** Forgets cached views: a subscription context lives across events, each event must see fresh data. */
  reset(): void {
    this.views.clear();
  }

  /** With secrets: the hashes cover keys, so a rotated key makes exactly the affected configs stale. */
  view(wanId: string): Promise<OverlayView> {
    let view = this.views.get(wanId);
    if (!view) {
      let cache = viewCaches.get(this.secrets);
      if (!cache) {
        cache = new OverlayViewCache();
        viewCaches.set(this.secrets, cache);
      }
      const shared = cache;
      view = loadOverlayRows(this.prisma, wanId)
        .then((rows) => shared.viewFor(wanId, rows, () => new OverlayView(overlaySpecFromRows(rows, { secrets: this.secrets }))));
      this.views.set(wanId, view);
    }
    return view;
  }
}

export interface RenderedConfig {
  format: ConfigFormat;
  filename: string;
  content: string;
  hash: string;
  qrSvg: string | null;
  qrPng: Buffer | null;
}

function fileStem(name: string): string {
  return name.replace(/[^A-Za-z0-9._-]+/g, '-').replace(/^-+|-+$/g, '') || 'peer';
}

export class ConfigDelivery {
  constructor(
    private readonly prisma: Db,
    private readonly secrets: SecretBox,
    private readonly pubsub: PubSub,
  ) {}

  /** Renders without secrets: private and preshared keys stay out (for viewers and previews). */
  async preview(peerId: string, format: ConfigFormat): Promise<string> {
    const peer = await this.prisma.peer.findUnique({ where: { id: peerId }, select: { wanId: true } });
    if (!peer) throw new DomainError('NOT_FOUND', 'Peer not found');
    const view = new OverlayView(await loadOverlaySpec(this.prisma, peer.wanId));
    return format === 'ROUTEROS' ? renderRouterOsScript(view.compiled, peerId) : renderWgQuick(view.compiled, peerId);
  }

  /** The real config with keys, as the peer will run it; recorded as delivered. */
  async download(actor: Identity, peerId: string, format: ConfigFormat, withQr = true): Promise<RenderedConfig> {
    const peer = await this.prisma.peer.findUnique({ where: { id: peerId }, select: { wanId: true, name: true, deliveredHash: true } });
    if (!peer) throw new DomainError('NOT_FOUND', 'Peer not found');
    const view = new OverlayView(await loadOverlaySpec(this.prisma, peer.wanId, { secrets: this.secrets }));
    const hash = view.hashOf(peerId);
    const content = format === 'ROUTEROS' ? renderRouterOsScript(view.compiled, peerId) : renderWgQuick(view.compiled, peerId);
    const [qrSvg, qrPng] = withQr && format === 'WG_QUICK' ? await Promise.all([renderQrSvg(content), renderQrPng(content)]) : [null, null];
    await this.prisma.$transaction(async (tx) => {
      await tx.peer.update({ where: { id: peerId }, data: { deliveredHash: hash, deliveredAt: new Date(), deliveredVia: format === 'ROUTEROS' ? 'download:rsc' : 'download:conf' } });
      await recordAudit(tx, actor, { action: 'peer.downloadConfig', targetType: 'Peer', targetId: peerId, details: { format } });
    });
    if (peer.deliveredHash !== hash) publishWanChange(this.pubsub, { kind: 'UPDATED', wanId: peer.wanId, entity: 'PEER', entityId: peerId });
    const stem = fileStem(peer.name);
    return { format, filename: format === 'ROUTEROS' ? `${stem}.rsc` : `${stem}.conf`, content, hash, qrSvg, qrPng };
  }
}
