// A GraphQL request's reads of WANs: each WAN's peers (and subnets) read once and shared by
// the peer list and staleness; the overlay view from the shared cache (overlay-cache.ts),
// reused across requests while the WAN's overlay revision is unchanged. One OverlayReader per request (ctx.overlays), and one per
// pub/sub event for the subscriptions it reaches (graphql/event-reader.ts).
import type { Db } from '../../infra/db/client.js';
import type { Peer, Subnet } from '../../generated/prisma/client.js';
import type { SecretBox } from '../../infra/crypto/secret-box.js';
import { statusOf, type ConfigFormat, type ConfigStatus, type OverlayView } from './overlay-view.js';
import { byPeer } from './overlay-spec.js';
import { overlayViewCache } from './overlay-cache.js';

/** One read per WAN per request, and its value once settled, for resolvers that can answer without a promise. */
class PerWan<T> {
  private readonly pending = new Map<string, Promise<T>>();
  private readonly settled = new Map<string, T>();

  constructor(private readonly read: (wanId: string) => Promise<T>) {}

  get(wanId: string): Promise<T> {
    let value = this.pending.get(wanId);
    if (!value) {
      value = this.read(wanId).then((result) => {
        this.settled.set(wanId, result);
        return result;
      });
      this.pending.set(wanId, value);
    }
    return value;
  }

  /** `then` of the value: synchronous when it is already read (1,000 peers resolve a field each, and
   * GraphQL completes every object with a pending field through a promise of its own). */
  map<R>(wanId: string, then: (value: T) => R): R | Promise<R> {
    return this.settled.has(wanId) ? then(this.settled.get(wanId) as T) : this.get(wanId).then(then);
  }
}

interface WanSubnets {
  all: Subnet[];
  byPeer: Map<string, Subnet[]>;
}

/** Per-request cache of WANs' peers, subnets and overlay views; create one per GraphQL request. */
export class OverlayReader {
  /** Every column, tunnel-address order: the peer list, staleness and the view share one read. */
  private readonly peerRows = new PerWan<Peer[]>((wanId) => this.prisma.peer.findMany({ where: { wanId }, orderBy: { tunnelIp: 'asc' } }));
  /** Every column, by address: the peers' subnets on the WAN page and the view share one read. */
  private readonly subnetRows = new PerWan<WanSubnets>((wanId) =>
    this.prisma.subnet.findMany({ where: { peer: { wanId } }, orderBy: [{ cidr: 'asc' }, { id: 'asc' }] }).then((all) => ({ all, byPeer: byPeer(all) })));
  private readonly views = new PerWan<OverlayView>((wanId) => this.loadView(wanId));

  constructor(
    private readonly prisma: Db,
    private readonly secrets: SecretBox,
  ) {}

  /** Every peer of the WAN, all columns, in tunnel-address order. */
  peers(wanId: string): Promise<Peer[]> {
    return this.peerRows.get(wanId);
  }

  /** Every subnet of the WAN's peers, all columns, by address. */
  subnets(wanId: string): Promise<Subnet[]> {
    return this.subnetRows.get(wanId).then((subnets) => subnets.all);
  }

  /** The peer's subnets by address, from the WAN's subnets: a value once those are read. */
  subnetsOf(peer: { id: string; wanId: string }): Subnet[] | Promise<Subnet[]> {
    return this.subnetRows.map(peer.wanId, (subnets) => subnets.byPeer.get(peer.id) ?? []);
  }

  /** With secrets: the hashes cover keys, so a rotated key makes exactly the affected configs stale. */
  view(wanId: string): Promise<OverlayView> {
    return this.views.get(wanId);
  }

  /** The peer's config status: a value when the view is read, else once it is. */
  configStatus(peer: { id: string; wanId: string; deliveredHash: string | null }): ConfigStatus | Promise<ConfigStatus> {
    return this.views.map(peer.wanId, (view) => statusOf(view.hashOf(peer.id), peer.deliveredHash));
  }

  /**
   * The peer's configuration without private and preshared keys, rendered from the WAN's one
   * view: a list of N previews compiles the WAN once (or not at all while it is unchanged).
   */
  preview(peer: { id: string; wanId: string }, format: ConfigFormat): string | Promise<string> {
    return this.views.map(peer.wanId, (view) => view.previewOf(peer.id, format));
  }

  private loadView(wanId: string): Promise<OverlayView> {
    return overlayViewCache(this.secrets).view(this.prisma, wanId);
  }
}
